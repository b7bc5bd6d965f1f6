"""sql/readtree.py: the read tree (root and embeds) as select lists, LATERAL joins and conditions."""

from __future__ import annotations

import dataclasses

from psycopg import sql

from pgwsgi.config import Config
from pgwsgi.plan.model import EmbedPlan, ReadPlan
from pgwsgi.sql.fragments import Aliases
from pgwsgi.sql.readtree import (
    condition,
    exists_clause,
    inner_exists,
    order_by,
    select_with_embeds,
    spread_keys,
    where_clause,
)
from tests.unit.snapshot import CONFIG, planned

AGGREGATES = dataclasses.replace(CONFIG, db_aggregates_enabled=True)


def render(composed: sql.Composable) -> str:
    """Render without a connection: identifiers are quoted the same way."""
    return composed.as_string(None)


def read_plan(url: str, config: Config = CONFIG) -> ReadPlan:
    _, p = planned(url, config=config)
    assert isinstance(p.action, ReadPlan)
    return p.action


def select(url: str, config: Config = CONFIG) -> tuple[str, list[object], str, list[object], str]:
    """(items, their params, joins, their params, GROUP BY) of the root level of URL."""
    plan = read_plan(url, config)
    s = select_with_embeds(sql.Identifier(plan.relation.name), plan.output, Aliases())
    return render(s.items), s.params, render(s.joins), s.join_params, render(s.grouping)


def embed_of(url: str, index: int = 1) -> EmbedPlan:
    embed = read_plan(url).output[index].embed
    assert embed is not None
    return embed


def test_a_to_one_embed_is_the_first_related_row_in_the_select_list() -> None:
    assert select("/projects?select=id,clients(name)") == (
        '"projects"."id" AS "id", (SELECT jsonb_agg("pgrst_1_rows") -> 0 FROM (SELECT "clients_1"."name" AS '
        '"name" FROM "api"."clients" AS "clients_1" WHERE "clients_1"."id" = "projects"."client_id") '
        '"pgrst_1_rows") AS "clients"',
        [],
        "",
        [],
        "",
    )


def test_a_to_many_embed_is_an_array_empty_when_nothing_relates() -> None:
    items, *_ = select("/clients?select=id,projects(id)")
    assert items == (
        '"clients"."id" AS "id", coalesce((SELECT jsonb_agg("pgrst_1_rows") FROM (SELECT "projects_1"."id" AS '
        '"id" FROM "api"."projects" AS "projects_1" WHERE "projects_1"."client_id" = "clients"."id") '
        '"pgrst_1_rows"), \'[]\') AS "projects"'
    )


def test_a_many_to_many_embed_goes_through_the_junction() -> None:
    items, *_ = select("/users?select=tasks(name)")
    assert items == (
        'coalesce((SELECT jsonb_agg("pgrst_2_rows") FROM (SELECT "tasks_1"."name" AS "name" FROM "api"."tasks" '
        'AS "tasks_1", "api"."users_tasks" AS "pgrst_1_users_tasks" WHERE "pgrst_1_users_tasks"."task_id" = '
        '"tasks_1"."id" AND "pgrst_1_users_tasks"."user_id" = "users"."id") "pgrst_2_rows"), \'[]\') AS "tasks"'
    )


def test_a_computed_relationship_reads_the_function_of_the_parent_row() -> None:
    # The row is cast to the function's argument type, as PostgREST casts it: a call's or a
    # write's CTE row is a bare record that overloads of the function would not tell apart.
    items, *_ = select("/clients?select=big_projects(id)")
    assert items == (
        'coalesce((SELECT jsonb_agg("pgrst_1_rows") FROM (SELECT "projects_1"."id" AS "id" FROM '
        '"api"."big_projects"("clients"::"api"."clients") AS "projects_1" WHERE TRUE) "pgrst_1_rows"), \'[]\') '
        'AS "big_projects"'
    )


def test_an_embeds_filters_order_and_page_apply_inside_it_in_parameter_order() -> None:
    url = (
        "/clients?select=projects(id,tasks(name))&projects.order=name&projects.id=lt.9"
        "&projects.tasks.name=eq.x&projects.limit=3&projects.offset=1"
    )
    items, params, *_ = select(url)
    assert items == (
        'coalesce((SELECT jsonb_agg("pgrst_2_rows") FROM (SELECT "projects_1"."id" AS "id", coalesce((SELECT '
        'jsonb_agg("pgrst_1_rows") FROM (SELECT "tasks_2"."name" AS "name" FROM "api"."tasks" AS "tasks_2" '
        'WHERE "tasks_2"."project_id" = "projects_1"."id" AND ("tasks_2"."name" = %s)) '
        '"pgrst_1_rows"), \'[]\') AS "tasks" FROM "api"."projects" AS "projects_1" WHERE '
        '"projects_1"."client_id" = "clients"."id" AND ("projects_1"."id" < %s) ORDER BY '
        '"projects_1"."name" LIMIT %s OFFSET %s) "pgrst_2_rows"), \'[]\') AS "projects"'
    )
    assert params == ["x", "9", 3, 1]


def test_an_inner_embed_is_a_lateral_join_that_drops_parents_without_rows() -> None:
    assert select("/clients?select=id,projects!inner(id)&projects.id=gt.1") == (
        '"clients"."id" AS "id", coalesce("pgrst_1".body, \'[]\') AS "projects"',
        [],
        ' INNER JOIN LATERAL (SELECT jsonb_agg("pgrst_2_rows") AS body FROM (SELECT "projects_1"."id" AS "id" '
        'FROM "api"."projects" AS "projects_1" WHERE "projects_1"."client_id" = "clients"."id" AND '
        '("projects_1"."id" > %s)) "pgrst_2_rows") AS "pgrst_1" ON "pgrst_1".body IS NOT NULL',
        ["1"],
        "",
    )


def test_an_empty_embed_selects_nothing() -> None:
    assert select("/clients?select=projects()") == ("", [], "", [], "")


def test_an_empty_inner_embed_still_joins() -> None:
    items, _, joins, _, _ = select("/clients?select=id,projects!inner()")
    assert items == '"clients"."id" AS "id"'
    assert joins.startswith(" INNER JOIN LATERAL (SELECT jsonb_agg(")
    assert joins.endswith('AS "pgrst_1" ON "pgrst_1".body IS NOT NULL')


def test_a_to_one_spread_lifts_the_related_columns() -> None:
    assert select("/projects?select=id,...clients(client:name)") == (
        '"projects"."id" AS "id", "pgrst_1"."client" AS "client"',
        [],
        ' LEFT JOIN LATERAL (SELECT "clients_1"."name" AS "client" FROM "api"."clients" AS "clients_1" '
        'WHERE "clients_1"."id" = "projects"."client_id") AS "pgrst_1" ON TRUE',
        [],
        "",
    )


def test_a_to_many_spread_lifts_one_array_per_key() -> None:
    items, _, joins, _, _ = select("/clients?select=id,...projects(name)")
    assert items == (
        '"clients"."id" AS "id", (SELECT coalesce(jsonb_agg(pgrst_e -> \'name\'), \'[]\') FROM '
        'jsonb_array_elements("pgrst_1".body) AS pgrst_e) AS "name"'
    )
    assert joins.startswith(" LEFT JOIN LATERAL (SELECT jsonb_agg(")


def test_aggregates_in_a_to_one_spread_are_computed_by_the_parent() -> None:
    assert select("/projects?select=client_id,...clients(n:name.count(),id.max())", AGGREGATES) == (
        '"projects"."client_id" AS "client_id", pg_catalog.count("pgrst_1"."n") AS "n", '
        'pg_catalog.max("pgrst_1"."id") AS "max"',
        [],
        ' LEFT JOIN LATERAL (SELECT "clients_1"."name" AS "n", "clients_1"."id" AS "id" FROM '
        '"api"."clients" AS "clients_1" WHERE "clients_1"."id" = "projects"."client_id") AS "pgrst_1" '
        "ON TRUE",
        [],
        " GROUP BY 1",
    )


def test_a_level_with_aggregates_joins_its_embeds_and_groups_by_them() -> None:
    items, _, joins, _, grouping = select("/clients?select=name,projects(id),count()", AGGREGATES)
    assert items == (
        '"clients"."name" AS "name", coalesce("pgrst_1".body, \'[]\') AS "projects", pg_catalog.count(*) AS "count"'
    )
    assert joins.startswith(" LEFT JOIN LATERAL (")
    assert grouping == " GROUP BY 1, 2"


def test_spread_keys_expand_star_and_nested_spreads() -> None:
    assert spread_keys(embed_of("/clients?select=id,...projects(*)")) == [
        ("id", None),
        ("name", None),
        ("client_id", None),
    ]
    assert spread_keys(embed_of("/projects?select=id,...clients(name,...projects(pid:id),p2:projects(id))")) == [
        ("name", None),
        ("pid", None),
        ("p2", None),
    ]


def test_spread_keys_carry_the_aggregates_to_hoist() -> None:
    embed = read_plan("/projects?select=...clients(n:name.count())", AGGREGATES).output[0].embed
    assert embed is not None
    assert [(key, out.aggregate if out else None) for key, out in spread_keys(embed)] == [("n", "count")]


def test_no_conditions_is_no_where_clause() -> None:
    assert render(where_clause(sql.Identifier("t"), (), [])) == ""


def test_conditions_are_anded_and_logic_trees_nested() -> None:
    plan = read_plan("/items?id=gt.1&not.or=(name.eq.a,price.is.null)")
    params: list[object] = []
    assert render(where_clause(sql.Identifier("items"), plan.where, params)) == (
        ' WHERE ("items"."id" > %s) AND NOT (("items"."name" = %s) OR ("items"."price" IS NULL))'
    )
    assert params == ["1", "a"]


def test_an_embed_null_filter_is_an_exists_over_its_filtered_rows() -> None:
    plan = read_plan("/clients?select=id,projects(id)&projects.id=gt.1&projects=not.is.null")
    params: list[object] = []
    assert render(condition(sql.Identifier("clients"), plan.where[0], params)) == (
        'EXISTS (SELECT 1 FROM "api"."projects" AS "pgrst_x_1_projects" WHERE "pgrst_x_1_projects"."client_id" = '
        '"clients"."id" AND ("pgrst_x_1_projects"."id" > %s))'
    )
    assert params == ["1"]
    plan = read_plan("/clients?select=id,projects()&projects=is.null")
    assert render(condition(sql.Identifier("clients"), plan.where[0], [])).startswith("NOT EXISTS (SELECT 1 FROM")


def test_order_by_a_to_one_embed_reads_the_key_of_its_joined_row() -> None:
    # As PostgREST: the embed is a LATERAL join of its (first) row, the object is built from
    # that row, and ORDER BY reads the row's key.
    plan = read_plan("/projects?select=id,clients(name)&order=clients(name).desc.nullsfirst,id")
    s = select_with_embeds(sql.Identifier("projects"), plan.output, Aliases(), order=plan.order)
    assert render(s.items) == '"projects"."id" AS "id", to_jsonb("pgrst_1".*) AS "clients"'
    assert render(s.joins) == (
        ' LEFT JOIN LATERAL (SELECT * FROM (SELECT "clients_1"."name" AS "name" FROM "api"."clients" AS "clients_1" '
        'WHERE "clients_1"."id" = "projects"."client_id") AS "pgrst_2_rows" LIMIT 1) AS "pgrst_1" ON TRUE'
    )
    assert render(order_by(sql.Identifier("projects"), plan.order, [], s.rows)) == (
        ' ORDER BY "pgrst_1"."name" DESC NULLS FIRST, "projects"."id"'
    )
    assert render(order_by(sql.Identifier("projects"), (), [])) == ""


def test_order_by_a_to_one_embed_names_the_key_of_its_row_with_a_json_path() -> None:
    # The key is the embed's (an alias here), not its relation's column; the path is a parameter.
    plan = read_plan("/projects?select=id,c:clients(n:name)&order=c(n->>x).asc")
    s = select_with_embeds(sql.Identifier("projects"), plan.output, Aliases(), order=plan.order)
    params: list[object] = []
    rendered = render(order_by(sql.Identifier("projects"), plan.order, params, s.rows))
    assert rendered.startswith(' ORDER BY to_jsonb("pgrst_1"."n") ->> %s')
    assert rendered.endswith(" ASC")
    assert params == ["x"]


def test_order_by_a_to_one_spread_reads_the_spread_row() -> None:
    plan = read_plan("/projects?select=id,...clients(client:name)&order=clients(client)")
    s = select_with_embeds(sql.Identifier("projects"), plan.output, Aliases(), order=plan.order)
    assert render(s.items) == '"projects"."id" AS "id", "pgrst_1"."client" AS "client"'
    assert render(order_by(sql.Identifier("projects"), plan.order, [], s.rows)) == ' ORDER BY "pgrst_1"."client"'


def test_inner_exists_follows_nested_inner_embeds() -> None:
    plan = read_plan("/clients?select=id,projects!inner(id,tasks!inner(id)),users:projects(id)")
    clauses = inner_exists(sql.Identifier("clients"), plan.output, Aliases(), [])
    assert [render(c) for c in clauses] == [
        'EXISTS (SELECT 1 FROM "api"."projects" AS "pgrst_1_projects" WHERE "pgrst_1_projects"."client_id" = '
        '"clients"."id" AND EXISTS (SELECT 1 FROM "api"."tasks" AS "pgrst_2_tasks" WHERE "pgrst_2_tasks"."project_id" '
        '= "pgrst_1_projects"."id"))'
    ]


def test_exists_clause_of_a_many_to_many_embed_joins_the_junction() -> None:
    embed = embed_of("/users?select=id,tasks(id)")
    assert render(exists_clause(sql.Identifier("users"), embed, Aliases(), [])) == (
        'EXISTS (SELECT 1 FROM "api"."tasks" AS "pgrst_1_tasks", "api"."users_tasks" AS "pgrst_2_users_tasks" WHERE '
        '"pgrst_2_users_tasks"."task_id" = "pgrst_1_tasks"."id" AND "pgrst_2_users_tasks"."user_id" = "users"."id")'
    )
