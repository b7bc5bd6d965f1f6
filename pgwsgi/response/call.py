"""The response to /rpc/<name>: like a read of the result, but a void function answers 204."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from pgwsgi.api.model import ApiRequest
from pgwsgi.api.prefer import applied
from pgwsgi.plan.model import CallPlan
from pgwsgi.response.headers import ApiResponse, apply_response_gucs, content_range, empty, page_body, range_status


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
        resp = empty(204)
    else:
        body = page_body(req.method, row, status, read.offset, total, verbosity)
        resp = ApiResponse(body, status=status, content_type=read.content_type)
        if req.schema_negotiated:
            resp.headers["Content-Profile"] = req.schema
    for name, value in headers:
        resp.headers[name] = value
    apply_response_gucs(resp, row)
    return resp
