"""SQL fragments: the small pieces every statement is built from. Imports nothing else from `sql/`.

Every value becomes a bound parameter appended to the PARAMS list a builder
passes down, in the order the placeholders appear in the text; every name is an
`sql.Identifier`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from psycopg import sql
from psycopg.types.numeric import Int8

from pgwsgi.api.model import JsonStep
from pgwsgi.catalog.model import MediaHandler
from pgwsgi.plan.model import ColumnRef, OutputColumn, PlanFilter

Params = list[Any]
Query = sql.SQL | sql.Composed  # what a cursor executes
Statement = tuple[Query, Params]

RESPONSE_GUCS = sql.SQL(
    "nullif(current_setting('response.headers', true), '') AS response_headers, "
    "nullif(current_setting('response.status', true), '') AS response_status"
)

AGGREGATES = {"sum": "sum", "avg": "avg", "max": "max", "min": "min", "count": "count"}

_COMPARISON = {
    "eq": "=",
    "neq": "<>",
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
    "like": "LIKE",
    "ilike": "ILIKE",
    "match": "~",
    "imatch": "~*",
    "isdistinct": "IS DISTINCT FROM",
    "cs": "@>",
    "cd": "<@",
    "ov": "&&",
    "sl": "<<",
    "sr": ">>",
    "nxr": "&<",
    "nxl": "&>",
    "adj": "-|-",
}
_FTS = {"fts": "to_tsquery", "plfts": "plainto_tsquery", "phfts": "phraseto_tsquery", "wfts": "websearch_to_tsquery"}
_IS = {"null": "IS NULL", "not_null": "IS NOT NULL", "true": "IS TRUE", "false": "IS FALSE", "unknown": "IS UNKNOWN"}


class Aliases:
    """Unique aliases for the tables and subqueries of one statement."""

    def __init__(self, prefix: str = "pgrst") -> None:
        self._n: Iterator[int] = itertools.count(1)
        self.prefix = prefix
        self.depth = 0  # how deep in the embed tree the statement being built is

    def embedded(self, name: str, parent: sql.Identifier) -> sql.Identifier:
        """PostgREST's alias of a table embedded at the current depth: `cities_1`.

        Errors and plans name tables by their alias, so they read as PostgREST's.
        Where that alias is the parent's own, which it would hide, a fresh one is used.
        """
        alias = f"{name}_{self.depth}"
        ident = sql.Identifier(alias)
        return self.name(name) if ident == parent else ident

    def next(self) -> int:
        """A fresh number."""
        return next(self._n)

    def name(self, suffix: str = "") -> sql.Identifier:
        """A fresh identifier."""
        return sql.Identifier(f"{self.prefix}_{self.next()}{'_' + suffix if suffix else ''}")


# -- columns and values -------------------------------------------------------------


def column_expr(table: sql.Composable, ref: ColumnRef, params: Params) -> sql.Composable:
    """`"t"."col"` followed by its JSON path; non-JSON columns go through to_jsonb first."""
    expr: sql.Composable
    if ref.computed is not None:
        # A computed field is its function applied to the whole row.
        expr = sql.SQL("{}({})").format(sql.Identifier(ref.computed.schema, ref.computed.name), table)
    else:
        assert ref.column is not None
        expr = sql.SQL("{}.{}").format(table, sql.Identifier(ref.column.name))
    if not ref.json_path:
        return expr
    if not ref.is_json:
        expr = sql.SQL("to_jsonb({})").format(expr)
    for step in ref.json_path:
        expr = _json_step(expr, step, params)
    return expr


def _json_step(expr: sql.Composable, step: JsonStep, params: Params) -> sql.Composable:
    params.append(step.key)
    if isinstance(step.key, int):
        return sql.SQL("{} {} %s::int").format(expr, sql.SQL(step.arrow))
    # A key is a parameter of unknown type, as PostgREST's pgFmtJsonPath sends it: PostgreSQL
    # picks the text operator, and names `unknown` where none fits (`text -> unknown`).
    return sql.SQL("{} {} %s").format(expr, sql.SQL(step.arrow))


def array_literal(values: tuple[str, ...]) -> str:
    """A PostgreSQL array literal whose elements are exactly VALUES (quoted, escaped)."""
    # NUL characters cannot be in a PostgreSQL string; PostgREST drops them from `in` lists.
    quoted = ('"' + v.replace("\0", "").replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "{" + ",".join(quoted) + "}"


def column_link(left: sql.Identifier, a: str, right: sql.Identifier, b: str) -> sql.Composable:
    """`left.a = right.b`: one column pair of a relationship."""
    return sql.SQL("{}.{} = {}.{}").format(left, sql.Identifier(a), right, sql.Identifier(b))


# -- filters ------------------------------------------------------------------------------


def filter_expr(table: sql.Composable, f: PlanFilter, params: Params) -> sql.Composable:
    """One filter on a column of TABLE, without its `not.` (the caller negates)."""
    col = column_expr(table, f.ref, params)
    op, value = f.expr.op, f.expr.value
    if op == "is":
        return sql.SQL("({} {})").format(col, sql.SQL(_IS[str(value)]))
    if op == "in":
        params.append(array_literal(value if isinstance(value, tuple) else (value,)))
        if f.ref.parser is not None:
            # Each element goes through the domain's text parser (M-DOMAIN-REP).
            parser = sql.Identifier(*f.ref.parser)
            return sql.SQL("({} = ANY(SELECT {}(unnest(%s::text[]))))").format(col, parser)
        return sql.SQL("({} = ANY(%s))").format(col)
    if op in _FTS:
        return _fts(f, col, params)
    text = str(value)
    if op in ("like", "ilike"):
        text = text.replace("*", "%")
    params.append(text)
    value_sql: sql.Composable = sql.SQL("%s")
    if f.ref.parser is not None and op not in ("like", "ilike", "isdistinct"):
        value_sql = sql.SQL("{}(%s)").format(sql.Identifier(*f.ref.parser))
    if f.expr.modifier:
        return sql.SQL("({} {} {}({}))").format(
            col, sql.SQL(_COMPARISON[op]), sql.SQL(f.expr.modifier.upper()), value_sql
        )
    return sql.SQL("({} {} {})").format(col, sql.SQL(_COMPARISON[op]), value_sql)


def _fts(f: PlanFilter, col: sql.Composable, params: Params) -> sql.Composable:
    func = sql.SQL(_FTS[f.expr.op])
    lang = f.expr.language
    # PostgREST's rule (Plan.hs resolveTypeOrUnknown): only a column of a table or view whose
    # base type is not tsvector, JSON path or not, is wrapped in to_tsvector. Computed fields and
    # the attributes of other result types (base type "") are unknown fields there: never wrapped.
    if f.ref.computed is None and f.ref.base_type not in ("tsvector", ""):
        if lang is None:
            col = sql.SQL("to_tsvector({})").format(col)
        else:
            params.append(lang)
            col = sql.SQL("to_tsvector(%s::regconfig, {})").format(col)
    if lang is None:
        params.append(str(f.expr.value))
        return sql.SQL("({} @@ {}(%s))").format(col, func)
    params.extend([lang, str(f.expr.value)])
    return sql.SQL("({} @@ {}(%s::regconfig, %s))").format(col, func)


# -- select list items --------------------------------------------------------------------


def output_expr(table: sql.Identifier, out: OutputColumn, params: Params) -> sql.Composable:
    """One item of the select list: a column, computed field, aggregate or `*`, formatted and cast."""
    if out.aggregate is not None:
        return _aggregate_expr(table, out, params)
    if out.ref is None:
        return sql.SQL("{}.*").format(table)
    expr = column_expr(table, out.ref, params)
    if out.formatter is not None:
        expr = sql.SQL("{}({})").format(sql.Identifier(*out.formatter), expr)
    if out.cast is not None:
        expr = sql.SQL("CAST({} AS {})").format(expr, sql.Identifier(*out.cast))
    return sql.SQL("{} AS {}").format(expr, sql.Identifier(out.name))


def _aggregate_expr(table: sql.Identifier, out: OutputColumn, params: Params) -> sql.Composable:
    func = sql.SQL(f"pg_catalog.{AGGREGATES[out.aggregate or 'count']}")
    if out.ref is None:
        expr: sql.Composable = sql.SQL("{}(*)").format(func)
    else:
        expr = sql.SQL("{}({})").format(func, _cast_input(table, out, params))
    if out.aggregate_cast is not None:
        expr = sql.SQL("CAST({} AS {})").format(expr, sql.Identifier(*out.aggregate_cast))
    return sql.SQL("{} AS {}").format(expr, sql.Identifier(out.name))


def aggregate_input(table: sql.Identifier, out: OutputColumn, params: Params) -> sql.Composable:
    """What an aggregate of a to-one spread aggregates, under its field name, for the parent to aggregate.

    `count()` has no column: TRUE marks that a related row exists.
    """
    value = sql.SQL("TRUE") if out.ref is None else _cast_input(table, out, params)
    return sql.SQL("{} AS {}").format(value, sql.Identifier(out.field_name))


def _cast_input(table: sql.Identifier, out: OutputColumn, params: Params) -> sql.Composable:
    assert out.ref is not None
    arg = column_expr(table, out.ref, params)
    return sql.SQL("CAST({} AS {})").format(arg, sql.Identifier(*out.cast)) if out.cast is not None else arg


def aggregate_of(value: sql.Composable, out: OutputColumn) -> sql.Composable:
    """An aggregate a to-one spread hoisted, over the spread's column VALUE."""
    expr = sql.SQL("pg_catalog.{}({})").format(sql.SQL(AGGREGATES[out.aggregate or "count"]), value)
    if out.aggregate_cast is not None:
        expr = sql.SQL("CAST({} AS {})").format(expr, sql.Identifier(*out.aggregate_cast))
    return sql.SQL("{} AS {}").format(expr, sql.Identifier(out.name))


def group_by(aggregated: list[bool]) -> sql.Composable:
    """GROUP BY every other item, by position, when some are aggregates (Q-SELECT-GROUPBY).

    Embedded resources are grouped by too: they are jsonb, which has equality.
    """
    if not any(aggregated):
        return sql.SQL("")
    positions = [sql.Literal(i) for i, agg in enumerate(aggregated, start=1) if not agg]
    return sql.SQL(" GROUP BY {}").format(sql.SQL(", ").join(positions)) if positions else sql.SQL("")


# -- paging and bodies ------------------------------------------------------------------------


def paging(limit: int | None, offset: int, params: Params) -> sql.Composable:
    """` LIMIT %s OFFSET %s` for a page, its values appended to PARAMS, or as much of it as applies."""
    clause: sql.Composable = sql.SQL("")
    if limit is not None:
        params.append(Int8(limit))
        clause = sql.SQL(" LIMIT %s")
    if offset:
        params.append(Int8(offset))
        clause = sql.SQL("{} OFFSET %s").format(clause)
    return clause


def body_expr(media: str, handler: MediaHandler | None = None) -> sql.Composable:
    """The aggregate that turns the rows of _pgrst_t into the response body."""
    if handler is not None:
        return handler_body(handler, sql.SQL("_pgrst_t"))
    if media == "geojson":
        # PostGIS's: needs ST_AsGeoJSON on the search path, as PostgREST's does.
        return sql.SQL(
            "json_build_object('type', 'FeatureCollection', 'features', "
            "coalesce(json_agg(ST_AsGeoJSON(_pgrst_t)::json), '[]'))::text"
        )
    if media in ("object", "object-stripped"):
        obj: sql.Composable = sql.SQL("(json_agg(_pgrst_t) -> 0)")
        if media == "object-stripped":
            obj = sql.SQL("json_strip_nulls({})").format(obj)
        return sql.SQL("coalesce({}::text, 'null')").format(obj)
    if media == "array-stripped":
        return sql.SQL("coalesce(json_strip_nulls(json_agg(_pgrst_t))::text, '[]')")
    if media == "csv":
        return _csv_body()
    return sql.SQL("coalesce(json_agg(_pgrst_t)::text, '[]')")


def handler_body(handler: MediaHandler, value: sql.Composable) -> sql.Composable:
    """A custom media type's body: its aggregate (or its domain, as a cast) applied to VALUE (M-HANDLER-*).

    An aggregate of one relation's rows gets them as that relation's row type.
    The body stays bytes for a bytea domain and is text otherwise.
    """
    if handler.aggregate and handler.target is not None and value == sql.SQL("_pgrst_t"):
        value = sql.SQL("{}::{}").format(value, sql.Identifier(*handler.target))
    body = sql.SQL("{}({})").format(sql.Identifier(*handler.function), value)
    if handler.base_type == "xml":
        # xml's own output, as PostgREST reads it (a cast to text would keep a leading newline).
        return sql.SQL("({})::xml").format(body)
    return sql.SQL("({})::{}").format(body, sql.SQL("bytea" if handler.base_type == "bytea" else "text"))


def _csv_body() -> sql.Composable:
    # As PostgREST: the header is the keys of the page's first row (unquoted), then a
    # newline, then each row as PostgreSQL's record text without its parentheses.
    return sql.SQL(
        "coalesce((SELECT string_agg(k, ',') FROM json_object_keys(json_agg(_pgrst_t) -> 0) AS k), '')"
        " || E'\\n' || "
        "coalesce(string_agg(substr(_pgrst_t::text, 2, length(_pgrst_t::text) - 2), E'\\n'), '')"
    )
