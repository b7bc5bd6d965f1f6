"""Checks of row-level security: tables without it, policies that do nothing, let all through or run per row, and views that bypass it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from pgwsgi.audit.model import Facts, Finding, finding
from pgwsgi.audit.scope import COMMANDS, applies, commands, in_scope, privileges, roles_text, tables_in_scope


def rls_disabled_in_exposed(facts: Facts) -> Iterator[Finding]:
    """An exposed table that a request role may use, without row-level security."""
    for rel in facts.relations:
        if rel["exposed"] and rel["kind"] in ("r", "p") and not rel["rls"] and in_scope(rel):
            who = "; ".join(f"{r}: {p}" for r, p in sorted(rel["privileges"].items()))
            yield finding(
                "rls_disabled_in_exposed",
                rel["qualified"],
                f"The exposed table {rel['qualified']} has no row-level security, so every role with a privilege "
                f"on it reaches every row ({who}).",
                f"ALTER TABLE {rel['qualified']} ENABLE ROW LEVEL SECURITY; and CREATE POLICY for each role "
                "(USING (true) where a role may indeed see every row), or keep the table out of db-schemas.",
            )


def rls_enabled_no_policy(facts: Facts) -> Iterator[Finding]:
    """Row-level security without a policy: nobody but the owner sees a row."""
    with_policies = {p["relation"] for p in facts.policies}
    for name, rel in tables_in_scope(facts).items():
        if rel["rls"] and name not in with_policies:
            yield finding(
                "rls_enabled_no_policy",
                name,
                f"{name} has row-level security and no policy, so the roles granted privileges on it "
                f"({roles_text(rel['privileges'])}) see and change no row.",
                f"CREATE POLICY ... ON {name} for the roles that should see rows, or revoke their privileges.",
            )


def policy_exists_rls_disabled(facts: Facts) -> Iterator[Finding]:
    """Policies written for a table whose row-level security is off: they do nothing."""
    tables = tables_in_scope(facts)
    seen: dict[str, list[str]] = {}
    for p in facts.policies:
        rel = tables.get(p["relation"])
        if rel is not None and not rel["rls"]:
            seen.setdefault(p["relation"], []).append(p["policy"])
    for name, policies in seen.items():
        yield finding(
            "policy_exists_rls_disabled",
            name,
            f"{name} has policies ({', '.join(policies)}) but row-level security is disabled, so none of them "
            "applies: every role with a privilege reaches every row.",
            f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;",
        )


def rls_policy_always_true(facts: Facts) -> Iterator[Finding]:
    """A permissive write policy whose expression is `true`: every row may be written."""
    tables = tables_in_scope(facts)
    for p in facts.policies:
        if p["relation"] not in tables or not p["permissive"] or p["command"] == "SELECT":
            continue
        using, check = p["using_expr"], p["check_expr"]
        # WITH CHECK defaults to USING for UPDATE and ALL.
        effective_check = check if check is not None else using
        loose = {
            "INSERT": effective_check == "true",
            "UPDATE": using == "true" or effective_check == "true",
            "DELETE": using == "true",
            "ALL": using == "true" or effective_check == "true",
        }[p["command"]]
        if not loose:
            continue
        everyone = p["roles"] is None
        anonymous = facts.anon is not None and applies(p, facts.anon, facts.membership)
        who = "every role (PUBLIC)" if everyone else roles_text(p["roles"])
        yield finding(
            "rls_policy_always_true",
            p["relation"],
            f"Policy {p['policy']} ({p['command']}) on {p['relation']} is true for {who}: any request as "
            f"{'those roles' if not everyone else 'any role'} may write every row."
            + ("" if everyone or anonymous else " Right for an administrator's role, wrong for a user's."),
            f"Give {p['policy']} a condition on the caller, e.g. USING (owner = (select "
            "current_setting('request.jwt.claims', true)::json ->> 'sub')).",
            level=None if everyone or anonymous else "info",
        )


_SUBQUERY = re.compile(r"\(\s*SELECT\b", re.I)


def outside_subqueries(expr: str) -> str:
    """EXPR without its `(SELECT ...)` parts: what is left is evaluated per row."""
    out: list[str] = []
    i = 0
    while (m := _SUBQUERY.search(expr, i)) is not None:
        out.append(expr[i : m.start()])
        depth, j, quoted = 0, m.start(), False
        while j < len(expr):
            c = expr[j]
            if c == "'":
                quoted = not quoted
            elif not quoted and c == "(":
                depth += 1
            elif not quoted and c == ")":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        i = j + 1
    out.append(expr[i:])
    return "".join(out)


def _per_row_calls(facts: Facts) -> Callable[[str], list[str]]:
    # pg_get_expr() ran under an empty search_path: current_setting (pg_catalog) is printed bare or
    # pg_catalog-qualified, every other function schema-qualified and quoted as quote_ident() does.
    names = ["(?:pg_catalog\\.)?current_setting", *(re.escape(f["name"]) for f in facts.claims_functions)]
    pattern = re.compile(r"(?<![\w$\".])(" + "|".join(names) + r")\s*\(")

    def calls(expr: str) -> list[str]:
        return sorted({m.group(1) for m in pattern.finditer(outside_subqueries(expr))})

    return calls


def rls_initplan(facts: Facts) -> Iterator[Finding]:
    """A policy that calls current_setting() or a claims function per row, not once through (select ...)."""
    tables = tables_in_scope(facts)
    calls = _per_row_calls(facts)
    for p in facts.policies:
        if p["relation"] not in tables:
            continue
        found = sorted({c for e in (p["using_expr"], p["check_expr"]) if e for c in calls(e)})
        if found:
            yield finding(
                "rls_initplan",
                p["relation"],
                f"Policy {p['policy']} on {p['relation']} calls {', '.join(f + '()' for f in found)} for every row "
                "it checks.",
                f"Wrap each call in a scalar subquery, e.g. (select {found[0]}(...)): PostgreSQL then runs it once "
                "per statement (an initplan).",
            )


def multiple_permissive_policies(facts: Facts) -> Iterator[Finding]:
    """Several permissive policies for one role and command: each is evaluated for every row."""
    tables = tables_in_scope(facts)
    for name, rel in tables.items():
        if not rel["rls"]:
            continue
        policies = [p for p in facts.policies if p["relation"] == name and p["permissive"]]
        overlaps = []
        for role in facts.role_names:
            for command in COMMANDS:
                hit = [p["policy"] for p in policies if command in commands(p) and applies(p, role, facts.membership)]
                if len(hit) > 1:
                    overlaps.append(f"{role} {command}: {', '.join(hit)}")
        if overlaps:
            yield finding(
                "multiple_permissive_policies",
                name,
                f"{name} has several permissive policies for one role and command ({'; '.join(overlaps)}); "
                "PostgreSQL evaluates each of them for every row.",
                "Merge them into one policy per role and command (their conditions joined with OR).",
            )


def security_definer_view(facts: Facts) -> Iterator[Finding]:
    """An exposed view that reads an RLS table with the rights of a role that bypasses its policies."""
    readable = {
        r["qualified"] for r in facts.relations if r["exposed"] and any("SELECT" in p for p in privileges(r).values())
    }
    for row in facts.view_reads:
        if row["view"] not in readable or row["reader"] is None:
            continue
        if row["reader_superuser"]:
            why = "a superuser"
        elif row["reader_bypassrls"]:
            why = "a role with BYPASSRLS"
        elif row["reader_owns"] and not row["force_rls"]:
            why = f"the owner of {row['tbl']}, which does not FORCE row level security"
        else:
            continue
        through = "" if row["via"] == row["view"] else f" (through the view {row['via']})"
        yield finding(
            "security_definer_view",
            row["view"],
            f"The view {row['view']} reads {row['tbl']}{through} with the rights of {row['reader']}, {why}: the "
            f"row-level security of {row['tbl']} does not apply, so whoever may select {row['view']} sees every "
            f"row of {row['tbl']} the view's own query selects, whoever the caller.",
            f"ALTER VIEW {row['via']} SET (security_invoker = true) (PostgreSQL 15+) and grant the request roles "
            f"SELECT on {row['tbl']}; or give the view an owner that neither owns {row['tbl']} nor bypasses "
            "row-level security.",
        )
