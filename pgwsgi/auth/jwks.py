"""Keys from a URL: jwt-secret naming a JWKS document or an OpenID Connect issuer (issue 14).

`RemoteKeys` fetches the key set when a worker starts and keeps it for as long as
the response's cache headers allow (clamped to [jwt-jwks-refetch-interval, 24 h],
300 s without them). An expired set is fetched again by the next token
verification; a token naming an unknown `kid` makes it fetch at once, but never
twice within jwt-jwks-refetch-interval seconds. A failed fetch keeps the last good
set and is not retried within that interval either.

Fetching is stdlib only: urllib with `ssl.create_default_context()`, made at
every fetch so `SSL_CERT_FILE` (and `SSL_CERT_DIR`) apply; 5 s for the whole
fetch (held by waiting for it in another thread, see `fetch_jwks`), 1 MB at most
per document. https honours HTTPS_PROXY and NO_PROXY; plain http (loopback only)
never goes through a proxy, and an https URL never leads to a plain http one.
Parsing the keys is the caller's (auth/jwt.py).

Never log key material or tokens from this module; URLs are logged without their
query string or user info.
"""

from __future__ import annotations

import email.utils
import functools
import http.client
import json
import logging
import math
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC
from email.message import Message
from http.client import HTTPMessage
from typing import Any, Generic, TypeVar
from urllib.parse import urljoin, urlsplit, urlunsplit

from pgwsgi.config.model import jwks_url_problem
from pgwsgi.version import __version__

log = logging.getLogger("pgwsgi.auth")

K = TypeVar("K")

TIMEOUT = 5.0  # seconds for one whole fetch, discovery and redirects included (RemoteKeys' default)
MAX_BODY = 1024 * 1024  # bytes per document
DEFAULT_TTL = 300.0  # seconds a set is kept when its response has no cache headers
MAX_TTL = 24 * 3600.0
WELL_KNOWN = "/.well-known/openid-configuration"
_CHUNK = 64 * 1024


class FetchError(Exception):
    """A fetch that gave no key set; the message names the URL without its query or user info."""


class _NoDocument(FetchError):
    """The URL answered 404 or something that is not a JSON object: it may be an issuer's URL."""


def redact(url: str) -> str:
    """URL as it may be logged: without user info, query string and fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class RemoteKeys(Generic[K]):
    """The key set behind a JWKS or OpenID Connect issuer URL, fetched and cached; thread-safe.

    PARSE turns a JWKS document (a JSON object with `keys`) into the caller's keys and
    raises ValueError when it holds no usable key. ON_CHANGE is called (under this
    object's lock) whenever a fetch brings a set different from the one held.
    TIMEOUT is the seconds one whole fetch may take.
    """

    def __init__(
        self,
        url: str,
        parse: Callable[[dict[str, Any]], K],
        *,
        refetch_interval: float,
        clock: Callable[[], float] = time.time,
        on_change: Callable[[], None] | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        """Remember URL; nothing is fetched before `start()` or the first use."""
        problem = jwks_url_problem(url)
        if problem is not None:
            raise ValueError(f"jwt-secret: {problem}")
        self.url = url
        self._parse = parse
        self._interval = float(refetch_interval)
        self._clock = clock
        self._on_change = on_change
        self._timeout = float(timeout)
        # One lock for the state and the fetch: a verification that finds the set expired
        # fetches it while the others wait, and then find it fresh.
        self._lock = threading.Lock()
        self._keys: K | None = None
        self._fingerprint: str | None = None  # the `keys` array of the set held, as canonical JSON
        self._expires = -math.inf
        self._attempted = -math.inf

    def start(self) -> bool:
        """Fetch the set now (a worker starting); whether that succeeded. A failure is logged, not raised."""
        with self._lock:
            return self._refresh()

    def current(self) -> K | None:
        """The set to verify with (None before any fetch succeeded), fetched again first when it has expired."""
        with self._lock:
            now = self._clock()
            if now >= self._expires and now >= self._attempted + self._interval:
                self._refresh()
            return self._keys

    def unknown_kid(self) -> K | None:
        """A token names a kid the set lacks: the set after fetching it again, unless a fetch was tried recently."""
        with self._lock:
            if self._clock() >= self._attempted + self._interval:
                self._refresh()
            return self._keys

    def _refresh(self) -> bool:
        """Fetch and swap in a new set (the lock is held); on failure keep the old one and say why."""
        now = self._clock()
        self._attempted = now
        try:
            doc, ttl = fetch_jwks(self.url, now, self._timeout)
            fingerprint = json.dumps(doc.get("keys"), sort_keys=True, separators=(",", ":"))
            if fingerprint != self._fingerprint:
                # Parsed only when it changed: the warnings about skipped keys are said once, not every 5 minutes.
                keys = self._parse(doc)
                self._keys, self._fingerprint = keys, fingerprint
                log.info("jwt-secret: using the key set from %s", redact(self.url))
                if self._on_change is not None:
                    self._on_change()
        except Exception as exc:
            # Whatever went wrong (network, TLS, status, JSON, keys, or a bug), authentication goes on
            # with the last good set; the message names URLs without query strings, never keys.
            reason = exc if isinstance(exc, (FetchError, ValueError)) else f"{type(exc).__name__}: {exc}"
            held = "keeping the last good key set" if self._keys is not None else "tokens are refused until it succeeds"
            log.warning(
                "jwt-secret: could not fetch the keys from %s: %s; %s, next try in %gs at the earliest",
                redact(self.url),
                reason,
                held,
                self._interval,
            )
            return False
        lifetime = DEFAULT_TTL if ttl is None else ttl
        self._expires = now + min(max(lifetime, self._interval), max(MAX_TTL, self._interval))
        return True


def fetch_jwks(url: str, now: float, timeout: float = TIMEOUT) -> tuple[dict[str, Any], float | None]:
    """The JWKS document URL leads to and its freshness lifetime in seconds (None without cache headers).

    URL is a JWKS (`keys`), an OpenID Connect configuration (`jwks_uri`, followed),
    or an issuer whose `/.well-known/openid-configuration` names the JWKS. NOW
    (seconds since the epoch) dates an `Expires` header when the response has no
    `Date`. Raises FetchError, also when the whole fetch takes more than TIMEOUT seconds.
    """
    # Socket timeouts bound each read, not the fetch (a server can send its headers a byte at a
    # time), and a DNS lookup has none: only waiting for the fetch in another thread holds the
    # deadline. On time-out the thread's sockets are shut down, which ends it; what it might still
    # bring goes to a list nobody reads, so a late answer can never replace a newer set.
    deadline = time.monotonic() + timeout
    connections = _Connections()
    outcome: list[tuple[dict[str, Any], float | None] | BaseException] = []

    def run() -> None:
        try:
            outcome.append(_discover(url, now, deadline, timeout, connections))
        except BaseException as exc:  # raised again by the waiting thread
            outcome.append(exc)

    thread = threading.Thread(target=run, name="pgwsgi-jwks-fetch", daemon=True)
    thread.start()
    thread.join(max(deadline - time.monotonic(), 0.0))
    timed_out = thread.is_alive()
    connections.close()
    if timed_out:
        raise FetchError(f"{redact(url)}: timed out after {timeout:g}s")
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


def _discover(
    url: str, now: float, deadline: float, timeout: float, connections: _Connections
) -> tuple[dict[str, Any], float | None]:
    """fetch_jwks's work, in its thread."""
    fetch = functools.partial(_get_json, deadline=deadline, timeout=timeout, connections=connections)
    try:
        doc, headers, final = fetch(url)
    except _NoDocument as exc:
        first_failure = str(exc)
    else:
        if "keys" in doc:
            return doc, freshness(headers, now)
        if "jwks_uri" in doc:
            return _follow(final, doc["jwks_uri"], fetch, now)
        first_failure = f"{redact(url)} has neither keys nor a jwks_uri"
    # An issuer's own URL: Keycloak answers it with realm information, others with 404 or HTML.
    parts = urlsplit(url)
    if parts.path.endswith(WELL_KNOWN):
        raise FetchError(first_failure)
    well_known = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + WELL_KNOWN, "", ""))
    try:
        config, _, final = fetch(well_known)
    except FetchError as exc:
        raise FetchError(f"{first_failure}, and no OpenID Connect configuration: {exc}")
    if "jwks_uri" not in config:
        raise FetchError(f"{first_failure}, and {redact(well_known)} has no jwks_uri")
    return _follow(final, config["jwks_uri"], fetch, now)


def _follow(
    base: str, jwks_uri: object, fetch: Callable[[str], tuple[dict[str, Any], Message, str]], now: float
) -> tuple[dict[str, Any], float | None]:
    """The JWKS at the jwks_uri of the OpenID Connect configuration at BASE (under the same rules as a redirect)."""
    if not isinstance(jwks_uri, str):
        raise FetchError(f"the jwks_uri of {redact(base)} is not a string")
    try:
        target = urljoin(base, jwks_uri)
    except ValueError as exc:  # an invalid IPv6 host
        raise FetchError(f"the jwks_uri of {redact(base)} is not a valid URL: {exc}")
    problem = _leads_to_problem(base, target)
    if problem is not None:
        raise FetchError(f"jwks_uri {redact(target)}: {problem}")
    try:
        doc, headers, _ = fetch(target)
    except _NoDocument as exc:
        raise FetchError(str(exc))
    if "keys" not in doc:
        raise FetchError(f"jwks_uri {redact(target)} has no keys")
    return doc, freshness(headers, now)


def _leads_to_problem(source: str, target: str) -> str | None:
    """Why a fetch of SOURCE may not lead to TARGET (a redirect, a jwks_uri), or None.

    Besides the https rule, an https URL never leads to plain http, not even on loopback: what TLS
    vouched for would then come from wherever the next hop is answered, unauthenticated.
    """
    problem = jwks_url_problem(target)
    if problem is None and urlsplit(source).scheme.lower() == "https" and urlsplit(target).scheme.lower() != "https":
        problem = "an https URL cannot lead to plain http"
    return problem


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects, but never to a URL the https rule refuses, nor from https to plain http."""

    max_redirections = 5

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        problem = _leads_to_problem(req.full_url, newurl)
        if problem is not None:
            fp.close()
            raise FetchError(f"{redact(req.full_url)} redirects to {redact(newurl)}: {problem}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _Connections:
    """The sockets of one fetch, so that the thread waiting for it can end it at the deadline."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._closed = False

    def connect(self, *args: Any, **kwargs: Any) -> socket.socket:
        """socket.create_connection (http.client's way to open a connection), remembering the socket."""
        sock = socket.create_connection(*args, **kwargs)
        with self._lock:
            if not self._closed:
                # A second descriptor of the same socket: it stays valid once ssl has wrapped (detached)
                # the first, and shutting it down ends the handshake, header or body read under way.
                self._sockets.append(sock.dup())
                return sock
        sock.close()
        raise OSError("the fetch has timed out")

    def close(self) -> None:
        """Shut down and close every socket of the fetch; a later connect() fails."""
        with self._lock:
            self._closed = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:  # no longer connected: the server hung up
                pass
            sock.close()


class _HTTPConnection(http.client.HTTPConnection):
    """http.client's connection, opening its socket through the fetch's _Connections."""

    def __init__(self, host: str, *, connections: _Connections, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        self._create_connection = connections.connect


class _HTTPSConnection(http.client.HTTPSConnection):
    """http.client's TLS connection, opening its socket through the fetch's _Connections."""

    def __init__(self, host: str, *, connections: _Connections, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        self._create_connection = connections.connect


class _HTTPHandler(urllib.request.HTTPHandler):
    """urllib's http handler, with connections the fetch can shut down."""

    def __init__(self, connections: _Connections) -> None:
        super().__init__()
        self._connections = connections

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_HTTPConnection, connections=self._connections), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    """urllib's https handler, with connections the fetch can shut down."""

    def __init__(self, connections: _Connections) -> None:
        # Made at each fetch, not once at import: SSL_CERT_FILE is read when a context loads the default paths.
        self._tls = ssl.create_default_context()
        super().__init__(context=self._tls)
        self._connections = connections

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_HTTPSConnection, connections=self._connections, context=self._tls), req)


def _proxies() -> dict[str, str]:
    """The proxies a fetch may use: HTTPS_PROXY's alone (NO_PROXY is applied by urllib)."""
    # Plain http is only ever for loopback: through a proxy the keys would cross the network in the clear.
    https = urllib.request.getproxies().get("https")
    return {"https": https} if https else {}


def _get_json(
    url: str, *, deadline: float, timeout: float, connections: _Connections
) -> tuple[dict[str, Any], Message, str]:
    """The JSON object at URL, its response headers and final URL (after redirects).

    _NoDocument for a 404 or a body that is no JSON object.
    """
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchError(f"{redact(url)}: timed out after {timeout:g}s")
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler(_proxies()),
        _HTTPHandler(connections),
        _HTTPSHandler(connections),
        _CheckedRedirects(),
    )
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": f"pgwsgi/{__version__}"})
    where = redact(url)
    try:
        with opener.open(request, timeout=remaining) as response:
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > MAX_BODY:
                raise FetchError(f"{where}: the answer is larger than {MAX_BODY} bytes")
            body = _read_body(response, deadline, timeout, where)
            headers: Message = response.headers
            final: str = response.geturl()
    except urllib.error.HTTPError as err:
        err.close()
        if err.code == 404:
            raise _NoDocument(f"{where} answered 404")
        raise FetchError(f"{where} answered {err.code}")
    except urllib.error.URLError as err:
        raise FetchError(f"{where}: {err.reason}")
    except FetchError:
        raise
    except Exception as err:  # timeouts and resets, http.client's own errors (no OSError), a malformed URL
        raise FetchError(f"{where}: {type(err).__name__}: {err}".rstrip(": "))
    try:
        doc = json.loads(body.decode("utf-8"))
    except ValueError:
        raise _NoDocument(f"{where} did not answer JSON")
    if not isinstance(doc, dict):
        raise _NoDocument(f"{where} did not answer a JSON object")
    return doc, headers, final


def _read_body(response: Any, deadline: float, timeout: float, where: str) -> bytes:
    """The body, in pieces, so neither its size nor a server sending it slowly exceeds the limits."""
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise FetchError(f"{where}: timed out after {timeout:g}s")
        chunk = response.read1(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BODY:
            raise FetchError(f"{where}: the answer is larger than {MAX_BODY} bytes")
        chunks.append(chunk)


def freshness(headers: Message, now: float) -> float | None:
    """How many seconds a response may be kept (RFC 9111 §4.2.1), or None when it has no cache headers.

    `no-store` and `no-cache` give 0 (the caller's minimum interval then applies);
    `max-age` beats `Expires`, which counts from the response's `Date` (else from NOW);
    an `Age` is deducted. `s-maxage` is for shared caches, so it is ignored.
    """
    directives: dict[str, str] = {}
    for field in headers.get_all("Cache-Control") or ():
        for part in str(field).split(","):
            name, _, value = part.strip().partition("=")
            directives[name.strip().lower()] = value.strip().strip('"')
    age = _seconds(headers.get("Age")) or 0
    if "no-store" in directives or "no-cache" in directives:
        return 0.0
    max_age = _seconds(directives.get("max-age"))
    if max_age is not None:
        return float(max_age - age)
    expires = headers.get("Expires")
    if expires is None:
        return None
    until = _http_date(expires)
    if until is None:  # an invalid Expires means "already expired" (RFC 9111 §5.3)
        return 0.0
    date = _http_date(headers.get("Date"))
    return until - (date if date is not None else now) - age


def _seconds(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def _http_date(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
