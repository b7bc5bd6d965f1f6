"""Choosing the relationship an embed names (EMB-TARGET, EMB-HINT) and its errors (PGRST200, PGRST201)."""

from __future__ import annotations

from pgwsgi.api.model import SelectRelation
from pgwsgi.catalog.fuzzy import FuzzySet
from pgwsgi.catalog.model import CatalogSnapshot, QName, Relation, Relationship
from pgwsgi.errors import ApiError, ambiguous_relationship, no_relationship


def resolve_relationship(
    snapshot: CatalogSnapshot, origin: Relation, item: SelectRelation, schema: str
) -> tuple[Relationship, Relation]:
    """The one relationship from ORIGIN that ITEM names, and its target relation.

    As in PostgREST, only relationships whose target is in the request's SCHEMA count.
    """
    rels = _candidates(snapshot, (origin.schema, origin.name), schema)
    found = [r for r in rels if _matches(r, item, snapshot)]
    if not found:
        raise _no_relationship(snapshot, origin, item, schema)
    if len(found) > 1:
        raise _ambiguous(origin, item, found)
    rel = found[0]
    target = snapshot.relation(*rel.target)
    assert target is not None
    return rel, target


def _candidates(snapshot: CatalogSnapshot, origin: QName, schema: str) -> list[Relationship]:
    """The relationships from ORIGIN an embed may use: to SCHEMA, not through an internal junction."""
    return [
        r
        for r in _to_schema(snapshot, origin, schema)
        if r.junction is None or r.junction.relation in snapshot.relations
    ]


def _to_schema(snapshot: CatalogSnapshot, origin: QName, schema: str) -> list[Relationship]:
    """Every relationship from ORIGIN to SCHEMA, those through internal junctions included (PostgREST's map key)."""
    return [r for r in snapshot.relationships.get(origin, ()) if r.target[0] == schema]


def _is_view(snapshot: CatalogSnapshot, name: QName) -> bool:
    rel = snapshot.relation(*name)
    return rel is not None and rel.kind in ("v", "m")


def _matches(rel: Relationship, item: SelectRelation, snapshot: CatalogSnapshot) -> bool:
    """Whether ITEM names REL: PostgREST's findRel, condition for condition."""
    name, hint = item.name, item.hint
    if rel.function is not None:
        return rel.function[1] == name
    single_col = len(rel.origin_columns) == 1 and rel.junction is None
    col, ref_col = (rel.origin_columns[0], rel.target_columns[0]) if single_col else (None, None)
    if rel.is_self:
        # One foreign key gives two self-relationships; the table's name picks the
        # one-to-many, the foreign key's column the many-to-one (EMB-SELF).
        if hint is None:
            return (rel.target[1] == name and rel.cardinality == "one-to-many") or (
                col == name and rel.cardinality == "many-to-one"
            )
        return rel.target[1] == name and rel.cardinality == "one-to-many" and ref_col == hint
    if hint is None:
        if rel.target[1] == name:
            return True
        # Deprecated forms, kept for tables only: the foreign key's name or its one column.
        return rel.junction is None and not _is_view(snapshot, rel.target) and name in (rel.constraint, col)
    if rel.target[1] != name:
        return False
    if rel.junction is not None:
        return hint == rel.junction.relation[1]
    return hint in (rel.constraint, col, ref_col)


def _no_relationship(snapshot: CatalogSnapshot, origin: Relation, item: SelectRelation, schema: str) -> ApiError:
    using = f" using the hint '{item.hint}'" if item.hint else ""
    return no_relationship(
        origin.name,
        item.name,
        f"Searched for a foreign key relationship between '{origin.name}' and '{item.name}'{using} in the "
        f"schema '{schema}', but no matches were found.",
        _relationship_hint(snapshot, origin.name, item.name, schema),
    )


def _relationship_hint(snapshot: CatalogSnapshot, parent: str, child: str, schema: str) -> str | None:
    """PostgREST's noRelBetweenHint: a close target when the parent has relationships, else a close parent.

    As in PostgREST, a parent whose only relationships go through internal junctions
    has relationships (its map keeps the key, emptied), so it gets no hint at all.
    """
    if _to_schema(snapshot, (schema, parent), schema):
        rels = _candidates(snapshot, (schema, parent), schema)
        scored = FuzzySet(r.target[1] for r in rels).get(child)
        close = next((value for score, value in scored if score < 1.0), None)  # never the name asked for
        return f"Perhaps you meant '{close}' instead of '{child}'." if close else None
    parents = sorted({o[1] for o, rs in snapshot.relationships.items() if any(r.target[0] == schema for r in rs)})
    close = FuzzySet(parents).get_one(parent)
    return f"Perhaps you meant '{close}' instead of '{parent}'." if close else None


def _ambiguous(origin: Relation, item: SelectRelation, found: list[Relationship]) -> ApiError:
    details = []
    for r in found:
        if r.junction is not None:
            j = r.junction
            how = (
                f"{j.relation[1]} using {j.origin_constraint}({', '.join(j.origin_columns)}) and "
                f"{j.target_constraint}({', '.join(j.target_columns)})"
            )
        else:
            how = (
                f"{r.constraint} using {r.origin[1]}({', '.join(r.origin_columns)}) and "
                f"{r.target[1]}({', '.join(r.target_columns)})"
            )
        # As PostgREST: the relations' own names, whatever name or hint matched.
        details.append(
            {"cardinality": r.cardinality, "embedding": f"{r.origin[1]} with {r.target[1]}", "relationship": how}
        )
    options = ", ".join(f"'{r.target[1]}!{r.junction.relation[1] if r.junction else r.constraint}'" for r in found)
    return ambiguous_relationship(origin.name, item.name, details, options)
