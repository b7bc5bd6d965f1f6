"""Request shapes: parse, plan and compose once per shape of request, then only bind its values.

The SQL of a request depends on its shape (method, path, the query string's
structure, the headers the api stage reads, the keys of its body, the catalog),
never on its values, which are bound parameters. So for a request whose shape
was seen before, `Shapes.lookup` skips `api.parse`, `plan.build` and
`sql.compose`: it takes the plan and statement text learnt from the first
request of that shape and binds this request's values into them.

What counts as a value (a *slot*) is deliberately narrow: the operand of a
top-level `column=eq|neq|gt|gte|lt|lte.value` filter made only of letters,
digits and `_-.:@`, and the JSON body of an insert, update or call. Everything
else of the query string is part of the shape as written.

Learning is checked, not assumed. After a request of a new shape went through
the full pipeline, its query is parsed, planned and composed once more with
every slot replaced by a unique sentinel. The shape is kept only if both runs
give the same statement text, every sentinel is found as exactly one bound
parameter (the value itself, not something derived from it), the body is bound
as it came, and every other parameter is the same in both runs. Otherwise the
shape is remembered as one to always run in full.

The key holds everything `api.parse`, `plan.build` and `sql.compose` read
except the values and the settings statement's inputs (role, claims, headers,
cookies), which are built for every request. Whoever makes one of those stages
read something new (a header, the role) must add it to `Shapes.key`;
tests/integration/test_shapes.py compares cache hits with fresh answers.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import IO, Any, TypeVar
from urllib.parse import quote, unquote_plus

from psycopg import sql
from werkzeug.datastructures import Headers, MultiDict

from pgwsgi.api import ApiRequest, KeyScanner, parse
from pgwsgi.api.payload import load_json, parse_payload, read_body
from pgwsgi.api.request import Request
from pgwsgi.auth import Identity
from pgwsgi.catalog.model import NO_ROLE_SETTINGS, CatalogSnapshot, RoleSettings
from pgwsgi.config import Config
from pgwsgi.errors import ApiError
from pgwsgi.plan import build
from pgwsgi.plan.model import CallPlan, MutatePlan, Plan, ReadPlan
from pgwsgi.sql import Statements, compose
from pgwsgi.sql.jsontext import JsonText
from pgwsgi.sql.settings import hoisted, request_settings

log = logging.getLogger("pgwsgi")
_T = TypeVar("_T")

# Shapes kept per worker; the least recently used is dropped beyond this.
MAX_SHAPES = 1000
# A body larger than this is not read ahead to find its shape.
MAX_SHAPED_BODY = 64 * 1024

_SLOT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(eq|neq|gt|gte|lt|lte)\.([A-Za-z0-9_.:@-]+)")
_SENTINEL = "Zq{}pgwsgiSlotQz"
_SENTINEL_MARK = "pgwsgiSlot"
_SENTINEL_SPLIT = re.compile(r"Zq(\d+)pgwsgiSlotQz")
_BODY_METHODS = ("POST", "PATCH")
_PLAN_MEDIA = "application/vnd.pgrst.plan"
_JSON = "application/json"


@dataclasses.dataclass(frozen=True, slots=True)
class Shape:
    """What the first request of a shape taught: its parsed request, plan and main statement."""

    req: ApiRequest
    plan: Plan
    statements: Statements
    slots: tuple[int, ...]  # for each query slot, the index of its parameter in the main statement
    body_at: int | None  # the index of the body's parameter, if it has one
    # Content-Location's query cut at the slot values: text, slot index, text, slot index, ..., text.
    canonical: tuple[str | int, ...]
    hoisted: tuple[tuple[str, str], ...]  # the called function's settings that apply to the transaction


_UNSHAPED = object()  # a shape whose requests always run in full


@dataclasses.dataclass(slots=True)
class Key:
    """A request's shape key and its values, computed before anything is parsed."""

    key: tuple[Any, ...]  # empty: not a shape to cache
    values: tuple[str, ...]
    body: bytearray | None  # the body, when it was read to find the shape
    bound_body: bytes | bytearray | None  # the JSON text the full pipeline would bind for it
    request: Request  # the request to parse on a miss (its body, if read, is kept)


class Shapes:
    """The shapes seen by one worker, for one catalog snapshot."""

    def __init__(self, config: Config, scan_keys: KeyScanner, size: int = MAX_SHAPES) -> None:
        self.config = config
        self.scan_keys = scan_keys
        self.size = size
        self._shapes: OrderedDict[tuple[Any, ...], Shape | object] = OrderedDict()
        self._snapshot: CatalogSnapshot | None = None
        # gthread workers share the App between threads.
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def key(self, request: Any, target: str, snapshot: CatalogSnapshot) -> Key | None:
        """The shape of REQUEST, or None when it is not one to cache (it then runs in full)."""
        if snapshot is not self._snapshot:
            # A reloaded catalog may change any statement.
            with self._lock:
                self._shapes.clear()
                self._snapshot = snapshot
        if target == "root":
            # The OpenAPI document: rare, and its transaction's answer is not a body to bind into.
            return None
        environ = request.environ
        method = environ.get("REQUEST_METHOD", "")
        if method not in ("GET", "HEAD", "POST", "PATCH", "DELETE"):
            return None
        accept = environ.get("HTTP_ACCEPT")
        if accept and self.config.db_plan_enabled and _PLAN_MEDIA in accept.lower():
            # An execution plan (M-PLAN) is a debugging aid, run unprepared and read whole: not worth a
            # shape. This is the cheap way out; _check refuses any plan with an EXPLAIN, however spelled.
            return None
        raw = environ.get("QUERY_STRING", "")
        template, values = _template(raw, slotted=target != "rpc")
        if template is None:
            return None
        body_key: Any = None
        body = bound = None
        if method in _BODY_METHODS:
            # Read straight from the environ: werkzeug's stream and header parsing cost more
            # than the rest of a known shape. Anything unusual runs in full instead.
            declared = environ.get("CONTENT_LENGTH", "")
            if not declared.isdigit() or environ.get("HTTP_TRANSFER_ENCODING"):
                return None
            length = int(declared)
            if length > MAX_SHAPED_BODY or length > self.config.server_max_body_size:
                return None
            body = read_body(environ["wsgi.input"], length, length)
            request = _BufferedRequest(request, body)
            mimetype = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
            found = _body_key(body, mimetype or _JSON, target, _names_columns(raw))
            if found is None:
                return Key((), (), body, None, request)
            body_key, bound = found
        key = (
            method,
            environ.get("PATH_INFO", ""),
            template,
            accept,
            environ.get("HTTP_PREFER"),
            environ.get("HTTP_RANGE"),
            environ.get("HTTP_ACCEPT_PROFILE"),
            environ.get("HTTP_CONTENT_PROFILE"),
            environ.get("CONTENT_TYPE"),
            body_key,
        )
        return Key(key, values, body, bound, request)

    def lookup(
        self, key: Key, identity: Identity, role: RoleSettings = NO_ROLE_SETTINGS
    ) -> tuple[ApiRequest, Plan, Statements | None] | None:
        """The request, plan and statements of a known shape with KEY's values bound, or None.

        ROLE holds the settings of IDENTITY's role, which go into the settings statement.

        The ApiRequest is the shape's, with this request's Content-Location query; it
        carries no headers, cookies or body (those go straight into the statements).
        """
        if not key.key:
            return None
        with self._lock:
            shape = self._shapes.get(key.key)
            if shape is None or shape is _UNSHAPED:
                return None
            self._shapes.move_to_end(key.key)
            self.hits += 1
        assert isinstance(shape, Shape)
        req = shape.req
        if key.values:
            # Content-Location repeats the query string, values included.
            canonical = _fill(shape.canonical, key.values)
            req = _evolve(req, query=_evolve(req.query, canonical=canonical))
        query, params = shape.statements.main
        bound = list(params)
        for i, at in enumerate(shape.slots):
            bound[at] = key.values[i]
        if shape.body_at is not None:
            assert key.bound_body is not None
            bound[shape.body_at] = JsonText(key.bound_body)
        request = key.request
        settings = request_settings(
            self.config,
            identity,
            schema=req.schema,
            method=req.method,
            path=req.path,
            headers=tuple(request.headers.items()),
            cookies=tuple(request.cookies.items(multi=True)) if "HTTP_COOKIE" in request.environ else (),
            timezone=req.preferences.timezone,
            function_settings=shape.hoisted,
            role_settings=role.settings,
        )
        return req, shape.plan, Statements(settings, shape.statements.pre_request, (query, bound))

    def learn(
        self,
        key: Key,
        req: ApiRequest,
        plan: Plan,
        statements: Statements | None,
        snapshot: CatalogSnapshot,
        identity: Identity,
    ) -> None:
        """Remember the shape of a request that went through the full pipeline, if it checks out."""
        if not key.key or key.key in self._shapes:
            return
        self.misses += 1
        try:
            shape = self._check(key, req, plan, statements, snapshot, identity)
        except Exception:
            # Never the client's problem: the shape just always runs in full.
            log.exception("Could not learn the shape of %s %s", req.method, req.path)
            shape = None
        with self._lock:
            self._shapes[key.key] = shape if shape is not None else _UNSHAPED
            while len(self._shapes) > self.size:
                self._shapes.popitem(last=False)

    def _check(
        self,
        key: Key,
        req: ApiRequest,
        plan: Plan,
        statements: Statements | None,
        snapshot: CatalogSnapshot,
        identity: Identity,
    ) -> Shape | None:
        if statements is None or statements.after is not None or plan.tx is None or plan.explain is not None:
            return None
        if not isinstance(plan.action, ReadPlan | MutatePlan | CallPlan):
            return None
        if isinstance(plan.action, MutatePlan) and plan.action.kind == "put":
            return None
        sentinels = tuple(_SENTINEL.format(i) for i in range(len(key.values)))
        request = _BufferedRequest(
            key.request, key.body, query=_with_values(key.request.environ.get("QUERY_STRING", ""), sentinels)
        )
        try:
            s_req = parse(request, req.target, req.name, self.config, self.scan_keys)
            s_plan = build(s_req, snapshot, self.config)
            s_statements = compose(s_plan, s_req, identity, self.config)
        except Exception:
            return None
        if s_statements is None or s_statements.after is not None:
            return None
        text = statements.main[0].as_string(None)
        if s_statements.main[0].as_string(None) != text:
            return None
        if s_statements.pre_request != statements.pre_request:
            return None
        real, probe = statements.main[1], s_statements.main[1]
        if len(real) != len(probe):
            return None
        where = {s: i for i, s in enumerate(sentinels)}
        slots: list[int | None] = [None] * len(sentinels)
        body_at = None
        real_body, probe_body = _body_object(req), _body_object(s_req)
        for at, (mine, theirs) in enumerate(zip(real, probe, strict=True)):
            if isinstance(theirs, str) and theirs in where:
                i = where[theirs]
                if slots[i] is not None or mine != key.values[i]:
                    return None
                slots[i] = at
            elif isinstance(theirs, JsonText) and theirs.data is probe_body and probe_body is not None:
                if body_at is not None or not isinstance(mine, JsonText) or mine.data is not real_body:
                    return None
                body_at = at
            elif _SENTINEL_MARK in repr(theirs) or type(mine) is not type(theirs) or not _same(mine, theirs):
                return None
        if any(at is None for at in slots):
            return None
        if (req.payload is not None or req.body is not None) and (body_at is None or req.content_type != _JSON):
            return None  # the key read the body as JSON: so must the full pipeline have
        canonical = _cut(s_req.query.canonical, len(sentinels))
        if canonical is None or _fill(canonical, key.values) != req.query.canonical:
            return None
        # Rendered once: a hit then costs no composition at all.
        main = (sql.SQL(text), statements.main[1])
        pre = statements.pre_request
        rendered = dataclasses.replace(
            statements, main=main, pre_request=sql.SQL(pre.as_string(None)) if pre is not None else None
        )
        # The teaching request's own values (headers, cookies, body) are not kept: a hit has its own.
        bare = dataclasses.replace(req, headers=(), cookies=(), body=None, payload=None)
        action = plan.action
        if isinstance(action, MutatePlan) and action.payload is not None:
            action = dataclasses.replace(action, payload=dataclasses.replace(action.payload, json=b""))
        elif isinstance(action, CallPlan):
            action = dataclasses.replace(action, json_body=b"" if action.json_body is not None else None)
        fn = plan.function
        return Shape(
            bare,
            dataclasses.replace(plan, action=action),
            rendered,
            tuple(at for at in slots if at is not None),
            body_at,
            canonical,
            hoisted(self.config, fn) if fn is not None else (),
        )


def _cut(canonical: str, count: int) -> tuple[str | int, ...] | None:
    """CANONICAL split at its sentinels; None unless each of the COUNT sentinels is there exactly once."""
    parts: list[str | int] = []
    for i, piece in enumerate(_SENTINEL_SPLIT.split(canonical)):
        parts.append(int(piece) if i % 2 else piece)
    found = sorted(p for p in parts if isinstance(p, int))
    return tuple(parts) if found == list(range(count)) else None


def _fill(canonical: tuple[str | int, ...], values: tuple[str, ...]) -> str:
    """The query of Content-Location with VALUES put in, in one pass (a value is never rescanned)."""
    return "".join(p if isinstance(p, str) else quote(values[p], safe="-_.~") for p in canonical)


def _evolve(obj: _T, **changes: Any) -> _T:
    """A copy of the frozen dataclass OBJ with CHANGES: `dataclasses.replace` without re-running __init__.

    A known shape's only per-request change to its ApiRequest; replace() cost 5 us each.
    """
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    new.__dict__.update(changes)
    return new


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, JsonText):
        return bool(a.data == b.data)
    return bool(a == b)


def _body_object(req: ApiRequest) -> Any:
    """The buffer a request's body is bound from: the payload's JSON for a write, the raw body for a call."""
    if req.payload is not None:
        return req.payload.json
    return req.body


def _body_key(body: bytearray, content_type: str, target: str, any_keys: bool) -> tuple[Any, bytes | bytearray] | None:
    """The part of a body that shapes the SQL (its keys) and the JSON text bound for it; None: not cached."""
    if content_type != _JSON:
        return None
    if target == "rpc":
        # A call binds a JSON object body as it is (plan/call.py); anything else runs in full.
        if not body.strip():
            return None
        try:
            doc = load_json(body)
        except ApiError:
            return None
        return (("object", tuple(doc)), body) if isinstance(doc, dict) else None
    try:
        payload = parse_payload(body, content_type, any_keys=any_keys)
    except ApiError:
        return None  # the full pipeline answers the error, in its order of checks
    if payload.keys is None:
        return None
    return ("payload", payload.is_object, payload.keys), payload.json


def _names_columns(raw: str) -> bool:
    """Whether the query string has a `columns` parameter (which lifts the same-keys rule of a body)."""
    return "columns" in raw and any(unquote_plus(p.partition("=")[0]) == "columns" for p in raw.split("&"))


def _template(raw: str, slotted: bool) -> tuple[str | None, tuple[str, ...]]:
    """RAW with each slot's value cut out, and the values; None for a query string not to cache."""
    if not raw:
        return "", ()
    if "\x00" in raw:
        return None, ()  # NUL marks a cut-out value in the template: a raw one would look like a slot
    parts = raw.split("&")
    values: list[str] = []
    out: list[str] = []
    for part in parts:
        if "=" not in part:
            return None, ()  # a key without a value: Content-Location keeps it, the parser drops it
        match = _SLOT.fullmatch(part) if slotted else None
        if match is None:
            out.append(part)
        else:
            out.append(f"{match.group(1)}={match.group(2)}.\x00")
            values.append(match.group(3))
    return "&".join(out), tuple(values)


def _with_values(raw: str, values: tuple[str, ...]) -> str:
    """RAW with its slot values replaced by VALUES, in order."""
    if not values:
        return raw
    it = iter(values)
    out = []
    for part in raw.split("&"):
        match = _SLOT.fullmatch(part)
        out.append(f"{match.group(1)}={match.group(2)}.{next(it)}" if match is not None else part)
    return "&".join(out)


class _BufferedRequest:
    """A request whose body was read ahead (or whose query string is replaced), for `api.parse`."""

    def __init__(self, request: Request, body: bytearray | None, query: str | None = None) -> None:
        self._request = request
        self._body = body
        self._environ: Mapping[str, Any] = (
            request.environ if query is None else {**request.environ, "QUERY_STRING": query}
        )

    @property
    def method(self) -> str:
        return self._request.method

    @property
    def path(self) -> str:
        return self._request.path

    @property
    def environ(self) -> Mapping[str, Any]:
        return self._environ

    @property
    def headers(self) -> Headers:
        return self._request.headers

    @property
    def cookies(self) -> MultiDict[str, str]:
        return self._request.cookies

    @property
    def mimetype(self) -> str:
        return self._request.mimetype

    @property
    def stream(self) -> IO[bytes]:
        return io.BytesIO(self._body or b"") if self._body is not None else self._request.stream

    @property
    def content_length(self) -> int | None:
        return len(self._body) if self._body is not None else self._request.content_length
