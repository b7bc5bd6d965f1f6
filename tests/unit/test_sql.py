"""The sql stage as text: names are identifiers, values are parameters, no user text in SQL."""

from __future__ import annotations

from psycopg import sql

from pgwsgi.api.model import JsonStep, OpExpr
from pgwsgi.auth import Identity
from pgwsgi.catalog.model import Column, Relation
from pgwsgi.config import Config
from pgwsgi.plan.model import ColumnRef, OutputColumn, PlanFilter, PlanLogic, PlanOrder, ReadPlan
from pgwsgi.sql.fragments import array_literal
from pgwsgi.sql.read import compose_count_explain, compose_read
from pgwsgi.sql.settings import request_settings


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


def test_array_literal_escapes_backslashes_and_drops_nul() -> None:
    assert array_literal(("a\\b", "x\0y", "")) == '{"a\\\\b","xy",""}'


def test_json_path_keys_are_typed_parameters() -> None:
    ref = ColumnRef(REL.column("doc"), (JsonStep("->", "a"), JsonStep("->>", 0)))
    out = (OutputColumn(ref, "a"),)
    stmt, params = compose_read(plan(output=out))
    assert 'SELECT "t"."doc" -> %s::text ->> %s::int AS "a" FROM' in render(stmt)
    assert params == ["a", 0]


def test_non_json_column_path_goes_through_to_jsonb() -> None:
    ref = ColumnRef(REL.column("name"), (JsonStep("->>", "k"),))
    where = (PlanFilter(ref, OpExpr("eq", "v")),)
    stmt, _ = compose_read(plan(where=where))
    assert '(to_jsonb("t"."name") ->> %s::text = %s)' in render(stmt)


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


def test_settings_are_one_fixed_statement_with_two_arrays() -> None:
    config = Config(db_extra_search_path=("public", 'odd"name'), app_settings=(("app.settings.k", "v"),))
    ident = Identity("web_user", {"sub": "alice", "role": "ignored"}, False)
    stmt, params = request_settings(
        config,
        ident,
        schema="api",
        method="GET",
        path="/t",
        headers=(("X-A", "1"), ("Cookie", "c=1")),
        cookies=(("c", "1"),),
    )
    assert "unnest(%s::text[], %s::text[])" in render(stmt)
    names, values = params
    assert names == [
        "search_path",
        "role",
        "request.jwt.claims",
        "request.method",
        "request.path",
        "request.headers",
        "request.cookies",
        "app.settings.k",
    ]
    assert values == [
        '"api", "public", "odd""name"',
        "web_user",
        '{"sub":"alice","role":"web_user"}',
        "GET",
        "/t",
        '{"x-a":"1"}',
        '{"c":"1"}',
        "v",
    ]


def test_legacy_gucs_skip_names_postgres_cannot_hold() -> None:
    config = Config(db_use_legacy_gucs=True)
    ident = Identity("u", {"sub": "a", "n": 1, "bad-name": "x"}, False)
    _, (names, values) = request_settings(
        config, ident, schema="s", method="GET", path="/", headers=(("User-Agent", "curl"), ("Xtest", "v")), cookies=()
    )
    legacy = dict(zip(names, values, strict=True))
    assert legacy["request.jwt.claim.sub"] == "a"
    assert legacy["request.jwt.claim.n"] == "1"
    assert legacy["request.header.xtest"] == "v"
    assert "request.jwt.claim.bad-name" not in legacy and "request.header.user-agent" not in legacy
