"""Relationships between relations, derived from foreign keys (EMB-M2O, EMB-O2M, EMB-O2O, EMB-M2M)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal

from pgwsgi.catalog.model import ForeignKey, QName, Relation

Cardinality = Literal["many-to-one", "one-to-many", "one-to-one", "many-to-many"]


@dataclass(frozen=True)
class Junction:
    """The table between the two sides of a many-to-many relationship."""

    relation: QName
    origin_constraint: str
    origin_columns: tuple[str, ...]  # junction columns referencing the origin
    target_constraint: str
    target_columns: tuple[str, ...]  # junction columns referencing the target


@dataclass(frozen=True)
class Relationship:
    """How rows of ORIGIN relate to rows of TARGET."""

    origin: QName
    target: QName
    cardinality: Cardinality
    constraint: str  # the foreign key's name (the junction's name for many-to-many, the function's if computed)
    origin_columns: tuple[str, ...]
    target_columns: tuple[str, ...]
    junction: Junction | None = None
    function: QName | None = None  # a computed relationship: this function of the origin row (EMB-COMPUTED)

    @property
    def to_one(self) -> bool:
        """The embed is one object (or null) rather than an array."""
        return self.cardinality in ("many-to-one", "one-to-one")


def _exposes(rel: Relation, columns: tuple[str, ...]) -> bool:
    return all(rel.column(c) is not None for c in columns)


def _link(
    out: dict[QName, list[Relationship]], child_rel: Relation, parent: QName, fk: ForeignKey, one_to_one: bool
) -> None:
    """The many-to-one from CHILD to PARENT and its inverse, or one-to-one both ways."""
    child = (child_rel.schema, child_rel.name)
    forward: Cardinality = "one-to-one" if one_to_one else "many-to-one"
    backward: Cardinality = "one-to-one" if one_to_one else "one-to-many"
    out[child].append(Relationship(child, parent, forward, fk.name, fk.columns, fk.ref_columns))
    out[parent].append(Relationship(parent, child, backward, fk.name, fk.ref_columns, fk.columns))


def build_relationships(
    foreign_keys: tuple[ForeignKey, ...],
    relations: dict[QName, Relation] | object,
    unique_keys: dict[QName, list[frozenset[str]]] | None = None,
    computed: tuple[Any, ...] = (),
) -> dict[QName, tuple[Relationship, ...]]:
    """Every relationship, grouped by origin relation; UNIQUE_KEYS are each table's unique column sets."""
    rels: dict[QName, Relation] = dict(relations)  # type: ignore[call-overload]
    # Each table, and the exposed views that read only it, stand for one another.
    stand_ins: dict[QName, list[QName]] = defaultdict(list)
    for key, rel in rels.items():
        stand_ins[key].append(key)
        # Follow a chain of views down to its table, through views the snapshot knows.
        base, seen = rel.base, {key}
        while base is not None and base not in seen:
            seen.add(base)
            stand_ins[base].append(key)
            base = rels[base].base if base in rels else None
    out: dict[QName, list[Relationship]] = defaultdict(list)
    for fk in foreign_keys:
        # A foreign key that is also a primary key or UNIQUE makes the relationship one-to-one.
        one_to_one = frozenset(fk.columns) in (unique_keys or {}).get((fk.schema, fk.table), [])
        for child in stand_ins.get((fk.schema, fk.table), ()):
            for parent in stand_ins.get((fk.ref_schema, fk.ref_table), ()):
                if _exposes(rels[child], fk.columns) and _exposes(rels[parent], fk.ref_columns):
                    _link(out, rels[child], parent, fk, one_to_one)
    by_table: dict[QName, list[ForeignKey]] = defaultdict(list)
    for fk in foreign_keys:
        by_table[(fk.schema, fk.table)].append(fk)
    for junction, fks in by_table.items():
        jrel = rels.get(junction)
        if jrel is None or not jrel.primary_key:
            continue
        pk = set(jrel.primary_key)
        for a in fks:
            for b in fks:
                if a.name == b.name or not (set(a.columns) <= pk and set(b.columns) <= pk):
                    continue
                origin, target = (a.ref_schema, a.ref_table), (b.ref_schema, b.ref_table)
                j = Junction(junction, a.name, a.columns, b.name, b.columns)
                out[origin].append(
                    Relationship(origin, target, "many-to-many", junction[1], a.ref_columns, b.ref_columns, j)
                )
    for fn in computed:
        # A function of the origin's row returning the target's rows overrides a detected
        # relationship of the same name (EMB-COMPUTED).
        assert fn.row_arg is not None
        card: Cardinality = "one-to-many" if fn.returns_set else "many-to-one"
        origin, target = fn.row_arg, (fn.return_type_schema, fn.return_type)
        out[origin] = [r for r in out[origin] if r.target[1] != fn.name]
        out[origin].append(Relationship(origin, target, card, fn.name, (), (), None, (fn.schema, fn.name)))
    return {k: tuple(v) for k, v in out.items()}
