"""sql/read.py: a ReadPlan as one statement returning total, page_total, body and the response GUCs."""

from __future__ import annotations

import dataclasses

from psycopg import sql

from pgwsgi.api.model import JsonStep, OpExpr
from pgwsgi.catalog.model import Column, Relation
from pgwsgi.config import Config
from pgwsgi.plan.model import ColumnRef, OutputColumn, PlanFilter, PlanLogic, PlanOrder, ReadPlan
from pgwsgi.sql.read import compose_count_explain, compose_read
from tests.unit.snapshot import CONFIG, column, planned, relation

GUCS = (
    "nullif(current_setting('response.headers', true), '') AS response_headers, "
    "nullif(current_setting('response.status', true), '') AS response_status"
)
JSON_BODY = "coalesce(json_agg(_pgrst_t)::text, '[]')"


def col(name: str, base: str = "text") -> Column:
    return Column(name, 1, base, "pg_catalog", base, base, True, None)


REL = Relation("api", "t", "r", (col("id", "int4"), col("name"), col("doc", "jsonb")), ("id",), True, True, True)


def render(composed: sql.Composable) -> str:
    """Render without a connection: identifiers are quoted the same way."""
    return composed.as_string(None)


def plan(**kw: object) -> ReadPlan:
    base = dict(
        relation=REL,
        output=(OutputColumn(None, "*"),),
        where=(),
        order=(),
        limit=None,
        offset=0,
        count=None,
        media="json",
        content_type="application/json; charset=utf-8",
    )
    base.update(kw)
    return ReadPlan(**base)  # type: ignore[arg-type]


def read_plan(url: str, config: Config = CONFIG, **headers: str) -> ReadPlan:
    _, p = planned(url, headers=headers, config=config)
    assert isinstance(p.action, ReadPlan)
    return p.action


def statement(total: str, inner: str, body: str = JSON_BODY) -> str:
    """The text compose_read wraps around the page query INNER."""
    return (
        f"SELECT {total} AS total, pg_catalog.count(_pgrst_t) AS page_total, {body} AS body, {GUCS} "
        f"FROM ({inner}) _pgrst_t"
    )


# -- moved from tests/unit/test_sql.py -------------------------------------------------------------


def test_plain_read_selects_every_column_and_aggregates_in_postgres() -> None:
    stmt, params = compose_read(plan())
    assert render(stmt) == (
        "SELECT NULL::bigint AS total, pg_catalog.count(_pgrst_t) AS page_total, "
        "coalesce(json_agg(_pgrst_t)::text, '[]') AS body, "
        "nullif(current_setting('response.headers', true), '') AS response_headers, "
        "nullif(current_setting('response.status', true), '') AS response_status "
        'FROM (SELECT "t".* FROM "api"."t" AS "t") _pgrst_t'
    )
    assert params == []


def test_filter_values_are_parameters_and_names_identifiers() -> None:
    hostile = "1); DROP TABLE t; --"
    where = (PlanFilter(ColumnRef(REL.column("name")), OpExpr("eq", hostile)),)
    stmt, params = compose_read(plan(where=where))
    text = render(stmt)
    assert 'WHERE ("t"."name" = %s)' in text
    assert hostile not in text
    assert params == [hostile]


def test_like_star_becomes_percent_and_negation_wraps() -> None:
    where = (PlanFilter(ColumnRef(REL.column("name")), OpExpr("like", "a*b"), negated=True),)
    stmt, params = compose_read(plan(where=where))
    assert 'WHERE NOT ("t"."name" LIKE %s)' in render(stmt)
    assert params == ["a%b"]


def test_in_list_is_one_array_parameter() -> None:
    where = (PlanFilter(ColumnRef(REL.column("id")), OpExpr("in", ("1", 'a"b', "c,d"))),)
    stmt, params = compose_read(plan(where=where))
    assert '("t"."id" = ANY(%s))' in render(stmt)
    assert params == ['{"1","a\\"b","c,d"}']


def test_json_path_keys_are_parameters() -> None:
    ref = ColumnRef(REL.column("doc"), (JsonStep("->", "a"), JsonStep("->>", 0)))
    out = (OutputColumn(ref, "a"),)
    stmt, params = compose_read(plan(output=out))
    assert 'SELECT "t"."doc" -> %s ->> %s::int AS "a" FROM' in render(stmt)
    assert params == ["a", 0]


def test_non_json_column_path_goes_through_to_jsonb() -> None:
    ref = ColumnRef(REL.column("name"), (JsonStep("->>", "k"),))
    where = (PlanFilter(ref, OpExpr("eq", "v")),)
    stmt, _ = compose_read(plan(where=where))
    assert '(to_jsonb("t"."name") ->> %s = %s)' in render(stmt)


def test_logic_tree_order_limit_offset_and_exact_count() -> None:
    a = PlanFilter(ColumnRef(REL.column("id")), OpExpr("gt", "1"))
    b = PlanFilter(ColumnRef(REL.column("name")), OpExpr("is", "null"))
    tree = PlanLogic("or", (a, b), negated=True)
    order = (PlanOrder(ColumnRef(REL.column("name")), "desc", "last"),)
    stmt, params = compose_read(plan(where=(tree,), order=order, limit=10, offset=5, count="exact"))
    text = render(stmt)
    assert 'NOT (("t"."id" > %s) OR ("t"."name" IS NULL))' in text
    assert 'ORDER BY "t"."name" DESC NULLS LAST LIMIT %s OFFSET %s' in text
    assert '(SELECT pg_catalog.count(*) FROM (SELECT 1 FROM "api"."t" AS "t" WHERE NOT' in text
    # The count's parameters come first, then the page's.
    assert [str(p) for p in params] == ["1", "1", "10", "5"]


def test_exact_count_of_a_whole_result_reuses_the_page_count() -> None:
    stmt, _ = compose_read(plan(count="exact"))
    assert render(stmt).startswith("SELECT pg_catalog.count(_pgrst_t) AS total,")


def test_estimated_count_stops_past_max_rows_and_explains() -> None:
    p = plan(count="estimated", max_rows=100, limit=100)
    stmt, params = compose_read(p)
    assert 'FROM (SELECT 1 FROM "api"."t" AS "t" LIMIT %s) pgrst_source_count' in render(stmt)
    assert [str(x) for x in params] == ["101", "100"]
    explain, _ = compose_count_explain(p)
    assert render(explain) == 'EXPLAIN (FORMAT JSON) SELECT 1 FROM "api"."t" AS "t"'
    assert compose_count_explain(plan(count="exact")) is None


def test_head_does_not_build_a_body() -> None:
    stmt, _ = compose_read(plan(), head=True)
    assert "NULL::text AS body" in render(stmt)


# -- statements built from requests --------------------------------------------------------------------


def test_a_selected_column_list_with_a_filter() -> None:
    stmt, params = compose_read(read_plan("/items?select=id,name&id=lt.3&order=id"))
    assert render(stmt) == statement(
        "NULL::bigint",
        'SELECT "items"."id" AS "id", "items"."name" AS "name" FROM "api"."items" AS "items" '
        'WHERE ("items"."id" < %s) ORDER BY "items"."id"',
    )
    assert params == ["3"]


def test_names_are_quoted_identifiers_whatever_they_contain() -> None:
    weird = relation('we"ird', column('a"b'), pk=())
    out = (OutputColumn(ColumnRef(weird.by_name['a"b']), 'x"y'),)
    stmt, params = compose_read(plan(relation=weird, output=out))
    assert render(stmt) == statement(
        "NULL::bigint", 'SELECT "we""ird"."a""b" AS "x""y" FROM "api"."we""ird" AS "we""ird"'
    )
    assert params == []


def test_a_head_request_still_counts_the_page() -> None:
    stmt, _ = compose_read(read_plan("/items?select=id"), head=True)
    assert render(stmt) == statement(
        "NULL::bigint", 'SELECT "items"."id" AS "id" FROM "api"."items" AS "items"', "NULL::text"
    )


def test_the_media_chooses_the_body_aggregate() -> None:
    stmt, _ = compose_read(read_plan("/items?select=id", Accept="application/vnd.pgrst.object+json"))
    assert render(stmt) == statement(
        "NULL::bigint",
        'SELECT "items"."id" AS "id" FROM "api"."items" AS "items"',
        "coalesce((json_agg(_pgrst_t) -> 0)::text, 'null')",
    )


def test_a_domain_column_is_formatted_and_its_filter_value_parsed() -> None:
    stmt, params = compose_read(read_plan("/paints?color=eq.%23FF0000"))
    assert render(stmt) == statement(
        "NULL::bigint",
        'SELECT "paints"."id" AS "id", "paints"."name" AS "name", "api"."color_to_json"("paints"."color") AS "color" '
        'FROM "api"."paints" AS "paints" WHERE ("paints"."color" = "api"."color_from_text"(%s))',
    )
    assert params == ["#FF0000"]


def test_an_offset_without_a_limit() -> None:
    stmt, params = compose_read(read_plan("/items?select=id&offset=3"))
    assert render(stmt).endswith('FROM "api"."items" AS "items" OFFSET %s) _pgrst_t')
    assert params == [3]


def test_aggregates_group_by_the_other_columns() -> None:
    config = dataclasses.replace(CONFIG, db_aggregates_enabled=True)
    stmt, _ = compose_read(read_plan("/items?select=name,count()", config))
    assert render(stmt) == statement(
        "NULL::bigint",
        'SELECT "items"."name" AS "name", pg_catalog.count(*) AS "count" FROM "api"."items" AS "items" GROUP BY 1',
    )


def test_an_exact_count_of_groups_counts_the_rows_read() -> None:
    config = dataclasses.replace(CONFIG, db_aggregates_enabled=True)
    stmt, _ = compose_read(read_plan("/items?select=name,count()", config, Prefer="count=exact"))
    assert render(stmt).startswith(
        'SELECT (SELECT pg_catalog.count(*) FROM (SELECT 1 FROM "api"."items" AS "items") pgrst_source_count) AS total,'
    )


def test_the_exact_count_respects_inner_embeds_and_their_filters() -> None:
    url = "/clients?select=id,projects!inner(id)&projects.id=gt.1&name=eq.x&limit=2"
    stmt, params = compose_read(read_plan(url, Prefer="count=exact"))
    assert render(stmt) == statement(
        '(SELECT pg_catalog.count(*) FROM (SELECT 1 FROM "api"."clients" AS "clients" WHERE ("clients"."name" = %s) '
        'AND EXISTS (SELECT 1 FROM "api"."projects" AS "pgrst_1_projects" WHERE "pgrst_1_projects"."client_id" = '
        '"clients"."id" AND ("pgrst_1_projects"."id" > %s))) pgrst_source_count)',
        'SELECT "clients"."id" AS "id", coalesce("pgrst_1".body, \'[]\') AS "projects" FROM "api"."clients" AS '
        '"clients" INNER JOIN LATERAL (SELECT jsonb_agg("pgrst_2_rows") AS body FROM (SELECT "projects_1"."id" '
        'AS "id" FROM "api"."projects" AS "projects_1" WHERE "projects_1"."client_id" = "clients"."id" '
        'AND ("projects_1"."id" > %s)) "pgrst_2_rows") AS "pgrst_1" ON "pgrst_1".body IS NOT NULL '
        'WHERE ("clients"."name" = %s) LIMIT %s',
    )
    assert params == ["x", "1", "1", "x", 2]


def test_a_planned_count_is_an_explain_of_the_filtered_rows() -> None:
    p = read_plan("/items?id=gt.1&offset=3", Prefer="count=planned")
    stmt, params = compose_read(p)
    assert render(stmt).startswith("SELECT NULL::bigint AS total,")
    assert params == ["1", 3]
    explain = compose_count_explain(p)
    assert explain is not None
    assert (
        render(explain[0]) == 'EXPLAIN (FORMAT JSON) SELECT 1 FROM "api"."items" AS "items" WHERE ("items"."id" > %s)'
    )
    assert explain[1] == ["1"]


def test_no_explain_without_a_planned_or_estimated_count() -> None:
    assert compose_count_explain(read_plan("/items")) is None
    assert compose_count_explain(read_plan("/items", Prefer="count=exact")) is None


def test_an_estimated_count_under_max_rows_counts_up_to_one_past_it() -> None:
    p = read_plan("/items?id=gt.1", dataclasses.replace(CONFIG, db_max_rows=10), Prefer="count=estimated")
    stmt, params = compose_read(p)
    assert render(stmt).startswith(
        'SELECT (SELECT pg_catalog.count(*) FROM (SELECT 1 FROM "api"."items" AS "items" WHERE ("items"."id" > %s) '
        "LIMIT %s) pgrst_source_count) AS total,"
    )
    assert params == ["1", 11, "1", 10]
