"""Reading the catalog facts an audit needs, in one read-only transaction."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import psycopg
from psycopg.rows import dict_row

from pgwsgi.audit.model import Facts


@cache
def _queries() -> dict[str, str]:
    text = resources.files("pgwsgi.audit").joinpath("queries.sql").read_text()
    parts = re.split(r"^-- name: (\w+)\n", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def read_facts(conn: psycopg.Connection[Any], authenticator: str, anon: str | None, schemas: tuple[str, ...]) -> Facts:
    """The facts about AUTHENTICATOR's API (db-anon-role ANON, db-schemas SCHEMAS) read through CONN.

    CONN may be the authenticator's own connection or an administrator's: every
    query names the roles it asks about, none relies on current_user.
    """
    q = _queries()
    params: dict[str, Any] = {"authenticator": authenticator, "anon": anon, "schemas": list(schemas)}
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute("set transaction read only")
        # Every name comes back schema-qualified, whatever the caller's search_path.
        cur.execute("select pg_catalog.set_config('search_path', '', true)")
        cur.execute(q["request_roles"], params)
        roles = cur.fetchall()
        params["roles"] = [r["role"] for r in roles]
        cur.execute(q["authenticator"], params)
        found = cur.fetchone()
        if found is None:
            raise LookupError(f"role {authenticator} does not exist")

        def rows(name: str) -> list[dict[str, Any]]:
            cur.execute(q[name], params)
            return cur.fetchall()

        facts = Facts(
            database=conn.info.dbname,
            server_version=conn.info.server_version,
            authenticator=found,
            anon=anon,
            schemas=schemas,
            roles=roles,
            schema_rows=rows("schemas"),
            relations=rows("relations"),
            owned_or_granted=rows("owned_or_granted"),
            policies=rows("policies"),
            view_reads=rows("view_reads"),
            functions=rows("functions"),
            dangerous_functions=rows("dangerous_functions"),
            columns=rows("columns"),
            extensions=rows("extensions"),
            claims_functions=rows("claims_functions"),
            keywords=frozenset(r["word"] for r in rows("keywords")),
        )
        for row in rows("role_membership"):
            facts.membership.setdefault(row["role"], set()).add(row["has_privileges_of"])
        params["relations"] = [r["oid"] for r in facts.relations if r["kind"] in ("r", "p")]
        facts.foreign_keys = rows("foreign_keys")
    return facts
