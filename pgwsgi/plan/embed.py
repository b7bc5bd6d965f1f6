"""Choosing the relationship an embed names (EMB-TARGET, EMB-HINT) and its errors (PGRST200, PGRST201)."""

from __future__ import annotations

import difflib

from pgwsgi.api.model import SelectRelation
from pgwsgi.catalog.model import CatalogSnapshot, Relation
from pgwsgi.catalog.relationships import Relationship
from pgwsgi.errors import ApiError


def resolve_relationship(
    snapshot: CatalogSnapshot, origin: Relation, item: SelectRelation, schema: str
) -> tuple[Relationship, Relation]:
    """The one relationship from ORIGIN that ITEM names, and its target relation."""
    rels = snapshot.relationships.get((origin.schema, origin.name), ())
    found = [r for r in rels if _matches(r, item) and snapshot.relation(*r.target) is not None]
    if not found:
        raise _no_relationship(origin, item, schema, rels)
    if len(found) > 1:
        raise _ambiguous(origin, item, found)
    rel = found[0]
    target = snapshot.relation(*rel.target)
    assert target is not None
    return rel, target


def _matches(rel: Relationship, item: SelectRelation) -> bool:
    name, hint = item.name, item.hint
    if rel.function is not None:
        return rel.function[1] == name and hint is None
    if hint is None:
        if rel.target[1] == name:
            return True
        # Deprecated forms, kept by PostgREST for tables: the FK's name, or its one column.
        return rel.cardinality == "many-to-one" and (rel.constraint == name or rel.origin_columns == (name,))
    if rel.target[1] != name:
        return False
    junction = rel.junction.relation[1] if rel.junction else None
    if hint in (rel.constraint, junction) or (hint,) == rel.origin_columns:
        return True
    # The referenced column names a many-to-one too; on the inverse side it would make a
    # self-reference ambiguous, so there only the origin's own column counts.
    return rel.cardinality == "many-to-one" and (hint,) == rel.target_columns


def _no_relationship(origin: Relation, item: SelectRelation, schema: str, rels: tuple[Relationship, ...]) -> ApiError:
    using = f" using the hint '{item.hint}'" if item.hint else ""
    names = sorted({r.target[1] for r in rels})
    close = difflib.get_close_matches(item.name, names, n=1, cutoff=0.6)
    hint = f"Perhaps you meant '{close[0]}' instead of '{item.name}'." if close else None
    return ApiError(
        400,
        "PGRST200",
        f"Could not find a relationship between '{origin.name}' and '{item.name}' in the schema cache",
        f"Searched for a foreign key relationship between '{origin.name}' and '{item.name}'{using} in the "
        f"schema '{schema}', but no matches were found.",
        hint,
    )


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
                f"{r.constraint} using {origin.name}({', '.join(r.origin_columns)}) and "
                f"{r.target[1]}({', '.join(r.target_columns)})"
            )
        details.append(
            {"cardinality": r.cardinality, "embedding": f"{origin.name} with {item.name}", "relationship": how}
        )
    options = ", ".join(f"'{item.name}!{r.junction.relation[1] if r.junction else r.constraint}'" for r in found)
    return ApiError(
        300,
        "PGRST201",
        f"Could not embed because more than one relationship was found for '{origin.name}' and '{item.name}'",
        details,
        f"Try changing '{item.name}' to one of the following: {options}. Find the desired relationship in the "
        "'details' key.",
    )
