"""`pgwsgi.response.render`: the response for each kind of plan, from the request, the plan and the result."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pgwsgi.db import TxResult
from pgwsgi.plan.model import Plan
from pgwsgi.response import VARY, render
from tests.unit.snapshot import planned, request, sent_headers


def row(page_total: int = 1, body: str | None = "[]", total: int | None = None, **kw: Any) -> dict[str, Any]:
    base = {"total": total, "page_total": page_total, "body": body, "response_headers": None, "response_status": None}
    base.update(kw)
    return base


def answer(
    url: str, result: TxResult, method: str = "GET", body: str | None = None, verbosity: str = "verbose", **headers: str
) -> Any:
    req, plan = planned(url, method, body=body, headers=headers)
    return render(req, plan, result, verbosity)


def test_vary_is_exported_for_the_app() -> None:
    assert VARY == "Accept, Prefer, Range"


def test_a_read_is_answered_with_its_page() -> None:
    resp = answer("/items?select=id", TxResult(row(1, '[{"id":1}]')))
    assert (resp.status_code, resp.headers["Content-Range"], resp.get_data()) == (200, "0-0/*", b'[{"id":1}]')
    assert resp.headers["Content-Location"] == "/items?select=id"


def test_a_read_uses_the_after_statements_explain_for_a_planned_count() -> None:
    resp = answer("/items", TxResult(row(1), [{"Plan": {"Plan Rows": 7}}]), Prefer="count=planned")
    assert (resp.status_code, resp.headers["Content-Range"]) == (206, "0-0/7")


def test_the_verbosity_reaches_the_416_body() -> None:
    resp = answer("/items?offset=20", TxResult(row(0, total=3)), verbosity="minimal", Prefer="count=exact")
    assert resp.status_code == 416
    assert json.loads(resp.get_data()) == {"code": "PGRST103", "message": "Requested range not satisfiable"}
    resp = answer("/rpc/ids?n=3&offset=20", TxResult(row(0, total=3)), verbosity="minimal", Prefer="count=exact")
    assert json.loads(resp.get_data()) == {"code": "PGRST103", "message": "Requested range not satisfiable"}


def test_a_write_is_answered_as_a_write() -> None:
    resp = answer("/items", TxResult({**row(1, None), "location": None, "inserted": None}), "POST", "{}")
    assert resp.status_code == 201
    assert sent_headers(resp) == [("Content-Length", "0"), ("Content-Range", "*/*")]


def test_a_call_is_answered_as_a_call() -> None:
    resp = answer("/rpc/reset", TxResult(row(1, "null")), "POST", "{}")
    assert resp.status_code == 204


def test_a_signed_token_replaces_the_body() -> None:
    result = TxResult(row(1, '{"role":"u"}')).with_body('"header.payload.signature"')
    resp = answer("/rpc/noargs", result)
    assert resp.get_data() == b'"header.payload.signature"'


@pytest.mark.parametrize(
    ("url", "allow"), [("/items", "OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE"), ("/rpc/reset", "OPTIONS,POST")]
)
def test_options_are_answered_from_the_catalog_without_a_result(url: str, allow: str) -> None:
    resp = answer(url, TxResult({}), "OPTIONS")
    assert (resp.status_code, resp.headers["Allow"]) == (200, allow)


def test_a_plan_without_a_response_is_a_type_error() -> None:
    class Unknown:
        pass

    with pytest.raises(TypeError, match="no response for Unknown"):
        render(request("/"), Plan(Unknown(), None), TxResult({}), "verbose")  # type: ignore[arg-type]


def test_success_status_lines_have_postgrests_reason_phrases() -> None:
    # werkzeug would send `206 PARTIAL CONTENT`; PostgREST (warp) sends the standard wording.
    page = answer("/items", TxResult(row(5, total=15)), Range="0-4", Prefer="count=exact")
    assert page.status == "206 Partial Content"
    created = answer("/items", TxResult({**row(1, None), "location": None, "inserted": None}), "POST", "{}")
    assert created.status == "201 Created"
    assert answer("/rpc/reset", TxResult(row(1, "null")), "POST", "{}").status == "204 No Content"
    assert answer("/items", TxResult(row(1)), "OPTIONS").status == "200 OK"


def test_a_status_set_by_response_status_keeps_its_wording() -> None:
    resp = answer("/items", TxResult(row(1, response_status="418")))
    assert resp.status == "418 I'm a teapot"
