"""What every successful response shares: PostgREST's headers and the SQL-set response GUCs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from werkzeug.wrappers import Response

from pgwsgi.errors import bad_response_headers, bad_response_status, offset_past_end, status_line
from pgwsgi.plan.model import ReadPlan
from pgwsgi.version import POSTGREST_VERSION

log = logging.getLogger("pgwsgi")

VARY = "Accept, Prefer, Range"


class ApiResponse(Response):
    """A werkzeug Response that sends Content-Location as given.

    werkzeug re-encodes Content-Location as a URI, which would turn the spaces and
    UTF-8 of a table name into %-escapes; PostgREST sends the name as it is.
    """

    def get_wsgi_headers(self, environ: dict[str, Any]) -> Any:
        """The headers to send, with Content-Location left untouched."""
        headers = super().get_wsgi_headers(environ)
        raw = self.headers.get("Content-Location")
        if raw is not None:
            headers["Content-Location"] = raw
        return headers


def content_range(lower: int, page_total: int, total: int | None) -> str:
    """`first-last/total`, with `*` parts as PostgREST writes them (H-CONTENT-RANGE)."""
    upper = lower + page_total - 1
    total_str = "*" if total is None else str(total)
    if (total is None or total != 0) and lower <= upper:
        return f"{lower}-{upper}/{total_str}"
    return f"*/{total_str}"


def range_status(lower: int, page_total: int, total: int | None) -> int:
    """200, 206 for a partial page, 416 past the end (H-GET-STATUS)."""
    if total is None:
        return 200
    if lower > total:
        return 416
    if page_total < total:
        return 206
    return 200


def header_path(name: str) -> str:
    """`/<name>` for a Location-like header.

    PostgREST writes the name's UTF-8 bytes as they are; a WSGI header carries
    bytes as latin-1 characters (PEP 3333).
    """
    return ("/" + name).encode("utf-8").decode("latin-1")


def apply_response_gucs(resp: Response, row: dict[str, Any]) -> None:
    """Honour response.headers and response.status set by SQL (A-RESP-HEADERS, A-RESP-STATUS)."""
    raw_headers = row.get("response_headers")
    if raw_headers:
        try:
            doc = json.loads(raw_headers)
            pairs = [_single_pair(item) for item in doc] if isinstance(doc, list) else None
        except ValueError:
            pairs = None
        if pairs is None:
            raise bad_response_headers()
        for name in {n.lower() for n, _ in pairs}:
            resp.headers.remove(name)  # case-insensitive, every occurrence
        for name, value in pairs:
            resp.headers.add(name, value)
    raw_status = row.get("response_status")
    if raw_status:
        digits = ""
        for ch in raw_status:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            raise bad_response_status()
        resp.status = status_line(int(digits))


def _single_pair(item: Any) -> tuple[str, str]:
    if isinstance(item, dict) and len(item) == 1:
        ((name, value),) = item.items()
        if isinstance(value, str):
            return name, value
    raise ValueError


def legacy_warnings(plan: ReadPlan) -> list[tuple[str, str]]:
    """EMB-LEGACY-NAME: the deprecation Warning for an aliased embed addressed by its relation name."""
    out = []
    for name, alias in plan.legacy_names:
        log.warning("Embedded resource %r was referenced by relation name even though it has the alias %r", name, alias)
        out.append(
            (
                "Warning",
                f'299 PostgRESTv{POSTGREST_VERSION} "Embedded resource was referenced by relation name '
                "even though it has an alias. This is deprecated and will stop working in a future release. "
                f'Update `{name}` to `{alias}` in query string filters, orders or limits."',
            )
        )
    return out


def empty(status: int) -> ApiResponse:
    """A response without a body or Content-Type; no Content-Length either (H-CT-ON-EMPTY)."""
    resp = ApiResponse(iter(()), status=status)
    del resp.headers["Content-Type"]
    return resp


def page_body(
    method: str, row: dict[str, Any], status: int, offset: int, total: int | None, verbosity: str
) -> bytes | Iterator[bytes]:
    """The body of a page of rows: the text PostgreSQL built, PGRST103 past the end (H-416-BODY).

    HEAD carries no body and, like PostgREST, no Content-Length: an empty iterator
    keeps werkzeug from computing one.
    """
    if status == 416:
        # PostgREST keeps the page's headers and swaps only the body.
        return offset_past_end(offset, total).body(verbosity)
    return iter(()) if method == "HEAD" else body_bytes(row["body"])


def body_bytes(body: str | bytes | None) -> bytes:
    """The body PostgreSQL built, as bytes: text is UTF-8; a bytea media type's body is already bytes."""
    if body is None:
        return b""
    return body if isinstance(body, bytes) else body.encode()
