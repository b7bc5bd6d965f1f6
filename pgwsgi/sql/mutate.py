"""MutatePlan -> one statement: the write in a CTE, then the numbers and body the response needs.

The request body is ONE bound parameter; PostgreSQL expands it with
json_to_record(set), so Python never builds SQL per row. Result columns: total,
page_total, location, body, response_headers, response_status, inserted.
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

from pgwsgi.plan.model import LEGACY_COUNT, ColumnRef, EmbedPlan, MutatePlan
from pgwsgi.sql.fragments import RESPONSE_GUCS, Aliases, Statement, body_expr
from pgwsgi.sql.jsontext import JsonText
from pgwsgi.sql.readtree import condition, order_by, select_with_embeds, where_clause

# Counts rows inserted versus updated by an upsert (H-POST-STATUS): +1 per row that
# reaches the INSERT, -1 per row the ON CONFLICT branch updates.
_COUNT_INSERT = sql.SQL(
    "pg_catalog.set_config('pgrst.inserted', (coalesce(nullif(current_setting('pgrst.inserted', true), '')::int, 0)"
    " + 1)::text, true) <> '0'"
)
_COUNT_UPDATE = sql.SQL(
    "pg_catalog.set_config('pgrst.inserted', (coalesce(nullif(current_setting('pgrst.inserted', true), '')::int, 0)"
    " - 1)::text, true) <> '-1'"
)


def compose_mutation(plan: MutatePlan) -> Statement:
    """The main statement of a POST, PATCH, PUT or DELETE."""
    params: list[Any] = []
    rel = plan.relation
    table = sql.Identifier(rel.name)
    target = sql.Identifier(rel.schema, rel.name)
    returned = _returned(plan, table)
    returning = sql.SQL("RETURNING {}").format(returned) if returned is not None else sql.SQL("RETURNING 1")
    mutation: sql.Composable
    if plan.kind == "delete":
        mutation = sql.SQL("DELETE FROM {}{} {}").format(target, where_clause(table, plan.where, params), returning)
    elif plan.kind == "update":
        mutation = _update(plan, target, table, returning, returned, params)
    else:
        mutation = _insert(plan, target, returning, params)
    inner, location = _inner(plan, table, params)
    body = body_expr(plan.media, plan.handler) if plan.representation else sql.SQL("NULL::text")
    inserted = sql.SQL("nullif(current_setting('pgrst.inserted', true), '')::int")
    stmt = sql.SQL(
        "WITH pgrst_source AS ({mutation}) "
        "SELECT NULL::bigint AS total, pg_catalog.count(_pgrst_t) AS page_total, {location} AS location, "
        "{body} AS body, {gucs}, {inserted} AS inserted FROM ({inner}) _pgrst_t"
    ).format(mutation=mutation, location=location, body=body, gucs=RESPONSE_GUCS, inserted=inserted, inner=inner)
    return stmt, params


def _needs_rows(plan: MutatePlan) -> bool:
    return plan.representation or bool(plan.location_keys)


def _returned(plan: MutatePlan, table: sql.Identifier) -> sql.Composable | None:
    """What RETURNING reads of the written rows: None when nothing is read back.

    As PostgREST's returnings: only the columns the representation selects, those its
    embeds join on and the primary key (which Location needs), so that a role allowed
    to read only some columns gets a representation of those; the whole row only for
    `*`, computed fields and computed relationships. pgwsgi adds the order's columns.
    """
    if not _needs_rows(plan):
        return None
    names = _returned_columns(plan)
    if names is None:
        return sql.SQL("{}.*").format(table)
    if not names:
        return None
    return sql.SQL(", ").join(sql.SQL("{}.{}").format(table, sql.Identifier(n)) for n in names)


def _returned_columns(plan: MutatePlan) -> tuple[str, ...] | None:
    """The column names the representation and Location read (None: the whole row)."""
    names: dict[str, None] = {}

    def column(ref: ColumnRef) -> bool:
        if ref.computed is not None or ref.column is None or ref.column is LEGACY_COUNT:
            return False  # a function of the whole row
        names[ref.column.name] = None
        return True

    def joined(embed: EmbedPlan) -> bool:
        if embed.relationship.function is not None:
            return False  # a computed relationship takes the whole row
        names.update(dict.fromkeys(embed.relationship.origin_columns))
        return True

    for out in plan.output:
        if out.embed is not None:
            if not joined(out.embed):
                return None
        elif out.ref is None:
            if out.aggregate is None:
                return None  # `*`
        elif not column(out.ref):
            return None
    for term in plan.order:
        if not (joined(term.embed) if term.embed is not None else column(term.ref)):
            return None
    names.update(dict.fromkeys(plan.location_keys))
    names.update(dict.fromkeys(plan.relation.primary_key))
    return tuple(names)


def _inner(plan: MutatePlan, table: sql.Identifier, params: list[Any]) -> tuple[sql.Composable, sql.Composable]:
    """The select over the written rows, and the Location expression (H-LOCATION)."""
    location: sql.Composable = sql.SQL("NULL::text")
    if plan.representation:
        selected = select_with_embeds(table, plan.output, Aliases(), order=plan.order)
        params.extend(selected.params + selected.join_params)
        order = order_by(table, plan.order, params, selected.rows)
        inner = sql.SQL("SELECT {} FROM pgrst_source AS {}{}{}{}").format(
            selected.items, table, selected.joins, selected.grouping, order
        )
        return inner, location
    if plan.location_keys:
        keys = sql.SQL(", ").join(
            sql.SQL("{}, {}.{}::text").format(sql.Literal(k), table, sql.Identifier(k)) for k in plan.location_keys
        )
        location = sql.SQL("CASE WHEN pg_catalog.count(_pgrst_t) = 1 THEN min(_pgrst_t.pgrst_location::text) END")
        inner = sql.SQL("SELECT json_build_object({}) AS pgrst_location FROM pgrst_source AS {}").format(keys, table)
        return inner, location
    return sql.SQL("SELECT 1 FROM pgrst_source"), location


def _body_source(plan: MutatePlan, params: list[Any]) -> sql.Composable:
    """`FROM (payload) pgrst_payload, LATERAL (typed columns) pgrst_body` for the written columns."""
    assert plan.payload is not None
    params.append(JsonText(plan.payload.json))
    is_object = plan.payload.is_object
    parts: list[sql.Composable] = [sql.SQL("FROM (SELECT %s AS json_data) pgrst_payload, ")]
    source = sql.SQL("pgrst_payload.json_data")
    jsonb = plan.missing_default and any(c.default for c in plan.columns)
    if jsonb:
        defaults = sql.SQL(", ").join(
            sql.SQL("{}, {}").format(sql.Literal(c.name), sql.SQL(c.default))  # catalog text (pg_get_expr)
            for c in plan.columns
            if c.default
        )
        if is_object:
            parts.append(
                sql.SQL(
                    "LATERAL (SELECT jsonb_build_object({}) || pgrst_payload.json_data::jsonb AS val) pgrst_json_defs, "
                ).format(defaults)
            )
        else:
            parts.append(
                sql.SQL(
                    "LATERAL (SELECT jsonb_agg(jsonb_build_object({}) || elem) AS val "
                    "FROM jsonb_array_elements(pgrst_payload.json_data::jsonb) elem) pgrst_json_defs, "
                ).format(defaults)
            )
        source = sql.SQL("pgrst_json_defs.val")
    prefix = "jsonb" if jsonb else "json"
    if plan.columns:
        func = sql.SQL(f"{prefix}_to_record" if is_object else f"{prefix}_to_recordset")
        typed = sql.SQL(", ").join(
            sql.SQL("{} {}").format(
                sql.Identifier(c.name),
                sql.Identifier("pg_catalog", "json") if parser else sql.Identifier(c.type_schema, c.type_name),
            )
            for c, parser in zip(plan.columns, plan.parsers, strict=True)
        )
        parsed = sql.SQL(", ").join(
            sql.SQL("{}({}) AS {}").format(sql.Identifier(*parser), sql.Identifier(c.name), sql.Identifier(c.name))
            if parser
            else sql.Identifier(c.name)
            for c, parser in zip(plan.columns, plan.parsers, strict=True)
        )
        parts.append(sql.SQL("LATERAL (SELECT {} FROM {}({}) AS _({})) pgrst_body").format(parsed, func, source, typed))
    elif is_object:
        parts.append(sql.SQL("LATERAL (SELECT FROM (VALUES (1)) _) pgrst_body"))  # `{}`: one row of defaults
    else:
        func = sql.SQL(f"{prefix}_array_elements")
        parts.append(sql.SQL("LATERAL (SELECT FROM {}({}) _) pgrst_body").format(func, source))
    return sql.Composed(parts)


def _insert(plan: MutatePlan, target: sql.Identifier, returning: sql.Composable, params: list[Any]) -> sql.Composable:
    names = sql.SQL(", ").join(sql.Identifier(c.name) for c in plan.columns)
    values = sql.SQL(", ").join(sql.SQL("pgrst_body.{}").format(sql.Identifier(c.name)) for c in plan.columns)
    into = (
        sql.SQL("INSERT INTO {} ({}) ").format(target, names)
        if plan.columns
        else sql.SQL("INSERT INTO {} ").format(target)
    )
    source = _body_source(plan, params)
    conditions: list[sql.Composable] = []
    if plan.kind == "put":
        # Only the body row whose key matches the URL is written (T-PUT-MATCH).
        conditions.extend(where_condition(plan, params))
    merge = plan.resolution == "merge-duplicates"
    if merge:
        conditions.append(_COUNT_INSERT)
    where = sql.SQL(" WHERE {}").format(sql.SQL(" AND ").join(conditions)) if conditions else sql.SQL("")
    conflict: sql.Composable = sql.SQL("")
    if plan.conflict and plan.resolution:
        target_cols = sql.SQL(", ").join(sql.Identifier(c) for c in plan.conflict)
        if plan.resolution == "ignore-duplicates" or not plan.columns:
            conflict = sql.SQL(" ON CONFLICT ({}) DO NOTHING").format(target_cols)
        else:
            sets = sql.SQL(", ").join(
                sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c.name), sql.Identifier(c.name)) for c in plan.columns
            )
            conflict = sql.SQL(" ON CONFLICT ({}) DO UPDATE SET {} WHERE {}").format(target_cols, sets, _COUNT_UPDATE)
    values_sql = sql.SQL("SELECT {} ").format(values) if plan.columns else sql.SQL("SELECT ")
    return sql.SQL("{}{}{}{}{} {}").format(into, values_sql, source, where, conflict, returning)


def where_condition(plan: MutatePlan, params: list[Any]) -> list[sql.Composable]:
    """PUT's URL filters applied to the body row."""
    body = sql.Identifier("pgrst_body")
    return [condition(body, c, params) for c in plan.where]


def _update(
    plan: MutatePlan,
    target: sql.Identifier,
    table: sql.Identifier,
    returning: sql.Composable,
    returned: sql.Composable | None,
    params: list[Any],
) -> sql.Composable:
    if not plan.columns:
        # `{}` updates nothing; an empty result with RETURNING's columns keeps `select=` working
        # and reads no column more than a real update would.
        columns = returned if returned is not None else sql.SQL("NULL")
        return sql.SQL("SELECT {} FROM {} AS {} WHERE false").format(columns, target, table)
    sets = sql.SQL(", ").join(
        sql.SQL("{} = pgrst_body.{}").format(sql.Identifier(c.name), sql.Identifier(c.name)) for c in plan.columns
    )
    source = _body_source(plan, params)
    where = where_clause(table, plan.where, params)
    return sql.SQL("UPDATE {} SET {} {}{} {}").format(target, sets, source, where, returning)
