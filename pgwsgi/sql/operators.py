"""Filters and logic trees as SQL. Every value becomes a bound parameter."""

from __future__ import annotations

from typing import Any

from psycopg import sql

from pgwsgi.api.model import JsonStep
from pgwsgi.plan.model import ColumnRef, PlanCondition, PlanEmbedExists, PlanFilter

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


def column_expr(table: sql.Composable, ref: ColumnRef, params: list[Any]) -> sql.Composable:
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


def _json_step(expr: sql.Composable, step: JsonStep, params: list[Any]) -> sql.Composable:
    params.append(step.key)
    cast = "int" if isinstance(step.key, int) else "text"
    return sql.SQL("{} {} %s::{}").format(expr, sql.SQL(step.arrow), sql.SQL(cast))


def array_literal(values: tuple[str, ...]) -> str:
    """A PostgreSQL array literal whose elements are exactly VALUES (quoted, escaped)."""
    # NUL characters cannot be in a PostgreSQL string; PostgREST drops them from `in` lists.
    quoted = ('"' + v.replace("\0", "").replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "{" + ",".join(quoted) + "}"


def condition(table: sql.Composable, cond: PlanCondition, params: list[Any]) -> sql.Composable:
    """One WHERE condition (a filter, a logic tree, or whether an embed has rows)."""
    if isinstance(cond, PlanEmbedExists):
        from pgwsgi.sql.embed import Aliases, exists_clause

        clause = exists_clause(table, cond.embed, Aliases(prefix="pgrst_x"), params)
        return clause if cond.exists else sql.SQL("NOT {}").format(clause)
    if isinstance(cond, PlanFilter):
        expr = _filter(table, cond, params)
    else:
        joiner = sql.SQL(" OR ") if cond.operator == "or" else sql.SQL(" AND ")
        parts = [condition(table, c, params) for c in cond.children]
        expr = sql.SQL("({})").format(joiner.join(parts))
    return sql.SQL("NOT {}").format(expr) if cond.negated else expr


def _filter(table: sql.Composable, f: PlanFilter, params: list[Any]) -> sql.Composable:
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


def _fts(f: PlanFilter, col: sql.Composable, params: list[Any]) -> sql.Composable:
    func = sql.SQL(_FTS[f.expr.op])
    lang = f.expr.language
    if f.ref.base_type != "tsvector" or f.ref.json_path:
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
