"""Run one request in one transaction: settings, pre-request, main statement, commit or rollback.

This is the only module that executes request SQL. Any PostgreSQL error becomes
the ApiError PostgREST would answer; the transaction is always closed before the
connection goes back to the pool.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus
from psycopg.pq.abc import PGresult

from pgwsgi.auth import Identity
from pgwsgi.db.checks import Check, check_for
from pgwsgi.db.pool import Database
from pgwsgi.db.wire import Step, Wire
from pgwsgi.errors import ApiError, client_error, from_pg_error, invalid_body, invalid_byte_sequence, keys_differ
from pgwsgi.plan.model import Plan
from pgwsgi.sql import Statement, Statements
from pgwsgi.sql.jsontext import JsonText

log = logging.getLogger("pgwsgi.db")

_ISOLATION = {"read committed": "READ COMMITTED", "repeatable read": "REPEATABLE READ", "serializable": "SERIALIZABLE"}
_BEGIN = {
    (level, read_only): Step(f"BEGIN ISOLATION LEVEL {sql_level} {'READ ONLY' if read_only else 'READ WRITE'}".encode())
    for level, sql_level in _ISOLATION.items()
    for read_only in (True, False)
}
_COMMIT = Step(b"COMMIT")
_ROLLBACK = Step(b"ROLLBACK")
_IMMEDIATE = Step(b"SET CONSTRAINTS ALL IMMEDIATE")


@dataclass(frozen=True)
class TxResult:
    """The main statement's single row, by column name, and the first value of the AFTER statement."""

    row: dict[str, Any]
    after: Any = None

    def with_body(self, body: str | None) -> TxResult:
        """The same result with another response body (a signed token instead of claims)."""
        return TxResult({**self.row, "body": body}, self.after)


NO_RESULT = TxResult({})


def run(
    db: Database, plan: Plan, statements: Statements | None, identity: Identity, role_isolation: str | None = None
) -> TxResult:
    """Run PLAN's transaction: BEGIN, settings, pre-request, main statement, its check, COMMIT or ROLLBACK.

    Returns the main statement's row. A plan answered from the catalog alone
    (no statements) runs nothing. The statements (BEGIN, settings, pre-request,
    main, COMMIT) travel in one round trip (db/wire.py), or two when the main
    statement's row must be checked or followed by another statement before the
    transaction ends.

    The check (db/checks.py) may raise an ApiError after the main statement ran
    (e.g. a singular response that is not one row); the transaction is then
    rolled back. AFTER runs next (the EXPLAIN of a planned count); its first
    value is returned too.

    For the plan media type (M-PLAN) the main statement is an EXPLAIN, and the
    row is {"plan": its output}, every row of it ended by a newline.
    """
    if plan.tx is None or statements is None:
        return NO_RESULT
    tx = plan.tx
    # A function's own level wins over its role's `default_transaction_isolation` (PostgREST's planIsoLvl).
    isolation = plan.function.isolation_level if plan.function is not None else None
    isolation = isolation or role_isolation
    return _run(
        db,
        read_only=tx.read_only,
        isolation=isolation,
        statements=statements,
        commit=tx.commit,
        is_anonymous=identity.is_anonymous,
        check=check_for(plan.action),
        explain=plan.explain is not None,
    )


def _run(
    db: Database,
    *,
    read_only: bool,
    isolation: str | None,
    statements: Statements,
    commit: bool,
    is_anonymous: bool,
    check: Check | None,
    explain: bool = False,
) -> TxResult:
    with db.connection() as conn:
        try:
            # An EXPLAIN's text varies with its options and it is a debugging aid: sent
            # unprepared, it takes no slot among the connection's prepared statements.
            wire = Wire(conn, prepare=False) if explain else db.wire(conn)
            level = (isolation or "read committed").strip("'\" ").lower()
            steps = [_BEGIN.get((level, read_only), _BEGIN[("read committed", read_only)])]
            steps.append(_step(conn, statements.settings))
            if statements.pre_request is not None:
                steps.append(Step(statements.pre_request.as_bytes(conn)))
            steps.append(_step(conn, statements.main))
            main = len(steps) - 1
            ending = _ending(conn, statements, commit)
            if check is None and statements.after is None:
                # Nothing to look at between the main statement and the end: one round trip.
                results = wire.run([*steps, *ending])
                if explain:
                    return TxResult({"plan": _plan_output(results[main])})
                return TxResult(wire.load_row(results[main]))
            results = wire.run(steps)
            row = wire.load_row(results[main])
            if check is not None:
                check(row)
            results = wire.run(ending)
            after_value = None
            if statements.after is not None:
                # e.g. EXPLAIN of the count query: runs after the main statement, as in PostgREST.
                after = wire.load_row(results[0])
                after_value = next(iter(after.values()), None)
            return TxResult(row, after_value)
        except psycopg.OperationalError as exc:
            _rollback(conn)
            if conn.broken:
                raise client_error(str(exc).strip())
            raise _db_error(exc, is_anonymous)
        except psycopg.Error as exc:
            _rollback(conn)
            raise _db_error(exc, is_anonymous)
        except BaseException:
            _rollback(conn)
            raise


def _plan_output(res: PGresult) -> bytes:
    """EXPLAIN's rows, each ended by a newline as PostgREST's `BS.unlines` does: many for TEXT, one for JSON."""
    return b"".join(bytes(res.get_value(i, 0) or b"") + b"\n" for i in range(res.ntuples))


def _step(conn: psycopg.Connection[Any], statement: Statement) -> Step:
    query, params = statement
    return Step(query.as_bytes(conn), params)


def _ending(conn: psycopg.Connection[Any], statements: Statements, commit: bool) -> list[Step]:
    """What follows the main statement: the AFTER statement, then COMMIT or (Prefer: tx=rollback) ROLLBACK."""
    steps = [] if statements.after is None else [_step(conn, statements.after)]
    if commit:
        steps.append(_COMMIT)
    else:
        # Prefer: tx=rollback still checks deferred constraints (H-PREFER-TX).
        steps.extend((_IMMEDIATE, _ROLLBACK))
    return steps


def _db_error(exc: psycopg.Error, is_anonymous: bool) -> ApiError:
    if exc.sqlstate is None and isinstance(exc, psycopg.DataError):
        # Refused by psycopg before it reached the server (a NUL byte in a value):
        # answer as PostgreSQL would for the same bytes.
        return invalid_byte_sequence(str(exc).strip())
    err = from_pg_error(exc.diag, exc.sqlstate, is_anonymous)
    if err.status >= 500:
        log.error("Database error %s: %s", err.code, err.message)
    return err


def _rollback(conn: psycopg.Connection[Any]) -> None:
    if conn.broken or conn.closed or conn.info.transaction_status == TransactionStatus.IDLE:
        return
    try:
        conn.execute("ROLLBACK", prepare=False)
    except psycopg.Error:
        log.warning("Rollback failed; the pool will discard the connection")


_SCAN_KEYS = sql.SQL(
    "WITH e AS (SELECT v, n FROM json_array_elements(%s::json) WITH ORDINALITY AS t(v, n)), "
    "k AS (SELECT n, coalesce(array_agg(key ORDER BY key) FILTER (WHERE key IS NOT NULL), '{}') AS keys "
    "FROM e LEFT JOIN LATERAL json_object_keys(CASE WHEN json_typeof(e.v) = 'object' THEN e.v END) AS key ON true "
    "GROUP BY n) "
    "SELECT (SELECT array(SELECT json_object_keys(v)) FROM e WHERE n = 1 AND json_typeof(v) = 'object'), "
    "(SELECT count(DISTINCT keys) FROM k), (SELECT count(*) FROM e WHERE json_typeof(v) <> 'object')"
)
_OBJECT_KEYS = sql.SQL("SELECT array(SELECT json_object_keys(%s::json)), 1, 0")


def scan_keys(db: Database, body: bytes | bytearray, is_object: bool, any_keys: bool) -> tuple[str, ...]:
    """The key set of a large JSON body, read by PostgreSQL so Python never parses it (T-POST-ARRAY-KEYS).

    Runs in its own short read-only transaction; it touches no table, so no role is needed.
    """
    with db.connection() as conn:
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(sql.SQL("SET TRANSACTION READ ONLY"), prepare=False)
                cur.execute(_OBJECT_KEYS if is_object else _SCAN_KEYS, [JsonText(body)], prepare=False)
                first, variants, non_objects = cur.fetchone() or ([], 0, 0)
        except psycopg.DataError:
            raise invalid_body()
    if not any_keys and (non_objects or (variants or 0) > 1):
        raise keys_differ()
    return tuple(first or ())
