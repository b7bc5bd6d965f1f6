"""The read tree as SQL: one recursive builder over `ReadNode`, the root and its embeds alike (EMB-OUTPUT).

A to-many embed is `jsonb_agg` of the related rows (`[]` when none), a to-one
embed the first of them (or null). Embeds nest: each subquery builds its own
select list the same way. The subquery sits in the select list, except where it
must be in FROM as a LATERAL join: `!inner` embeds (the join drops parents),
spreads (their columns are read one by one), levels with aggregates (GROUP BY) and
to-one embeds their level orders by (`order=rel(key)` reads the joined row's key).
Conditions recurse too: `rel=not.is.null` is an EXISTS over the embed's rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from psycopg import sql

from pgwsgi.plan.model import (
    EmbedPlan,
    OutputColumn,
    PlanCondition,
    PlanEmbedExists,
    PlanFilter,
    PlanOrder,
    ReadNode,
    has_aggregates,
)
from pgwsgi.sql.fragments import (
    Aliases,
    Params,
    aggregate_input,
    aggregate_of,
    column_expr,
    column_link,
    filter_expr,
    group_by,
    output_expr,
    paging,
)


@dataclass
class SelectList:
    """A level's select list, the LATERAL joins it reads, their parameters, and its GROUP BY."""

    items: sql.Composable
    params: Params
    joins: sql.Composable
    join_params: Params
    grouping: sql.Composable
    # The joined row of each to-one embed read as a row (spreads, related orders), by id() of its
    # EmbedPlan: what `order=rel(key)` reads (Q-ORDER-RELATED).
    rows: dict[int, sql.Identifier] = field(default_factory=dict)


def select_with_embeds(
    table: sql.Identifier,
    outputs: tuple[OutputColumn, ...],
    aliases: Aliases,
    hoist: bool = False,
    order: tuple[PlanOrder, ...] = (),
) -> SelectList:
    """The select list for OUTPUTS of TABLE, embeds included.

    With HOIST (the inside of a to-one spread), aggregates are left to the parent:
    their inputs are selected under their field names instead (EMB-AGG). The to-one
    embeds that ORDER (the level's order) reads are joined as rows, whose keys order_by reads.
    """
    # A level that groups needs its embeds in FROM (LATERAL), where GROUP BY can use them.
    grouped = not hoist and has_aggregates(outputs)
    ordered_by = {id(o.embed) for o in order if o.embed is not None}
    rows: dict[int, sql.Identifier] = {}
    items: list[sql.Composable] = []
    aggregated: list[bool] = []
    select_params: Params = []
    joins: list[sql.Composable] = []
    join_params: Params = []
    for out in outputs:
        if out.embed is None:
            if out.aggregate is not None and hoist:
                items.append(aggregate_input(table, out, select_params))
            else:
                items.append(output_expr(table, out, select_params))
            aggregated.append(out.aggregate is not None and not hoist)
            continue
        embed = out.embed
        if embed.hidden and not embed.inner and not embed.spread:
            continue  # `rel()`: nothing to select; its filters only serve null filters (EXISTS)
        as_row = id(embed) in ordered_by
        if not embed.spread and not embed.inner and not grouped and not as_row:
            # A correlated subquery in the select list: PostgreSQL runs the bench
            # statements 9-13 % faster than through LATERAL joins (docs/performance.md).
            value = _embedded_value(table, embed, aliases, select_params)
            items.append(sql.SQL("{} AS {}").format(value, sql.Identifier(out.name)))
            aggregated.append(False)
            continue
        lateral = sql.Identifier(f"pgrst_{aliases.next()}")
        if embed.spread and embed.relationship.to_one:
            # The related row's columns themselves, so that its aggregates apply here.
            joins.append(_lateral_row(table, embed, lateral, aliases, join_params))
            rows[id(embed)] = lateral
            for key, agg in spread_keys(embed):
                value = sql.SQL("{}.{}").format(lateral, sql.Identifier(key))
                if agg is None or hoist:
                    items.append(sql.SQL("{} AS {}").format(value, sql.Identifier(key)))
                else:
                    items.append(aggregate_of(value, agg))
                aggregated.append(agg is not None and not hoist)
            continue
        if as_row:
            # Its row joined as PostgREST joins every to-one embed, the object built from it
            # (null when no row joined): the level's ORDER BY reads the row's keys.
            joins.append(_lateral_row(table, embed, lateral, aliases, join_params, hoist=False, first=True))
            rows[id(embed)] = lateral
            items.append(sql.SQL("to_jsonb({}.*) AS {}").format(lateral, sql.Identifier(out.name)))
            aggregated.append(False)
            continue
        joins.append(_lateral(table, embed, lateral, aliases, join_params))
        if embed.spread:
            for item in _spread_many(embed, lateral):
                items.append(item)
                aggregated.append(False)
            continue
        if embed.hidden:
            continue
        value = sql.SQL("{}.body").format(lateral)
        if not embed.relationship.to_one:
            value = sql.SQL("coalesce({}, '[]')").format(value)
        items.append(sql.SQL("{} AS {}").format(value, sql.Identifier(out.name)))
        aggregated.append(False)
    # Nothing selected (only empty embeds) is a row without columns, `{}`, as in PostgREST.
    select_list = sql.SQL(", ").join(items)
    return SelectList(select_list, select_params, sql.SQL("").join(joins), join_params, group_by(aggregated), rows)


def where_clause(table: sql.Identifier, conditions: tuple[PlanCondition, ...], params: Params) -> sql.Composable:
    """WHERE for CONDITIONS (ANDed), or nothing."""
    if not conditions:
        return sql.SQL("")
    return sql.SQL(" WHERE {}").format(sql.SQL(" AND ").join(condition(table, c, params) for c in conditions))


def condition(table: sql.Identifier, cond: PlanCondition, params: Params) -> sql.Composable:
    """One WHERE condition (a filter, a logic tree, or whether an embed has rows)."""
    if isinstance(cond, PlanEmbedExists):
        clause = exists_clause(table, cond.embed, Aliases(prefix="pgrst_x"), params)
        return clause if cond.exists else sql.SQL("NOT {}").format(clause)
    if isinstance(cond, PlanFilter):
        expr = filter_expr(table, cond, params)
    else:
        joiner = sql.SQL(" OR ") if cond.operator == "or" else sql.SQL(" AND ")
        parts = [condition(table, c, params) for c in cond.children]
        expr = sql.SQL("({})").format(joiner.join(parts))
    return sql.SQL("NOT {}").format(expr) if cond.negated else expr


def order_by(
    table: sql.Identifier,
    order: tuple[PlanOrder, ...],
    params: Params,
    rows: Mapping[int, sql.Identifier] | None = None,
) -> sql.Composable:
    """ORDER BY for ORDER, or nothing.

    A related order reads its key from the embed's joined row, which ROWS (SelectList.rows
    of the same level) names, as PostgREST reads it from its LATERAL join.
    """
    if not order:
        return sql.SQL("")
    terms = []
    for o in order:
        if o.embed is not None:
            row = rows.get(id(o.embed)) if rows is not None else None
            if row is None:  # the select list joins every embed an order reads; not a client's doing
                raise RuntimeError("a related order needs its embed joined as a row")
            term = column_expr(row, o.ref, params)
        else:
            term = column_expr(table, o.ref, params)
        if o.direction:
            term = sql.SQL("{} {}").format(term, sql.SQL(o.direction.upper()))
        if o.nulls:
            term = sql.SQL("{} NULLS {}").format(term, sql.SQL(o.nulls.upper()))
        terms.append(term)
    return sql.SQL(" ORDER BY {}").format(sql.SQL(", ").join(terms))


def node_query(
    node: ReadNode,
    table: sql.Identifier,
    aliases: Aliases,
    params: Params,
    *,
    source: sql.Composable | None = None,
    parent: sql.Identifier | None = None,
    hoist: bool = False,
) -> sql.Composable:
    """`SELECT` of one read-tree node's rows as TABLE: its select list (embeds included), filters, order and page.

    The root reads SOURCE and filters by its own conditions; an embed (PARENT
    given) reads the rows related to one PARENT row. PARAMS grow in text order.
    """
    selected = select_with_embeds(table, node.output, aliases, hoist, node.order)
    params.extend(selected.params)
    params.extend(selected.join_params)
    if parent is not None and isinstance(node, EmbedPlan):
        source, links = _related_rows(parent, node, table, aliases, params)
    else:
        links = [condition(table, c, params) for c in node.where]
    where = sql.SQL(" WHERE {}").format(sql.SQL(" AND ").join(links)) if links else sql.SQL("")
    return sql.SQL("SELECT {} FROM {}{}{}{}{}{}").format(
        selected.items,
        source,
        selected.joins,
        where,
        selected.grouping,
        order_by(table, node.order, params, selected.rows),
        paging(node.limit, node.offset, params),
    )


def _rows_query(
    parent: sql.Identifier, embed: EmbedPlan, aliases: Aliases, params: Params, hoist: bool
) -> sql.Composable:
    """The related rows of one PARENT row, shaped by EMBED's select, filters, order and page."""
    aliases.depth += 1
    try:
        child = aliases.embedded(embed.relation.name, parent)
        return node_query(embed, child, aliases, params, parent=parent, hoist=hoist)
    finally:
        aliases.depth -= 1


def _lateral(
    parent: sql.Identifier, embed: EmbedPlan, lateral: sql.Identifier, aliases: Aliases, params: Params
) -> sql.Composable:
    """The embed as one jsonb value, `body`: an array of the related rows, or the one related row."""
    rows = _rows_query(parent, embed, aliases, params, hoist=False)
    agg = sql.Identifier(f"pgrst_{aliases.next()}_rows")
    # jsonb, as PostgREST: the same key order and spacing, and embeds can be grouped by.
    body = sql.SQL("(jsonb_agg({}) -> 0)" if embed.relationship.to_one else "jsonb_agg({})").format(agg)
    kind = sql.SQL("INNER JOIN LATERAL" if embed.inner else "LEFT JOIN LATERAL")
    on = sql.SQL("{}.body IS NOT NULL").format(lateral) if embed.inner else sql.SQL("TRUE")
    return sql.SQL(" {} (SELECT {} AS body FROM ({}) {}) AS {} ON {}").format(kind, body, rows, agg, lateral, on)


def _embedded_value(parent: sql.Identifier, embed: EmbedPlan, aliases: Aliases, params: Params) -> sql.Composable:
    """The embed as one jsonb value: the array of related rows (`[]` when none), or the one related row."""
    rows = _rows_query(parent, embed, aliases, params, hoist=False)
    agg = sql.Identifier(f"pgrst_{aliases.next()}_rows")
    if embed.relationship.to_one:
        return sql.SQL("(SELECT jsonb_agg({}) -> 0 FROM ({}) {})").format(agg, rows, agg)
    return sql.SQL("coalesce((SELECT jsonb_agg({}) FROM ({}) {}), '[]')").format(agg, rows, agg)


def _lateral_row(
    parent: sql.Identifier,
    embed: EmbedPlan,
    lateral: sql.Identifier,
    aliases: Aliases,
    params: Params,
    hoist: bool = True,
    first: bool = False,
) -> sql.Composable:
    """A to-one embed's related row, its keys as columns, joined to the parent row.

    A to-one spread (EMB-SPREAD-ONE) lifts them with HOIST; an embed built from the
    row takes only the FIRST related row, as the select-list form does.
    """
    rows = _rows_query(parent, embed, aliases, params, hoist=hoist)
    if first:
        rows = sql.SQL("SELECT * FROM ({}) AS {} LIMIT 1").format(rows, sql.Identifier(f"pgrst_{aliases.next()}_rows"))
    kind = sql.SQL("INNER JOIN LATERAL" if embed.inner else "LEFT JOIN LATERAL")
    return sql.SQL(" {} ({}) AS {} ON TRUE").format(kind, rows, lateral)


def spread_keys(embed: EmbedPlan) -> list[tuple[str, OutputColumn | None]]:
    """The keys a spread lifts into its parent, each with the aggregate a to-one spread hoists onto it.

    Nested spreads lift their keys too. Only to-one spreads can carry aggregates:
    in a to-many spread they are refused when planning (PGRST127).
    """
    keys: list[tuple[str, OutputColumn | None]] = []
    for out in embed.output:
        if out.embed is not None:
            if out.embed.spread:
                keys.extend(spread_keys(out.embed))
            elif not out.embed.hidden:
                keys.append((out.name, None))
        elif out.aggregate is not None:
            keys.append((out.field_name, out))
        elif out.ref is None:
            keys.extend((c.name, None) for c in embed.relation.columns)
        else:
            keys.append((out.name, None))
    return keys


def _spread_many(embed: EmbedPlan, lateral: sql.Identifier) -> list[sql.Composable]:
    """A to-many spread's keys as parent columns: one array per key, in the embed's order (EMB-SPREAD-MANY)."""
    return [
        sql.SQL(
            "(SELECT coalesce(jsonb_agg(pgrst_e -> {}), '[]') FROM jsonb_array_elements({}.body) AS pgrst_e) AS {}"
        ).format(sql.Literal(key), lateral, sql.Identifier(key))
        for key, _ in spread_keys(embed)
    ]


def inner_exists(
    parent: sql.Identifier, outputs: tuple[OutputColumn, ...], aliases: Aliases, params: Params
) -> list[sql.Composable]:
    """EXISTS conditions for the `!inner` embeds of OUTPUTS: what the count of parents must respect."""
    return [exists_clause(parent, o.embed, aliases, params) for o in outputs if o.embed is not None and o.embed.inner]


def exists_clause(parent: sql.Identifier, embed: EmbedPlan, aliases: Aliases, params: Params) -> sql.Composable:
    """`EXISTS (related rows of PARENT that pass the embed's filters and its own inner embeds)`."""
    child = aliases.name(embed.relation.name)
    source, links = _related_rows(parent, embed, child, aliases, params)
    links += inner_exists(child, embed.output, aliases, params)
    return sql.SQL("EXISTS (SELECT 1 FROM {} WHERE {})").format(source, sql.SQL(" AND ").join(links))


def _related_rows(
    parent: sql.Identifier, embed: EmbedPlan, child: sql.Identifier, aliases: Aliases, params: Params
) -> tuple[sql.Composable, list[sql.Composable]]:
    """FROM and WHERE items that give the rows of EMBED related to one PARENT row, as CHILD."""
    rel = embed.relationship
    target = embed.relation
    source: sql.Composable = sql.SQL("{} AS {}").format(sql.Identifier(target.schema, target.name), child)
    links: list[sql.Composable] = []
    if rel.function is not None:
        # A computed relationship: the function's rows for this parent row. The row is cast to
        # the function's argument type, as PostgREST casts it: a CTE's row (a call's or a
        # write's) is a bare record, which overloads of the function would not tell apart.
        source = sql.SQL("{}({}::{}) AS {}").format(
            sql.Identifier(*rel.function), parent, sql.Identifier(*rel.origin), child
        )
        links.append(sql.SQL("TRUE"))
    elif rel.junction is not None:
        j = rel.junction
        junction = aliases.name(j.relation[1])
        source = sql.SQL("{}, {} AS {}").format(source, sql.Identifier(*j.relation), junction)
        links += [column_link(junction, a, child, b) for a, b in zip(j.target_columns, rel.target_columns, strict=True)]
        links += [
            column_link(junction, a, parent, b) for a, b in zip(j.origin_columns, rel.origin_columns, strict=True)
        ]
    else:
        links += [column_link(child, a, parent, b) for a, b in zip(rel.target_columns, rel.origin_columns, strict=True)]
    links += [condition(child, c, params) for c in embed.where]
    return source, links
