"""gunicorn's access log, filtered by log-level as PostgREST filters its request lines.

PostgREST logs a response at `crit`: never; `error`: 5xx only; `warn`: 4xx and
5xx; `info` and `debug`: all (Logger.hs, shouldLogResponse). gunicorn would log
every request whatever pgwsgi's log-level; deploy/gunicorn.conf.py and the
`pgwsgi` command use this logger class instead.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

# The lowest status logged at each log-level; None: nothing.
_LOWEST = {"crit": None, "error": 500, "warn": 400, "info": 0, "debug": 0}


class AccessLogger(Logger):
    """gunicorn's Logger whose access lines follow pgwsgi's log-level."""

    def __init__(self, cfg: Any) -> None:
        super().__init__(cfg)
        from pgwsgi.config import ConfigError, config_from_environment

        try:
            level = config_from_environment().log_level
        except ConfigError:
            level = "error"  # the workers will say what is wrong with the configuration
        self.lowest_logged = _LOWEST.get(level, 500)

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        """Log the request when log-level asks for responses of its status."""
        if self.lowest_logged is None:
            return
        status = getattr(resp, "status_code", None) or int(str(resp.status).split(None, 1)[0])
        if status >= self.lowest_logged:
            super().access(resp, req, environ, request_time)
