"""response/headers.py: what every successful response shares, and the response GUCs SQL may set."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder

from pgwsgi.errors import ApiError
from pgwsgi.response.headers import (
    VARY,
    ApiResponse,
    apply_response_gucs,
    content_range,
    empty,
    header_path,
    legacy_warnings,
    range_status,
)
from tests.unit.snapshot import fields, planned

BAD_HEADERS = (
    500,
    "PGRST111",
    "response.headers guc must be a JSON array composed of objects with a single key and a string value",
    None,
    None,
)
BAD_STATUS = (500, "PGRST112", "response.status guc must be a valid status code", None, None)


def with_gucs(headers: str | None = None, status: str | None = None) -> ApiResponse:
    resp = ApiResponse(b"[]", status=200, content_type="application/json; charset=utf-8")
    resp.headers["Content-Range"] = "0-0/*"
    apply_response_gucs(resp, {"response_headers": headers, "response_status": status})
    return resp


def refused(headers: str | None = None, status: str | None = None) -> tuple[Any, ...]:
    with pytest.raises(ApiError) as info:
        with_gucs(headers, status)
    return fields(info.value)


def test_vary_names_the_headers_that_change_the_answer() -> None:
    assert VARY == "Accept, Prefer, Range"


@pytest.mark.parametrize(
    ("lower", "page_total", "total", "expected"),
    [
        (0, 2, None, "0-1/*"),
        (3, 2, None, "3-4/*"),
        (0, 5, 15, "0-4/15"),
        (0, 0, None, "*/*"),
        (0, 0, 0, "*/0"),
        (100, 0, 15, "*/15"),
        (0, 3, 0, "*/0"),
    ],
)
def test_content_range_is_first_last_over_total_with_stars(
    lower: int, page_total: int, total: int | None, expected: str
) -> None:
    assert content_range(lower, page_total, total) == expected


@pytest.mark.parametrize(
    ("lower", "page_total", "total", "status"),
    [
        (0, 5, None, 200),
        (0, 15, 15, 200),
        (0, 5, 15, 206),
        (15, 0, 15, 206),
        (16, 0, 15, 416),
        (0, 0, 0, 200),
        (1, 0, 0, 416),
    ],
)
def test_range_status_is_partial_for_a_page_and_416_past_the_end(
    lower: int, page_total: int, total: int | None, status: int
) -> None:
    assert range_status(lower, page_total, total) == status


def test_header_path_carries_the_names_utf8_bytes_as_latin1() -> None:
    assert header_path("items") == "/items"
    assert header_path("Weird Names") == "/Weird Names"
    assert header_path("é") == "/\u00c3\u00a9"


def test_content_location_is_sent_as_given_not_percent_encoded() -> None:
    resp = ApiResponse(b"", status=200)
    resp.headers["Content-Location"] = "/Weird Names?a=b c"
    environ = EnvironBuilder().get_environ()
    assert resp.get_wsgi_headers(environ)["Content-Location"] == "/Weird Names?a=b c"


def test_empty_has_no_body_content_type_or_length() -> None:
    resp = empty(204)
    assert resp.status_code == 204
    assert list(resp.headers.items()) == []
    assert resp.get_data() == b""


def test_response_headers_are_added() -> None:
    resp = with_gucs('[{"Cache-Control": "no-store"}, {"X-Extra": "1"}]')
    assert list(resp.headers.items()) == [
        ("Content-Type", "application/json; charset=utf-8"),
        ("Content-Length", "2"),
        ("Content-Range", "0-0/*"),
        ("Cache-Control", "no-store"),
        ("X-Extra", "1"),
    ]


def test_response_headers_replace_every_occurrence_of_the_same_name_case_insensitively() -> None:
    resp = with_gucs('[{"content-type": "text/plain"}, {"Content-Range": "*/*"}, {"X-A": "1"}, {"x-a": "2"}]')
    assert resp.headers.getlist("Content-Type") == ["text/plain"]
    assert resp.headers.getlist("Content-Range") == ["*/*"]
    assert resp.headers.getlist("X-A") == ["1", "2"]


def test_an_empty_array_sets_no_headers() -> None:
    assert list(with_gucs("[]").headers.items()) == list(with_gucs(None).headers.items())


@pytest.mark.parametrize(
    "value", ['{"not": "an array"}', '[{"a": 1}]', '[{"a": "1", "b": "2"}]', '["a"]', "[{}]", "not json"]
)
def test_a_malformed_response_headers_guc_is_pgrst111(value: str) -> None:
    assert refused(headers=value) == BAD_HEADERS


@pytest.mark.parametrize(
    ("value", "status"), [("202", "202 Accepted"), ("418", "418 I'm a teapot"), ("201 anything", "201 Created")]
)
def test_response_status_sets_the_status_with_postgrests_reason_phrase(value: str, status: str) -> None:
    assert with_gucs(status=value).status == status


@pytest.mark.parametrize("value", ["abc", " 200", "-1"])
def test_a_response_status_not_starting_with_digits_is_pgrst112(value: str) -> None:
    assert refused(status=value) == BAD_STATUS


def test_an_empty_response_status_changes_nothing() -> None:
    assert with_gucs(status="").status == "200 OK"


def test_legacy_names_get_a_deprecation_warning_header(caplog: pytest.LogCaptureFixture) -> None:
    _, plan = planned("/clients?select=id,p:projects(id)&projects.id=eq.1")
    with caplog.at_level(logging.WARNING, logger="pgwsgi"):
        warnings = legacy_warnings(plan.action)  # type: ignore[arg-type]
    assert len(warnings) == 1
    name, value = warnings[0]
    assert name == "Warning"
    assert value.startswith("299 PostgRESTv")
    assert value.endswith(
        '"Embedded resource was referenced by relation name even though it has an alias. This is deprecated and '
        'will stop working in a future release. Update `projects` to `p` in query string filters, orders or limits."'
    )
    assert "Embedded resource 'projects' was referenced by relation name" in caplog.text


def test_no_warning_without_legacy_names() -> None:
    _, plan = planned("/clients?select=id,p:projects(id)&p.id=eq.1")
    assert legacy_warnings(plan.action) == []  # type: ignore[arg-type]
