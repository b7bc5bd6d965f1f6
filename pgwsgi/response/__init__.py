"""The response stage: request, plan and transaction result -> the werkzeug Response PostgREST would send.

The body is the text PostgreSQL built; Python adds the status and headers
(Content-Range, Location, Preference-Applied, Content-Profile, the response
GUCs). `render` is the entry; one module per kind of plan.
"""

from __future__ import annotations

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Response

from pgwsgi.api.model import ApiRequest
from pgwsgi.db import TxResult
from pgwsgi.errors import status_line
from pgwsgi.plan.model import CallPlan, FunctionInfo, MutatePlan, Plan, ReadPlan, RelationInfo, RootInfo, RootPlan
from pgwsgi.response.call import render_call
from pgwsgi.response.headers import VARY
from pgwsgi.response.info import render_call_options, render_options, render_root_options
from pgwsgi.response.mutate import render_mutation
from pgwsgi.response.plan import render_plan
from pgwsgi.response.read import render_read
from pgwsgi.response.root import render_root

__all__ = ["VARY", "render"]

# werkzeug upper-cases its reason phrases (`201 CREATED`); PostgREST sends the standard
# wording (`201 Created`). A line set through response.status already has it.
_POSTGREST_LINES = {f"{code} {phrase.upper()}": status_line(code) for code, phrase in HTTP_STATUS_CODES.items()}


def render(req: ApiRequest, plan: Plan, result: TxResult, verbosity: str) -> Response:
    """The response to REQ, planned as PLAN, whose transaction gave RESULT."""
    resp = _render(req, plan, result, verbosity)
    phrased = _POSTGREST_LINES.get(resp.status)
    if phrased is not None:
        resp.status = phrased
    return resp


def _render(req: ApiRequest, plan: Plan, result: TxResult, verbosity: str) -> Response:
    action = plan.action
    if plan.explain is not None:
        return render_plan(req, plan, result.row["plan"])
    if isinstance(action, ReadPlan):
        return render_read(req, action, result.row, result.after, verbosity)
    if isinstance(action, MutatePlan):
        return render_mutation(req, action, result.row)
    if isinstance(action, CallPlan):
        return render_call(req, action, result.row, verbosity)
    if isinstance(action, RelationInfo):
        return render_options(action.relation)
    if isinstance(action, FunctionInfo):
        return render_call_options(action.function)
    if isinstance(action, RootPlan):
        return render_root(req, action, result.row)
    if isinstance(action, RootInfo):
        return render_root_options()
    raise TypeError(f"no response for {type(action).__name__}")
