"""The connection pool of one worker: created after fork, recovers on its own."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
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
    """Pooled connections to the configured database."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.pool = ConnectionPool(
            config.db_uri,
            min_size=1,
            max_size=max(1, config.db_pool),
            timeout=config.db_pool_acquisition_timeout,
            max_idle=config.db_pool_max_idletime,
            max_lifetime=config.db_pool_max_lifetime,
            kwargs=connect_kwargs(config),
            connection_class=self._tracking_class(),
            name="pgwsgi",
            open=False,
        )
        self.timeouts = 0
        # The error of the pool's latest connection attempt, None once one succeeds.
        self.last_connect_error: str | None = None

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
        """A dedicated connection outside the pool (catalog loads, LISTEN)."""
        return psycopg.connect(self.config.db_uri, **connect_kwargs(self.config))

    def wire(self, conn: psycopg.Connection[Any]) -> Wire:
        """CONN's pipeline (db/wire.py), created on its first request."""
        wire: Wire | None = getattr(conn, "wire", None)
        if wire is None:
            wire = Wire(conn, prepare=self.config.db_prepared_statements)
            conn.wire = wire  # type: ignore[attr-defined]
        return wire

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """Borrow a connection: 503 PGRST000 if the database is unreachable, 504 PGRST003 on timeout."""
        if self.last_connect_error is not None:
            # The pool cannot reach the server: answer now instead of letting the
            # client wait out the acquisition timeout.
            self._probe()
        try:
            conn = self.pool.getconn()
        except PoolTimeout:
            if self.last_connect_error is not None:
                raise connection_error(self.last_connect_error)
            self.timeouts += 1
            raise pool_timeout()
        try:
            yield conn
        finally:
            self.pool.putconn(conn)

    def _probe(self) -> None:
        try:
            psycopg.connect(self.config.db_uri, connect_timeout=3, **connect_kwargs(self.config)).close()
        except psycopg.OperationalError as exc:
            raise connection_error(_libpq_message(exc))

    def stats(self) -> dict[str, int]:
        """Pool gauges for /metrics."""
        s = self.pool.get_stats()
        return {
            "available": s.get("pool_available", 0),
            "waiting": s.get("requests_waiting", 0),
            "max": self.pool.max_size,
            "timeouts": self.timeouts,
        }


def _libpq_message(exc: BaseException) -> str:
    # libpq messages can repeat the DSN's host and user but never its password.
    return str(exc).strip()
