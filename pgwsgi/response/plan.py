"""The response to a request for its execution plan (M-PLAN): 200 with EXPLAIN's output.

As PostgREST's `DbPlanResult`: only Content-Type, Content-Length and
Content-Profile (and a read's legacy-name Warning, which PostgREST adds to any
answer); no Content-Range, Location or Preference-Applied, and no response GUCs
(the statement was explained, not answered).
"""

from __future__ import annotations

from werkzeug.wrappers import Response

from pgwsgi.api.model import ApiRequest
from pgwsgi.plan.model import CallPlan, MutatePlan, Plan, ReadPlan
from pgwsgi.response.headers import ApiResponse, legacy_warnings


def render_plan(req: ApiRequest, plan: Plan, output: bytes) -> Response:
    """EXPLAIN's OUTPUT as the body, with the plan media type as Content-Type.

    HEAD gets the same headers, Content-Length included, and no body.
    """
    action = plan.action
    explained = action.read if isinstance(action, CallPlan) else action
    if not isinstance(explained, ReadPlan | MutatePlan):
        raise TypeError(f"no execution plan for {type(action).__name__}")
    resp = ApiResponse(output, status=200, content_type=explained.content_type)
    resp.headers["Content-Length"] = str(len(output))
    if req.schema_negotiated:
        resp.headers["Content-Profile"] = req.schema
    if isinstance(explained, ReadPlan):
        for name, value in legacy_warnings(explained):
            resp.headers.add(name, value)
    return resp
