"""What the API can reach, as the audit's checks see it: request roles' privileges and policies.

Request roles are the anonymous role and every role the authenticator may SET
ROLE to, the authenticator included, since a JWT may name it. A check looks at
relations and functions of the exposed schemas, and at other relations a request
role holds a privilege on (the tables under security_invoker views).
"""

from __future__ import annotations

from typing import Any

from pgwsgi.audit.model import Facts

WRITES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")

COMMANDS = ("SELECT", "INSERT", "UPDATE", "DELETE")

KIND = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "f": "foreign table"}


def roles_text(roles: list[str] | set[str]) -> str:
    """ROLES sorted, for a message."""
    return ", ".join(sorted(roles))


def privileges(rel: dict[str, Any]) -> dict[str, set[str]]:
    """The privileges each request role holds on REL (a row of the relations query)."""
    return {role: set(p.split()) for role, p in (rel["privileges"] or {}).items()}


def in_scope(rel: dict[str, Any]) -> bool:
    """A relation some request role holds a privilege on."""
    return bool(rel["privileges"])


def tables_in_scope(facts: Facts) -> dict[str, dict[str, Any]]:
    """The tables some request role holds a privilege on, by qualified name: where policies matter."""
    return {r["qualified"]: r for r in facts.relations if r["kind"] in ("r", "p") and in_scope(r)}


def applies(policy: dict[str, Any], role: str, membership: dict[str, set[str]]) -> bool:
    """Whether POLICY applies to ROLE: to PUBLIC, or to a role whose privileges ROLE has."""
    return policy["roles"] is None or bool(membership.get(role, {role}) & set(policy["roles"]))


def commands(policy: dict[str, Any]) -> tuple[str, ...]:
    """The commands POLICY covers (ALL is each of them)."""
    return COMMANDS if policy["command"] == "ALL" else (policy["command"],)
