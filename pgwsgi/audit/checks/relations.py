"""Checks of what exposed relations show: secret-looking columns, relations without row-level security, missing indexes, extensions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pgwsgi.audit.model import Facts, Finding, finding
from pgwsgi.audit.scope import KIND, in_scope, roles_text

# Column names that usually hold secrets or personal identifiers, as words of a snake_case name.
_SENSITIVE = re.compile(
    r"(?:^|_)(password|passwd|pass|pwd|secret|token|api_?key|private_?key|secret_?key|ssn|"
    r"social_security(?:_number)?|credit_?card|card_?number|cvv|cvc|iban|pin)(?:_|$)"
)


def _words(name: str) -> str:
    """NAME as lower snake_case words: passwordHash and password_hash read alike."""
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def sensitive_columns_exposed(facts: Facts) -> Iterator[Finding]:
    """Columns named like passwords, tokens or identifiers that a request role may read."""
    columns: dict[str, list[dict[str, Any]]] = {}
    for c in facts.columns:
        columns.setdefault(c["relation"], []).append(c)
    for relation, cols in columns.items():
        sensitive = [c for c in cols if c["readers"] and _SENSITIVE.search(_words(c["column"]))]
        if not sensitive:
            continue
        listed = "; ".join(f"{c['column']} ({roles_text(c['readers'])})" for c in sensitive)
        readers = sorted({r for c in sensitive for r in c["readers"]})
        who = ", ".join(facts.quote(r) for r in readers)
        others = ", ".join(facts.quote(c["column"]) for c in cols if c not in sensitive)
        # Revoking one column does nothing while SELECT is granted on the whole relation: grant the others instead.
        fix = f"REVOKE SELECT ON TABLE {relation} FROM {who};"
        if others:
            fix += f" GRANT SELECT ({others}) ON TABLE {relation} TO {who};"
        yield finding(
            "sensitive_columns_exposed",
            relation,
            f"{relation} shows columns named like secrets to request roles: {listed}.",
            f"Leave them out of the exposed view, or grant only the other columns: {fix}",
        )


def _exposed_kind(facts: Facts, kind: str, rule_id: str, why: str) -> Iterator[Finding]:
    for rel in facts.relations:
        if rel["exposed"] and rel["kind"] == kind and in_scope(rel):
            yield finding(
                rule_id,
                rel["qualified"],
                f"The {KIND[kind]} {rel['qualified']} is exposed to {roles_text(rel['privileges'])}; {why}",
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
                f"CREATE INDEX ON {fk['relation']} ({', '.join(facts.quote(c) for c in fk['columns'])});",
            )


def extension_in_public(facts: Facts) -> Iterator[Finding]:
    """An extension installed in schema public, where its functions mix with the application's."""
    for e in facts.extensions:
        yield finding(
            "extension_in_public",
            e["schema"],
            f"The extension {e['extension']} is installed in schema public: its functions mix with the "
            "application's, and are exposed whenever public is in db-schemas.",
            f"CREATE SCHEMA extensions; ALTER EXTENSION {facts.quote(e['extension'])} SET SCHEMA extensions; "
            "(for extensions that cannot move, reinstall them there).",
        )
