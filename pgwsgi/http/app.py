"""The WSGI application: the request pipeline, stage by stage (docs/architecture.md).

auth.authenticate -> routes.route -> api.parse -> plan.build -> sql.compose -> db.run -> response.render

A request of a shape seen before skips parse, build and compose: http/shapes.py
binds its values into what the first request of that shape produced.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Iterable
from time import perf_counter
from typing import Any

from werkzeug.wrappers import Request, Response

from pgwsgi.admin import metrics
from pgwsgi.admin.metrics import WorkerMetrics
from pgwsgi.api import ApiRequest, parse
from pgwsgi.auth import Authenticator, Identity
from pgwsgi.catalog.model import NO_ROLE_SETTINGS
from pgwsgi.catalog.reload import CatalogHolder
from pgwsgi.config import Config
from pgwsgi.db import Database, TxResult, run, scan_keys
from pgwsgi.db.replicas import Replicas
from pgwsgi.errors import ApiError, internal_error, privileged_authenticator, render_error
from pgwsgi.http import cors, credentials, signals
from pgwsgi.http.routes import route
from pgwsgi.http.shapes import Shapes
from pgwsgi.http.timing import NO_TIMING, StageTimer, Timer
from pgwsgi.plan import build
from pgwsgi.plan.model import Plan
from pgwsgi.response import VARY, render
from pgwsgi.response.headers import ApiResponse
from pgwsgi.sql import Statements, compose
from pgwsgi.version import POSTGREST_VERSION

log = logging.getLogger("pgwsgi")

# H-SERVER: what PostgREST's HTTP server (warp) names itself.
SERVER = f"postgrest/{POSTGREST_VERSION}"


class App:
    """One worker's application: configuration, JWT cache, pool and catalog snapshot."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.auth = Authenticator(config)
        self.db = Database(config)
        # db-read-replicas: where reads may run instead (db/replicas.py); None keeps every request on self.db.
        self.replicas = Replicas(config, self.db) if config.db_read_replicas else None
        # Both decided here, once: the header alone or the jwt-cookie-name cookie too (http/credentials.py);
        # the primary for every transaction, or a replica for a read, retried on the primary if it fails.
        self.credential = credentials.reader(config.jwt_cookie_name)
        self.execute = self._on_primary if self.replicas is None else self.replicas.run
        self.catalog = CatalogHolder(
            config, self.db.connect, signals.request_config_reload, listen_connect=self.db.channel_connect
        )
        self.scan_keys = functools.partial(scan_keys, self.db)
        self.shapes = Shapes(config, self.scan_keys)
        self.gunicorn_names_server = _name_gunicorn_server()
        self.metrics: WorkerMetrics | None = None
        # With jwt-cookie-name, who the answer is for depends on the Cookie header: a shared cache must key on it.
        self.vary = VARY if config.jwt_cookie_name is None else f"{VARY}, Cookie"
        # db-root-spec answers the root in place of the OpenAPI document, unless the root is disabled.
        spec = config.db_root_spec if config.openapi_mode != "disabled" else None
        self.root_spec = spec.rpartition(".")[2] if spec else None

    def start(self) -> None:
        """Open the pool, load the catalog, fetch a JWKS URL's keys and listen for reloads (after the fork)."""
        self.db.open()
        if self.replicas is not None:
            self.replicas.open()
        # Listen first, then load: a change made between the two is then not missed.
        self.catalog.start_listener()
        snapshot = self.catalog.reload()
        if (
            snapshot is not None
            and snapshot.privileged_authenticator
            and not self.config.db_allow_privileged_authenticator
        ):
            # Refused at start: the worker does not boot and gunicorn stops, saying why.
            self.close()
            why = (
                f"Refusing to serve: {snapshot.privileged_authenticator}, so every request would see every row "
                "whatever role it switches to. Connect as a NOINHERIT role without SUPERUSER and BYPASSRLS "
                "(or set db-allow-privileged-authenticator = true)"
            )
            log.critical(why)
            raise PrivilegedAuthenticatorError(why)
        # A JWKS URL's keys: fetched here, in the worker, never where __init__ may run (gunicorn's master).
        self.auth.start()
        signals.install(self.catalog)
        if metrics.enabled():
            # The master's admin server adds every worker's figures up (admin/hooks.py).
            self.metrics = WorkerMetrics(self)
            self.metrics.start()

    def close(self) -> None:
        """Stop the listener and close the pool."""
        if self.metrics is not None:
            self.metrics.stop()
        self.catalog.stop()
        if self.replicas is not None:
            self.replicas.close()
        self.db.close()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        # The layers around the API, in PostgREST's order: trace header, then CORS (O-PIPELINE).
        started = perf_counter() if self.metrics is not None else 0.0
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
        if self.metrics is not None:
            self.metrics.observe(request.method, request.path, response.status_code, perf_counter() - started)
        return _send(response, environ, start_response)

    def pool_stats(self) -> dict[str, int]:
        """The pool's figures for /metrics."""
        return self.db.stats()

    def replica_stats(self) -> dict[str, dict[str, int]]:
        """Each read replica's figures for /metrics (db/replicas.py); empty without db-read-replicas."""
        return {} if self.replicas is None else self.replicas.stats()

    def jwt_stats(self) -> dict[str, int]:
        """The JWT cache's figures for /metrics."""
        stats = self.auth.stats
        return {"requests": stats.requests, "hits": stats.hits, "evictions": stats.evictions}

    def catalog_stats(self) -> dict[str, float]:
        """The schema cache's figures for /metrics and /ready."""
        holder = self.catalog
        return {
            "loads_ok": holder.loads_ok,
            "loads_failed": holder.loads_failed,
            "last_load_seconds": holder.last_load_seconds,
            "loaded": holder.loaded,
        }

    def respond(self, request: Request) -> Response:
        """The API's answer to REQUEST: a successful response or the rendered error."""
        try:
            return self.handle(request)
        except ApiError as err:
            return render_error(err, self.config.client_error_verbosity, request.method == "HEAD")
        except Exception:
            # The traceback goes to the log, never to the client.
            log.exception("Unhandled error for %s %s", request.method, request.path)
            return render_error(internal_error(), self.config.client_error_verbosity, request.method == "HEAD")

    def handle(self, request: Request) -> Response:
        """The request pipeline; raises ApiError for anything a client did wrong or the database refused.

        The order of checks is PostgREST's: auth, schema cache, path, method, query, body.
        """
        timer: Timer = StageTimer() if self.config.server_timing_enabled else NO_TIMING
        identity = self.auth.authenticate(self.credential(request))
        request.environ["pgwsgi.role"] = identity.role  # for the access log (deploy/gunicorn.conf.py)
        timer.lap("jwt")
        snapshot = self.catalog.current()
        if snapshot.privileged_authenticator and not self.config.db_allow_privileged_authenticator:
            # The database was unreachable at start, so this is the first load that could tell.
            raise privileged_authenticator(snapshot.privileged_authenticator)
        # The role's own settings (ALTER ROLE ... SET) apply to its transaction, as in PostgREST.
        role = snapshot.role_settings.get(identity.role, NO_ROLE_SETTINGS)
        target, name = route(request.path, self.root_spec)
        shape = self.shapes.key(request, target, snapshot)
        known = self.shapes.lookup(shape, identity, role) if shape is not None else None
        if known is not None:
            # A shape seen before: its plan and statements with this request's values (http/shapes.py).
            req, plan, statements = known
            timer.lap("parse")
        else:
            req = parse(shape.request if shape is not None else request, target, name, self.config, self.scan_keys)
            timer.lap("parse")
            plan = build(req, snapshot, self.config)
            statements = compose(plan, req, identity, self.config, role)
            if shape is not None:
                self.shapes.learn(shape, req, plan, statements, snapshot, identity)
        if plan.tx is not None:
            # OPTIONS has no transaction: PostgREST's Server-Timing then lists jwt, parse and response.
            timer.lap("plan")
        result = self.execute(plan, req, statements, identity, role.isolation)
        if plan.sign_token:
            result = result.with_body(self.auth.sign_claims(result.row.get("body")))
        if plan.tx is not None:
            timer.lap("transaction")
        response = render(req, plan, result, self.config.client_error_verbosity)
        timer.lap("response")
        return _succeeded(response, timer, self.vary)

    def _on_primary(
        self, plan: Plan, req: ApiRequest, statements: Statements | None, identity: Identity, isolation: str | None
    ) -> TxResult:
        """The transaction on db-uri's pool: every one, without db-read-replicas."""
        return run(self.db, plan, statements, identity, isolation)


class PrivilegedAuthenticatorError(RuntimeError):
    """db-uri's role is a superuser or has BYPASSRLS, and db-allow-privileged-authenticator is not set."""


def _succeeded(response: Response, timer: Timer, vary: str) -> Response:
    """The headers every successful API response gets (O-SERVER-TIMING, H-VARY); errors get neither."""
    timing = timer.header()
    if timing is not None:
        response.headers.add("Server-Timing", timing)
    # With a cookie name, PostgREST's list gains Cookie; a Vary set by response.headers stays.
    if "Vary" not in response.headers or (vary is not VARY and response.headers["Vary"] == VARY):
        response.headers["Vary"] = vary
    return response


def _send(response: Response, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """Start RESPONSE and return its body: werkzeug's `Response.__call__`, shortened for the usual case.

    A whole byte body with its Content-Length, no Location to rewrite, not HEAD and
    not a status without a body: werkzeug would send these headers and this body
    unchanged, after copying the headers and rescanning them (a tenth of a small
    request's CPU). Anything else goes through werkzeug.
    """
    body = response.response
    if (
        type(response) is ApiResponse
        and type(body) is list
        and len(body) == 1
        and type(body[0]) is bytes
        and response.status_code >= 200
        and response.status_code not in (204, 304)
        and environ.get("REQUEST_METHOD") != "HEAD"
        and "Content-Length" in response.headers
        and "Location" not in response.headers
    ):
        start_response(response.status, response.headers.to_wsgi_list())
        return body
    return response(environ, start_response)


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
    setattr(module, "SERVER", SERVER)  # noqa: B010 (a module global, set from outside)
    return True
