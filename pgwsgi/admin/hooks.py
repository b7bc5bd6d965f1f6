"""gunicorn server hooks that run the admin server and collect the workers' figures.

deploy/gunicorn.conf.py and the `pgwsgi` command install them: `when_ready` (in
the master, before the first worker starts) and `child_exit` (a worker's figures
leave with it). With other gunicorn settings, add them to your own config file:

    from pgwsgi.admin.hooks import child_exit, when_ready
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
from typing import Any

from pgwsgi.admin.metrics import MULTIPROC_ENV

log = logging.getLogger("pgwsgi.admin")


def when_ready(server: Any) -> None:
    """PostgREST's start-up lines; the admin server when admin-server-port (or its socket) is set."""
    from pgwsgi.config import ConfigError, bind_address, config_from_environment
    from pgwsgi.config.logsetup import announce
    from pgwsgi.version import POSTGREST_VERSION, __version__

    announce(f"Starting PostgREST {POSTGREST_VERSION} (pgwsgi {__version__})...")
    listening = ", ".join(str(listener) for listener in getattr(server, "LISTENERS", ()))
    announce(f"API server listening on {listening}")
    try:
        config = config_from_environment()
    except ConfigError as exc:
        announce(f"Invalid configuration: {exc}")
        return
    wanted = bind_address(config)
    if listening and wanted.replace("0.0.0.0", "127.0.0.1") not in listening.replace("0.0.0.0", "127.0.0.1"):
        # gunicorn binds what its own settings say (-b, PGWSGI_BIND); server-host/-port are not used.
        announce(f"server-host and server-port ({wanted}) are not used: gunicorn listens on {listening} (-b)")
    _announce_database(config)
    if config.admin_server_port is None and not config.admin_server_unix_socket:
        return
    if not os.environ.get(MULTIPROC_ENV):
        # Set before prometheus_client is first imported, here and in every worker forked from now on.
        folder = tempfile.mkdtemp(prefix="pgwsgi-metrics-")
        os.environ[MULTIPROC_ENV] = folder
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    from pgwsgi.admin.server import Admin, serve

    server.pgwsgi_admin = serve(Admin(config, server))


def _announce_database(config: Any) -> None:
    """ "Successfully connected to PostgreSQL ...", or why not: once for the instance, not per worker."""
    import psycopg

    from pgwsgi.config.logsetup import announce

    try:
        with psycopg.connect(config.db_uri, connect_timeout=2) as conn:
            row = conn.execute("SELECT pg_catalog.version()").fetchone()
        announce(f"Successfully connected to {row[0] if row else 'PostgreSQL'}")
    except psycopg.Error as exc:
        announce(f"Could not connect to the database yet: {str(exc).strip()}")


def child_exit(server: Any, worker: Any) -> None:
    """Forget a worker that is gone, so that its gauges stop counting."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
