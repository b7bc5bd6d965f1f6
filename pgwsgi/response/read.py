"""The response to GET and HEAD on a relation: status and Content-Range from the page and the count."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from pgwsgi.api.model import ApiRequest
from pgwsgi.api.prefer import applied
from pgwsgi.plan.model import ReadPlan
from pgwsgi.response.headers import (
    VARY,
    ApiResponse,
    apply_response_gucs,
    content_range,
    header_path,
    legacy_warnings,
    page_body,
    range_status,
)


def total_count(plan: ReadPlan, row: dict[str, Any], explain: Any) -> int | None:
    """The total for Content-Range: counted, or the planner's estimate (H-PREFER-COUNT)."""
    total = row["total"]
    planned = _plan_rows(explain)
    if plan.count == "planned":
        return planned
    # Without db-max-rows PostgREST's comparison (`Just total > Nothing`) always holds, so the
    # larger of the count and the estimate answers: a HEAD can be 206 for that reason alone.
    if plan.count == "estimated" and total is not None and (plan.max_rows is None or total > plan.max_rows):
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
    body = page_body(req.method, row, status, plan.offset, total, verbosity)
    resp = ApiResponse(body, status=status, content_type=plan.content_type)
    for name, value in headers:
        resp.headers[name] = value
    apply_response_gucs(resp, row)
    return resp


def _content_location(req: ApiRequest) -> str:
    path = header_path(req.name)
    return f"{path}?{req.query.canonical}" if req.query.canonical else path
