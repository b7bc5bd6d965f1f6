"""The SQL transaction pgwsgi runs for a URL, rendered as a pgbench script.

Everything comes from pgwsgi's own pipeline (auth -> route -> api.parse -> plan.build ->
sql.compose, the stage entries App.handle calls), so the
pgbench side runs exactly the text and the parameter values a gunicorn worker
sends for the same request, not a hand-written approximation of it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.adapt import PyFormat, Transformer
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from pgwsgi.api import parse
from pgwsgi.auth import Authenticator
from pgwsgi.catalog.model import CatalogSnapshot
from pgwsgi.config import Config
from pgwsgi.http import routes
from pgwsgi.plan import build
from pgwsgi.sql import compose

# What pgwsgi.db.transaction sends around the statements of a read request.
BEGIN = "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY"
COMMIT = "COMMIT"

# psycopg placeholders in rendered SQL: %s (and %b/%t), plus %% for a literal %.
_PLACEHOLDER = re.compile(r"%([sbt%])")


@dataclass(frozen=True)
class Statement:
    """One statement as pgwsgi sends it: SQL text with %s placeholders and the values bound to them."""

    label: str
    text: str
    params: tuple[Any, ...] | None  # None: sent without parameters (BEGIN, COMMIT)


@dataclass(frozen=True)
class Transaction:
    """The request transaction, ready for psycopg (verification) and pgbench (measurement)."""

    statements: tuple[Statement, ...]
    script: str  # pgbench script: one statement per line, values as :variables
    variables: dict[str, str]  # pgbench -D name=value, the parameters in PostgreSQL's text format


def build_transaction(
    conn: psycopg.Connection[Any],
    config: Config,
    snapshot: CatalogSnapshot,
    path: str,
    query: str,
    headers: Sequence[tuple[str, str]],
) -> Transaction:
    """The transaction a worker runs for `GET path?query` with HEADERS (mirror what wrk sends)."""
    builder = EnvironBuilder(path=path, query_string=query, method="GET", headers=list(headers))
    try:
        request = Request(builder.get_environ())
    finally:
        builder.close()
    # The same calls, in the same order, as pgwsgi.http.app.App.handle for a GET.
    identity = Authenticator(config).authenticate(request.headers.get("Authorization"))
    target, name = routes.route(request.path)
    req = parse(request, target, name, config, _no_body)
    composed = compose(build(req, snapshot, config), req, identity, config)
    assert composed is not None, "a GET on a relation runs a transaction"
    settings_sql, settings_params = composed.settings
    main_sql, main_params = composed.main

    statements = [
        Statement("begin", BEGIN, None),
        Statement("settings", settings_sql.as_string(conn), tuple(settings_params)),
    ]
    if composed.pre_request is not None:
        statements.append(Statement("pre-request", composed.pre_request.as_string(conn), None))
    statements.append(Statement("main", main_sql.as_string(conn), tuple(main_params)))
    statements.append(Statement("commit", COMMIT, None))
    script, variables = _pgbench_script(conn, statements)
    return Transaction(tuple(statements), script, variables)


def _pgbench_script(conn: psycopg.Connection[Any], statements: Sequence[Statement]) -> tuple[str, dict[str, str]]:
    """Replace each %s by a pgbench :variable; with -M prepared pgbench binds them as parameters.

    The values go to pgbench as -D definitions (strings, sent as text
    parameters) rather than \\set, whose expressions only know numbers. They are
    rendered with psycopg's own text dumpers, so an array of GUC names becomes
    exactly the array literal PostgreSQL would print.
    """
    tx = Transformer.from_context(conn)
    variables: dict[str, str] = {}
    lines = []
    for n, stmt in enumerate(statements, 1):
        values = iter(stmt.params or ())

        def substitute(m: re.Match[str], n: int = n, values: Any = values) -> str:
            if m.group(1) == "%":
                return "%"
            value = next(values)
            var = f"s{n}p{len(variables) + 1}"  # statement n, parameter number k of the script
            variables[var] = _text(tx, value)
            return f":{var}"

        text = _PLACEHOLDER.sub(substitute, stmt.text) if stmt.params is not None else stmt.text
        # pgbench ends an SQL command at an unquoted semicolon; one per line keeps -r's report readable.
        lines.append(" ".join(text.split()) + ";")
    return "\n".join(lines) + "\n", variables


def _text(tx: Transformer, value: Any) -> str:
    """VALUE in PostgreSQL's text input format, as psycopg would send it as a text parameter."""
    if value is None:
        raise ValueError("pgbench cannot bind NULL through a -D variable")
    dumped = tx.get_dumper(value, PyFormat.TEXT).dump(value)
    return bytes(dumped).decode() if dumped is not None else ""


def verify(conn: psycopg.Connection[Any], transaction: Transaction, expected_rows: int = 1) -> dict[str, Any]:
    """Run the transaction once through psycopg, as pgwsgi would; check the body has EXPECTED_ROWS rows.

    Returns the main statement's row. Raises RuntimeError on a mismatch, so a
    benchmark never measures a query that answers an error or nothing.
    """
    row: dict[str, Any] = {}
    with conn.cursor() as cur:
        try:
            for stmt in transaction.statements:
                cur.execute(stmt.text, stmt.params, prepare=False)  # type: ignore[arg-type]
                if stmt.label == "main":
                    names = [d.name for d in cur.description or ()]
                    values = cur.fetchone() or ()
                    row = dict(zip(names, values, strict=False))
        finally:
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.execute("ROLLBACK")
    body = json.loads(row.get("body") or "null")
    if row.get("page_total") != expected_rows or not isinstance(body, list) or len(body) != expected_rows:
        raise RuntimeError(
            f"expected {expected_rows} row(s) from the SQL, got page_total={row.get('page_total')!r}, "
            f"body={row.get('body')!r}"
        )
    return row


def _no_body(body: bytes | bytearray, is_object: bool, any_keys: bool) -> tuple[str, ...]:
    raise AssertionError("a GET has no body to scan")
