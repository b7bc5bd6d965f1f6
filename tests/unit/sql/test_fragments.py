"""sql/fragments.py: the leaves every statement is built from; names are identifiers, values parameters."""

from __future__ import annotations

import dataclasses

import pytest
from psycopg import sql

from pgwsgi.api.model import JsonStep, OpExpr
from pgwsgi.plan.model import ColumnRef, OutputColumn, PlanFilter
from pgwsgi.sql.fragments import (
    Aliases,
    aggregate_input,
    aggregate_of,
    array_literal,
    body_expr,
    column_expr,
    column_link,
    filter_expr,
    group_by,
    output_expr,
    paging,
)
from tests.unit.snapshot import DOCS, ITEMS, LABEL

TABLE = sql.Identifier("items")
NAME = ColumnRef(ITEMS.by_name["name"])
PRICE = ColumnRef(ITEMS.by_name["price"])
DATA = ColumnRef(ITEMS.by_name["data"])
TEXT = ("pg_catalog", "text")


def render(composed: sql.Composable) -> str:
    """Render without a connection: identifiers are quoted the same way."""
    return composed.as_string(None)


def where(ref: ColumnRef, op: str, value: str | tuple[str, ...], **kw: object) -> tuple[str, list[object]]:
    params: list[object] = []
    text = render(filter_expr(TABLE, PlanFilter(ref, OpExpr(op, value, **kw)), params))  # type: ignore[arg-type]
    return text, params


# -- moved from tests/unit/test_sql.py -------------------------------------------------------


def test_array_literal_escapes_backslashes_and_drops_nul() -> None:
    assert array_literal(("a\\b", "x\0y", "")) == '{"a\\\\b","xy",""}'


# -- columns ------------------------------------------------------------------------------------


def test_array_literal_quotes_every_element() -> None:
    assert array_literal(('a"b', "c,d", "{}", "NULL")) == '{"a\\"b","c,d","{}","NULL"}'
    assert array_literal(()) == "{}"


def test_a_column_is_qualified_by_its_table() -> None:
    params: list[object] = []
    assert render(column_expr(TABLE, NAME, params)) == '"items"."name"'
    assert params == []


def test_a_computed_field_is_its_function_of_the_row() -> None:
    assert render(column_expr(TABLE, ColumnRef(None, (), LABEL), [])) == '"api"."label"("items")'


def test_json_path_keys_are_unknown_parameters_and_indexes_int() -> None:
    # As PostgREST's pgFmtJsonPath: a key's type is left to PostgreSQL (`text -> unknown` in errors).
    params: list[object] = []
    ref = ColumnRef(DATA.column, (JsonStep("->", "a"), JsonStep("->", 1), JsonStep("->>", "b")))
    assert render(column_expr(TABLE, ref, params)) == '"items"."data" -> %s -> %s::int ->> %s'
    assert params == ["a", 1, "b"]


def test_a_json_path_on_a_non_json_column_goes_through_to_jsonb() -> None:
    params: list[object] = []
    ref = ColumnRef(NAME.column, (JsonStep("->>", "k"),))
    assert render(column_expr(TABLE, ref, params)) == 'to_jsonb("items"."name") ->> %s'


def test_column_link_joins_one_column_pair() -> None:
    assert render(column_link(sql.Identifier("a"), "x", sql.Identifier("b"), "y")) == '"a"."x" = "b"."y"'


# -- filters ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "sql_op"),
    [
        ("eq", "="),
        ("neq", "<>"),
        ("gt", ">"),
        ("gte", ">="),
        ("lt", "<"),
        ("lte", "<="),
        ("match", "~"),
        ("imatch", "~*"),
        ("isdistinct", "IS DISTINCT FROM"),
        ("cs", "@>"),
        ("cd", "<@"),
        ("ov", "&&"),
        ("sl", "<<"),
        ("sr", ">>"),
        ("nxr", "&<"),
        ("nxl", "&>"),
        ("adj", "-|-"),
    ],
)
def test_comparison_operators_bind_the_value_as_it_is(op: str, sql_op: str) -> None:
    assert where(NAME, op, "a*b") == (f'("items"."name" {sql_op} %s)', ["a*b"])


@pytest.mark.parametrize("op", ["like", "ilike"])
def test_like_patterns_turn_stars_into_percent(op: str) -> None:
    assert where(NAME, op, "a*b*") == (f'("items"."name" {op.upper()} %s)', ["a%b%"])


@pytest.mark.parametrize(
    ("value", "test"),
    [
        ("null", "IS NULL"),
        ("not_null", "IS NOT NULL"),
        ("true", "IS TRUE"),
        ("false", "IS FALSE"),
        ("unknown", "IS UNKNOWN"),
    ],
)
def test_is_takes_no_parameter(value: str, test: str) -> None:
    assert where(NAME, "is", value) == (f'("items"."name" {test})', [])


def test_in_is_one_array_parameter() -> None:
    assert where(NAME, "in", ("a", "b,c")) == ('("items"."name" = ANY(%s))', ['{"a","b,c"}'])


def test_in_on_a_domain_parses_each_element() -> None:
    ref = ColumnRef(NAME.column, (), None, ("api", "color_from_text"))
    assert where(ref, "in", ("#FF0000",)) == (
        '("items"."name" = ANY(SELECT "api"."color_from_text"(unnest(%s::text[]))))',
        ['{"#FF0000"}'],
    )


def test_a_domain_parser_wraps_the_value_but_not_like_patterns() -> None:
    ref = ColumnRef(NAME.column, (), None, ("api", "color_from_text"))
    assert where(ref, "eq", "#FF0000") == ('("items"."name" = "api"."color_from_text"(%s))', ["#FF0000"])
    assert where(ref, "like", "#FF*") == ('("items"."name" LIKE %s)', ["#FF%"])
    assert where(ref, "isdistinct", "x") == ('("items"."name" IS DISTINCT FROM %s)', ["x"])


@pytest.mark.parametrize("modifier", ["any", "all"])
def test_any_and_all_compare_with_an_array_parameter(modifier: str) -> None:
    assert where(NAME, "like", "{a*,b}", modifier=modifier) == (
        f'("items"."name" LIKE {modifier.upper()}(%s))',
        ["{a%,b}"],
    )


@pytest.mark.parametrize(
    ("op", "func"),
    [
        ("fts", "to_tsquery"),
        ("plfts", "plainto_tsquery"),
        ("phfts", "phraseto_tsquery"),
        ("wfts", "websearch_to_tsquery"),
    ],
)
def test_full_text_search_on_text_converts_the_column(op: str, func: str) -> None:
    assert where(NAME, op, "cat") == (f'(to_tsvector("items"."name") @@ {func}(%s))', ["cat"])


def test_full_text_search_with_a_language_binds_it_twice() -> None:
    assert where(NAME, "fts", "cat", language="english") == (
        '(to_tsvector(%s::regconfig, "items"."name") @@ to_tsquery(%s::regconfig, %s))',
        ["english", "english", "cat"],
    )


def test_full_text_search_on_a_tsvector_uses_the_column_itself() -> None:
    tsv = ColumnRef(DOCS.by_name["tsv"])
    assert where(tsv, "fts", "cat") == ('("items"."tsv" @@ to_tsquery(%s))', ["cat"])
    assert where(tsv, "plfts", "dog", language="simple") == (
        '("items"."tsv" @@ plainto_tsquery(%s::regconfig, %s))',
        ["simple", "dog"],
    )
    # A JSON path does not change that (Plan.hs resolveTypeOrUnknown).
    path = ColumnRef(DOCS.by_name["tsv"], (JsonStep("->", "k"),))
    assert where(path, "fts", "cat") == ('(to_jsonb("items"."tsv") -> %s @@ to_tsquery(%s))', ["k", "cat"])


def test_full_text_search_leaves_fields_of_unknown_type_to_postgresql() -> None:
    # A computed field, and an attribute of a result type that is no table (base type ""), are
    # unknown fields to PostgREST: it never wraps them in to_tsvector.
    assert where(ColumnRef(None, (), LABEL), "fts", "cat", language="simple") == (
        '("api"."label"("items") @@ to_tsquery(%s::regconfig, %s))',
        ["simple", "cat"],
    )
    unknown = ColumnRef(dataclasses.replace(ITEMS.by_name["name"], base_type=""))
    assert where(unknown, "wfts", "cat") == ('("items"."name" @@ websearch_to_tsquery(%s))', ["cat"])


# -- select list ---------------------------------------------------------------------------------------


def test_star_selects_every_column_of_the_table() -> None:
    assert render(output_expr(TABLE, OutputColumn(None, "*"), [])) == '"items".*'


def test_an_output_column_is_formatted_then_cast_then_named() -> None:
    out = OutputColumn(NAME, "n", TEXT, ("api", "fmt"))
    assert render(output_expr(TABLE, out, [])) == 'CAST("api"."fmt"("items"."name") AS "pg_catalog"."text") AS "n"'


def test_an_aggregate_casts_its_input_and_its_result() -> None:
    out = OutputColumn(
        PRICE, "total", ("pg_catalog", "numeric"), aggregate="sum", aggregate_cast=TEXT, field_name="total"
    )
    assert render(output_expr(TABLE, out, [])) == (
        'CAST(pg_catalog.sum(CAST("items"."price" AS "pg_catalog"."numeric")) AS "pg_catalog"."text") AS "total"'
    )


def test_count_without_a_column_counts_rows() -> None:
    out = OutputColumn(None, "count", aggregate="count", field_name="count")
    assert render(output_expr(TABLE, out, [])) == 'pg_catalog.count(*) AS "count"'


def test_a_hoisted_aggregate_selects_its_input_under_its_field_name() -> None:
    avg = OutputColumn(PRICE, "avg", aggregate="avg", field_name="price")
    count = OutputColumn(None, "count", aggregate="count", field_name="count")
    assert render(aggregate_input(TABLE, avg, [])) == '"items"."price" AS "price"'
    assert render(aggregate_input(TABLE, count, [])) == 'TRUE AS "count"'


def test_the_parent_aggregates_a_hoisted_value() -> None:
    out = OutputColumn(PRICE, "total", aggregate="sum", aggregate_cast=TEXT, field_name="price")
    assert render(aggregate_of(sql.SQL('"pgrst_1"."price"'), out)) == (
        'CAST(pg_catalog.sum("pgrst_1"."price") AS "pg_catalog"."text") AS "total"'
    )


def test_group_by_lists_the_positions_of_the_other_items() -> None:
    assert render(group_by([False, True, False])) == " GROUP BY 1, 3"
    assert render(group_by([False, False])) == ""
    assert render(group_by([True, True])) == ""


# -- paging, bodies and aliases ------------------------------------------------------------------------


def test_paging_binds_limit_and_offset_as_bigints() -> None:
    params: list[object] = []
    assert render(paging(10, 5, params)) == " LIMIT %s OFFSET %s"
    assert params == [10, 5]
    assert [type(p).__name__ for p in params] == ["Int8", "Int8"]


def test_paging_leaves_out_what_does_not_apply() -> None:
    params: list[object] = []
    assert (render(paging(None, 0, params)), render(paging(0, 0, params)), render(paging(None, 3, params))) == (
        "",
        " LIMIT %s",
        " OFFSET %s",
    )
    assert params == [0, 3]


@pytest.mark.parametrize(
    ("media", "body"),
    [
        ("json", "coalesce(json_agg(_pgrst_t)::text, '[]')"),
        ("object", "coalesce((json_agg(_pgrst_t) -> 0)::text, 'null')"),
        ("object-stripped", "coalesce(json_strip_nulls((json_agg(_pgrst_t) -> 0))::text, 'null')"),
        ("array-stripped", "coalesce(json_strip_nulls(json_agg(_pgrst_t))::text, '[]')"),
        (
            "csv",
            "coalesce((SELECT string_agg(k, ',') FROM json_object_keys(json_agg(_pgrst_t) -> 0) AS k), '')"
            " || E'\\n' || "
            "coalesce(string_agg(substr(_pgrst_t::text, 2, length(_pgrst_t::text) - 2), E'\\n'), '')",
        ),
    ],
)
def test_the_body_is_aggregated_by_postgres_for_each_media(media: str, body: str) -> None:
    assert render(body_expr(media)) == body


def test_aliases_are_numbered_once_per_statement() -> None:
    aliases = Aliases()
    assert (render(aliases.name()), render(aliases.name("rows")), aliases.next()) == ('"pgrst_1"', '"pgrst_2_rows"', 3)
    assert render(Aliases(prefix="pgrst_x").name("t")) == '"pgrst_x_1_t"'
