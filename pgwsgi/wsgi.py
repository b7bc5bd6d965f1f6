"""The WSGI application: the request pipeline, stage by stage.

route -> auth.authenticate -> api.parse -> plan.build -> sql.compose -> db.run -> response.render
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from psycopg import sql
from werkzeug.wrappers import Request, Response

from pgwsgi import routes
from pgwsgi.api.request import parse
from pgwsgi.auth import Authenticator, Identity
from pgwsgi.catalog.reload import CatalogHolder
from pgwsgi.config import Config
from pgwsgi.db.pool import Database
from pgwsgi.db.transaction import run
from pgwsgi.errors import ApiError, unsupported_method
from pgwsgi.plan.read import build_read, find_relation
from pgwsgi.response import check_singular, render_error, render_options, render_read
from pgwsgi.sql.read import compose_read
from pgwsgi.sql.settings import request_settings

log = logging.getLogger("pgwsgi")

SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PATCH", "PUT", "DELETE", "OPTIONS")


class App:
    """One worker's application: configuration, JWT cache, pool and catalog snapshot."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.auth = Authenticator(config)
        self.db = Database(config)
        self.catalog = CatalogHolder(config, self.db.connect)
        self.pre_request = _function_call(config.db_pre_request)

    def start(self) -> None:
        """Open the pool, load the catalog and listen for reloads (after the fork)."""
        self.db.open()
        self.catalog.reload()
        self.catalog.start_listener()

    def close(self) -> None:
        """Stop the listener and close the pool."""
        self.catalog.stop()
        self.db.close()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self.handle(request)
        except ApiError as err:
            response = render_error(err, self.config.client_error_verbosity, request.method == "HEAD")
        except Exception:
            # The traceback goes to the log, never to the client.
            log.exception("Unhandled error for %s %s", request.method, request.path)
            err = ApiError(500, "PGRSTX00", "Internal server error")
            response = render_error(err, self.config.client_error_verbosity, request.method == "HEAD")
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        """Answer one request; raises ApiError for anything a client did wrong or the database refused."""
        # The order of checks is PostgREST's (O-PIPELINE): auth, schema cache, path, method, query.
        identity = self.auth.authenticate(request.headers.get("Authorization"))
        # For the access log (deploy/gunicorn.conf.py): the role the request runs as.
        request.environ["pgwsgi.role"] = identity.role
        snapshot = self.catalog.current()
        target, name = routes.route(request.path)
        if request.method not in SUPPORTED_METHODS:
            raise unsupported_method(request.method)
        if target != "relation":
            raise ApiError(
                400,
                "PGRST127",
                "Feature not implemented",
                "The OpenAPI root and /rpc endpoints are not implemented yet.",
            )
        req = parse(request, target, name, self.config)
        if req.method == "OPTIONS":
            return render_options(find_relation(req, snapshot))
        if req.method not in ("GET", "HEAD"):
            raise ApiError(405, "PGRST117", f"Unsupported HTTP method: {req.method}")
        plan = build_read(req, snapshot, self.config)
        main = compose_read(plan, head=req.method == "HEAD")
        result = run(
            self.db,
            read_only=True,
            settings=self._settings(req, identity),
            pre_request=self.pre_request,
            main=main,
            commit=self._commit(req),
            is_anonymous=identity.is_anonymous,
            check=check_singular(plan),
        )
        return render_read(req, plan, result.row)

    def _settings(self, req: Any, identity: Identity) -> tuple[sql.Composable, list[Any]]:
        return request_settings(
            self.config,
            identity,
            schema=req.schema,
            method=req.method,
            path=req.path,
            headers=req.headers,
            cookies=req.cookies,
            timezone=req.preferences.timezone,
        )

    def _commit(self, req: Any) -> bool:
        """db-tx-end, with Prefer: tx overriding it where allowed (TX-END, H-PREFER-TX)."""
        end = self.config.db_tx_end
        wanted = req.preferences.tx
        if end == "commit-allow-override":
            return wanted != "rollback"
        if end == "rollback-allow-override":
            return wanted == "commit"
        return end == "commit"


def _function_call(name: str | None) -> sql.Composable | None:
    """`SELECT schema.fn()` for db-pre-request; an unqualified name resolves via search_path."""
    if not name:
        return None
    parts = name.split(".", 1)
    return sql.SQL("SELECT {}()").format(sql.Identifier(*parts))
