"""ReadPlan -> one statement returning the body and the numbers the headers need.

The database builds the JSON: Python only forwards the text it returns. Result
columns: total (count=exact/estimated, else NULL), page_total, body,
response_headers, response_status.
"""

from __future__ import annotations

from typing import Any

from psycopg import sql
from psycopg.types.numeric import Int8

from pgwsgi.plan.model import ReadPlan, groups_rows
from pgwsgi.sql.fragments import RESPONSE_GUCS, Aliases, Statement, body_expr
from pgwsgi.sql.readtree import condition, inner_exists, node_query

_AS = sql.SQL(" AS ")


def compose_read(plan: ReadPlan, head: bool = False) -> Statement:
    """The main statement of a GET (or HEAD, which skips building the body)."""
    rel = plan.relation
    table = sql.Identifier(rel.name)
    params: list[Any] = []
    source = sql.Composed([sql.Identifier(rel.schema, rel.name), _AS, table])
    inner = node_query(plan, table, Aliases(), params, source=source)
    total, count_params = _total(plan)
    body = sql.SQL("NULL::text") if head else body_expr(plan.media, plan.handler)
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
