"""response/read.py: GET and HEAD on a relation: status, Content-Range and headers from the page and the count."""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug.wrappers import Response

from pgwsgi.config import Config
from pgwsgi.errors import ApiError
from pgwsgi.plan.model import ReadPlan
from pgwsgi.response.read import render_read, total_count
from tests.unit.snapshot import CONFIG, fields, planned, sent_headers

JSON = "application/json; charset=utf-8"


def row(page_total: int = 0, body: str | None = "[]", total: int | None = None, **gucs: str) -> dict[str, Any]:
    return {
        "total": total,
        "page_total": page_total,
        "body": body,
        "response_headers": gucs.get("headers"),
        "response_status": gucs.get("status"),
    }


def answer(
    url: str,
    result: dict[str, Any],
    method: str = "GET",
    explain: Any = None,
    config: Config = CONFIG,
    verbosity: str = "verbose",
    **headers: str,
) -> Response:
    req, plan = planned(url, method, headers=headers, config=config)
    assert isinstance(plan.action, ReadPlan)
    return render_read(req, plan.action, result, explain, verbosity)


def read_plan(url: str, config: Config = CONFIG, **headers: str) -> ReadPlan:
    _, plan = planned(url, headers=headers, config=config)
    assert isinstance(plan.action, ReadPlan)
    return plan.action


def test_a_page_is_200_with_its_range_location_and_vary() -> None:
    resp = answer("/items?select=id&id=lt.3&order=id", row(2, '[{"id":1},{"id":2}]'))
    assert resp.status == "200 OK"
    assert list(resp.headers.items()) == [
        ("Content-Type", JSON),
        ("Content-Length", "19"),
        ("Content-Range", "0-1/*"),
        ("Content-Location", "/items?id=lt.3&order=id&select=id"),
        ("Vary", "Accept, Prefer, Range"),
    ]
    assert resp.get_data() == b'[{"id":1},{"id":2}]'


def test_an_empty_result_is_the_empty_page() -> None:
    resp = answer("/items?id=gt.1000", row(0, "[]"))
    assert (resp.status_code, resp.headers["Content-Range"], resp.get_data()) == (200, "*/*", b"[]")


def test_a_missing_body_is_empty() -> None:
    assert answer("/items", row(0, None)).get_data() == b""


def test_content_location_without_a_query_is_the_path() -> None:
    assert answer("/items", row()).headers["Content-Location"] == "/items"


def test_an_offset_page_starts_its_range_there() -> None:
    resp = answer("/items?limit=2&offset=3", row(2))
    assert (resp.status_code, resp.headers["Content-Range"]) == (200, "3-4/*")


def test_a_counted_partial_page_is_206() -> None:
    resp = answer("/items", row(5, total=15), Range="0-4", Prefer="count=exact")
    assert (resp.status_code, resp.headers["Content-Range"]) == (206, "0-4/15")
    assert resp.headers["Preference-Applied"] == "count=exact"


def test_a_counted_whole_result_is_200() -> None:
    resp = answer("/items?id=lt.4", row(3, total=3), Prefer="count=exact")
    assert (resp.status_code, resp.headers["Content-Range"]) == (200, "0-2/3")


def test_an_offset_past_the_end_is_416_with_the_pgrst103_body_and_the_read_headers() -> None:
    resp = answer("/items?offset=100", row(0, "[]", total=15), Prefer="count=exact")
    assert resp.status_code == 416
    assert resp.headers["Content-Range"] == "*/15"
    assert resp.headers["Content-Type"] == JSON
    assert resp.headers["Preference-Applied"] == "count=exact"
    assert json.loads(resp.get_data()) == {
        "code": "PGRST103",
        "message": "Requested range not satisfiable",
        "details": "An offset of 100 was requested, but there are only 15 rows.",
        "hint": None,
    }


def test_the_416_body_follows_the_error_verbosity() -> None:
    resp = answer("/items?offset=100", row(0, total=15), verbosity="minimal", Prefer="count=exact")
    assert json.loads(resp.get_data()) == {"code": "PGRST103", "message": "Requested range not satisfiable"}


def test_head_sends_the_headers_without_a_body_or_length() -> None:
    resp = answer("/items", row(5, None), "HEAD")
    assert sent_headers(resp) == [
        ("Content-Type", JSON),
        ("Content-Range", "0-4/*"),
        ("Content-Location", "/items"),
        ("Vary", "Accept, Prefer, Range"),
    ]
    assert (resp.status_code, resp.get_data()) == (200, b"")


def test_the_content_type_is_the_negotiated_one() -> None:
    resp = answer("/items", row(1, "id\n1"), Accept="text/csv")
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    resp = answer("/items", row(1, "{}"), Accept="application/vnd.pgrst.object+json;nulls=stripped")
    assert resp.headers["Content-Type"] == "application/vnd.pgrst.object+json;nulls=stripped; charset=utf-8"


def test_content_profile_is_sent_when_the_schema_was_negotiated() -> None:
    config = Config(db_schemas=("api", "other"))
    assert answer("/items", row(), config=config).headers["Content-Profile"] == "api"
    assert "Content-Profile" not in answer("/items", row()).headers


def test_preference_applied_lists_count_handling_and_timezone() -> None:
    resp = answer("/items", row(1, total=1), Prefer="handling=lenient, foo=bar, count=exact, timezone=UTC")
    assert resp.headers["Preference-Applied"] == "count=exact, handling=lenient, timezone=UTC"


def test_preferences_that_do_not_apply_to_reads_are_not_listed() -> None:
    resp = answer("/items", row(), Prefer="return=representation, resolution=merge-duplicates, missing=default")
    assert "Preference-Applied" not in resp.headers


def test_a_legacy_embed_name_adds_a_warning() -> None:
    resp = answer("/clients?select=id,p:projects(id)&projects.id=eq.1", row())
    assert resp.headers["Warning"].startswith("299 PostgRESTv")


def test_the_response_gucs_override_status_and_headers() -> None:
    resp = answer("/items", row(1, headers='[{"Content-Type": "text/plain"}, {"X-A": "1"}]', status="202"))
    assert resp.status == "202 Accepted"
    assert resp.headers.getlist("Content-Type") == ["text/plain"]
    assert resp.headers["X-A"] == "1"


def test_a_bad_response_guc_fails_the_read() -> None:
    with pytest.raises(ApiError) as info:
        answer("/items", row(1, status="abc"))
    assert fields(info.value) == (500, "PGRST112", "response.status guc must be a valid status code", None, None)


def test_a_planned_count_is_the_planners_estimate() -> None:
    explain = [{"Plan": {"Plan Rows": 42}}]
    resp = answer("/items", row(1), explain=explain, Prefer="count=planned")
    assert (resp.status_code, resp.headers["Content-Range"]) == (206, "0-0/42")
    assert total_count(read_plan("/items", Prefer="count=planned"), row(1), None) is None


def test_an_estimated_count_past_max_rows_takes_the_larger_of_count_and_estimate() -> None:
    config = Config(db_schemas=("api",), db_max_rows=10)
    plan = read_plan("/items", config, Prefer="count=estimated")
    explain = [{"Plan": {"Plan Rows": 1000}}]
    assert total_count(plan, row(10, total=11), explain) == 1000
    assert total_count(plan, row(10, total=11), [{"Plan": {"Plan Rows": 5}}]) == 11
    assert total_count(plan, row(10, total=11), None) == 11
    assert total_count(plan, row(3, total=3), explain) == 3


def test_an_exact_count_ignores_any_explain() -> None:
    plan = read_plan("/items", Prefer="count=exact")
    assert total_count(plan, row(3, total=3), [{"Plan": {"Plan Rows": 1000}}]) == 3
