"""The role x object matrix of `pgwsgi audit --format html`: who may do what, and under which rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pgwsgi.audit.model import Facts
from pgwsgi.audit.scope import KIND, applies


@dataclass(frozen=True)
class Cell:
    """What one request role may do with one exposed object."""

    privileges: str  # "" when none
    rows: str  # which rows: RLS state and the policies that apply, or why none apply


@dataclass(frozen=True)
class Line:
    """One exposed object and a cell per request role."""

    object: str
    kind: str
    cells: list[Cell]


def _rls_rows(rel: dict[str, Any], role: dict[str, Any], facts: Facts, policies: list[dict[str, Any]]) -> str:
    if not rel["rls"]:
        return "every row (no RLS)"
    if role["superuser"] or role["bypassrls"]:
        return "every row (bypasses RLS)"
    if rel["owner"] in facts.membership.get(role["role"], {role["role"]}) and not rel["force_rls"]:
        return "every row (owner, RLS not forced)"
    mine = [
        f"{p['policy']} ({p['command']}{'' if p['permissive'] else ', restrictive'})"
        for p in policies
        if applies(p, role["role"], facts.membership)
    ]
    return "RLS: " + ", ".join(mine) if mine else "RLS: no policy applies, no rows"


def _view_rows(rel: dict[str, Any], role: dict[str, Any], facts: Facts) -> str:
    if rel["security_invoker"]:
        # The caller's own row-level security on each table the view reads.
        tables = {r["qualified"]: r for r in facts.relations}
        under = sorted({r["tbl"] for r in facts.view_reads if r["view"] == rel["qualified"] and r["reader"] is None})
        rows = [
            f"{t}: {_rls_rows(tables[t], role, facts, [p for p in facts.policies if p['relation'] == t])}"
            for t in under
            if t in tables
        ]
        return "; ".join(["as the caller (security_invoker)", *rows])
    bypassed = sorted({r["tbl"] for r in facts.view_reads if r["view"] == rel["qualified"] and _bypasses(r)})
    owner = f"as its owner {rel['owner']}"
    return f"{owner}; bypasses RLS of {', '.join(bypassed)}" if bypassed else owner


def _bypasses(row: dict[str, Any]) -> bool:
    return row["reader"] is not None and bool(
        row["reader_superuser"] or row["reader_bypassrls"] or (row["reader_owns"] and not row["force_rls"])
    )


def build(facts: Facts) -> list[Line]:
    """A line per exposed relation and function, a cell per request role."""
    lines = []
    for rel in facts.relations:
        if not rel["exposed"]:
            continue
        policies = [p for p in facts.policies if p["relation"] == rel["qualified"]]
        cells = []
        for role in facts.roles:
            granted = (rel["privileges"] or {}).get(role["role"], "")
            if not granted:
                cells.append(Cell("", ""))
            elif rel["kind"] in ("r", "p"):
                cells.append(Cell(granted, _rls_rows(rel, role, facts, policies)))
            elif rel["kind"] == "v":
                cells.append(Cell(granted, _view_rows(rel, role, facts)))
            else:
                cells.append(Cell(granted, "every row (no RLS possible)"))
        lines.append(Line(rel["qualified"], KIND[rel["kind"]], cells))
    for f in facts.functions:
        if not f["exposed"]:
            continue
        runs_as = f"as its owner {f['owner']} (SECURITY DEFINER)" if f["security_definer"] else "as the caller"
        cells = [Cell("EXECUTE", runs_as) if r["role"] in f["executors"] else Cell("", "") for r in facts.roles]
        lines.append(Line(f["signature"], "function", cells))
    return lines
