"""pgwsgi: a PostgREST-compatible REST API for PostgreSQL, as a WSGI application.

`pgwsgi:app` is what gunicorn serves. The real application is built on the first
request, in the worker process: the connection pool and the LISTEN thread must
not be created before gunicorn forks.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from pgwsgi.version import __version__

__all__ = ["app", "create_app", "__version__"]

_app: Any = None
_lock = threading.Lock()


def create_app(config: Any = None) -> Any:
    """Build and start an application for CONFIG (default: PGRST_CONFIG file + PGRST_* environment)."""
    from pgwsgi.config import config_from_environment
    from pgwsgi.wsgi import App

    config = config if config is not None else config_from_environment()
    application = App(with_db_settings(config))
    application.start()
    return application


def with_db_settings(config: Any) -> Any:
    """CONFIG overlaid with in-database `pgrst.*` settings; unchanged if they cannot be read."""
    import logging

    import psycopg

    from pgwsgi import config_db

    try:
        return config_db.with_db_settings(config)
    except psycopg.Error as exc:
        # The database may be down at start; the app answers 503 until it is back.
        logging.getLogger("pgwsgi").error("Could not read in-database configuration: %s", str(exc).strip())
        return config


def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """The WSGI entry point for `gunicorn pgwsgi:app`."""
    global _app
    if _app is None:
        with _lock:
            if _app is None:
                _app = create_app()
    return _app(environ, start_response)
