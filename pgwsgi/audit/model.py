"""What an audit reports: findings, their ids and levels, and the facts they come from.

The ids are part of pgwsgi's interface (docs/security.md lists them): scripts
filter on them, so an id is never renamed, only added.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

LEVELS = ("error", "warn", "info")


@dataclass(frozen=True)
class Finding:
    """One problem: which rule found it, how bad it is, on what, and how to fix it.

    OBJECT is the schema-qualified relation or function, the role, the schema or
    the config key the finding is about.
    """

    id: str
    level: str
    object: str
    message: str
    fix: str

    def as_json(self) -> dict[str, str]:
        """The finding as `--format json` prints it."""
        return {"id": self.id, "level": self.level, "object": self.object, "message": self.message, "fix": self.fix}


@dataclass(frozen=True)
class Rule:
    """A finding id with its usual level and a one-line title (docs, text report)."""

    id: str
    level: str
    title: str


# The usual level of each id; a few findings are reported one level lower in the
# circumstances their check names (a `true` write policy for a named role only).
RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule("authenticator_superuser", "error", "the authenticator is a superuser or has BYPASSRLS"),
        Rule("authenticator_privileged", "error", "the authenticator has privileges of its own"),
        Rule("request_role_owns_exposed", "error", "a role requests run as owns an exposed object"),
        Rule("anon_writable", "warn", "the anonymous role may change an exposed relation"),
        Rule("public_schema_create", "warn", "anyone may create objects in an exposed schema or in public"),
        Rule("rls_disabled_in_exposed", "error", "an exposed table has no row-level security"),
        Rule("rls_enabled_no_policy", "info", "row-level security is on but no policy exists"),
        Rule("policy_exists_rls_disabled", "error", "policies exist but row-level security is off"),
        Rule("rls_policy_always_true", "warn", "a write policy lets every row through"),
        Rule("rls_initplan", "warn", "a policy reads a setting once per row"),
        Rule("multiple_permissive_policies", "info", "several permissive policies for one role and command"),
        Rule("security_definer_view", "error", "an exposed view bypasses the row-level security of a table"),
        Rule("function_search_path_mutable", "warn", "a SECURITY DEFINER function has no pinned search_path"),
        Rule(
            "security_definer_function_executable_by_anon",
            "info",
            "the anonymous role may call a SECURITY DEFINER function",
        ),
        Rule("dangerous_function_executable", "warn", "a request role may sleep, touch files or large objects"),
        Rule("sensitive_columns_exposed", "warn", "a request role may read columns named like secrets"),
        Rule("materialized_view_in_api", "warn", "a materialized view (no row-level security) is exposed"),
        Rule("foreign_table_in_api", "warn", "a foreign table (no row-level security) is exposed"),
        Rule("unindexed_foreign_keys", "info", "a foreign key without an index"),
        Rule("extension_in_public", "warn", "an extension is installed in schema public"),
        Rule("jwt_secret_weak", "error", "the JWT secret is short or guessable"),
        Rule("db_schemas_internal", "error", "db-schemas exposes an internal schema"),
        Rule("db_anon_role_missing", "warn", "db-anon-role names no role of the database"),
    )
}


def finding(rule_id: str, obj: str, message: str, fix: str, level: str | None = None) -> Finding:
    """A Finding of RULE_ID, at the rule's level unless LEVEL says otherwise."""
    return Finding(rule_id, level or RULES[rule_id].level, obj, message, fix)


@dataclass
class Facts:
    """What the catalog says, as the audit queries read it (pgwsgi/audit/queries.sql)."""

    database: str
    server_version: int
    authenticator: dict[str, Any]
    anon: str | None
    schemas: tuple[str, ...]
    roles: list[dict[str, Any]]
    schema_rows: list[dict[str, Any]] = field(default_factory=list)
    relations: list[dict[str, Any]] = field(default_factory=list)
    owned_or_granted: list[dict[str, Any]] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)
    membership: dict[str, set[str]] = field(default_factory=dict)
    view_reads: list[dict[str, Any]] = field(default_factory=list)
    functions: list[dict[str, Any]] = field(default_factory=list)
    dangerous_functions: list[dict[str, Any]] = field(default_factory=list)
    columns: list[dict[str, Any]] = field(default_factory=list)
    foreign_keys: list[dict[str, Any]] = field(default_factory=list)
    extensions: list[dict[str, Any]] = field(default_factory=list)
    claims_functions: list[dict[str, Any]] = field(default_factory=list)
    keywords: frozenset[str] = frozenset()  # the words quote_ident() quotes

    def quote(self, name: str) -> str:
        """NAME as quote_ident() writes it, for SQL in a fix that a reader may paste."""
        if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) and name not in self.keywords:
            return name
        return '"' + name.replace('"', '""') + '"'

    @property
    def role_names(self) -> list[str]:
        """Every request role: the anonymous role and every role the authenticator may become."""
        return [r["role"] for r in self.roles]


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Errors first, then warnings, then information; by id and object within a level."""
    return sorted(findings, key=lambda f: (LEVELS.index(f.level), f.id, f.object, f.message))
