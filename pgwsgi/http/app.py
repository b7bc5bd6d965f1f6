"""The WSGI application: the request pipeline, stage by stage.

route -> auth.authenticate -> api.parse -> plan.build -> sql.compose -> db.run -> response.render
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
from collections.abc import Iterable
from typing import Any

from psycopg import sql
from werkzeug.wrappers import Request, Response

from pgwsgi.api.model import ApiRequest
from pgwsgi.api.payload import Payload, parse_payload, read_body
from pgwsgi.api.request import parse
from pgwsgi.auth import Authenticator, Identity
from pgwsgi.catalog.model import CatalogSnapshot, Function
from pgwsgi.catalog.reload import CatalogHolder
from pgwsgi.config import Config
from pgwsgi.db.pool import Database
from pgwsgi.db.transaction import TxResult, run, scan_keys
from pgwsgi.errors import ApiError, unsupported_method
from pgwsgi.http import cors, routes
from pgwsgi.http.timing import NO_TIMING, StageTimer, Timer
from pgwsgi.plan.call import build_call, returns_jwt_claims, rpc_method_error
from pgwsgi.plan.mutate import build_mutation
from pgwsgi.plan.read import build_read, find_relation
from pgwsgi.response import (
    VARY,
    body_too_large,
    check_call,
    check_mutation,
    check_singular,
    render_call,
    render_call_options,
    render_error,
    render_mutation,
    render_options,
    render_read,
)
from pgwsgi.sql.call import compose_call
from pgwsgi.sql.mutate import JsonText, compose_mutation
from pgwsgi.sql.read import compose_count_explain, compose_read
from pgwsgi.sql.settings import settings_for
from pgwsgi.version import POSTGREST_VERSION

log = logging.getLogger("pgwsgi")

SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PATCH", "PUT", "DELETE", "OPTIONS")
# H-SERVER: what PostgREST's HTTP server (warp) names itself.
SERVER = f"postgrest/{POSTGREST_VERSION}"


class App:
    """One worker's application: configuration, JWT cache, pool and catalog snapshot."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.auth = Authenticator(config)
        self.db = Database(config)
        self.catalog = CatalogHolder(config, self.db.connect)
        self.pre_request = _function_call(config.db_pre_request)
        self.gunicorn_names_server = _name_gunicorn_server()

    def start(self) -> None:
        """Open the pool, load the catalog and listen for reloads (after the fork)."""
        self.db.open()
        # Listen first, then load: a change made between the two is then not missed.
        self.catalog.start_listener()
        self.catalog.reload()

    def close(self) -> None:
        """Stop the listener and close the pool."""
        self.catalog.stop()
        self.db.close()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        # The layers around the API, in PostgREST's order: trace header, then CORS (O-PIPELINE).
        request = Request(environ)
        config = self.config
        answer = cors.decide(environ.get("REQUEST_METHOD", ""), request.headers, config.server_cors_allowed_origins)
        if answer is not None and answer.preflight:
            response = _preflight(answer.headers)
        else:
            response = self.respond(request)
            if answer is not None:
                # Appended to every answer of the application, errors included.
                for name, value in answer.headers:
                    response.headers.add(name, value)
        if config.server_trace_header:
            # O-TRACE, AMB-TRACE-EMPTY: echoed on every response, empty when the request lacks it.
            trace = config.server_trace_header
            response.headers.add(trace, request.headers.get(trace, ""))
        if not (self.gunicorn_names_server and "gunicorn.socket" in environ):
            # Like warp, a Server header set by the response (response.headers GUC) is kept.
            response.headers.setdefault("Server", SERVER)
        return response(environ, start_response)

    def respond(self, request: Request) -> Response:
        """The API's answer to REQUEST: a successful response or the rendered error."""
        try:
            return self.handle(request)
        except ApiError as err:
            return render_error(err, self.config.client_error_verbosity, request.method == "HEAD")
        except Exception:
            # The traceback goes to the log, never to the client.
            log.exception("Unhandled error for %s %s", request.method, request.path)
            err = ApiError(500, "PGRSTX00", "Internal server error")
            return render_error(err, self.config.client_error_verbosity, request.method == "HEAD")

    def handle(self, request: Request) -> Response:
        """Answer one request; raises ApiError for anything a client did wrong or the database refused."""
        timer: Timer = StageTimer() if self.config.server_timing_enabled else NO_TIMING
        # The order of checks is PostgREST's (O-PIPELINE): auth, schema cache, path, method, query.
        identity = self.auth.authenticate(request.headers.get("Authorization"))
        # For the access log (deploy/gunicorn.conf.py): the role the request runs as.
        request.environ["pgwsgi.role"] = identity.role
        timer.lap("jwt")
        snapshot = self.catalog.current()
        target, name = routes.route(request.path)
        if request.method not in SUPPORTED_METHODS:
            raise unsupported_method(request.method)
        if target == "root":
            raise ApiError(400, "PGRST127", "Feature not implemented", "The OpenAPI root is not implemented yet.")
        if target == "rpc" and request.method not in ("GET", "HEAD", "POST", "OPTIONS"):
            raise rpc_method_error(request.method)
        req = parse(request, target, name, self.config)
        timer.lap("parse")
        if target == "rpc":
            return self._call(request, req, identity, snapshot, timer)
        if req.method == "OPTIONS":
            relation = find_relation(req, snapshot)
            timer.lap("plan")
            timer.lap("transaction")  # none: answered from the catalog snapshot
            response = render_options(relation)
            timer.lap("response")
            return _succeeded(response, timer)
        if req.method not in ("GET", "HEAD"):
            return self._write(request, req, identity, snapshot, timer)
        plan = build_read(req, snapshot, self.config)
        main = compose_read(plan, head=req.method == "HEAD")
        timer.lap("plan")
        result = self._transaction(
            req, identity, main, read_only=True, check=check_singular(plan), after=compose_count_explain(plan)
        )
        timer.lap("transaction")
        response = render_read(req, plan, result.row, result.after, self.config.client_error_verbosity)
        timer.lap("response")
        return _succeeded(response, timer)

    def _write(
        self, request: Request, req: ApiRequest, identity: Identity, snapshot: CatalogSnapshot, timer: Timer
    ) -> Response:
        """POST, PATCH, PUT and DELETE on a relation: one statement in a read-write transaction."""
        payload = None
        if req.method != "DELETE":
            payload = self._payload(request, req)
        plan = build_mutation(req, snapshot, self.config, payload)
        main = compose_mutation(plan)
        timer.lap("plan")
        result = self._transaction(req, identity, main, read_only=False, check=check_mutation(plan))
        timer.lap("transaction")
        response = render_mutation(req, plan, result.row)
        timer.lap("response")
        return _succeeded(response, timer)

    def _call(
        self, request: Request, req: ApiRequest, identity: Identity, snapshot: CatalogSnapshot, timer: Timer
    ) -> Response:
        """/rpc/<name>: the function runs once, in a transaction read-only unless POST calls a VOLATILE one."""
        if req.method == "OPTIONS":
            response = render_call_options(req, snapshot)
            timer.lap("plan")
            timer.lap("transaction")
            timer.lap("response")
            return _succeeded(response, timer)
        body = None
        if req.method == "POST":
            body = self._body(request)
        plan = build_call(req, snapshot, self.config, body)
        # Only a JSON answer is a token; other media types get the claims as they are.
        sign = (
            self.config.jwt_sign_claims
            and returns_jwt_claims(plan.function)
            and plan.read.media in ("json", "object", "object-stripped")
        )
        if sign and not self.config.jwt_secret:
            # Refused before the call runs, so a login function has no effect either.
            raise ApiError(
                500,
                "PGRST300",
                "Server lacks JWT secret",
                f"{plan.function.name} returns jwt_claims, which pgwsgi signs with jwt-secret.",
            )
        main = compose_call(plan, head=req.method == "HEAD")
        timer.lap("plan")
        result = self._transaction(
            req, identity, main, read_only=plan.read_only, check=check_call(plan), function=plan.function
        )
        timer.lap("transaction")
        row = result.row
        if sign and row.get("body") not in (None, "null"):
            claims = json.loads(row["body"])
            # A function that found no user returns a row of NULLs: no token for that.
            token = json.dumps({"token": self.auth.mint(claims)}) if any(claims.values()) else "null"
            row = {**row, "body": token}
        response = render_call(req, plan, row, self.config.client_error_verbosity)
        timer.lap("response")
        return _succeeded(response, timer)

    def _body(self, request: Request) -> bytearray:
        """The request body, bounded by server-max-body-size (413 before anything is written)."""
        limit = self.config.server_max_body_size
        size = request.content_length
        if size is not None and size > limit:
            raise body_too_large(size, limit)
        body = read_body(request.stream, size, limit)
        if len(body) > limit:
            raise body_too_large(None, limit)
        return body

    def _payload(self, request: Request, req: ApiRequest) -> Payload:
        """The body, bounded by server-max-body-size (413) and parsed or, when large, scanned by PostgreSQL."""
        body = self._body(request)
        any_keys = req.query.columns is not None
        payload = parse_payload(body, req.content_type, any_keys=any_keys)
        if payload.keys is None:
            keys = () if any_keys else scan_keys(self.db, JsonText(payload.json), payload.is_object, any_keys)
            payload = dataclasses.replace(payload, keys=keys)
        return payload

    def _transaction(
        self,
        req: ApiRequest,
        identity: Identity,
        main: Any,
        *,
        read_only: bool,
        check: Any,
        after: Any = None,
        function: Function | None = None,
    ) -> TxResult:
        """Run REQ's transaction: settings, pre-request, MAIN, then commit or roll back."""
        return run(
            self.db,
            read_only=read_only,
            settings=settings_for(self.config, identity, req, function),
            isolation=function.isolation_level if function is not None else None,
            pre_request=self.pre_request,
            main=main,
            commit=self._commit(req),
            is_anonymous=identity.is_anonymous,
            check=check,
            after=after,
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


def _succeeded(response: Response, timer: Timer) -> Response:
    """The headers every successful API response gets (O-SERVER-TIMING, H-VARY); errors get neither."""
    timing = timer.header()
    if timing is not None:
        response.headers.add("Server-Timing", timing)
    if "Vary" not in response.headers:
        response.headers["Vary"] = VARY
    return response


def _preflight(headers: Iterable[tuple[str, str]]) -> Response:
    """The answer to a CORS preflight (O-CORS-PREFLIGHT): 200, no body, no Content-Type."""
    response = Response(b"", status=200)
    del response.headers["Content-Type"]
    response.headers["Content-Length"] = "0"
    for name, value in headers:
        response.headers.add(name, value)
    return response


def _name_gunicorn_server() -> bool:
    """Make gunicorn, if it serves this process, send PostgREST's `Server` header instead of its own (H-SERVER).

    gunicorn's HTTP/1 responses always start with `Server: <gunicorn.http.wsgi.SERVER>`
    and then repeat every header the application set, so an application `Server`
    header would be sent twice. gunicorn has no setting for it; its response objects
    read that module global when they are created, so naming the server there is
    enough. The worker imports the module before it loads the application, so this
    runs before the first request. Returns whether it did; the application then
    leaves the header to gunicorn on requests gunicorn serves.
    """
    module = sys.modules.get("gunicorn.http.wsgi")
    if module is None or not isinstance(getattr(module, "SERVER", None), str):
        return False
    module.SERVER = SERVER
    return True
