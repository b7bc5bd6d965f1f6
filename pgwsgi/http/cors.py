"""CORS as PostgREST answers it (O-CORS-*): pure functions from request headers to response headers.

PostgREST wraps its application in wai-cors with a fixed policy. Only a request
carrying `Origin` is concerned (and not a WebSocket upgrade). When
server-cors-allowed-origins is set and the origin is not in it, the request goes
on as if it had no `Origin`. Otherwise:

- `OPTIONS` with `Access-Control-Request-Method` naming a supported method is a
  preflight, answered here, before authentication: 200, empty body.
  Any other `OPTIONS` (no or unsupported method, a requested header the policy
  does not list) goes on to the application with no CORS headers.
- any other method is an actual request: the application answers it (successful
  or not) and the CORS headers are appended to that response.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from werkzeug.datastructures import Headers

# wai-cors offers the policy's methods plus the simple ones (GET, HEAD, POST), in this order.
# werkzeug's request headers (case-insensitive), or a plain mapping in tests.
HeaderLookup = Headers | Mapping[str, str]

ALLOW_METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS", "HEAD")
EXPOSE_HEADERS = (
    "Content-Encoding, Content-Location, Content-Range, Content-Type, "
    "Date, Location, Server, Transfer-Encoding, Range-Unit"
)
MAX_AGE = "86400"
# wai-cors always allows the simple request headers except Content-Type.
_SIMPLE_HEADERS = ("Accept", "Accept-Language", "Content-Language")
# Characters allowed in a header name by wai-cors's parser (RFC 2616 token).
_SEPARATORS = frozenset('()<>@,;:\\"/[]?={}')
# attoparsec's `space` and Data.ByteString.Char8.strip's whitespace.
_PARSE_SPACE = " \t\n\v\f\r"
_STRIP_SPACE = _PARSE_SPACE + "\xa0"


@dataclass(frozen=True)
class Cors:
    """What the CORS layer does with a request: answer it (`preflight`) or add `headers` to the app's answer."""

    preflight: bool
    headers: tuple[tuple[str, str], ...]


def decide(method: str, headers: HeaderLookup, allowed_origins: tuple[str, ...] | None) -> Cors | None:
    """The CORS treatment of a request; None when the application answers it untouched.

    METHOD is the request method as sent; HEADERS is looked up case-insensitively
    (werkzeug's EnvironHeaders); ALLOWED_ORIGINS is server-cors-allowed-origins.
    """
    origin = headers.get("Origin")
    if origin is None or (headers.get("Upgrade") or "").lower() == "websocket":
        return None
    if allowed_origins:
        if origin not in allowed_origins:
            return None
        common: tuple[tuple[str, str], ...] = (
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Credentials", "true"),
        )
    else:
        common = (("Access-Control-Allow-Origin", "*"),)
    if method != "OPTIONS":
        return Cors(False, (*common, ("Access-Control-Expose-Headers", EXPOSE_HEADERS)))
    preflight = _preflight_headers(headers.get("Access-Control-Request-Method"), headers)
    return None if preflight is None else Cors(True, (*common, *preflight))


def _preflight_headers(requested_method: str | None, headers: HeaderLookup) -> tuple[tuple[str, str], ...] | None:
    if requested_method not in ALLOW_METHODS:
        return None
    result = [("Access-Control-Allow-Methods", ", ".join(ALLOW_METHODS))]
    requested_headers = headers.get("Access-Control-Request-Headers")
    if requested_headers is not None:
        allowed = allow_headers(requested_headers)
        if allowed is None:
            return None
        result.append(("Access-Control-Allow-Headers", ", ".join(allowed)))
    result.append(("Access-Control-Max-Age", MAX_AGE))
    return tuple(result)


def allow_headers(requested: str) -> list[str] | None:
    """The Access-Control-Allow-Headers names for an Access-Control-Request-Headers value.

    PostgREST allows Authorization and every requested name (split on commas and
    stripped, as sent), then the simple headers not already listed. wai-cors
    separately parses the request's names and refuses the preflight (None) when
    one of them is not in that list.
    """
    # Data.ByteString.split gives no piece at all for an empty value.
    pieces = [name.strip(_STRIP_SPACE) for name in requested.split(",")] if requested else []
    allowed = ["Authorization", *pieces]
    folded = {name.lower() for name in allowed}
    allowed += [name for name in _SIMPLE_HEADERS if name.lower() not in folded]
    folded.update(name.lower() for name in _SIMPLE_HEADERS)
    if any(name.lower() not in folded for name in parse_header_names(requested)):
        return None
    return allowed


def parse_header_names(value: str) -> list[str]:
    """Header names as wai-cors's parser reads them: leading names separated by bare commas.

    Parsing stops (without failing) at the first character that does not continue
    the list, e.g. the space in `Foo, Bar` after the comma.
    """
    names: list[str] = []
    i = _skip_space(value, 0)
    while True:
        end = _token_end(value, i)
        if end == i:
            return names
        names.append(value[i:end])
        i = _skip_space(value, end)
        if i < len(value) and value[i] == "," and _token_end(value, i + 1) > i + 1:
            i += 1
        else:
            return names


def _skip_space(value: str, i: int) -> int:
    while i < len(value) and value[i] in _PARSE_SPACE:
        i += 1
    return i


def _token_end(value: str, i: int) -> int:
    while i < len(value) and "!" <= value[i] <= "~" and value[i] not in _SEPARATORS:
        i += 1
    return i
