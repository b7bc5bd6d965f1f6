"""The response to POST, PATCH, PUT and DELETE: status, Location, Content-Range, the representation."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from werkzeug.wrappers import Response

from pgwsgi.api.model import ApiRequest
from pgwsgi.api.prefer import applied
from pgwsgi.plan.model import MutatePlan
from pgwsgi.response.headers import ApiResponse, apply_response_gucs, body_bytes, content_range, empty, header_path


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
        resp = ApiResponse(body_bytes(row["body"]), status=status, content_type=plan.content_type)
        if req.schema_negotiated:
            resp.headers["Content-Profile"] = req.schema
    else:
        if plan.kind == "put":
            status = 204
        if status == 204:
            # No Content-Length either (H-CT-ON-EMPTY), even where response.status makes it another status.
            resp = empty(204)
        else:
            resp = ApiResponse(b"", status=status)
            del resp.headers["Content-Type"]
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
