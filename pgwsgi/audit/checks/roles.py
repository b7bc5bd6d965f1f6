"""Checks of who requests run as: the authenticator, the anonymous role, who may create objects."""

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
            f"({roles_text(a['member_of'])}): it holds all of them at once, before any SET ROLE.",
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
        writes = [w for w in WRITES if w in privileges(rel).get(facts.anon, ())]
        if writes:
            yield finding(
                "anon_writable",
                rel["qualified"],
                f"The anonymous role {facts.anon} may {', '.join(writes)} the {KIND[rel['kind']]} "
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
                f"Request roles ({roles_text(creators)}) may CREATE in the exposed schema {schema}.",
                f"REVOKE CREATE ON SCHEMA {schema} FROM {', '.join(creators)};",
            )
