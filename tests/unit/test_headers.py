"""Prefer, Accept, Range and media negotiation, parsed without a server."""

from __future__ import annotations

import pytest

from pgwsgi.api.media import parse_accept
from pgwsgi.api.model import Preferences
from pgwsgi.api.prefer import parse_prefer
from pgwsgi.api.ranges import cap, header_range, limit_offset, top_range
from pgwsgi.errors import ApiError
from pgwsgi.plan.negotiate import negotiate


def test_prefer_first_occurrence_per_category_wins_across_headers() -> None:
    p = parse_prefer(["return=minimal, count=exact", "return=representation, tx=rollback, nonsense"])
    assert p == Preferences(return_="minimal", count="exact", tx="rollback", invalid=("nonsense",))


def test_prefer_max_affected_needs_digits_and_timezone_is_kept() -> None:
    assert parse_prefer(["max-affected=5, timezone=America/Los_Angeles"]) == Preferences(
        max_affected=5, timezone="America/Los_Angeles"
    )
    assert parse_prefer(["max-affected=lots"]).max_affected is None


def test_accept_orders_by_quality_then_specificity() -> None:
    accept = parse_accept("text/*;q=0.5, application/json;q=0.9, application/vnd.pgrst.object+json")
    assert [m.essence for m in accept] == ["application/vnd.pgrst.object+json", "application/json", "text/*"]
    assert parse_accept(None)[0].essence == "*/*"
    assert parse_accept("")[0].essence == "*/*"


def test_accept_parameters_before_q_are_kept() -> None:
    (m,) = parse_accept("application/vnd.pgrst.object+json;nulls=stripped;q=0.8;ext=1")
    assert m.param("nulls") == "stripped" and m.quality == 0.8 and m.param("ext") is None


@pytest.mark.parametrize(
    ("accept", "media", "content_type"),
    [
        ("*/*", "json", "application/json; charset=utf-8"),
        ("application/vnd.pgrst.object", "object", "application/vnd.pgrst.object+json; charset=utf-8"),
        (
            "application/vnd.pgrst.object+json;nulls=stripped",
            "object-stripped",
            "application/vnd.pgrst.object+json;nulls=stripped; charset=utf-8",
        ),
        (
            "application/vnd.pgrst.array+json;nulls=stripped",
            "array-stripped",
            "application/vnd.pgrst.array+json;nulls=stripped; charset=utf-8",
        ),
        ("text/xml, text/csv", "csv", "text/csv; charset=utf-8"),
    ],
)
def test_negotiation_picks_the_first_available(accept: str, media: str, content_type: str) -> None:
    assert negotiate(parse_accept(accept)) == (media, content_type)


def test_negotiation_406_lists_every_entry() -> None:
    with pytest.raises(ApiError) as info:
        negotiate(parse_accept("text/xml, image/png;q=0.5"))
    assert (info.value.status, info.value.code) == (406, "PGRST107")
    assert info.value.message == "None of these media types are available: text/xml, image/png"


def test_range_header_only_on_get_and_malformed_ignored() -> None:
    assert header_range("2-5", "GET") == (2, 5)
    assert header_range("2-", "GET") == (2, None)
    assert header_range("2-5", "HEAD") == (0, None)
    assert header_range("items=2-5", "GET") == (0, None)


@pytest.mark.parametrize(
    ("header", "limit", "offset", "expected"),
    [
        (None, None, None, (0, None)),
        ("2-5", None, None, (2, 5)),
        (None, 3, 4, (4, 6)),
        ("0-9", 5, None, (0, 4)),
        ("0-9", None, 5, (5, 9)),
        (None, 0, None, (0, -1)),
    ],
)
def test_top_range_intersects_header_and_query(header, limit, offset, expected) -> None:  # noqa: ANN001
    assert top_range(header, "GET", limit, offset) == expected


@pytest.mark.parametrize(
    ("header", "limit", "offset", "details"),
    [
        (
            "5-2",
            None,
            None,
            "The lower boundary must be lower than or equal to the upper boundary in the Range header.",
        ),
        (None, 0, 5, "Limit should be greater than or equal to zero."),
        ("0-9", None, 20, "Limit should be greater than or equal to zero."),
    ],
)
def test_unsatisfiable_ranges_are_416(header, limit, offset, details) -> None:  # noqa: ANN001
    with pytest.raises(ApiError) as info:
        top_range(header, "GET", limit, offset)
    assert (info.value.status, info.value.code, info.value.details) == (416, "PGRST103", details)


def test_max_rows_caps_but_keeps_limit_zero() -> None:
    assert limit_offset(cap((5, None), 10)) == (10, 5)
    assert limit_offset(cap((5, 7), 10)) == (3, 5)
    assert limit_offset(cap((0, -1), 10)) == (0, 0)
    assert limit_offset(cap((0, None), None)) == (None, 0)
