"""HTTP request -> ApiRequest: the `api` stage entry point. No catalog, no database of its own."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import IO, Any, Protocol
from urllib.parse import unquote_plus

from werkzeug.datastructures import Headers, MultiDict

from pgwsgi.api.media import parse_accept
from pgwsgi.api.model import Action, ApiRequest, Payload, Preferences, QueryParams, Target
from pgwsgi.api.payload import parse_payload, request_body
from pgwsgi.api.prefer import parse_prefer
from pgwsgi.api.querystring import canonical_query, parse_query
from pgwsgi.api.ranges import top_range
from pgwsgi.config import Config
from pgwsgi.errors import invalid_schema, openapi_disabled, rpc_method_error, unsupported_method


class Request(Protocol):
    """What the api stage reads of an HTTP request: werkzeug's Request, as the http stage hands it over.

    A protocol rather than werkzeug's class, so that the api stage depends on the
    request's data only and not on werkzeug's wrappers.
    """

    @property
    def method(self) -> str: ...

    @property
    def path(self) -> str: ...

    @property
    def environ(self) -> Mapping[str, Any]: ...

    @property
    def headers(self) -> Headers: ...

    @property
    def cookies(self) -> MultiDict[str, str]: ...

    @property
    def mimetype(self) -> str: ...

    @property
    def stream(self) -> IO[bytes]: ...

    @property
    def content_length(self) -> int | None: ...


READ_METHODS = ("GET", "HEAD", "OPTIONS")
# The root reads no query string and no Prefer header.
ROOT_QUERY = QueryParams()
NO_PREFERENCES = Preferences()

SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PATCH", "PUT", "DELETE", "OPTIONS")
RPC_METHODS = ("GET", "HEAD", "POST", "OPTIONS")

# Reads the keys of a JSON body too large to parse in Python (db.scan_keys):
# (json text, top level is one object, any keys allowed) -> the common keys.
KeyScanner = Callable[[bytes | bytearray, bool, bool], tuple[str, ...]]


def query_pairs(raw: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Decoded key/value pairs in order: those with `=`, and all of them for the canonical query.

    A key without `=` is no parameter (Q-KEY-NO-VALUE), but PostgREST keeps it as
    `key=` in Content-Location.
    """
    pairs, everything = [], []
    for part in raw.split("&"):
        if not part:
            continue
        key, eq, value = part.partition("=")
        pair = (unquote_plus(key), unquote_plus(value))
        everything.append(pair)
        if eq:
            pairs.append(pair)
    return pairs, everything


def choose_schema(request: Request, config: Config) -> tuple[str, bool]:
    """The schema from Accept-Profile/Content-Profile (S-PROFILE), or the default one."""
    header = "Accept-Profile" if request.method in READ_METHODS else "Content-Profile"
    wanted = request.headers.get(header)
    negotiated = len(config.db_schemas) > 1
    if wanted is None:
        return config.db_schemas[0], negotiated
    if wanted not in config.db_schemas:
        raise invalid_schema(wanted, config.db_schemas)
    return wanted, True


def _parse_request(
    request: Request, action: Action, target: Target, name: str, config: Config, scan_keys: KeyScanner
) -> ApiRequest:
    """A request that is not the root: URL and headers first, then the body, as PostgREST checks them."""
    schema, negotiated = choose_schema(request, config)
    # PEP 3333 hands the query string over as latin-1; clients send UTF-8.
    raw_query = request.environ.get("QUERY_STRING", "").encode("latin-1").decode("utf-8", "replace")
    pairs, everything = query_pairs(raw_query)
    query = parse_query(pairs, rpc=target == "rpc", method=request.method)
    if len(everything) != len(pairs):
        query = dataclasses.replace(query, canonical=canonical_query(everything))
    top = top_range(request.headers.get("Range"), request.method, query.root_limit(), query.root_offset())
    preferences = parse_prefer(
        request.headers.getlist("Prefer"),
        allow_tx=config.db_tx_end.endswith("-allow-override"),
        allow_read=bool(config.db_read_replicas),
    )
    accept = parse_accept(request.headers.get("Accept"))
    # No Content-Type is JSON; one werkzeug cannot parse (`;;;=;/`) stays as written, so that a
    # body is refused with it in the message, as PostgREST's MTOther is.
    content_type = request.mimetype or request.headers.get("Content-Type", "").strip() or "application/json"
    limit = config.server_max_body_size
    body, payload = None, None
    if action == "mutate" and request.method != "DELETE":
        body_of_write = request_body(request.stream, request.content_length, limit)
        payload = _payload(body_of_write, content_type, query.columns is not None, scan_keys)
    elif action == "call" and request.method == "POST":
        body = request_body(request.stream, request.content_length, limit)
    return ApiRequest(
        method=request.method,
        action=action,
        target=target,
        name=name,
        schema=schema,
        schema_negotiated=negotiated,
        path=request.path,
        query=query,
        preferences=preferences,
        accept=accept,
        top_range=top,
        body=body,
        payload=payload,
        content_type=content_type,
        headers=tuple(request.headers.items()),
        cookies=tuple(request.cookies.items(multi=True)),
    )


def action_of(target: Target, method: str) -> Action:
    """What a request is, from its route and method (PostgREST's Action)."""
    if target == "root":
        return "root"
    if target == "rpc":
        return "function-info" if method == "OPTIONS" else "call"
    if method == "OPTIONS":
        return "relation-info"
    return "read" if method in ("GET", "HEAD") else "mutate"


def parse(request: Request, target: Target, name: str, config: Config, scan_keys: KeyScanner) -> ApiRequest:
    """Everything the request says, checked for grammar only: the api stage's one entry.

    The checks come in PostgREST's order: method, query string, then the body.
    A body too large for Python to parse has its keys read by SCAN_KEYS.
    """
    method = request.method
    if method not in SUPPORTED_METHODS:
        raise unsupported_method(method)
    action = action_of(target, method)
    if action == "root":
        return _parse_root(request, config)
    if target == "rpc" and method not in RPC_METHODS:
        raise rpc_method_error(method)
    return _parse_request(request, action, target, name, config, scan_keys)


def _parse_root(request: Request, config: Config) -> ApiRequest:
    """The root: its schema (Accept-Profile) and Accept; a query string or body means nothing there.

    Checked in PostgREST's order: openapi-mode, the profile, the method.
    """
    if config.openapi_mode == "disabled":
        raise openapi_disabled()
    schema, negotiated = choose_schema(request, config)
    if request.method not in READ_METHODS:
        raise unsupported_method(request.method)
    accept = parse_accept(request.headers.get("Accept"))
    return ApiRequest(
        request.method,
        "root",
        "root",
        "",
        schema,
        negotiated,
        request.path,
        ROOT_QUERY,
        NO_PREFERENCES,
        accept,
        # The pre-request function reads them (request.headers, request.cookies).
        headers=tuple(request.headers.items()),
        cookies=tuple(request.cookies.items(multi=True)),
    )


def _payload(body: bytearray, content_type: str, any_keys: bool, scan_keys: KeyScanner) -> Payload:
    """The body of a write, parsed or, when large, its keys read by PostgreSQL (ANY_KEYS: `?columns=`)."""
    payload = parse_payload(body, content_type, any_keys=any_keys)
    if payload.keys is None:
        keys = () if any_keys else scan_keys(payload.json, payload.is_object, any_keys)
        payload = dataclasses.replace(payload, keys=keys)
    return payload
