"""pgwsgi: a PostgREST-compatible REST API for PostgreSQL, as a WSGI application.

`pgwsgi:app` is what gunicorn serves. The application is built when the
attribute is first looked up, in the worker process: the connection pool and the
LISTEN thread must not be created before gunicorn forks.
"""

from __future__ import annotations

from typing import Any

from pgwsgi.version import __version__

__all__ = ["create_app", "__version__"]


def create_app(config: Any = None) -> Any:
    """Build and start an application for CONFIG (default: PGRST_CONFIG file + PGRST_* environment)."""
    from pgwsgi.config import config_from_environment
    from pgwsgi.config.logsetup import configure_logging
    from pgwsgi.http.app import App

    config = config if config is not None else config_from_environment()
    configure_logging(config)
    application = App(with_db_settings(config))
    application.start()
    return application


def with_db_settings(config: Any) -> Any:
    """CONFIG overlaid with in-database `pgrst.*` settings; unchanged if they cannot be read."""
    import logging

    import psycopg

    from pgwsgi.config import indb as config_db

    try:
        return config_db.with_db_settings(config)
    except psycopg.Error as exc:
        # The database may be down at start; the app answers 503 until it is back.
        logging.getLogger("pgwsgi").error("Could not read in-database configuration: %s", str(exc).strip())
        return config


def __getattr__(name: str) -> Any:
    """`pgwsgi.app`, built when gunicorn first asks for it.

    With `preload_app = False` (as deploy/gunicorn.conf.py sets) gunicorn looks
    the attribute up in each worker after the fork, so the pool and the LISTEN
    thread belong to the worker. An invalid configuration raises here, the worker
    fails to boot, and gunicorn stops with the error message naming the key.
    """
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(f"module 'pgwsgi' has no attribute {name!r}")
