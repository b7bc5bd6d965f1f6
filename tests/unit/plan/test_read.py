"""plan/read.py: GET and HEAD on tables and views resolved against the catalog (select, filters, order, page)."""

from __future__ import annotations

import dataclasses

import pytest

from pgwsgi.api.model import JsonStep, OpExpr
from pgwsgi.config import Config
from pgwsgi.plan.model import (
    LEGACY_COUNT,
    ColumnRef,
    OutputColumn,
    PlanEmbedExists,
    PlanFilter,
    PlanLogic,
    PlanOrder,
    ReadPlan,
)
from pgwsgi.plan.read import build_read, find_relation, page
from tests.unit.snapshot import CATALOG, CLIENTS, CONFIG, ITEMS, LABEL, PAINTS, PROJECTS, planned, refused, request

AGGREGATES = dataclasses.replace(CONFIG, db_aggregates_enabled=True)


def read(url: str, config: Config = CONFIG, **headers: str) -> ReadPlan:
    _, plan = planned(url, headers=headers, config=config)
    assert isinstance(plan.action, ReadPlan)
    return plan.action


def ref(name: str, *path: JsonStep) -> ColumnRef:
    col = ITEMS.column(name)
    assert col is not None
    return ColumnRef(col, path)


def test_find_relation_returns_the_named_relation() -> None:
    assert find_relation(request("/clients"), CATALOG) == CLIENTS


def test_an_unknown_table_is_404_pgrst205_with_the_closest_name() -> None:
    assert refused("/itemz") == (
        404,
        "PGRST205",
        "Could not find the table 'api.itemz' in the schema cache",
        None,
        "Perhaps you meant the table 'api.items'",
    )


def test_an_unknown_table_without_a_close_name_has_no_hint() -> None:
    assert refused("/zzzzzzzz") == (
        404,
        "PGRST205",
        "Could not find the table 'api.zzzzzzzz' in the schema cache",
        None,
        None,
    )


def test_a_plain_read_selects_star_every_row_as_json() -> None:
    assert read("/items") == ReadPlan(
        relation=ITEMS,
        output=(OutputColumn(None, "*"),),
        where=(),
        order=(),
        limit=None,
        offset=0,
        count=None,
        media="json",
        content_type="application/json; charset=utf-8",
    )


def test_select_resolves_aliases_casts_and_json_paths_with_their_default_keys() -> None:
    plan = read("/items?select=ident:id,price::text,data->nested->>k,data->list->0,l:data->>label")
    assert plan.output == (
        OutputColumn(ref("id"), "ident"),
        OutputColumn(ref("price"), "price", ("pg_catalog", "text")),
        OutputColumn(ref("data", JsonStep("->", "nested"), JsonStep("->>", "k")), "k"),
        OutputColumn(ref("data", JsonStep("->", "list"), JsonStep("->", 0)), "list"),
        OutputColumn(ref("data", JsonStep("->>", "label")), "l"),
    )


def test_cast_type_names_are_case_insensitive_and_aliases_resolve() -> None:
    plan = read("/items?select=id::TEXT,price::integer")
    assert [o.cast for o in plan.output] == [("pg_catalog", "text"), ("pg_catalog", "int4")]


def test_a_computed_field_is_selected_as_its_function() -> None:
    assert read("/items?select=label").output == (OutputColumn(ColumnRef(None, (), LABEL), "label"),)


def test_select_count_without_a_count_column_is_the_legacy_count() -> None:
    assert read("/items?select=count").output == (OutputColumn(ColumnRef(LEGACY_COUNT), "count"),)


def test_an_unknown_column_is_42703_as_postgres_words_it() -> None:
    assert refused("/items?select=id,nope") == (400, "42703", "column items.nope does not exist", None, None)
    assert refused("/items?nope=eq.1") == (400, "42703", "column items.nope does not exist", None, None)
    assert refused("/items?order=nope") == (400, "42703", "column items.nope does not exist", None, None)


def test_an_unknown_cast_type_is_42704() -> None:
    assert refused("/items?select=id::nope") == (400, "42704", 'type "nope" does not exist', None, None)


def test_star_is_expanded_when_a_column_has_a_domain_representation() -> None:
    plan = read("/paints")
    cols = {c.name: c for c in PAINTS.columns}
    assert plan.output == (
        OutputColumn(ColumnRef(cols["id"]), "id"),
        OutputColumn(ColumnRef(cols["name"]), "name"),
        OutputColumn(ColumnRef(cols["color"]), "color", None, ("api", "color_to_json")),
    )


def test_csv_reads_a_domain_through_its_text_representation_only() -> None:
    # There is no color -> text cast in the catalog: CSV gets the column as it is.
    plan = read("/paints?select=color", Accept="text/csv")
    assert plan.media == "csv"
    assert plan.output[0].formatter is None


def test_filters_on_a_domain_column_parse_the_value_with_its_text_cast() -> None:
    plan = read("/paints?select=id&color=eq.%23FF0000")
    color = PAINTS.column("color")
    assert color is not None
    assert plan.where == (PlanFilter(ColumnRef(color, (), None, ("api", "color_from_text")), OpExpr("eq", "#FF0000")),)


def test_filters_and_logic_trees_keep_their_negation() -> None:
    plan = read("/items?id=not.gt.3&or=(name.eq.a,not.and(price.is.null,id.in.(1,2)))")
    assert plan.where == (
        PlanFilter(ref("id"), OpExpr("gt", "3"), negated=True),
        PlanLogic(
            "or",
            (
                PlanFilter(ref("name"), OpExpr("eq", "a")),
                PlanLogic(
                    "and",
                    (PlanFilter(ref("price"), OpExpr("is", "null")), PlanFilter(ref("id"), OpExpr("in", ("1", "2")))),
                    negated=True,
                ),
            ),
        ),
    )


def test_order_terms_keep_direction_and_nulls() -> None:
    plan = read("/items?order=name.desc.nullslast,id")
    assert plan.order == (PlanOrder(ref("name"), "desc", "last"), PlanOrder(ref("id"), None, None))


def test_limit_and_offset_become_the_page() -> None:
    plan = read("/items?limit=5&offset=10")
    assert (plan.limit, plan.offset) == (5, 10)


def test_range_header_becomes_the_page() -> None:
    plan = read("/items", Range="2-4")
    assert (plan.limit, plan.offset) == (3, 2)


def test_db_max_rows_caps_the_page_and_is_kept_for_counting() -> None:
    config = dataclasses.replace(CONFIG, db_max_rows=3)
    plan = read("/items?limit=5&offset=2", config)
    assert (plan.limit, plan.offset, plan.max_rows) == (3, 2, 3)
    assert page(request("/items", config=config), config) == (3, 0)


def test_a_write_representation_is_neither_paged_nor_capped() -> None:
    config = dataclasses.replace(CONFIG, db_max_rows=3)
    req = request("/items?limit=5&offset=2", config=config)
    plan = build_read(req, CATALOG, config, for_write=True)
    assert (plan.limit, plan.offset) == (None, 0)


def test_the_count_preference_is_carried() -> None:
    assert read("/items", Prefer="count=exact").count == "exact"
    assert read("/items", Prefer="count=planned").count == "planned"


def test_the_accept_header_chooses_the_media() -> None:
    plan = read("/items", Accept="application/vnd.pgrst.object+json")
    assert (plan.media, plan.content_type) == ("object", "application/vnd.pgrst.object+json; charset=utf-8")


def test_strict_handling_refuses_unknown_preferences_with_pgrst122() -> None:
    assert refused("/items", headers={"Prefer": "handling=strict, count=exact, foo=bar, return=nothing"}) == (
        400,
        "PGRST122",
        "Invalid preferences given with handling=strict",
        "Invalid preferences: foo=bar, return=nothing",
        None,
    )


def test_lenient_handling_ignores_unknown_preferences() -> None:
    assert read("/items", Prefer="handling=lenient, foo=bar").count is None


def test_aggregates_need_db_aggregates_enabled_pgrst123() -> None:
    assert refused("/items?select=id.sum()") == (
        400,
        "PGRST123",
        "Use of aggregate functions is not allowed",
        None,
        None,
    )


def test_aggregates_are_named_after_the_function_or_their_alias() -> None:
    plan = read("/items?select=name,total:id.sum()::text,price.avg(),count()", AGGREGATES)
    assert plan.output == (
        OutputColumn(ref("name"), "name"),
        OutputColumn(ref("id"), "total", aggregate="sum", aggregate_cast=("pg_catalog", "text"), field_name="total"),
        OutputColumn(ref("price"), "avg", aggregate="avg", field_name="price"),
        OutputColumn(None, "count", aggregate="count", field_name="count"),
    )


def test_star_beside_an_aggregate_is_expanded_to_grouped_columns() -> None:
    plan = read("/clients?select=*,count()", AGGREGATES)
    assert [(o.name, o.aggregate) for o in plan.output] == [("id", None), ("name", None), ("count", "count")]


def test_a_filter_on_a_resource_not_embedded_is_pgrst108() -> None:
    assert refused("/clients?select=name&projects.id=eq.1") == (
        400,
        "PGRST108",
        "'projects' is not an embedded resource in this request",
        None,
        "Verify that 'projects' is included in the 'select' query parameter.",
    )


def test_pgrst108_names_the_first_missing_level_of_a_nested_path() -> None:
    assert refused("/clients?select=projects(id)&projects.tasks.id=eq.1")[2] == (
        "'tasks' is not an embedded resource in this request"
    )


def test_order_by_a_to_one_embed_column() -> None:
    plan = read("/projects?select=id,clients(name)&order=clients(name).desc")
    name = CLIENTS.column("name")
    assert name is not None
    embed = plan.output[1].embed
    assert plan.order == (PlanOrder(ColumnRef(name), "desc", None, embed),)


def test_order_by_a_to_one_embed_names_a_key_of_its_row() -> None:
    # As PostgREST: the embed's alias, the key's alias; the key stands for its column.
    plan = read("/projects?select=id,c:clients(n:name)&order=c(n).asc")
    name = CLIENTS.column("name")
    assert name is not None
    assert plan.order == (PlanOrder(ColumnRef(dataclasses.replace(name, name="n")), "asc", None, plan.output[1].embed),)


def test_order_by_a_key_the_embed_does_not_have_is_42703_on_postgrests_join_alias() -> None:
    assert refused("/projects?select=id,clients(id)&order=clients(name)")[:3] == (
        400,
        "42703",
        "column projects_clients_1.name does not exist",
    )
    assert refused("/clients?select=projects(id,clients(id))&projects.order=clients(name)")[2] == (
        "column projects_clients_2.name does not exist"
    )


def test_order_by_an_aliased_embed_takes_its_alias_only() -> None:
    assert refused("/projects?select=id,c:clients(name)&order=clients(name)")[:3] == (
        400,
        "PGRST108",
        "'clients' is not an embedded resource in this request",
    )


def test_an_embeds_order_can_name_its_own_to_one_embeds() -> None:
    plan = read("/clients?select=projects(id,clients(name))&projects.order=clients(name).desc")
    projects = plan.output[0].embed
    assert projects is not None
    name = CLIENTS.column("name")
    assert name is not None
    assert projects.order == (PlanOrder(ColumnRef(name), "desc", None, projects.output[1].embed),)


def test_order_by_a_spread_names_the_keys_it_lifts() -> None:
    plan = read("/tasks?select=id,...projects(p:name,...clients(c:name))&order=projects(c)")
    assert plan.order[0].ref.column is not None and plan.order[0].ref.column.name == "c"


def test_order_by_a_to_many_embed_is_pgrst118() -> None:
    assert refused("/clients?select=id,projects(name)&order=projects(name)") == (
        400,
        "PGRST118",
        "A related order on 'projects' is not possible",
        "'clients' and 'projects' do not form a many-to-one or one-to-one relationship",
        None,
    )


def test_order_by_a_relation_not_selected_is_pgrst108() -> None:
    assert refused("/projects?select=id&order=clients(name)")[:3] == (
        400,
        "PGRST108",
        "'clients' is not an embedded resource in this request",
    )


@pytest.mark.parametrize(
    ("filter_", "exists"),
    [("projects=not.is.null", True), ("projects=is.null", False), ("projects=not.is.not_null", False)],
)
def test_is_null_on_an_embed_asks_whether_related_rows_exist(filter_: str, exists: bool) -> None:
    plan = read(f"/clients?select=id,projects()&{filter_}")
    embed = plan.output[1].embed
    assert embed is not None and embed.hidden
    assert plan.where == (PlanEmbedExists(embed, exists),)


def test_an_embeds_filters_order_and_page_go_to_the_embed() -> None:
    plan = read("/clients?select=id,projects(id,name)&projects.id=gt.1&projects.order=name.desc&projects.limit=2")
    embed = plan.output[1].embed
    assert embed is not None
    pid, pname = PROJECTS.column("id"), PROJECTS.column("name")
    assert pid is not None and pname is not None
    assert embed.where == (PlanFilter(ColumnRef(pid), OpExpr("gt", "1")),)
    assert embed.order == (PlanOrder(ColumnRef(pname), "desc", None),)
    assert (embed.limit, embed.offset) == (2, 0)
    assert plan.where == ()


def test_an_aliased_embed_addressed_by_its_relation_name_is_recorded_as_legacy() -> None:
    plan = read("/clients?select=id,p:projects(id)&projects.id=eq.1")
    assert plan.legacy_names == (("projects", "p"),)
    embed = plan.output[1].embed
    assert embed is not None and len(embed.where) == 1


def test_legacy_target_names_refused_when_switched_off() -> None:
    config = dataclasses.replace(CONFIG, url_use_legacy_target_names=False)
    assert refused("/clients?select=id,p:projects(id)&projects.id=eq.1", config=config) == (
        400,
        "PGRST108",
        "'projects' is not an embedded resource in this request",
        "Target names are not allowed in filters if they have an alias",
        "Change 'projects' to 'p' in filters, orders or limits.",
    )


def test_db_max_rows_caps_each_embed_of_a_read() -> None:
    config = dataclasses.replace(CONFIG, db_max_rows=2)
    plan = read("/clients?select=id,projects(id),few:projects(id)&few.limit=1&projects.limit=5", config)
    limits = [o.embed.limit for o in plan.output if o.embed is not None]
    assert limits == [2, 1]


def test_db_max_rows_does_not_cap_the_embeds_of_a_write() -> None:
    config = dataclasses.replace(CONFIG, db_max_rows=2)
    _, plan = planned(
        "/clients?select=id,projects(id)",
        "POST",
        body='{"id": 1}',
        headers={"Prefer": "return=representation"},
        config=config,
    )
    embed = plan.action.output[1].embed  # type: ignore[union-attr]
    assert embed is not None and embed.limit is None
