"""gunicorn server hooks: start-up lines, the admin server, configuration reloads, the control socket.

deploy/gunicorn.conf.py and the `pgwsgi` command install them: `on_starting` (a
control socket per instance), `when_ready` (in the master, before the first
worker starts) and `child_exit` (a worker's figures leave with it). With other
gunicorn settings, add them to your own config file:

    from pgwsgi.admin.hooks import child_exit, on_starting, when_ready
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import time
from typing import Any

from pgwsgi.admin.metrics import MULTIPROC_ENV

log = logging.getLogger("pgwsgi.admin")

# Set in the master once its SIGUSR2 reloads the configuration; workers forked after inherit it.
CONFIG_RELOAD_ENV = "PGWSGI_CONFIG_RELOAD_SIGNAL"
# Reload requests within this window are one reload: every worker hears a NOTIFY and asks.
CONFIG_RELOAD_SECONDS = 0.3


def on_starting(server: Any) -> None:
    """Give this instance a control socket of its own (PGWSGI_CONTROL_SOCKET sets it).

    gunicorn's default, ~/.gunicorn/gunicorn.ctl, is shared by every gunicorn of a user,
    and a second instance takes it over. Under systemd it goes to RuntimeDirectory
    (/run/pgwsgi), else to the temporary folder, named after the address actually served.
    """
    address = "".join(c if c.isalnum() else "-" for c in ",".join(server.cfg.bind))
    folder = os.environ.get("RUNTIME_DIRECTORY") or tempfile.gettempdir()
    server.cfg.set("control_socket", os.environ.get("PGWSGI_CONTROL_SOCKET") or f"{folder}/pgwsgi-{address}.ctl")


def _reload_config_on_usr2(server: Any) -> None:
    """PostgREST's SIGUSR2: a graceful reload of the workers (as SIGHUP), not gunicorn's re-exec of the master."""
    last = [0.0]

    def reload_config() -> None:
        now = time.monotonic()
        if now - last[0] < CONFIG_RELOAD_SECONDS:
            return
        last[0] = now
        server.log.info("Reloading the configuration (SIGUSR2): new workers read PGRST_CONFIG and the database")
        server.reload()
        # Counted from the end too: every worker of an instance hears one NOTIFY 'reload config', and a
        # signal from the last of them may arrive after a slow reload began; it asks for the same reload.
        last[0] = time.monotonic()

    server.handle_usr2 = reload_config
    os.environ[CONFIG_RELOAD_ENV] = "USR2"


def when_ready(server: Any) -> None:
    """PostgREST's start-up lines and SIGUSR2; the admin server when admin-server-port (or its socket) is set."""
    from pgwsgi.config import ConfigError, bind_address, config_from_environment
    from pgwsgi.config.logsetup import announce
    from pgwsgi.version import POSTGREST_VERSION, __version__

    _reload_config_on_usr2(server)
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
    if _announce_database(config):
        _announce_audit_errors(config)
    if config.admin_server_port is None and not config.admin_server_unix_socket:
        return
    if not os.environ.get(MULTIPROC_ENV):
        # Set before prometheus_client is first imported, here and in every worker forked from now on.
        folder = tempfile.mkdtemp(prefix="pgwsgi-metrics-")
        os.environ[MULTIPROC_ENV] = folder
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    from pgwsgi.admin.server import Admin, serve

    server.pgwsgi_admin = serve(Admin(config, server))


def _announce_database(config: Any) -> bool:
    """ "Successfully connected to PostgreSQL ...", or why not: once for the instance, not per worker."""
    import psycopg

    from pgwsgi.config.logsetup import announce

    try:
        with psycopg.connect(config.db_uri, connect_timeout=2) as conn:
            row = conn.execute("SELECT pg_catalog.version()").fetchone()
        announce(f"Successfully connected to {row[0] if row else 'PostgreSQL'}")
        return True
    except psycopg.Error as exc:
        announce(f"Could not connect to the database yet: {str(exc).strip()}")
        return False


def _announce_audit_errors(config: Any) -> None:
    """One warning line per error-level finding of `pgwsgi audit`, once for the instance.

    Written whatever log-level says (except crit), like the other start-up lines:
    PostgREST's default level (error) would otherwise hide them from everyone.
    """
    import psycopg

    from pgwsgi.audit import audit
    from pgwsgi.config import ConfigError
    from pgwsgi.config import indb as config_db
    from pgwsgi.config.logsetup import announce

    if config.log_level == "crit":
        return
    try:
        report = audit(config_db.with_db_settings(config))
    except (psycopg.Error, ConfigError, LookupError) as exc:
        announce(f"Warning: the security audit could not run: {str(exc).strip()}")
        return
    except Exception as exc:  # the audit only informs: whatever it trips on must not stop the start
        announce(f"Warning: the security audit failed: {type(exc).__name__}: {exc}")
        return
    for f in report.findings:
        if f.level == "error":
            announce(f"Warning: security audit error {f.id} on {f.object}: {f.message} (pgwsgi audit shows the fix)")


def child_exit(server: Any, worker: Any) -> None:
    """Forget a worker that is gone, so that its gauges stop counting."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
