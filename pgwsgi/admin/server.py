"""The admin server in gunicorn's master: /live, /ready and /metrics for health checks and Prometheus.

PostgREST answers /live with 200 while it runs and /ready with 200 once it can
serve: a schema cache loaded and the database reachable, else 503; both with an
empty body. The master knows which workers live; the workers' figures (their
schema caches included) come from the multiprocess folder; the database is
checked by one short connection, at most once a second, whatever the scrape rate.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg

# Everything this module needs is imported here, in the master's main thread, before gunicorn
# forks a worker: a worker forked while the admin thread held an import lock (say, of
# prometheus_client, imported lazily by a /ready) inherited it held, and hung importing the
# same module. This module is imported only once PROMETHEUS_MULTIPROC_DIR is set (admin/hooks.py).
from prometheus_client import CollectorRegistry, generate_latest, multiprocess

from pgwsgi.catalog.load import load_snapshot
from pgwsgi.config import Config, dump_config, listen_host
from pgwsgi.config.logsetup import announce

log = logging.getLogger("pgwsgi.admin")

DB_CHECK_SECONDS = 1.0


class Admin:
    """What the admin endpoints ask: live workers, their figures and the database."""

    def __init__(self, config: Config, arbiter: Any) -> None:
        self.config = config
        self.arbiter = arbiter  # gunicorn's Arbiter: WORKERS maps pid -> worker
        self._db_checked = 0.0
        self._db_ok = False
        self._db_lock = threading.Lock()

    def live(self) -> bool:
        """Whether the server can answer: the master runs and at least one worker does."""
        return bool(self.arbiter.WORKERS)

    def ready(self) -> bool:
        """Live, every live worker has a schema cache, and the database answers."""
        return self.live() and self._schema_caches_loaded() and self._database_answers()

    def metrics(self) -> bytes:
        """Every worker's figures added up, in Prometheus's text format."""
        return generate_latest(_workers_figures())

    def config_text(self) -> bytes:
        """The configuration in PostgREST's file format, with jwt-secret and the passwords of db-uri and
        db-channel-uri hidden."""

        def hide_password(uri: str) -> str:
            return re.sub(r"(password=)\S+", r"\1(hidden)", re.sub(r"(://[^:/@]*:)[^@]*@", r"\1(hidden)@", uri))

        channel_uri = self.config.db_channel_uri
        config = dataclasses.replace(
            self.config,
            jwt_secret="(hidden)" if self.config.jwt_secret else self.config.jwt_secret,
            db_uri=hide_password(self.config.db_uri),
            db_channel_uri=hide_password(channel_uri) if channel_uri else channel_uri,
            db_read_replicas=tuple(hide_password(uri) for uri in self.config.db_read_replicas),
        )
        return dump_config(config).encode()

    def schema_cache(self) -> bytes | None:
        """The schema cache as JSON, loaded for the asking (None: the database cannot be read).

        The workers' caches live in their own processes; this is what a load gives now,
        from the same queries: relations with their columns and keys, functions,
        relationships and media type handlers.
        """
        try:
            with psycopg.connect(self.config.db_uri, connect_timeout=2) as conn:
                snapshot = load_snapshot(conn, self.config.db_schemas, self.config.db_extra_search_path)
        except psycopg.Error:
            return None
        doc = {
            "relations": [
                {
                    "schema": r.schema,
                    "name": r.name,
                    "kind": r.kind,
                    "description": r.description,
                    "primary_key": list(r.primary_key),
                    "insertable": r.insertable,
                    "updatable": r.updatable,
                    "deletable": r.deletable,
                    "columns": [
                        {"name": c.name, "type": c.type, "nullable": c.nullable, "default": c.default}
                        for c in r.columns
                    ],
                }
                for r in snapshot.relations.values()
            ],
            "functions": [
                {
                    "schema": f.schema,
                    "name": f.name,
                    "parameters": [{"name": p.name, "type": p.type, "required": p.required} for p in f.parameters],
                    "returns": f"{f.return_type_schema}.{f.return_type}",
                    "returns_set": f.returns_set,
                    "volatility": f.volatility,
                }
                for overloads in snapshot.functions.values()
                for f in overloads
            ],
            "relationships": [
                {
                    "origin": ".".join(r.origin),
                    "target": ".".join(r.target),
                    "cardinality": r.cardinality,
                    "constraint": r.constraint,
                }
                for rels in snapshot.relationships.values()
                for r in rels
            ],
            "media_handlers": [
                {"media_type": key[1], "target": ".".join(key[0]) if key[0] else None, "handler": ".".join(h.function)}
                for key, h in snapshot.media_handlers.items()
            ],
        }
        return json.dumps(doc, ensure_ascii=False).encode()

    def _schema_caches_loaded(self) -> bool:
        values = {
            family.name: [s.value for s in family.samples]
            for family in _workers_figures().collect()
            if family.name in ("pgwsgi_schema_cache_loaded", "pgwsgi_workers_reporting")
        }
        loaded, reporting = values.get("pgwsgi_schema_cache_loaded", []), values.get("pgwsgi_workers_reporting", [])
        # Every live worker must have published: a worker still starting has no figures at all.
        everyone = bool(reporting) and reporting[0] >= len(self.arbiter.WORKERS)
        return everyone and bool(loaded) and all(v == 1 for v in loaded)

    def _database_answers(self) -> bool:
        with self._db_lock:
            now = time.monotonic()
            if now - self._db_checked >= DB_CHECK_SECONDS:
                self._db_checked = now
                try:
                    with psycopg.connect(self.config.db_uri, connect_timeout=1) as conn:
                        conn.execute("SELECT 1")
                    self._db_ok = True
                except psycopg.Error:
                    self._db_ok = False
            return self._db_ok


def _workers_figures() -> Any:
    """A registry of every live worker's figures, read from the multiprocess folder."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def _handler(admin: Admin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "pgwsgi-admin"

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = self.path.partition("?")[0]
            if path == "/live":
                self._answer(200 if admin.live() else 503)
            elif path == "/ready":
                self._answer(200 if admin.ready() else 503)
            elif path == "/metrics":
                self._answer(200, admin.metrics(), "text/plain; version=0.0.4; charset=utf-8")
            elif path == "/schema_cache":
                found = admin.schema_cache()
                if found is None:
                    self._answer(503)
                else:
                    self._answer(200, found, "application/json; charset=utf-8")
            elif path == "/config":
                self._answer(200, admin.config_text(), "text/plain; charset=utf-8")
            else:
                self._answer(404)

        def do_HEAD(self) -> None:  # noqa: N802
            self.do_GET()

        def _answer(self, status: int, body: bytes = b"", content_type: str | None = None) -> None:
            self.send_response(status)
            if content_type is not None:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's name)
            log.debug("admin: " + format, *args)

    return Handler


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class _UnixServer(ThreadingHTTPServer):
    address_family = socket.AF_UNIX

    def server_bind(self) -> None:
        socket_path = str(self.server_address)
        if os.path.exists(socket_path):
            os.unlink(socket_path)
        self.socket.bind(socket_path)
        self.server_name, self.server_port = "localhost", 0


def serve(admin: Admin) -> ThreadingHTTPServer | None:
    """Start the admin server of ADMIN's config in a thread; None when no admin port or socket is set."""
    config = admin.config
    handler = _handler(admin)
    httpd: ThreadingHTTPServer
    if config.admin_server_unix_socket:
        httpd = _UnixServer(config.admin_server_unix_socket, handler)  # type: ignore[arg-type]
        os.chmod(config.admin_server_unix_socket, config.admin_server_unix_socket_mode)
        where = config.admin_server_unix_socket
    elif config.admin_server_port is not None:
        host = listen_host(config.admin_server_host or config.server_host)
        server_class = _IPv6Server if ":" in host else ThreadingHTTPServer
        httpd = server_class((host, config.admin_server_port), handler)
        where = f"{host}:{httpd.server_port}"
    else:
        return None
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, name="pgwsgi-admin", daemon=True).start()
    announce(f"Admin server listening on {where}")
    return httpd
