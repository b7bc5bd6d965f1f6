"""Result + request -> werkzeug Response: status, PostgREST's headers, the body as PostgreSQL built it."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, urlencode

from werkzeug.wrappers import Response

from pgwsgi.api.model import ApiRequest
from pgwsgi.api.prefer import applied
from pgwsgi.catalog.model import CatalogSnapshot, Relation
from pgwsgi.errors import JSON_CT, ApiError
from pgwsgi.plan.call import CallPlan, resolve_function
from pgwsgi.plan.model import ReadPlan
from pgwsgi.plan.mutate import MutatePlan
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


def singular_error(rows: int) -> ApiError:
    """PGRST116: a singular response (T-SINGULAR) that is not exactly one row."""
    return ApiError(
        406, "PGRST116", "Cannot coerce the result to a single JSON object", f"The result contains {rows} rows"
    )


def check_singular(plan: ReadPlan) -> Any:
    """A row check that rejects a singular response of other than one row (PGRST116)."""

    def check(row: dict[str, Any]) -> None:
        if plan.media in ("object", "object-stripped") and row["page_total"] != 1:
            raise singular_error(row["page_total"])

    return check


def total_count(plan: ReadPlan, row: dict[str, Any], explain: Any) -> int | None:
    """The total for Content-Range: counted, or the planner's estimate (H-PREFER-COUNT)."""
    total = row["total"]
    planned = _plan_rows(explain)
    if plan.count == "planned":
        return planned
    if plan.count == "estimated" and total is not None and plan.max_rows is not None and total > plan.max_rows:
        return max(total, planned) if planned is not None else total
    return total


def _plan_rows(explain: Any) -> int | None:
    try:
        return int(explain[0]["Plan"]["Plan Rows"])
    except (TypeError, LookupError, ValueError):
        return None


def render_read(
    req: ApiRequest, plan: ReadPlan, row: dict[str, Any], explain: Any = None, verbosity: str = "verbose"
) -> Response:
    """The response to GET/HEAD on a relation; EXPLAIN is the count query's plan, if one was asked for."""
    total = total_count(plan, row, explain)
    page_total = row["page_total"]
    status = range_status(plan.offset, page_total, total)
    headers = [
        ("Content-Range", content_range(plan.offset, page_total, total)),
        ("Content-Location", _content_location(req)),
        ("Vary", VARY),
    ]
    if req.schema_negotiated:
        headers.append(("Content-Profile", req.schema))
    prefs_applied = applied(req.preferences)
    if prefs_applied:
        headers.append(("Preference-Applied", prefs_applied))
    headers.extend(legacy_warnings(plan))
    # HEAD carries no body and, like PostgREST, no Content-Length: an empty iterator
    # keeps werkzeug from computing one.
    body: bytes | Iterator[bytes] = iter(()) if req.method == "HEAD" else (row["body"] or "").encode()
    if status == 416:
        # Past the end (H-416-BODY): PostgREST keeps the read's headers and swaps only the body.
        details = f"An offset of {plan.offset} was requested, but there are only {total} rows."
        body = ApiError(416, "PGRST103", "Requested range not satisfiable", details).body(verbosity)
    resp = ApiResponse(body, status=status, content_type=plan.content_type)
    for name, value in headers:
        resp.headers[name] = value
    apply_response_gucs(resp, row)
    return resp


def header_path(name: str) -> str:
    """`/<name>` for a Location-like header.

    PostgREST writes the name's UTF-8 bytes as they are; a WSGI header carries
    bytes as latin-1 characters (PEP 3333).
    """
    return ("/" + name).encode("utf-8").decode("latin-1")


def _content_location(req: ApiRequest) -> str:
    path = header_path(req.name)
    return f"{path}?{req.query.canonical}" if req.query.canonical else path


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
            raise ApiError(
                500,
                "PGRST111",
                "response.headers guc must be a JSON array composed of objects with a single key and a string value",
            )
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
            raise ApiError(500, "PGRST112", "response.status guc must be a valid status code")
        resp.status = _status_line(int(digits))


def _single_pair(item: Any) -> tuple[str, str]:
    if isinstance(item, dict) and len(item) == 1:
        ((name, value),) = item.items()
        if isinstance(value, str):
            return name, value
    raise ValueError


# Reason phrases where Python's wording differs from the one PostgREST sends.
_PHRASES = {418: "I'm a teapot"}


def _status_line(code: int, text: str | None = None) -> str:
    if text is None:
        try:
            text = _PHRASES.get(code) or HTTPStatus(code).phrase
        except ValueError:
            text = ""
    return f"{code} {text}".rstrip() if text else f"{code} "


def render_error(err: ApiError, verbosity: str, head: bool = False) -> Response:
    """The one error renderer: JSON body, status, Proxy-Status and the error's own headers."""
    body = b"" if head else err.body(verbosity)
    resp = Response(body, content_type=JSON_CT)
    resp.status = _status_line(err.status, err.status_text)
    resp.headers["Proxy-Status"] = f"PostgREST; error={err.code}"
    for name, value in err.headers:
        resp.headers[name] = value
    return resp


def render_options(rel: Relation) -> Response:
    """OPTIONS on a relation: the methods it supports (T-ALLOW)."""
    methods = ["OPTIONS", "GET", "HEAD"]
    if rel.insertable:
        methods.append("POST")
    if rel.insertable and rel.updatable and rel.primary_key:
        methods.append("PUT")
    if rel.updatable:
        methods.append("PATCH")
    if rel.deletable:
        methods.append("DELETE")
    resp = Response(b"", status=200)
    del resp.headers["Content-Type"]
    resp.headers["Allow"] = ",".join(methods)
    resp.headers["Content-Length"] = "0"
    # PostgREST answers OPTIONS with this header whether or not the request is a CORS one.
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


def check_mutation(plan: MutatePlan) -> Any:
    """The checks a write's result must pass before it commits: singular, max-affected, PUT's one row."""

    def check(row: dict[str, Any]) -> None:
        n = row["page_total"]
        if plan.media in ("object", "object-stripped") and n != 1:
            raise singular_error(n)
        if plan.max_affected is not None and n > plan.max_affected:
            raise ApiError(
                400,
                "PGRST124",
                "Query result exceeds max-affected preference constraint",
                f"The query affects {n} rows",
            )
        if plan.kind == "put" and n != 1:
            raise ApiError(400, "PGRST115", "Payload values do not match URL in primary key column(s)")

    return check


def render_mutation(req: ApiRequest, plan: MutatePlan, row: dict[str, Any]) -> Response:
    """The response to POST, PATCH, PUT or DELETE (§4.4)."""
    n = row["page_total"]
    total = n if plan.count else None
    headers: list[tuple[str, str]] = []
    status = 204
    if plan.kind == "insert":
        inserted = row.get("inserted")
        status = 200 if plan.resolution == "merge-duplicates" and (inserted or 0) <= 0 else 201
        if row.get("location"):
            headers.append(("Location", _location(plan, row["location"])))
        headers.append(("Content-Range", content_range(1, 0, total)))
    elif plan.kind == "update":
        headers.append(("Content-Range", content_range(0, n, total)))
    elif plan.kind == "delete":
        headers.append(("Content-Range", content_range(1, 0, total)))
    prefs = applied(
        req.preferences,
        resolution=plan.kind == "insert" and plan.resolution is not None,
        missing=plan.kind in ("insert", "update"),
        return_=True,
        max_affected=plan.kind in ("update", "delete"),
    )
    if prefs:
        headers.append(("Preference-Applied", prefs))
    if plan.representation:
        if plan.kind == "put":
            status = 201 if (row.get("inserted") or 0) > 0 else 200
        elif plan.kind != "insert":
            status = 200
        resp = ApiResponse((row["body"] or "").encode(), status=status, content_type=plan.content_type)
        if req.schema_negotiated:
            resp.headers["Content-Profile"] = req.schema
    else:
        if plan.kind == "put":
            status = 204
        resp = ApiResponse(b"", status=status)
        del resp.headers["Content-Type"]
        if status == 204:
            # A 204 carries no Content-Length (H-CT-ON-EMPTY); an empty iterator keeps werkzeug from adding one.
            resp.response = iter(())
    for name, value in headers:
        resp.headers[name] = value
    apply_response_gucs(resp, row)
    return resp


def _location(plan: MutatePlan, doc: str) -> str:
    """`/<table>?pk=eq.v&...` for the row a headers-only POST created (H-LOCATION)."""
    values = json.loads(doc)
    pairs = [(k, "is.null" if values.get(k) is None else f"eq.{values[k]}") for k in plan.location_keys]
    path = header_path(plan.relation.name)
    return path + "?" + urlencode(pairs, quote_via=quote)


def body_too_large(size: int | None, limit: int) -> ApiError:
    """413 for a body past server-max-body-size, answered before anything is written."""
    got = f"The request body has {size} bytes" if size is not None else "The request body is larger than that"
    return ApiError(413, "PGRST102", "Request body too large", f"{got}; server-max-body-size allows {limit} bytes.")


def check_call(plan: CallPlan) -> Any:
    """A call's result checks before commit: singular, and max-affected with handling=strict (PGRST124)."""
    singular = check_singular(plan.read)

    def check(row: dict[str, Any]) -> None:
        singular(row)
        if plan.max_affected is not None and row["page_total"] > plan.max_affected:
            raise ApiError(
                400,
                "PGRST124",
                "Query result exceeds max-affected preference constraint",
                f"The query affects {row['page_total']} rows",
            )

    return check


def render_call(req: ApiRequest, plan: CallPlan, row: dict[str, Any], verbosity: str = "verbose") -> Response:
    """The response to /rpc/<name> (R-RET-*): like a read, but a void function answers 204."""
    read = plan.read
    total = row["total"]
    page_total = row["page_total"]
    status = range_status(read.offset, page_total, total)
    headers = [("Content-Range", content_range(read.offset, page_total, total))]
    prefs = applied(req.preferences, max_affected=True)
    if prefs:
        headers.append(("Preference-Applied", prefs))
    if plan.shape == "void":
        resp = ApiResponse(iter(()), status=204)
        del resp.headers["Content-Type"]
    else:
        body: bytes | Iterator[bytes] = iter(()) if req.method == "HEAD" else (row["body"] or "").encode()
        if status == 416:
            details = f"An offset of {read.offset} was requested, but there are only {total} rows."
            body = ApiError(416, "PGRST103", "Requested range not satisfiable", details).body(verbosity)
        resp = ApiResponse(body, status=status, content_type=read.content_type)
        if req.schema_negotiated:
            resp.headers["Content-Profile"] = req.schema
    for name, value in headers:
        resp.headers[name] = value
    apply_response_gucs(resp, row)
    return resp


def render_call_options(req: ApiRequest, snapshot: CatalogSnapshot) -> Response:
    """OPTIONS on /rpc/<name>: the function as called without arguments; POST only if VOLATILE (R-METHODS)."""
    fn = resolve_function(req, snapshot, snapshot.functions.get((req.schema, req.name), ()), ())
    volatile = fn.volatility == "v"
    resp = ApiResponse(b"", status=200)
    del resp.headers["Content-Type"]
    resp.headers["Allow"] = "OPTIONS,POST" if volatile else "OPTIONS,GET,HEAD,POST"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


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
