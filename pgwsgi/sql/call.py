"""CallPlan -> one statement: the call in a CTE (so it runs once), then the read of its result.

Arguments are parameters in named notation (`"a" := $1::integer`); a JSON body is
one parameter expanded by json_to_record. Result columns as for reads: total,
page_total, body, response_headers, response_status.
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

from pgwsgi.catalog.calls import argument_type
from pgwsgi.plan.model import CallPlan, groups_rows
from pgwsgi.sql.fragments import RESPONSE_GUCS, Aliases, Statement, body_expr, handler_body, paging
from pgwsgi.sql.jsontext import JsonText
from pgwsgi.sql.readtree import node_query, where_clause

# The body always uses the call's output, even for HEAD and void: PostgreSQL may
# otherwise skip calling a function whose result nobody reads (R-HEAD, R-TXMODE).
_SCALAR_BODY = {
    "scalar": sql.SQL("coalesce((json_agg(_pgrst_t.pgrst_scalar) -> 0)::text, 'null')"),
    "setof-scalar": sql.SQL("coalesce(json_agg(_pgrst_t.pgrst_scalar)::text, '[]')"),
    "void": sql.SQL("coalesce((json_agg(_pgrst_t.pgrst_scalar) -> 0)::text, 'null')"),
}


def compose_call(plan: CallPlan, head: bool = False) -> Statement:
    """The main statement of a /rpc request."""
    # Parameters in text order: the call, then the total's filters, then the page's.
    params: list[Any] = []
    source = _call_source(plan, params)
    read = plan.read
    alias = sql.Identifier(read.relation.name)
    single = plan.shape in ("scalar", "composite", "void")
    scalar = plan.shape in ("scalar", "setof-scalar", "void")
    total = _total(plan, alias, single, scalar, params)
    if scalar:
        inner: sql.Composable = sql.SQL("SELECT {}.pgrst_scalar FROM pgrst_source AS {}{}").format(
            alias, alias, paging(read.limit, read.offset, params)
        )
    else:
        inner = node_query(read, alias, Aliases(), params, source=sql.SQL("pgrst_source AS {}").format(alias))
    body: sql.Composable
    # HEAD never runs a handler (PostgREST's NoAgg): the JSON body below still makes the call happen.
    handler = None if head else read.handler
    if handler is not None and scalar:
        # A scalar result goes to its handler as the value itself (PostgREST's customFuncF). A domain
        # (not an aggregate) takes it through array_agg, so that an empty page (limit=0) still gives
        # the statement its one row.
        value = "_pgrst_t.pgrst_scalar" if handler.aggregate else "(array_agg(_pgrst_t.pgrst_scalar))[1]"
        body = handler_body(handler, sql.SQL(value))
    elif handler is not None:
        body = body_expr(read.media, handler)
    elif read.media == "geojson" and not head:
        # Whatever the shape, as PostgREST's asGeoJsonF (a scalar has no geometry column: 22023).
        body = body_expr("geojson")
    elif plan.shape == "setof-scalar" and read.media in ("object", "object-stripped"):
        body = _SCALAR_BODY["scalar"]  # singular: the one value itself (PGRST116 otherwise)
    elif plan.shape in _SCALAR_BODY:
        body = _SCALAR_BODY[plan.shape]
    elif plan.shape == "composite" and read.media == "json":
        body = sql.SQL("coalesce((json_agg(_pgrst_t) -> 0)::text, 'null')")
    else:
        body = body_expr("json" if read.media == "custom" else read.media)
    # HEAD still builds a body (see _SCALAR_BODY); the response drops it.
    page_total = sql.SQL("1") if single else sql.SQL("pg_catalog.count(_pgrst_t)")
    stmt = sql.SQL(
        "WITH pgrst_source AS ({source}) "
        "SELECT {total} AS total, {page_total} AS page_total, {body} AS body, {gucs} FROM ({inner}) _pgrst_t"
    ).format(source=source, total=total, page_total=page_total, body=body, gucs=RESPONSE_GUCS, inner=inner)
    return stmt, params


def _total(plan: CallPlan, alias: sql.Identifier, single: bool, scalar: bool, params: list[Any]) -> sql.Composable:
    """R-COUNT: exact and estimated count the (filtered) result; the CTE keeps the call to one run."""
    if plan.read.count not in ("exact", "estimated"):
        return sql.SQL("NULL::bigint")
    if single:
        return sql.SQL("1::bigint")
    read = plan.read
    if read.limit is None and not read.offset and not groups_rows(read.output):
        # The page is the whole filtered result: its own count is the total, no second scan of the
        # call's rows (PostgREST's countF; its plan then shows one count aggregate).
        return sql.SQL("pg_catalog.count(_pgrst_t)")
    where = sql.SQL("") if scalar else where_clause(alias, plan.read.where, params)
    return sql.SQL("(SELECT pg_catalog.count(*) FROM pgrst_source AS {}{})").format(alias, where)


def _call_source(plan: CallPlan, params: list[Any]) -> sql.Composable:
    fn = plan.function
    name = sql.Identifier(fn.schema, fn.name)
    prefix: sql.Composable = sql.SQL("FROM ")
    if plan.raw_arg is not None:
        param, data = plan.raw_arg
        # The whole body, as the parameter's type (R-SINGLE-UNNAMED); positional: it has no name.
        if param.type in ("json", "jsonb"):
            params.append(JsonText(data))
        elif param.type == "bytea":
            params.append(data)
        else:
            params.append(data.decode("utf-8", "replace"))
        args: sql.Composable = sql.SQL("%s::{}").format(sql.SQL(param.type))
    elif plan.json_body is not None and plan.json_params:
        params.append(JsonText(plan.json_body))
        typed = sql.SQL(", ").join(
            # format_type() text from the catalog, `character` and `bit` as their varying types.
            sql.SQL("{} {}").format(sql.Identifier(p.name), sql.SQL(argument_type(p.type)))
            for p in plan.json_params
        )
        if not plan.json_array:
            prefix = sql.SQL(
                "FROM (SELECT %s AS json_data) pgrst_payload, LATERAL json_to_record(pgrst_payload.json_data) AS "
                "pgrst_body({}), LATERAL "
            ).format(typed)
        else:
            # An array of objects (or a CSV body): the first one holds the arguments, as in PostgREST.
            prefix = sql.SQL(
                "FROM (SELECT %s AS json_data) pgrst_payload, LATERAL (SELECT * FROM "
                "json_to_recordset(pgrst_payload.json_data) AS _({}) LIMIT 1) pgrst_body, LATERAL "
            ).format(typed)
        args = sql.SQL(", ").join(
            sql.SQL("{}{} := pgrst_body.{}").format(
                sql.SQL("VARIADIC ") if p.variadic else sql.SQL(""), sql.Identifier(p.name), sql.Identifier(p.name)
            )
            for p in plan.json_params
        )
    else:
        parts = []
        for param, values in plan.text_args:
            params.append(list(values) if param.variadic else values[0])
            parts.append(
                sql.SQL("{}{} := %s::{}").format(
                    sql.SQL("VARIADIC ") if param.variadic else sql.SQL(""),
                    sql.Identifier(param.name),
                    sql.SQL(argument_type(param.type)),
                )
            )
        args = sql.SQL(", ").join(parts)
    if plan.shape in ("scalar", "setof-scalar", "void"):
        return sql.SQL("SELECT pgrst_call.pgrst_scalar {}(SELECT {}({}) AS pgrst_scalar) pgrst_call").format(
            prefix, name, args
        )
    return sql.SQL("SELECT pgrst_call.* {}{}({}) AS pgrst_call").format(prefix, name, args)
