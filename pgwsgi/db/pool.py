"""The connection pool of one worker: created after fork, recovers on its own."""

from __future__ import annotations

import logging
import select
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.pq import ConnStatus
from psycopg_pool import ConnectionPool, PoolTimeout

from pgwsgi.config import Config
from pgwsgi.db.wire import Wire
from pgwsgi.errors import connection_error, pool_timeout
from pgwsgi.version import __version__

log = logging.getLogger("pgwsgi.db")


def connect_kwargs(config: Config) -> dict[str, Any]:
    """Connection options shared by the pool, the catalog loader and the listener."""
    return {
        "autocommit": True,
        "prepare_threshold": 0 if config.db_prepared_statements else None,
        "fallback_application_name": f"pgwsgi {__version__}",
    }


class Database:
    """Pooled connections to the configured database (db-uri), or to URI (a read replica: db/replicas.py)."""

    def __init__(self, config: Config, uri: str | None = None, name: str = "pgwsgi") -> None:
        self.config = config
        self.uri = config.db_uri if uri is None else uri
        self.pool = ConnectionPool(
            self.uri,
            min_size=1,
            max_size=max(1, config.db_pool),
            timeout=config.db_pool_acquisition_timeout,
            max_idle=config.db_pool_max_idletime,
            max_lifetime=config.db_pool_max_lifetime,
            kwargs=connect_kwargs(config),
            connection_class=self._tracking_class(),
            name=name,
            open=False,
        )
        self.timeouts = 0
        # The error of the pool's latest connection attempt, None once one succeeds.
        self.last_connect_error: str | None = None
        self._attempting = threading.Lock()
        self._last_attempt = 0.0

    def _tracking_class(self) -> type[psycopg.Connection[Any]]:
        database = self

        class TrackedConnection(psycopg.Connection[Any]):
            """Records whether the pool's connection attempts succeed, to tell 503 from 504."""

            wire: Wire | None = None

            @classmethod
            def connect(cls, *args: Any, **kwargs: Any) -> TrackedConnection:
                try:
                    conn = super().connect(*args, **kwargs)
                except psycopg.OperationalError as exc:
                    database.last_connect_error = _libpq_message(exc)
                    raise
                database.last_connect_error = None
                return conn

        return TrackedConnection

    def open(self) -> None:
        """Start connecting in the background; requests wait for the first connection."""
        self.pool.open(wait=False)

    def close(self) -> None:
        """Close every connection."""
        self.pool.close()

    def connect(self) -> psycopg.Connection[Any]:
        """A dedicated connection outside the pool (catalog loads), to the pool's server."""
        return psycopg.connect(self.uri, **connect_kwargs(self.config))

    def channel_connect(self) -> psycopg.Connection[Any]:
        """The listener's connection: to db-channel-uri when set, else db-uri.

        A LISTEN lives in a server session, which a pooler in transaction mode
        (PgBouncer) hands to another client after every statement.
        """
        return psycopg.connect(self.config.db_channel_uri or self.config.db_uri, **connect_kwargs(self.config))

    def wire(self, conn: psycopg.Connection[Any]) -> Wire:
        """CONN's pipeline (db/wire.py), created on its first request."""
        wire: Wire | None = getattr(conn, "wire", None)
        if wire is None:
            wire = Wire(conn, prepare=self.config.db_prepared_statements)
            conn.wire = wire  # type: ignore[attr-defined]
        return wire

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """Borrow a connection: 503 PGRST000 if the database is unreachable, 504 PGRST003 on timeout.

        While the database is unreachable a request is answered at once; at most one
        connection attempt per RECOVERY_SECONDS and worker (not one per request)
        finds out when it is back.
        """
        conn = self._borrow()
        try:
            yield conn
        finally:
            self.pool.putconn(conn)

    def _borrow(self) -> psycopg.Connection[Any]:
        deadline = time.monotonic() + self.config.db_pool_acquisition_timeout
        while True:
            if self.last_connect_error is not None and not self._reachable_again():
                raise connection_error(self.last_connect_error)
            # In slices, so that a failed connection attempt meanwhile answers 503 now
            # rather than after the whole acquisition timeout.
            left = deadline - time.monotonic()
            try:
                conn = self.pool.getconn(timeout=max(0.0, min(left, WAIT_SLICE)))
            except PoolTimeout:
                if self.last_connect_error is not None and not self._reachable_again():
                    raise connection_error(self.last_connect_error)
                if left > WAIT_SLICE:
                    continue
                self.timeouts += 1
                raise pool_timeout()
            try:
                _server_kept(conn)
            except psycopg.OperationalError:
                # Closed by the server (a restart): the pool replaces it; try the next one now.
                # (psycopg_pool's own check would wait a backoff before the next.)
                conn.close()
                self.pool.putconn(conn)
                continue
            return conn

    def _reachable_again(self) -> bool:
        """Whether one connection attempt (at most one per RECOVERY_SECONDS) finds the database back."""
        now = time.monotonic()
        if now - self._last_attempt < RECOVERY_SECONDS or not self._attempting.acquire(blocking=False):
            return False
        try:
            self._last_attempt = now
            psycopg.connect(self.uri, connect_timeout=1, **connect_kwargs(self.config)).close()
        except psycopg.OperationalError as exc:
            self.last_connect_error = _libpq_message(exc)
            return False
        else:
            log.info("The database is reachable again")
            self.last_connect_error = None
            return True
        finally:
            self._attempting.release()

    def stats(self) -> dict[str, int]:
        """Pool gauges for /metrics."""
        s = self.pool.get_stats()
        return {
            "available": s.get("pool_available", 0),
            "waiting": s.get("requests_waiting", 0),
            "max": self.pool.max_size,
            "timeouts": self.timeouts,
        }


# How often a worker tries the database while it is unreachable, and how long a
# request waits for a connection before looking again whether it is.
RECOVERY_SECONDS = 0.5
WAIT_SLICE = 0.25


def _server_kept(conn: psycopg.Connection[Any]) -> None:
    """Refuse a pooled connection the server has closed (a restart), without a round trip.

    An idle connection has nothing to read unless the server said something, and
    what a server says unasked to an idle session is its goodbye (`terminating
    connection due to administrator command`, then the end of the stream): such a
    connection is refused, so the pool replaces it instead of failing a request.
    """
    if conn.closed or conn.broken or conn.pgconn.status != ConnStatus.OK:
        raise psycopg.OperationalError("the connection is closed")
    readable, _, _ = select.select([conn.pgconn.socket], [], [], 0)
    if readable:
        raise psycopg.OperationalError("the server closed the connection")


def _libpq_message(exc: BaseException) -> str:
    # libpq messages can repeat the DSN's host and user but never its password.
    return str(exc).strip()
