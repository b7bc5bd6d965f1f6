"""Select lists with embedded resources: one LATERAL subquery per embed (EMB-OUTPUT).

A to-many embed is `json_agg` of the related rows (`[]` when none), a to-one
embed the first of them (or null). Embeds nest: each subquery builds its own
select list the same way.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from psycopg import sql
from psycopg.types.numeric import Int8

from pgwsgi.plan.model import EmbedPlan, OutputColumn
from pgwsgi.sql.operators import condition


class Aliases:
    """Unique aliases for the tables and subqueries of one statement."""

    def __init__(self, prefix: str = "pgrst") -> None:
        self._n: Iterator[int] = itertools.count(1)
        self.prefix = prefix

    def next(self) -> int:
        """A fresh number."""
        return next(self._n)

    def name(self, suffix: str = "") -> sql.Identifier:
        """A fresh identifier."""
        return sql.Identifier(f"{self.prefix}_{self.next()}{'_' + suffix if suffix else ''}")


def select_with_embeds(
    table: sql.Identifier, outputs: tuple[OutputColumn, ...], aliases: Aliases
) -> tuple[sql.Composable, list[Any], sql.Composable, list[Any]]:
    """(select list, its parameters, the LATERAL joins, their parameters) for OUTPUTS of TABLE."""
    from pgwsgi.sql.read import output_expr

    items: list[sql.Composable] = []
    select_params: list[Any] = []
    joins: list[sql.Composable] = []
    join_params: list[Any] = []
    for out in outputs:
        if out.embed is None:
            items.append(output_expr(table, out, select_params))
            continue
        n = aliases.next()
        lateral = sql.Identifier(f"pgrst_{n}")
        joins.append(_lateral(table, out.embed, lateral, aliases, join_params))
        if out.embed.spread:
            items.extend(_spread(out.embed, lateral))
            continue
        if out.embed.hidden:
            continue
        value = sql.SQL("{}.body").format(lateral)
        if not out.embed.relationship.to_one:
            value = sql.SQL("coalesce({}, '[]')").format(value)
        items.append(sql.SQL("{} AS {}").format(value, sql.Identifier(out.name)))
    select_list = sql.SQL(", ").join(items) if items else sql.SQL("NULL AS pgrst_nothing")
    return select_list, select_params, sql.SQL("").join(joins), join_params


def _lateral(
    parent: sql.Identifier, embed: EmbedPlan, lateral: sql.Identifier, aliases: Aliases, params: list[Any]
) -> sql.Composable:
    from pgwsgi.sql.read import group_by, order_by

    rel = embed.relationship
    target = embed.relation
    child = sql.Identifier(f"pgrst_{aliases.next()}_{target.name}")
    select_list, select_params, joins, join_params = select_with_embeds(child, embed.output, aliases)
    params.extend(select_params)
    params.extend(join_params)
    source, links = _related_rows(parent, embed, child, aliases, params)
    where = sql.SQL(" WHERE {}").format(sql.SQL(" AND ").join(links))
    where = sql.Composed([where, group_by(embed.output)])  # aggregates group within the embed (EMB-AGG)
    order = order_by(child, embed.order, params)
    paging: sql.Composable = sql.SQL("")
    if embed.limit is not None:
        params.append(Int8(embed.limit))
        paging = sql.SQL(" LIMIT %s")
    if embed.offset:
        params.append(Int8(embed.offset))
        paging = sql.SQL("{} OFFSET %s").format(paging)
    rows = sql.SQL("SELECT {} FROM {}{}{}{}{}").format(select_list, source, joins, where, order, paging)
    agg = sql.Identifier(f"pgrst_{aliases.next()}_rows")
    body = sql.SQL("(json_agg({}) -> 0)" if rel.to_one else "json_agg({})").format(agg)
    kind = sql.SQL("INNER JOIN LATERAL" if embed.inner else "LEFT JOIN LATERAL")
    on = sql.SQL("{}.body IS NOT NULL").format(lateral) if embed.inner else sql.SQL("TRUE")
    return sql.SQL(" {} (SELECT {} AS body FROM ({}) {}) AS {} ON {}").format(kind, body, rows, agg, lateral, on)


def output_keys(outputs: tuple[OutputColumn, ...], relation: Any) -> list[str]:
    """The keys a level's rows have: what a spread lifts into its parent."""
    keys: list[str] = []
    for out in outputs:
        if out.embed is not None:
            if out.embed.spread:
                keys.extend(output_keys(out.embed.output, out.embed.relation))
            elif not out.embed.hidden:
                keys.append(out.name)
        elif out.ref is None:
            keys.extend(c.name for c in relation.columns)
        else:
            keys.append(out.name)
    return keys


def _spread(embed: EmbedPlan, lateral: sql.Identifier) -> list[sql.Composable]:
    """A spread's keys as parent columns: values of a to-one embed, arrays for a to-many one."""
    items: list[sql.Composable] = []
    for key in output_keys(embed.output, embed.relation):
        if embed.relationship.to_one:
            value: sql.Composable = sql.SQL("{}.body -> {}").format(lateral, sql.Literal(key))
        else:
            value = sql.SQL(
                "(SELECT coalesce(json_agg(pgrst_e -> {}), '[]') FROM json_array_elements({}.body) AS pgrst_e)"
            ).format(sql.Literal(key), lateral)
        items.append(sql.SQL("{} AS {}").format(value, sql.Identifier(key)))
    return items


def related_value(parent: sql.Identifier, embed: EmbedPlan, ref: Any, params: list[Any]) -> sql.Composable:
    """The value of REF in the one row a to-one EMBED relates PARENT to (for `order=rel(col)`)."""
    from pgwsgi.sql.operators import column_expr

    child = sql.Identifier("pgrst_o_" + embed.relation.name)
    value = column_expr(child, ref, params)
    source, links = _related_rows(parent, embed, child, Aliases(prefix="pgrst_o"), params)
    return sql.SQL("(SELECT {} FROM {} WHERE {} LIMIT 1)").format(value, source, sql.SQL(" AND ").join(links))


def inner_exists(
    parent: sql.Identifier, outputs: tuple[OutputColumn, ...], aliases: Aliases, params: list[Any]
) -> list[sql.Composable]:
    """EXISTS conditions for the `!inner` embeds of OUTPUTS: what the count of parents must respect."""
    return [exists_clause(parent, o.embed, aliases, params) for o in outputs if o.embed is not None and o.embed.inner]


def exists_clause(parent: sql.Identifier, embed: EmbedPlan, aliases: Aliases, params: list[Any]) -> sql.Composable:
    """`EXISTS (related rows of PARENT that pass the embed's filters and its own inner embeds)`."""
    child = aliases.name(embed.relation.name)
    source, links = _related_rows(parent, embed, child, aliases, params)
    links += inner_exists(child, embed.output, aliases, params)
    return sql.SQL("EXISTS (SELECT 1 FROM {} WHERE {})").format(source, sql.SQL(" AND ").join(links))


def _related_rows(
    parent: sql.Identifier, embed: EmbedPlan, child: sql.Identifier, aliases: Aliases, params: list[Any]
) -> tuple[sql.Composable, list[sql.Composable]]:
    """FROM and WHERE items that give the rows of EMBED related to one PARENT row, as CHILD."""
    rel = embed.relationship
    target = embed.relation
    source: sql.Composable = sql.SQL("{} AS {}").format(sql.Identifier(target.schema, target.name), child)
    links: list[sql.Composable] = []
    if rel.function is not None:
        # A computed relationship: the function's rows for this parent row.
        source = sql.SQL("{}({}) AS {}").format(sql.Identifier(*rel.function), parent, child)
        links.append(sql.SQL("TRUE"))
    elif rel.junction is not None:
        j = rel.junction
        junction = aliases.name(j.relation[1])
        source = sql.SQL("{}, {} AS {}").format(source, sql.Identifier(*j.relation), junction)
        links += [_eq(junction, a, child, b) for a, b in zip(j.target_columns, rel.target_columns, strict=True)]
        links += [_eq(junction, a, parent, b) for a, b in zip(j.origin_columns, rel.origin_columns, strict=True)]
    else:
        links += [_eq(child, a, parent, b) for a, b in zip(rel.target_columns, rel.origin_columns, strict=True)]
    links += [condition(child, c, params) for c in embed.where]
    return source, links


def _eq(left: sql.Identifier, a: str, right: sql.Identifier, b: str) -> sql.Composable:
    return sql.SQL("{}.{} = {}.{}").format(left, sql.Identifier(a), right, sql.Identifier(b))
