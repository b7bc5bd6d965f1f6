"""The database checks of `pgwsgi audit`: each turns catalog facts into findings.

A check looks only at what the API can reach: relations and functions of the
exposed schemas, and other relations a request role holds a privilege on (the
tables under security_invoker views). Request roles are the anonymous role and
every role the authenticator may SET ROLE to, the authenticator included, since a
JWT may name it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from pgwsgi.audit.model import Facts, Finding, finding

WRITES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")
COMMANDS = ("SELECT", "INSERT", "UPDATE", "DELETE")
_KIND = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "f": "foreign table"}
# Column names that usually hold secrets or personal identifiers, as words of a snake_case name.
_SENSITIVE = re.compile(
    r"(?:^|_)(password|passwd|pass|pwd|secret|token|api_?key|private_?key|secret_?key|ssn|"
    r"social_security(?:_number)?|credit_?card|card_?number|cvv|cvc|iban|pin)(?:_|$)"
)


def _roles_text(roles: list[str] | set[str]) -> str:
    return ", ".join(sorted(roles))


def _privileges(rel: dict[str, Any]) -> dict[str, set[str]]:
    return {role: set(p.split()) for role, p in (rel["privileges"] or {}).items()}


def _in_scope(rel: dict[str, Any]) -> bool:
    """A relation some request role holds a privilege on."""
    return bool(rel["privileges"])


def authenticator_superuser(facts: Facts) -> Iterator[Finding]:
    """The connecting role bypasses row-level security."""
    a = facts.authenticator
    what = [w for w, on in (("a superuser", a["superuser"]), ("has BYPASSRLS", a["bypassrls"])) if on]
    if what:
        yield finding(
            "authenticator_superuser",
            a["role"],
            f"The authenticator {a['role']} is {' and '.join(what)}: row-level security never applies to it, "
            "so one request that runs as it (a JWT naming it) sees every row, and its membership decides nothing.",
            f"ALTER ROLE {a['role']} NOSUPERUSER NOBYPASSRLS NOINHERIT; pgwsgi refuses to start as such a role "
            "unless db-allow-privileged-authenticator = true.",
        )


def authenticator_privileged(facts: Facts) -> Iterator[Finding]:
    """The authenticator inherits, owns or was granted what only request roles should hold."""
    a = facts.authenticator
    name = a["role"]
    if a["inherits"]:
        yield finding(
            "authenticator_privileged",
            name,
            f"The authenticator {name} inherits the privileges of the roles it is a member of "
            f"({_roles_text(a['member_of'])}): it holds all of them at once, before any SET ROLE.",
            f"ALTER ROLE {name} NOINHERIT (PostgreSQL 16+: grant each role WITH INHERIT FALSE, "
            f"e.g. GRANT web_anon TO {name} WITH INHERIT FALSE).",
            level="warn",
        )
    for row in facts.owned_or_granted:
        if row["owns"]:
            yield finding(
                "authenticator_privileged",
                row["object"],
                f"The authenticator {name} owns the exposed {row['kind']} {row['object']}: an owner may alter and "
                "drop it and is not subject to its row-level security (without FORCE), and a JWT naming the "
                "authenticator gets all of that.",
                f"ALTER {row['kind'].upper()} {row['object']} OWNER TO a NOLOGIN role the authenticator is not a "
                "member of.",
            )
        if row["privileges"] and not row["owns"]:  # an owner's ACL names it: that is ownership
            yield finding(
                "authenticator_privileged",
                row["object"],
                f"The authenticator {name} holds {row['privileges']} on the exposed {row['kind']} {row['object']} "
                "directly; requests should get privileges from the role they switch to.",
                f"REVOKE {row['privileges']} ON {row['kind'].upper()} {row['object']} FROM {name}; grant it to the "
                "request roles that need it.",
                level="warn",
            )
    for role in facts.roles:
        if role["role"] != name and (role["superuser"] or role["bypassrls"]):
            yield finding(
                "authenticator_privileged",
                role["role"],
                f"The authenticator {name} may SET ROLE to {role['role']}, which "
                f"{'is a superuser' if role['superuser'] else 'has BYPASSRLS'}: a JWT naming it sees every row.",
                f"REVOKE {role['role']} FROM {name}.",
            )


def anon_writable(facts: Facts) -> Iterator[Finding]:
    """The anonymous role may change an exposed relation."""
    if facts.anon is None:
        return
    for rel in facts.relations:
        if not rel["exposed"]:
            continue
        writes = [w for w in WRITES if w in _privileges(rel).get(facts.anon, ())]
        if writes:
            yield finding(
                "anon_writable",
                rel["qualified"],
                f"The anonymous role {facts.anon} may {', '.join(writes)} the {_KIND[rel['kind']]} "
                f"{rel['qualified']}: anyone without a token can change it.",
                f"REVOKE {', '.join(writes)} ON {rel['qualified']} FROM {facts.anon}; if anonymous writes are "
                "meant, let a function with narrow arguments do them.",
            )


def public_schema_create(facts: Facts) -> Iterator[Finding]:
    """PUBLIC (or a request role) may create objects in an exposed schema or in public."""
    for row in facts.schema_rows:
        schema = row["schema"]
        if row["public_create"]:
            yield finding(
                "public_schema_create",
                schema,
                f"Every role (PUBLIC) may CREATE in schema {schema}"
                + (
                    ", which is exposed: a new table or function there is a new endpoint."
                    if row["exposed"]
                    else ": an object created there can shadow what functions and views find through search_path."
                ),
                f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC;",
            )
        creators = [r for r in row["roles_create"] if r != row["owner"]]
        if row["exposed"] and creators and not row["public_create"]:
            yield finding(
                "public_schema_create",
                schema,
                f"Request roles ({_roles_text(creators)}) may CREATE in the exposed schema {schema}.",
                f"REVOKE CREATE ON SCHEMA {schema} FROM {', '.join(creators)};",
            )


def rls_disabled_in_exposed(facts: Facts) -> Iterator[Finding]:
    """An exposed table that a request role may use, without row-level security."""
    for rel in facts.relations:
        if rel["exposed"] and rel["kind"] in ("r", "p") and not rel["rls"] and _in_scope(rel):
            who = "; ".join(f"{r}: {p}" for r, p in sorted(rel["privileges"].items()))
            yield finding(
                "rls_disabled_in_exposed",
                rel["qualified"],
                f"The exposed table {rel['qualified']} has no row-level security, so every role with a privilege "
                f"on it reaches every row ({who}).",
                f"ALTER TABLE {rel['qualified']} ENABLE ROW LEVEL SECURITY; and CREATE POLICY for each role "
                "(USING (true) where a role may indeed see every row), or keep the table out of db-schemas.",
            )


def _tables_in_scope(facts: Facts) -> dict[str, dict[str, Any]]:
    return {r["qualified"]: r for r in facts.relations if r["kind"] in ("r", "p") and _in_scope(r)}


def rls_enabled_no_policy(facts: Facts) -> Iterator[Finding]:
    """Row-level security without a policy: nobody but the owner sees a row."""
    with_policies = {p["relation"] for p in facts.policies}
    for name, rel in _tables_in_scope(facts).items():
        if rel["rls"] and name not in with_policies:
            yield finding(
                "rls_enabled_no_policy",
                name,
                f"{name} has row-level security and no policy, so the roles granted privileges on it "
                f"({_roles_text(rel['privileges'])}) see and change no row.",
                f"CREATE POLICY ... ON {name} for the roles that should see rows, or revoke their privileges.",
            )


def policy_exists_rls_disabled(facts: Facts) -> Iterator[Finding]:
    """Policies written for a table whose row-level security is off: they do nothing."""
    tables = _tables_in_scope(facts)
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


def _applies(policy: dict[str, Any], role: str, membership: dict[str, set[str]]) -> bool:
    return policy["roles"] is None or bool(membership.get(role, {role}) & set(policy["roles"]))


def _commands(policy: dict[str, Any]) -> tuple[str, ...]:
    return COMMANDS if policy["command"] == "ALL" else (policy["command"],)


def rls_policy_always_true(facts: Facts) -> Iterator[Finding]:
    """A permissive write policy whose expression is `true`: every row may be written."""
    tables = _tables_in_scope(facts)
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
        anonymous = facts.anon is not None and _applies(p, facts.anon, facts.membership)
        who = "every role (PUBLIC)" if everyone else _roles_text(p["roles"])
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


def _outside_subqueries(expr: str) -> str:
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
    names = {"current_setting"} | {f["name"] for f in facts.claims_functions}
    pattern = re.compile(
        r"(?<![\w$])((?:(?:\"[^\"]+\"|[\w$]+)\.)?(?:" + "|".join(re.escape(n) for n in sorted(names)) + r"))\s*\(",
        re.I,
    )

    def calls(expr: str) -> list[str]:
        return sorted({m.group(1) for m in pattern.finditer(_outside_subqueries(expr))})

    return calls


def rls_initplan(facts: Facts) -> Iterator[Finding]:
    """A policy that calls current_setting() or a claims function per row, not once through (select ...)."""
    tables = _tables_in_scope(facts)
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
    tables = _tables_in_scope(facts)
    for name, rel in tables.items():
        if not rel["rls"]:
            continue
        policies = [p for p in facts.policies if p["relation"] == name and p["permissive"]]
        overlaps = []
        for role in facts.role_names:
            for command in COMMANDS:
                hit = [p["policy"] for p in policies if command in _commands(p) and _applies(p, role, facts.membership)]
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
        r["qualified"] for r in facts.relations if r["exposed"] and any("SELECT" in p for p in _privileges(r).values())
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
            "row of it.",
            f"ALTER VIEW {row['via']} SET (security_invoker = true) (PostgreSQL 15+) and grant the request roles "
            f"SELECT on {row['tbl']}; or give the view an owner that neither owns {row['tbl']} nor bypasses "
            "row-level security.",
        )


def _exposed_or_callable(facts: Facts) -> Iterator[dict[str, Any]]:
    for f in facts.functions:
        if f["exposed"] or f["executors"]:
            yield f


def function_search_path_mutable(facts: Facts) -> Iterator[Finding]:
    """A SECURITY DEFINER function that finds objects through the caller's search_path."""
    for f in _exposed_or_callable(facts):
        if f["security_definer"] and not f["pinned_search_path"]:
            yield finding(
                "function_search_path_mutable",
                f["signature"],
                f"{f['signature']} runs as its owner {f['owner']} (SECURITY DEFINER) but resolves names through the "
                "caller's search_path, which the caller controls.",
                f"ALTER FUNCTION {f['signature']} SET search_path = ''; and schema-qualify every name in its body.",
            )


def security_definer_function_executable_by_anon(facts: Facts) -> Iterator[Finding]:
    """An exposed SECURITY DEFINER function that anyone without a token may call."""
    if facts.anon is None:
        return
    for f in facts.functions:
        if f["exposed"] and f["security_definer"] and facts.anon in f["executors"]:
            yield finding(
                "security_definer_function_executable_by_anon",
                f["signature"],
                f"The anonymous role {facts.anon} may call {f['signature']}, which runs as {f['owner']}. Right for "
                "login and signup; anything else it does is open to everyone.",
                f"REVOKE EXECUTE ON FUNCTION {f['signature']} FROM PUBLIC, {facts.anon}; unless it is meant to be "
                "public.",
            )


def dangerous_function_executable(facts: Facts) -> Iterator[Finding]:
    """Sleep, large-object, dblink and file functions a request role may execute."""
    for f in facts.dangerous_functions:
        if f["executors"]:
            yield finding(
                "dangerous_function_executable",
                f["signature"],
                f"Request roles ({_roles_text(f['executors'])}) may execute {f['signature']}: a function that "
                "holds a connection, reaches other servers, or reads, writes or stores data outside the tables.",
                f"REVOKE EXECUTE ON FUNCTION {f['signature']} FROM PUBLIC; and from any request role granted it "
                "directly (docs/security.md has one statement for all of them).",
            )


def sensitive_columns_exposed(facts: Facts) -> Iterator[Finding]:
    """Columns named like passwords, tokens or identifiers that a request role may read."""
    grouped: dict[str, list[tuple[str, list[str]]]] = {}
    for c in facts.columns:
        if c["readers"] and _SENSITIVE.search(c["column"].lower()):
            grouped.setdefault(c["relation"], []).append((c["column"], c["readers"]))
    for relation, cols in grouped.items():
        listed = "; ".join(f"{col} ({_roles_text(readers)})" for col, readers in cols)
        yield finding(
            "sensitive_columns_exposed",
            relation,
            f"{relation} shows columns named like secrets to request roles: {listed}.",
            f"Leave them out of the exposed view, or REVOKE SELECT ({', '.join(col for col, _ in cols)}) ON "
            f"{relation} FROM the roles that must not read them.",
        )


def _exposed_kind(facts: Facts, kind: str, rule_id: str, why: str) -> Iterator[Finding]:
    for rel in facts.relations:
        if rel["exposed"] and rel["kind"] == kind and _in_scope(rel):
            yield finding(
                rule_id,
                rel["qualified"],
                f"The {_KIND[kind]} {rel['qualified']} is exposed to {_roles_text(rel['privileges'])}; {why}",
                f"Move {rel['qualified']} out of db-schemas and expose a function or security_invoker view that "
                "filters it by the caller.",
            )


def materialized_view_in_api(facts: Facts) -> Iterator[Finding]:
    """An exposed materialized view: row-level security cannot apply to it."""
    yield from _exposed_kind(facts, "m", "materialized_view_in_api", "row-level security cannot apply to it.")


def foreign_table_in_api(facts: Facts) -> Iterator[Finding]:
    """An exposed foreign table: its rows come from another server, outside row-level security."""
    yield from _exposed_kind(
        facts,
        "f",
        "foreign_table_in_api",
        "its rows come from another server, where this database's row-level security does not apply.",
    )


def unindexed_foreign_keys(facts: Facts) -> Iterator[Finding]:
    """A foreign key no index starts with: embeds and deletes of the referenced rows scan the table."""
    for fk in facts.foreign_keys:
        if not fk["indexed"]:
            cols = ", ".join(fk["columns"])
            yield finding(
                "unindexed_foreign_keys",
                fk["relation"],
                f"The foreign key {fk['constraint']} ({cols}) of {fk['relation']} has no index: embedding it and "
                "deleting the rows it references read the whole table.",
                f"CREATE INDEX ON {fk['relation']} ({cols});",
            )


def extension_in_public(facts: Facts) -> Iterator[Finding]:
    """An extension installed in schema public, where its functions mix with the application's."""
    for e in facts.extensions:
        yield finding(
            "extension_in_public",
            e["schema"],
            f"The extension {e['extension']} is installed in schema public: its functions mix with the "
            "application's, and are exposed whenever public is in db-schemas.",
            f"CREATE SCHEMA extensions; ALTER EXTENSION {e['extension']} SET SCHEMA extensions; "
            "(for extensions that cannot move, reinstall them there).",
        )


CHECKS: tuple[Callable[[Facts], Iterator[Finding]], ...] = (
    authenticator_superuser,
    authenticator_privileged,
    anon_writable,
    public_schema_create,
    rls_disabled_in_exposed,
    rls_enabled_no_policy,
    policy_exists_rls_disabled,
    rls_policy_always_true,
    rls_initplan,
    multiple_permissive_policies,
    security_definer_view,
    function_search_path_mutable,
    security_definer_function_executable_by_anon,
    dangerous_function_executable,
    sensitive_columns_exposed,
    materialized_view_in_api,
    foreign_table_in_api,
    unindexed_foreign_keys,
    extension_in_public,
)
