"""Keep the snapshot current: LISTEN on db-channel and swap in a new snapshot on demand.

Each gunicorn worker has one `CatalogHolder`. Readers call `current()` and keep
the object they got for the whole request; a reload builds a complete new
snapshot off to the side and replaces the reference in one assignment, so a
request in flight never sees half a catalog.

The listener connects to db-channel-uri when it is set (a direct connection,
while db-uri may go through PgBouncer in transaction mode), catalog loads to
db-uri.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

from pgwsgi.catalog.load import load_snapshot
from pgwsgi.catalog.model import CatalogSnapshot
from pgwsgi.config import Config
from pgwsgi.errors import no_schema_cache

log = logging.getLogger("pgwsgi.catalog")

# Reload requests arriving within this window are served by one reload.
COALESCE_SECONDS = 0.1


class CatalogHolder:
    """The current snapshot of one worker, and the listener that refreshes it."""

    def __init__(
        self,
        config: Config,
        connect: Callable[[], psycopg.Connection[Any]],
        reload_config: Callable[[], bool] | None = None,
        listen_connect: Callable[[], psycopg.Connection[Any]] | None = None,
    ) -> None:
        self._config = config
        # Catalog loads use CONNECT (db-uri); the LISTEN uses LISTEN_CONNECT (db-channel-uri), which
        # may bypass a transaction-mode pooler that cannot keep a session's LISTEN.
        self._connect = connect
        self._listen_connect = listen_connect or connect
        # NOTIFY pgrst, 'reload config': asks for the whole configuration to be read again.
        self._reload_config = reload_config
        self._snapshot: CatalogSnapshot | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._listener: threading.Thread | None = None
        self.loads_ok = 0
        self.loads_failed = 0
        self.last_load_seconds = 0.0

    @property
    def loaded(self) -> bool:
        """Whether a snapshot has loaded (the admin server's /ready)."""
        return self._snapshot is not None

    def current(self) -> CatalogSnapshot:
        """The snapshot to use for a request; PGRST002 if none has loaded yet."""
        snapshot = self._snapshot
        if snapshot is None:
            # A worker whose first load failed (database down at start) tries again here.
            snapshot = self.reload()
            if snapshot is None:
                raise no_schema_cache()
        return snapshot

    def reload(self) -> CatalogSnapshot | None:
        """Load a new snapshot and swap it in; keep the old one if loading fails."""
        with self._lock:
            started = time.monotonic()
            try:
                with self._connect() as conn:
                    snapshot = load_snapshot(conn, self._config.db_schemas, self._config.db_extra_search_path)
            except psycopg.Error as exc:
                self.loads_failed += 1
                log.error("Failed to load the schema cache: %s", str(exc).strip())
                return self._snapshot
            self.last_load_seconds = time.monotonic() - started
            self.loads_ok += 1
            self._snapshot = snapshot
            return snapshot

    def start_listener(self, wait: float = 5.0) -> None:
        """Start the LISTEN thread, if db-channel-enabled, and wait up to WAIT seconds until it listens.

        Waiting closes the window in which a NOTIFY sent right after start-up would
        be missed; a database that is down does not hold start-up longer than WAIT.
        """
        if not self._config.db_channel_enabled or self._listener is not None:
            return
        self._listener = threading.Thread(target=self._listen, name="pgwsgi-listener", daemon=True)
        self._listener.start()
        self._listening.wait(wait)

    def stop(self) -> None:
        """Ask the listener to finish (it notices within a second)."""
        self._stop.set()

    def _listen(self) -> None:
        backoff = 1.0
        channel = sql.Identifier(self._config.db_channel)
        while not self._stop.is_set():
            try:
                with self._listen_connect() as conn:
                    conn.autocommit = True
                    conn.execute(sql.SQL("LISTEN {}").format(channel))
                    self._listening.set()
                    if backoff > 1.0:
                        # Reconnected after a failure: the catalog may have changed meanwhile.
                        self.reload()
                    backoff = 1.0
                    self._consume(conn)
            except psycopg.Error as exc:
                log.error("Listener connection failed, retrying in %.0f s: %s", backoff, str(exc).strip())
                self._stop.wait(backoff)
                # Short: after an outage the schema cache should be reloaded within seconds.
                backoff = min(backoff * 2, 4.0)

    def _consume(self, conn: psycopg.Connection[Any]) -> None:
        while not self._stop.is_set():
            pending = config = False
            for note in conn.notifies(timeout=1.0, stop_after=1):
                pending = pending or note.payload in ("", "reload schema")
                config = config or note.payload == "reload config"
            if config:
                self._on_reload_config()
            if pending:
                # Swallow the burst that usually follows a migration, then load once.
                for note in conn.notifies(timeout=COALESCE_SECONDS):
                    del note
                log.info("Reloading the schema cache (NOTIFY %s)", self._config.db_channel)
                self.reload()

    def _on_reload_config(self) -> None:
        if self._reload_config is not None and self._reload_config():
            log.info("Reloading the configuration (NOTIFY %s, 'reload config')", self._config.db_channel)
        else:
            log.warning(
                "NOTIFY %s, 'reload config' needs gunicorn run with deploy/gunicorn.conf.py; "
                "send SIGHUP to gunicorn to reload the configuration",
                self._config.db_channel,
            )
