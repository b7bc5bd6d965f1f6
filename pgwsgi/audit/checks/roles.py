"""Checks of who requests run as: the authenticator, the anonymous role, owners, who may create objects."""

from __future__ import annotations

from collections.abc import Iterator

from pgwsgi.audit.model import Facts, Finding, finding
from pgwsgi.audit.scope import KIND, WRITES, privileges, roles_text


def authenticator_superuser(facts: Facts) -> Iterator[Finding]:
    """The connecting role bypasses row-level security."""
    a = facts.authenticator
    what = [w for w, on in (("a superuser", a["superuser"]), ("has BYPASSRLS", a["bypassrls"])) if on]
    if what:
        yield finding(
            "authenticator_superuser",
            facts.quote(a["role"]),
            f"The authenticator {a['role']} is {' and '.join(what)}: row-level security never applies to it, "
            "so one request that runs as it (a JWT naming it) sees every row, and its membership decides nothing.",
            f"ALTER ROLE {facts.quote(a['role'])} NOSUPERUSER NOBYPASSRLS NOINHERIT; pgwsgi refuses to start as "
            "such a role unless db-allow-privileged-authenticator = true.",
        )


def authenticator_privileged(facts: Facts) -> Iterator[Finding]:
    """The authenticator inherits, owns or was granted what only request roles should hold."""
    a = facts.authenticator
    name = a["role"]
    who = facts.quote(name)
    if a["inherited"]:
        granted = ", ".join(facts.quote(r) for r in a["inherited"])
        yield finding(
            "authenticator_privileged",
            who,
            f"The authenticator {name} inherits the privileges of the roles it is a member of "
            f"({roles_text(a['inherited'])}): it holds all of them at once, before any SET ROLE.",
            # Since PostgreSQL 16 each grant carries its own INHERIT: ALTER ROLE only sets the default of new ones.
            f"GRANT {granted} TO {who} WITH INHERIT FALSE;"
            if facts.server_version >= 160000
            else f"ALTER ROLE {who} NOINHERIT;",
            level="warn",
        )
    for row in facts.owned_or_granted:
        kind = row["kind"].upper()
        if row["owns"]:
            yield finding(
                "authenticator_privileged",
                row["object"],
                f"The authenticator {name} owns the exposed {row['kind']} {row['object']}: an owner may alter and "
                "drop it and is not subject to its row-level security (without FORCE), and a JWT naming the "
                "authenticator gets all of that.",
                f"ALTER {kind} {row['object']} OWNER TO <a NOLOGIN role the authenticator is not a member of>;",
            )
        elif row["privileges"]:  # an owner's own ACL entry names it: that is ownership, above
            target = "TABLE" if row["kind"] in ("table", "view", "materialized view", "foreign table") else kind
            yield finding(
                "authenticator_privileged",
                row["object"],
                f"The authenticator {name} holds {row['privileges']} on the exposed {row['kind']} {row['object']} "
                "directly; requests should get privileges from the role they switch to.",
                f"REVOKE {row['privileges']} ON {target} {row['object']} FROM {who}; grant it to the request roles "
                "that need it.",
                level="warn",
            )
    # A superuser authenticator is reported as such; the roles it could become add nothing.
    if a["superuser"]:
        return
    for role in facts.roles:
        if role["role"] != name and not role["anonymous"] and (role["superuser"] or role["bypassrls"]):
            yield finding(
                "authenticator_privileged",
                facts.quote(role["role"]),
                f"The authenticator {name} may SET ROLE to {role['role']}, which "
                f"{'is a superuser' if role['superuser'] else 'has BYPASSRLS'}: a JWT naming it sees every row.",
                f"REVOKE {facts.quote(role['role'])} FROM {who};",
            )


def request_role_owns_exposed(facts: Facts) -> Iterator[Finding]:
    """A request role owns (or has the privileges of the owner of) an exposed relation, function or schema."""
    name = facts.authenticator["role"]
    owners: list[tuple[str, str, str]] = [
        (KIND[r["kind"]], r["qualified"], r["owner"]) for r in facts.relations if r["exposed"]
    ]
    owners += [("function", f["signature"], f["owner"]) for f in facts.functions if f["exposed"]]
    owners += [("schema", facts.quote(s["schema"]), s["owner"]) for s in facts.schema_rows if s["exposed"]]
    for kind, obj, owner in owners:
        # The authenticator's own objects are authenticator_privileged's.
        holders = [r for r in facts.role_names if r != name and owner in facts.membership.get(r, {r})]
        if not holders:
            continue
        how = "owns" if holders == [owner] else f"has the privileges of its owner {owner}, so owns"
        yield finding(
            "request_role_owns_exposed",
            obj,
            f"{roles_text(holders)} {how} the exposed {kind} {obj}, and requests run as "
            f"{'it' if len(holders) == 1 else 'them'}: a JWT naming such a role may alter or drop it"
            + (
                ", and the table's row-level security does not apply to its owner unless forced."
                if kind == "table"
                else "."
            ),
            f"ALTER {kind.upper()} {obj} OWNER TO <a NOLOGIN role no request role is a member of>;",
        )


def anon_writable(facts: Facts) -> Iterator[Finding]:
    """The anonymous role may change an exposed relation."""
    if facts.anon is None:
        return
    for rel in facts.relations:
        if not rel["exposed"]:
            continue
        writes = [w for w in WRITES if w in privileges(rel).get(facts.anon, ())]
        if writes:
            yield finding(
                "anon_writable",
                rel["qualified"],
                f"The anonymous role {facts.anon} may {', '.join(writes)} the {KIND[rel['kind']]} "
                f"{rel['qualified']}: anyone without a token can change it.",
                f"REVOKE {', '.join(writes)} ON TABLE {rel['qualified']} FROM {facts.quote(facts.anon)}; if "
                "anonymous writes are meant, let a function with narrow arguments do them.",
            )


def public_schema_create(facts: Facts) -> Iterator[Finding]:
    """PUBLIC (or a request role) may create objects in an exposed schema or in public."""
    for row in facts.schema_rows:
        schema = facts.quote(row["schema"])
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
                f"Request roles ({roles_text(creators)}) may CREATE in the exposed schema {schema}.",
                f"REVOKE CREATE ON SCHEMA {schema} FROM {', '.join(facts.quote(r) for r in creators)};",
            )
