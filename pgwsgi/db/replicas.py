"""Reads routed to streaming replicas (db-read-replicas): which requests, which replica, and the way back.

Only built when db-read-replicas names replicas; without them App.handle runs
every transaction on the primary exactly as before, at no cost per request.

The rule (`reads_from_replica`): a GET or HEAD on a table or view (its embeds
included), or a GET/HEAD call of a STABLE or IMMUTABLE function, runs on a
replica, unless the client sent `Prefer: read=primary` (it must see its own
writes) or the transaction is SERIALIZABLE (a hot standby refuses that level).
Everything else runs on the primary: writes, POST calls, VOLATILE functions, the
root (OpenAPI), and what needs no transaction. An execution plan
(`Accept: application/vnd.pgrst.plan`) follows the read it explains, so that it
shows where the read runs.

Replicas take turns (round robin) among those thought healthy. A replica is
skipped for BACKOFF_SECONDS once its pool cannot connect, waits out
db-pool-acquisition-timeout, or a connection breaks during a read; afterwards a
health check (one short connection, in a thread of its own, at most one per
BACKOFF_SECONDS, replica and worker) decides whether it takes reads again. No
request waits for a health check: meanwhile reads go to the other replicas, or
the primary when none is left.

A read that failed on a replica because of the replica (no connection, a pool
timeout, the connection lost mid-read, or a recovery conflict that cancelled the
query) runs again, once, on the primary. It is safe: the response is built only
after the transaction ended, so the client has been sent nothing, and the read's
transaction is READ ONLY, so the first attempt changed nothing.
"""

from __future__ import annotations

import logging
import threading
import time

import psycopg

from pgwsgi.api import ApiRequest
from pgwsgi.auth import Identity
from pgwsgi.config import Config
from pgwsgi.config.conninfo import conninfo_label
from pgwsgi.db.pool import Database, connect_kwargs
from pgwsgi.db.transaction import TxResult
from pgwsgi.db.transaction import run as run_transaction
from pgwsgi.errors import ApiError, client_error, connection_error, pool_timeout
from pgwsgi.plan.model import CallPlan, Plan, ReadPlan
from pgwsgi.sql import Statements

log = logging.getLogger("pgwsgi.db")

# How long a failed replica is skipped before its next health check.
BACKOFF_SECONDS = 2.0
# libpq's shortest connect_timeout is 2 s.
CHECK_TIMEOUT_SECONDS = 2
# Errors that say the replica failed, not the request: the read runs again on the primary.
_REPLICA_FAILED = frozenset({connection_error(None).code, client_error(None).code, pool_timeout().code})
# serialization_failure: on a standby, "canceling statement due to conflict with recovery".
_RECOVERY_CONFLICT = "40001"


def reads_from_replica(plan: Plan, req: ApiRequest, role_isolation: str | None = None) -> bool:
    """Whether PLAN's transaction may run on a replica (the module's docstring has the rule)."""
    tx = plan.tx
    if tx is None or not tx.read_only or req.method not in ("GET", "HEAD") or req.preferences.read == "primary":
        return False
    action = plan.action
    if isinstance(action, CallPlan):
        if action.function.volatility not in ("i", "s"):
            return False
    elif not isinstance(action, ReadPlan):
        return False
    # As transaction.run picks the level: the function's own, else its role's default.
    level = (plan.function.isolation_level if plan.function is not None else None) or role_isolation
    return (level or "").strip("'\" ").lower() != "serializable"


class Replica:
    """One replica: its pool (db-pool and its timeouts, as the primary's), its health and its figures.

    A failed replica's pool is closed, so that nothing but the health check (at most
    one per BACKOFF_SECONDS) tries to reach it, and a fresh pool replaces it once the
    check succeeds: an old pool would wait out its own growing reconnection delays.
    """

    def __init__(self, config: Config, uri: str, label: str) -> None:
        self.config = config
        self.uri = uri
        self.label = label
        self.db = self._pool()
        self.healthy = True
        self.routed = 0  # transactions run here
        self.failures = 0  # times it was found failed
        self._earlier_timeouts = 0  # pool timeouts of the pools it had before this one
        self._retry_at = 0.0  # when a skipped replica gets its next health check
        self._checking = threading.Lock()
        self._stale: Database | None = None  # a failed replica's pool, to close

    def _pool(self) -> Database:
        return Database(self.config, self.uri, name=f"pgwsgi-replica {self.label}")

    def usable(self) -> bool:
        """Whether a read may go here now; a skipped replica whose back-off is over gets its health check."""
        if self.healthy:
            if self.db.last_connect_error is None:
                return True
            # The pool's own attempt to connect failed (in the background): no request has to find out.
            self.failed(self.db.last_connect_error)
            return False
        if time.monotonic() >= self._retry_at and self._checking.acquire(blocking=False):
            self._retry_at = time.monotonic() + BACKOFF_SECONDS
            threading.Thread(target=self._check, name="pgwsgi-replica-check", daemon=True).start()
        return False

    def failed(self, why: str | None) -> None:
        """Skip this replica for BACKOFF_SECONDS, then check it again."""
        self.failures += 1
        self._retry_at = time.monotonic() + BACKOFF_SECONDS
        if self.healthy:
            log.warning("Read replica %s skipped for %s s: %s", self.label, BACKOFF_SECONDS, why)
            self._stale = self.db
        self.healthy = False

    def _check(self) -> None:
        """The health check: one connection that answers a query. Runs in its own thread, never a request's."""
        try:
            stale, self._stale = self._stale, None
            if stale is not None:
                # Closing waits for the pool's threads: here, not in the request that found the failure.
                stale.close()
            with psycopg.connect(
                self.uri, connect_timeout=CHECK_TIMEOUT_SECONDS, **connect_kwargs(self.config)
            ) as conn:
                conn.execute("SELECT 1", prepare=False)
        except psycopg.Error as exc:
            log.info("Read replica %s still failing: %s", self.label, str(exc).strip())
        else:
            fresh = self._pool()
            fresh.open()
            self._earlier_timeouts += self.db.timeouts
            self.db = fresh
            self.healthy = True
            log.warning("Read replica %s is back", self.label)
        finally:
            self._checking.release()

    def close(self) -> None:
        """Close its pool."""
        self.db.close()

    def stats(self) -> dict[str, int]:
        """This replica's pool gauges, health (0/1), transactions run and failures, for /metrics."""
        figures = self.db.stats()
        figures["timeouts"] += self._earlier_timeouts
        return {**figures, "healthy": int(self.healthy), "routed": self.routed, "failures": self.failures}


class Replicas:
    """The replicas of db-read-replicas and the primary: where each transaction runs."""

    def __init__(self, config: Config, primary: Database) -> None:
        self.primary = primary
        labels: list[str] = []
        for uri in config.db_read_replicas:
            label = conninfo_label(uri)
            # Two entries for one server (other options) still need labels of their own.
            labels.append(label if label not in labels else f"{label}#{len(labels) + 1}")
        self.replicas = tuple(
            Replica(config, uri, label) for uri, label in zip(config.db_read_replicas, labels, strict=True)
        )
        self.primary_routed = 0  # transactions run on the primary
        self.fallbacks = 0  # reads meant for a replica that ran on the primary
        self._turn = 0

    def open(self) -> None:
        """Start connecting every replica's pool in the background."""
        for replica in self.replicas:
            replica.db.open()

    def close(self) -> None:
        """Close every replica's pool (the primary's is App's)."""
        for replica in self.replicas:
            replica.close()

    def for_plan(self, plan: Plan, req: ApiRequest, role_isolation: str | None = None) -> Replica | None:
        """The replica PLAN's transaction runs on, or None for the primary."""
        if not reads_from_replica(plan, req, role_isolation):
            return None
        replica = self._next_usable()
        if replica is None:
            self.fallbacks += 1
        return replica

    def _next_usable(self) -> Replica | None:
        count = len(self.replicas)
        for step in range(count):
            replica = self.replicas[(self._turn + step) % count]
            if replica.usable():
                self._turn = (self._turn + step + 1) % count
                return replica
        return None

    def run(
        self, plan: Plan, req: ApiRequest, statements: Statements | None, identity: Identity, role_isolation: str | None
    ) -> TxResult:
        """transaction.run on the pool `for_plan` picks; a read the replica failed runs again on the primary."""
        replica = self.for_plan(plan, req, role_isolation) if statements is not None else None
        if replica is not None:
            try:
                result = run_transaction(replica.db, plan, statements, identity, role_isolation)
            except ApiError as err:
                if err.code in _REPLICA_FAILED:
                    replica.failed(err.details or err.message)
                elif err.code != _RECOVERY_CONFLICT:
                    raise
                log.info("A read failed on replica %s (%s); running it on the primary", replica.label, err.code)
                self.fallbacks += 1
            else:
                replica.routed += 1
                return result
        if plan.tx is not None and statements is not None:
            self.primary_routed += 1
        return run_transaction(self.primary, plan, statements, identity, role_isolation)

    def stats(self) -> dict[str, dict[str, int]]:
        """Per replica label its figures, for /metrics; the primary's transactions and the fallbacks under ""."""
        figures = {r.label: r.stats() for r in self.replicas}
        figures[""] = {"routed": self.primary_routed, "fallbacks": self.fallbacks}
        return figures
