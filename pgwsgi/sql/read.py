"""ReadPlan -> one statement returning the body and the numbers the headers need.

The database builds the JSON: Python only forwards the text it returns. Result
columns: total (count=exact/estimated, else NULL), page_total, body,
response_headers, response_status.
"""

from __future__ import annotations

from typing import Any

from psycopg import sql
from psycopg.types.numeric import Int8

from pgwsgi.plan.model import OutputColumn, PlanCondition, PlanOrder, ReadPlan, groups_rows
from pgwsgi.sql.embed import Aliases, inner_exists, related_value, select_with_embeds
from pgwsgi.sql.operators import column_expr, condition

Statement = tuple[sql.Composed, list[Any]]

RESPONSE_GUCS = sql.SQL(
    "nullif(current_setting('response.headers', true), '') AS response_headers, "
    "nullif(current_setting('response.status', true), '') AS response_status"
)


def compose_read(plan: ReadPlan, head: bool = False) -> Statement:
    """The main statement of a GET (or HEAD, which skips building the body)."""
    rel = plan.relation
    source = sql.Identifier(rel.schema, rel.name)
    table = sql.Identifier(rel.name)
    selected = select_with_embeds(table, plan.output, Aliases())
    params: list[Any] = selected.params + selected.join_params
    where = where_clause(table, plan.where, params)
    order = order_by(table, plan.order, params)
    inner = sql.SQL("SELECT {} FROM {} AS {}{}{}{}{}{}").format(
        selected.items,
        source,
        table,
        selected.joins,
        where,
        selected.grouping,
        order,
        paging(plan.limit, plan.offset, params),
    )
    total, count_params = _total(plan)
    body = sql.SQL("NULL::text") if head else body_expr(plan.media)
    stmt = sql.SQL(
        "SELECT {total} AS total, pg_catalog.count(_pgrst_t) AS page_total, {body} AS body, {gucs} "
        "FROM ({inner}) _pgrst_t"
    ).format(total=total, body=body, gucs=RESPONSE_GUCS, inner=inner)
    return stmt, count_params + params


def _count_source(plan: ReadPlan, params: list[Any]) -> sql.Composable:
    """The rows the total counts: the root's filters, and `!inner` embeds as EXISTS (H-PREFER-COUNT)."""
    rel = plan.relation
    table = sql.Identifier(rel.name)
    conditions = [condition(table, c, params) for c in plan.where]
    conditions += inner_exists(table, plan.output, Aliases(), params)
    where = sql.SQL(" WHERE {}").format(sql.SQL(" AND ").join(conditions)) if conditions else sql.SQL("")
    return sql.SQL("SELECT 1 FROM {} AS {}{}").format(sql.Identifier(rel.schema, rel.name), table, where)


def _total(plan: ReadPlan) -> tuple[sql.Composable, list[Any]]:
    """The total-count column (H-PREFER-COUNT) and the parameters it needs, which come first."""
    if plan.count not in ("exact", "estimated"):
        return sql.SQL("NULL::bigint"), []
    if plan.max_rows is None and plan.limit is None and not plan.offset and not groups_rows(plan.output):
        # The page is every row: its own count is the total (V-COUNT), no second scan. Not
        # with aggregates: PostgREST's total counts the rows read, not the groups.
        return sql.SQL("pg_catalog.count(_pgrst_t)"), []
    params: list[Any] = []
    counted = _count_source(plan, params)
    if plan.count == "estimated" and plan.max_rows is not None:
        # Counting stops just past db-max-rows; beyond that the planner's estimate is used.
        params.append(Int8(plan.max_rows + 1))
        counted = sql.SQL("{} LIMIT %s").format(counted)
    return sql.SQL("(SELECT pg_catalog.count(*) FROM ({}) pgrst_source_count)").format(counted), params


def compose_count_explain(plan: ReadPlan) -> Statement | None:
    """`EXPLAIN (FORMAT JSON)` of the count query, for count=planned and count=estimated."""
    if plan.count not in ("planned", "estimated"):
        return None
    params: list[Any] = []
    return sql.SQL("EXPLAIN (FORMAT JSON) {}").format(_count_source(plan, params)), params


def output_expr(table: sql.Identifier, out: OutputColumn, params: list[Any]) -> sql.Composable:
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


AGGREGATES = {"sum": "sum", "avg": "avg", "max": "max", "min": "min", "count": "count"}


def _aggregate_expr(table: sql.Identifier, out: OutputColumn, params: list[Any]) -> sql.Composable:
    func = sql.SQL(f"pg_catalog.{AGGREGATES[out.aggregate or 'count']}")
    if out.ref is None:
        expr: sql.Composable = sql.SQL("{}(*)").format(func)
    else:
        expr = sql.SQL("{}({})").format(func, _cast_input(table, out, params))
    if out.aggregate_cast is not None:
        expr = sql.SQL("CAST({} AS {})").format(expr, sql.Identifier(*out.aggregate_cast))
    return sql.SQL("{} AS {}").format(expr, sql.Identifier(out.name))


def aggregate_input(table: sql.Identifier, out: OutputColumn, params: list[Any]) -> sql.Composable:
    """What an aggregate of a to-one spread aggregates, under its field name, for the parent to aggregate.

    `count()` has no column: TRUE marks that a related row exists.
    """
    value = sql.SQL("TRUE") if out.ref is None else _cast_input(table, out, params)
    return sql.SQL("{} AS {}").format(value, sql.Identifier(out.field_name))


def _cast_input(table: sql.Identifier, out: OutputColumn, params: list[Any]) -> sql.Composable:
    assert out.ref is not None
    arg = column_expr(table, out.ref, params)
    return sql.SQL("CAST({} AS {})").format(arg, sql.Identifier(*out.cast)) if out.cast is not None else arg


def where_clause(table: sql.Identifier, conditions: tuple[PlanCondition, ...], params: list[Any]) -> sql.Composable:
    """WHERE for CONDITIONS (ANDed), or nothing."""
    if not conditions:
        return sql.SQL("")
    return sql.SQL(" WHERE {}").format(sql.SQL(" AND ").join(condition(table, c, params) for c in conditions))


def order_by(table: sql.Identifier, order: tuple[PlanOrder, ...], params: list[Any]) -> sql.Composable:
    """ORDER BY for ORDER, or nothing."""
    if not order:
        return sql.SQL("")
    terms = []
    for o in order:
        if o.embed is not None:
            term = related_value(table, o.embed, o.ref, params)
        else:
            term = column_expr(table, o.ref, params)
        if o.direction:
            term = sql.SQL("{} {}").format(term, sql.SQL(o.direction.upper()))
        if o.nulls:
            term = sql.SQL("{} NULLS {}").format(term, sql.SQL(o.nulls.upper()))
        terms.append(term)
    return sql.SQL(" ORDER BY {}").format(sql.SQL(", ").join(terms))


def paging(limit: int | None, offset: int, params: list[Any]) -> sql.Composable:
    """` LIMIT %s OFFSET %s` for a page, its values appended to PARAMS, or as much of it as applies."""
    clause: sql.Composable = sql.SQL("")
    if limit is not None:
        params.append(Int8(limit))
        clause = sql.SQL(" LIMIT %s")
    if offset:
        params.append(Int8(offset))
        clause = sql.SQL("{} OFFSET %s").format(clause)
    return clause


def body_expr(media: str) -> sql.Composable:
    """The aggregate that turns the rows of _pgrst_t into the response body."""
    if media in ("object", "object-stripped"):
        obj = sql.SQL("(json_agg(_pgrst_t) -> 0)")
        if media == "object-stripped":
            obj = sql.SQL("json_strip_nulls({})").format(obj)
        return sql.SQL("coalesce({}::text, 'null')").format(obj)
    if media == "array-stripped":
        return sql.SQL("coalesce(json_strip_nulls(json_agg(_pgrst_t))::text, '[]')")
    if media == "csv":
        return _csv_body()
    return sql.SQL("coalesce(json_agg(_pgrst_t)::text, '[]')")


def _csv_body() -> sql.Composable:
    # As PostgREST: the header is the keys of the page's first row (unquoted), then a
    # newline, then each row as PostgreSQL's record text without its parentheses.
    return sql.SQL(
        "coalesce((SELECT string_agg(k, ',') FROM json_object_keys(json_agg(_pgrst_t) -> 0) AS k), '')"
        " || E'\\n' || "
        "coalesce(string_agg(substr(_pgrst_t::text, 2, length(_pgrst_t::text) - 2), E'\\n'), '')"
    )
