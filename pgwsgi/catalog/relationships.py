"""Relationships between relations, derived from foreign keys (EMB-M2O, EMB-O2M, EMB-O2O, EMB-M2M, EMB-VIEWS).

The derivation follows PostgREST's order, because each step feeds the next: every
foreign key's many-to-one (one-to-one on a unique key), the same for the views
that expose its columns, many-to-many through junctions among all of those (so a
view can be a junction), and last the inverse of each.

A many-to-many through a junction outside the exposed schemas is kept, as PostgREST
keeps it until it removes internal objects: embeds never use it (plan/embed.py skips
it), but it still tells the PGRST200 hint that its origin has relationships.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace

from pgwsgi.catalog.model import Cardinality, ForeignKey, Function, Junction, QName, Relation, Relationship
from pgwsgi.catalog.viewkeys import KeyDependency


def _forward(
    foreign_keys: tuple[ForeignKey, ...], unique_keys: dict[QName, list[frozenset[str]]]
) -> list[Relationship]:
    """The many-to-one (or, on a unique key, one-to-one) of each foreign key, from the referencing side."""
    out = []
    for fk in foreign_keys:
        one_to_one = frozenset(fk.columns) in unique_keys.get((fk.schema, fk.table), [])
        card: Cardinality = "one-to-one" if one_to_one else "many-to-one"
        out.append(
            Relationship(
                (fk.schema, fk.table), (fk.ref_schema, fk.ref_table), card, fk.name, fk.columns, fk.ref_columns
            )
        )
    return out


def _through_views(forward: list[Relationship], deps: Sequence[KeyDependency]) -> list[Relationship]:
    """The same relationships for the views that expose either side's key columns (EMB-VIEWS)."""
    index: dict[tuple[QName, str, str], list[KeyDependency]] = defaultdict(list)
    for d in deps:
        index[(d.table, d.constraint, d.kind)].append(d)
    out = []
    for r in forward:
        children = [
            (d.view, tuple(m[c] for c in r.origin_columns))
            for d in index.get((r.origin, r.constraint, "f"), ())
            for m in d.mappings()
        ]
        parents = [
            (d.view, tuple(m[c] for c in r.target_columns))
            for d in index.get((r.target, r.constraint, "f_ref"), ())
            for m in d.mappings()
        ]
        for view, cols in children:
            out.append(replace(r, origin=view, origin_columns=cols))
        for view, cols in parents:
            out.append(replace(r, target=view, target_columns=cols))
        for (child, child_cols), (parent, parent_cols) in itertools.product(children, parents):
            out.append(replace(r, origin=child, origin_columns=child_cols, target=parent, target_columns=parent_cols))
    return out


def _many_to_many(
    forward: list[Relationship], relations: Mapping[QName, Relation], table_keys: Mapping[QName, tuple[str, ...]]
) -> list[Relationship]:
    """A junction: two distinct foreign keys whose columns all lie in its primary key (EMB-M2M).

    TABLE_KEYS are the primary keys of tables outside the exposed RELATIONS.
    """
    by_junction: dict[QName, list[Relationship]] = defaultdict(list)
    for r in forward:
        if r.cardinality == "many-to-one":
            by_junction[r.origin].append(r)
    out = []
    for junction, fks in by_junction.items():
        jrel = relations.get(junction)
        pk = set(jrel.primary_key if jrel is not None else table_keys.get(junction, ()))
        if not pk:
            continue
        for a, b in itertools.permutations(fks, 2):
            if a.constraint == b.constraint or not set(a.origin_columns) | set(b.origin_columns) <= pk:
                continue
            j = Junction(junction, a.constraint, a.origin_columns, b.constraint, b.origin_columns)
            out.append(
                Relationship(a.target, b.target, "many-to-many", junction[1], a.target_columns, b.target_columns, j)
            )
    return out


def _inverse(r: Relationship) -> Relationship:
    card: Cardinality = "one-to-many" if r.cardinality == "many-to-one" else "one-to-one"
    return Relationship(r.target, r.origin, card, r.constraint, r.target_columns, r.origin_columns, inverse=True)


def build_relationships(
    foreign_keys: tuple[ForeignKey, ...],
    relations: Mapping[QName, Relation],
    unique_keys: dict[QName, list[frozenset[str]]] | None = None,
    computed: tuple[Function, ...] = (),
    view_keys: Sequence[KeyDependency] = (),
    table_keys: Mapping[QName, tuple[str, ...]] | None = None,
) -> dict[QName, tuple[Relationship, ...]]:
    """Every relationship between exposed relations, grouped by origin.

    UNIQUE_KEYS are each table's unique column sets, COMPUTED the functions that
    define computed relationships, VIEW_KEYS the table keys that views expose,
    TABLE_KEYS the primary keys of tables in any schema (internal junctions).
    """
    forward = _forward(foreign_keys, unique_keys or {})
    forward += _through_views(forward, view_keys)
    found = forward + _many_to_many(forward, relations, table_keys or {}) + [_inverse(r) for r in forward]
    out: dict[QName, list[Relationship]] = defaultdict(list)
    for r in found:
        if r.origin in relations and r.target in relations:
            out[r.origin].append(r)
    for fn in computed:
        # A function of the origin's row returning the target's rows overrides the detected
        # relationships to the relation its qualified name names (EMB-COMPUTED): PostgREST
        # keys both by (origin, target or function) and lets the function win. Other computed
        # relationships stay, whatever they return.
        assert fn.row_arg is not None
        origin, target = fn.row_arg, (fn.return_type_schema, fn.return_type)
        if target not in relations:
            continue  # PostgREST relates only functions returning a table's or view's rows
        card: Cardinality = "one-to-many" if fn.returns_set and fn.estimated_rows != 1 else "many-to-one"
        name = (fn.schema, fn.name)
        out[origin] = [r for r in out[origin] if r.function is not None or r.target != name]
        out[origin].append(Relationship(origin, target, card, fn.name, (), (), None, name))
    # PostgREST sorts each origin's relationships (its derived Ord), which is the order
    # PGRST201 lists the candidates in.
    return {k: tuple(sorted(v, key=_postgrest_order)) for k, v in out.items()}


_CARDINALITY_ORDER = {"one-to-many": 0, "many-to-one": 1, "one-to-one": 2, "many-to-many": 3}


def _postgrest_order(r: Relationship) -> tuple[object, ...]:
    """The fields of PostgREST's Relationship in declaration order: what its derived Ord compares."""
    if r.function is not None:
        return (1, r.function, r.origin, r.target)  # computed relationships come after the others
    if r.junction is not None:
        j = r.junction
        detail: tuple[object, ...] = (
            j.relation,
            j.origin_constraint,
            j.target_constraint,
            tuple(zip(r.origin_columns, j.origin_columns, strict=True)),
            tuple(zip(r.target_columns, j.target_columns, strict=True)),
        )
    else:
        detail = (r.constraint, tuple(zip(r.origin_columns, r.target_columns, strict=True)))
    return (0, r.origin, r.target, r.is_self, _CARDINALITY_ORDER[r.cardinality], detail)
