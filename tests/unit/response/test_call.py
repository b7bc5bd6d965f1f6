"""response/call.py: /rpc/<name> answered like a read of the result; a void function answers 204."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

from pgwsgi.config import Config
from pgwsgi.plan.model import CallPlan
from pgwsgi.response.call import render_call
from tests.unit.snapshot import CONFIG, planned, sent_headers

JSON = "application/json; charset=utf-8"


def row(page_total: int = 1, body: str | None = None, total: int | None = None, **kw: Any) -> dict[str, Any]:
    base = {"total": total, "page_total": page_total, "body": body, "response_headers": None, "response_status": None}
    base.update(kw)
    return base


def answer(
    url: str,
    result: dict[str, Any],
    method: str = "GET",
    body: str | None = None,
    config: Config = CONFIG,
    verbosity: str = "verbose",
    **headers: str,
) -> Response:
    req, plan = planned(url, method, body=body, headers=headers, config=config)
    assert isinstance(plan.action, CallPlan)
    return render_call(req, plan.action, result, verbosity)


def test_a_scalar_result_is_200_with_the_value() -> None:
    resp = answer("/rpc/add?a=3&b=4", row(1, "7"))
    assert resp.status_code == 200
    assert sent_headers(resp) == [("Content-Type", JSON), ("Content-Length", "1"), ("Content-Range", "0-0/*")]
    assert resp.get_data() == b"7"


def test_an_exact_count_of_a_single_result_is_one() -> None:
    resp = answer("/rpc/add?a=3&b=4", row(1, "7", total=1), Prefer="count=exact")
    assert (resp.status_code, resp.headers["Content-Range"]) == (200, "0-0/1")
    assert resp.headers["Preference-Applied"] == "count=exact"


def test_a_counted_page_of_a_set_is_206() -> None:
    resp = answer("/rpc/ids?n=5&limit=2", row(2, "[1,2]", total=5), Prefer="count=exact")
    assert (resp.status_code, resp.headers["Content-Range"]) == (206, "0-1/5")


def test_an_offset_page_of_a_set_starts_there() -> None:
    resp = answer("/rpc/projects_of?client=1&limit=1&offset=1", row(1, "[]", total=4), Prefer="count=exact")
    assert (resp.status_code, resp.headers["Content-Range"]) == (206, "1-1/4")


def test_an_empty_set_has_an_empty_range() -> None:
    resp = answer("/rpc/ids?n=0", row(0, "[]"))
    assert (resp.status_code, resp.headers["Content-Range"], resp.get_data()) == (200, "*/*", b"[]")


def test_an_offset_past_the_end_of_a_counted_set_is_416_pgrst103() -> None:
    resp = answer("/rpc/ids?n=5&offset=10", row(0, "[]", total=5), Prefer="count=exact")
    assert resp.status_code == 416
    assert resp.headers["Content-Range"] == "*/5"
    assert json.loads(resp.get_data()) == {
        "code": "PGRST103",
        "message": "Requested range not satisfiable",
        "details": "An offset of 10 was requested, but there are only 5 rows.",
        "hint": None,
    }
    minimal = answer("/rpc/ids?n=5&offset=10", row(0, "[]", total=5), verbosity="minimal", Prefer="count=exact")
    assert json.loads(minimal.get_data()) == {"code": "PGRST103", "message": "Requested range not satisfiable"}


def test_head_keeps_the_headers_and_drops_the_body() -> None:
    resp = answer("/rpc/ids?n=4", row(4, "[1,2,3,4]", total=4), "HEAD", Prefer="count=exact")
    assert sent_headers(resp) == [
        ("Content-Type", JSON),
        ("Content-Range", "0-3/4"),
        ("Preference-Applied", "count=exact"),
    ]
    assert (resp.status_code, resp.get_data()) == (200, b"")


def test_a_void_function_is_204_without_body_type_or_length() -> None:
    resp = answer("/rpc/reset", row(1, "null"), "POST", "{}")
    assert resp.status_code == 204
    assert sent_headers(resp) == [("Content-Range", "0-0/*")]
    assert resp.get_data() == b""


def test_a_void_function_is_204_for_get_too_with_its_preferences() -> None:
    resp = answer("/rpc/reset", row(1, "null"), Prefer="count=exact")
    assert resp.status_code == 204
    assert resp.headers["Preference-Applied"] == "count=exact"


def test_max_affected_is_applied_with_strict_handling() -> None:
    resp = answer("/rpc/ids?n=5", row(1, "[1]"), Prefer="handling=strict, max-affected=3")
    assert resp.headers["Preference-Applied"] == "handling=strict, max-affected=3"


def test_the_content_type_is_the_negotiated_one() -> None:
    resp = answer("/rpc/projects_of?client=1", row(1, "id\n1"), Accept="text/csv")
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_content_profile_is_sent_when_the_schema_was_negotiated() -> None:
    config = Config(db_schemas=("api", "other"))
    assert answer("/rpc/first_client", row(1, "{}"), config=config).headers["Content-Profile"] == "api"
    assert "Content-Profile" not in answer("/rpc/first_client", row(1, "{}")).headers


def test_the_response_gucs_apply_even_to_a_void_function() -> None:
    resp = answer(
        "/rpc/reset", row(1, "null", response_status="201", response_headers='[{"X-Done": "1"}]'), "POST", "{}"
    )
    assert resp.status == "201 Created"
    assert resp.headers["X-Done"] == "1"
