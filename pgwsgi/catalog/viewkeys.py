"""Which table keys a view exposes, read from the view's stored query tree (EMB-VIEWS).

A view inherits the primary key and the foreign keys of the tables it reads
when it exposes every column of the key. PostgreSQL records, for each output
column of a view's top-level query, the table column it comes straight from
(`resorigtbl`, `resorigcol` in the `pg_rewrite.ev_action` node tree); columns
computed by expressions have none. Views over views are followed down to the
tables, through views of the exposed schemas and db-extra-search-path only.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from pgwsgi.catalog.model import QName

KeyKind = Literal["p", "f", "f_ref"]  # primary key, foreign key, the columns a foreign key references

# A backslash escapes the next character of a name; dropping both first means any
# brace or parenthesis left is structure.
_ESCAPED = re.compile(r"\\.", re.S)
_IN_TARGETS = re.compile(r"[{}()]|:(resno|resorigtbl|resorigcol) (\d+)")


@dataclass(frozen=True)
class ViewSource:
    """A view as the catalog query returns it."""

    oid: int
    schema: str
    name: str
    exposed: bool  # in db-schemas (not only in db-extra-search-path)
    definition: str  # pg_rewrite.ev_action as text
    columns: Sequence[str]  # attname by attnum - 1


@dataclass(frozen=True)
class KeyConstraint:
    """One side of a primary or foreign key: the table and its key columns, in key order."""

    name: str
    kind: KeyKind
    table_oid: int
    table: QName
    attnums: tuple[int, ...]
    columns: tuple[str, ...]


@dataclass(frozen=True)
class KeyDependency:
    """A key of TABLE that VIEW exposes: each key column with the view columns showing it."""

    table: QName
    view: QName
    constraint: str
    kind: KeyKind
    columns: tuple[tuple[str, tuple[str, ...]], ...]

    def mappings(self) -> Iterator[dict[str, str]]:
        """Each way to pick one view column per key column (a key column may be shown twice)."""
        names = [c for c, _ in self.columns]
        for picked in itertools.product(*(cols for _, cols in self.columns)):
            yield dict(zip(names, picked, strict=True))


def top_level_origins(definition: str) -> dict[int, tuple[int, int]]:
    """Output column number -> (table oid, column number) for the view query's plain columns.

    Only the outermost query's target list counts: subqueries in the range table
    or in expressions carry target lists of their own at deeper nesting levels.
    """
    origins: dict[int, tuple[int, int]] = {}
    tree = _ESCAPED.sub("", definition) if "\\" in definition else definition
    # The outer query's own target list is the one at nesting depth 1; counting braces
    # with str.count keeps this fast on large trees (most of a tree is other fields).
    seen = 0
    while True:
        at = tree.find(":targetList ", seen)
        if at < 0:
            return origins
        prefix = tree[:at]
        if prefix.count("{") - prefix.count("}") == 1:
            start = at + len(":targetList ")
            break
        seen = at + 1
    if not tree.startswith("(", start):
        return origins  # `<>`: an empty list
    # Inside the list each entry is depth 1, and a `)` at depth 0 closes the list
    # (parentheses inside entries are at depth 1 or more).
    depth = 0
    entry: dict[str, int] = {}
    for m in _IN_TARGETS.finditer(tree, start + 1):
        tok = m.group(0)
        if tok == "{":
            depth += 1
        elif tok == "}":
            if depth == 1:
                if entry.get("resorigtbl"):
                    origins[entry["resno"]] = (entry["resorigtbl"], entry["resorigcol"])
                entry = {}
            depth -= 1
        elif tok == ")":
            if depth == 0:
                break
        elif m.group(1) is not None and depth == 1:
            entry[m.group(1)] = int(m.group(2))
    return origins


def key_dependencies(views: Sequence[ViewSource], keys: Sequence[KeyConstraint]) -> list[KeyDependency]:
    """Every key of a table that an exposed view exposes whole."""
    by_oid = {v.oid: v for v in views}
    origins = {v.oid: top_level_origins(v.definition) for v in views}
    keys_by_table: dict[int, list[KeyConstraint]] = defaultdict(list)
    for k in keys:
        keys_by_table[k.table_oid].append(k)
    out: list[KeyDependency] = []
    for view in views:
        if not view.exposed:
            continue
        # (table oid, column number) -> the view's columns showing it, in view order
        shown: dict[tuple[int, int], list[str]] = defaultdict(list)
        for resno, origin in sorted(origins[view.oid].items()):
            for source in _follow(origin, by_oid, origins):
                shown[source].append(view.columns[resno - 1])
        for table_oid in dict.fromkeys(t for t, _ in shown):  # tables in the order the view shows them
            for k in keys_by_table.get(table_oid, ()):
                if all((table_oid, n) in shown for n in k.attnums):
                    cols = tuple((c, tuple(shown[(table_oid, n)])) for c, n in zip(k.columns, k.attnums, strict=True))
                    out.append(KeyDependency(k.table, (view.schema, view.name), k.name, k.kind, cols))
    return out


def _follow(
    origin: tuple[int, int], views: dict[int, ViewSource], origins: dict[int, dict[int, tuple[int, int]]]
) -> Iterator[tuple[int, int]]:
    """ORIGIN and, while it is a column of a known view, the columns it comes from."""
    seen: set[int] = set()
    while True:
        yield origin
        rel, col = origin
        if rel not in views or rel in seen or col not in origins[rel]:
            return
        seen.add(rel)
        origin = origins[rel][col]
