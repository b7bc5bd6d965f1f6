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
    """Start the admin server when admin-server-port (or its socket) is set; figures are then kept."""
    from pgwsgi.config import ConfigError, config_from_environment

    try:
        config = config_from_environment()
    except ConfigError as exc:
        log.error("No admin server: %s", exc)
        return
    if config.admin_server_port is None and not config.admin_server_unix_socket:
        return
    if not os.environ.get(MULTIPROC_ENV):
        # Set before prometheus_client is first imported, here and in every worker forked from now on.
        folder = tempfile.mkdtemp(prefix="pgwsgi-metrics-")
        os.environ[MULTIPROC_ENV] = folder
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    from pgwsgi.admin.server import Admin, serve

    server.pgwsgi_admin = serve(Admin(config, server))


def child_exit(server: Any, worker: Any) -> None:
    """Forget a worker that is gone, so that its gauges stop counting."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
