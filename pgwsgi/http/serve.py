"""Run pgwsgi under gunicorn in this process: what the `pgwsgi [FILE]` command does.

The application is named by import string and loaded after fork, so every worker
builds its own `pgwsgi:app` from `config_from_environment`; this module passes the
command line's choices to the workers through PGRST_* environment variables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING

from gunicorn.app.base import BaseApplication
from gunicorn.util import import_app

from pgwsgi.admin import hooks as admin_hooks
from pgwsgi.config import Config, ConfigError, bind_address, env_name

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

APP = "pgwsgi:app"
MAX_DEFAULT_WORKERS = 8
_LOG_LEVELS = {"crit": "critical", "error": "error", "warn": "warning", "info": "info", "debug": "debug"}


def worker_count(env: Mapping[str, str] | None = None) -> int:
    """PGWSGI_WORKERS if set, else gunicorn's usual 2 * CPUs + 1, capped at 8."""
    env = os.environ if env is None else env
    if env.get("PGWSGI_WORKERS"):
        raw = env["PGWSGI_WORKERS"].strip()
        if not raw.isdigit() or int(raw) < 1:
            raise ConfigError(f'PGWSGI_WORKERS must be a positive integer, not "{raw}"')
        return int(raw)
    return min(2 * (os.cpu_count() or 1) + 1, MAX_DEFAULT_WORKERS)


ACCESS_LOG_FORMAT = '%(h)s - %({pgwsgi.role}e)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'


def gunicorn_options(config: Config, env: Mapping[str, str] | None = None) -> dict[str, object]:
    """The gunicorn settings that serve `config`."""
    options: dict[str, object] = {
        "bind": [bind_address(config)],
        "workers": worker_count(env),
        # gunicorn's sync worker, answering unparsable requests in JSON (http/worker.py).
        "worker_class": "pgwsgi.http.worker.JsonSyncWorker",
        "preload_app": False,
        "accesslog": "-",
        # PostgREST's access log line; the third field is the role the request ran as.
        "access_log_format": ACCESS_LOG_FORMAT,
        # Which requests are logged follows log-level, as in PostgREST.
        "logger_class": "pgwsgi.http.accesslog.AccessLogger",
        "errorlog": "-",
        "loglevel": _LOG_LEVELS.get(config.log_level, "error"),
        "reuse_port": config.server_reuseport,
        "proc_name": "pgwsgi",
        # Filters live in the URL; long `in` lists exceed gunicorn's 4094-byte default.
        "limit_request_line": 0,
        # The admin server (admin-server-port) runs in gunicorn's master.
        "on_starting": admin_hooks.on_starting,
        "when_ready": admin_hooks.when_ready,
        "child_exit": admin_hooks.child_exit,
    }
    if config.server_unix_socket:
        # gunicorn applies the umask only while creating the socket file.
        options["umask"] = 0o777 & ~config.server_unix_socket_mode
    return options


def export_environment(
    config_path: str | None, overrides: Mapping[str, str], env: MutableMapping[str, str] | None = None
) -> None:
    """Make workers (which read only the environment) see the command line's config file and flags."""
    env = os.environ if env is None else env
    if config_path:
        env["PGRST_CONFIG"] = os.path.abspath(config_path)
    for key, value in overrides.items():
        env[env_name(key)] = value


class _Server(BaseApplication):
    def __init__(self, options: Mapping[str, object]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> WSGIApplication:
        return import_app(APP)


def run(config: Config, config_path: str | None, overrides: Mapping[str, str] | None = None) -> int:
    """Serve `config` with gunicorn until it stops; returns the exit status."""
    export_environment(config_path, overrides or {})
    try:
        _Server(gunicorn_options(config)).run()
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0
