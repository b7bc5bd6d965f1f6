"""pgwsgi.api.ranges: the Range header combined with limit/offset (Q-RANGE-HDR, Q-RANGE-COMBINE)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgwsgi.api.ranges import (
    ALL,
    cap,
    header_range,
    intersect,
    is_empty,
    limit_offset,
    query_range,
    top_range,
)
from pgwsgi.errors import ApiError


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


# -- building blocks ------------------------------------------------------------------------------


def test_all_is_every_row():
    assert ALL == (0, None)


@pytest.mark.parametrize(
    ("r", "empty"), [((0, None), False), ((2, 2), False), ((3, 2), True), ((0, -1), True), ((5, None), False)]
)
def test_is_empty_when_upper_is_below_lower(r, empty):
    assert is_empty(r) is empty


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((0, None), (0, None), (0, None)),
        ((2, None), (0, 9), (2, 9)),
        ((0, 4), (3, None), (3, 4)),
        ((0, 4), (2, 8), (2, 4)),
        ((0, 4), (10, None), (10, 4)),
    ],
)
def test_intersect_takes_the_higher_lower_and_the_lower_upper(a, b, expected):
    assert intersect(a, b) == expected
    assert intersect(b, a) == expected


@pytest.mark.parametrize("header", [None, "", "-5", "a-b", "1-2-3", "bytes=0-1", " 1 - 2"])
def test_malformed_range_headers_mean_every_row(header):
    assert header_range(header, "GET") == ALL


def test_range_header_is_stripped_and_upper_bound_is_optional():
    assert header_range(" 1-2 ", "GET") == (1, 2)
    assert header_range("10-", "GET") == (10, None)
    assert header_range("3-1", "GET") == (3, 1)


@pytest.mark.parametrize("method", ["HEAD", "POST", "PATCH", "DELETE", "get"])
def test_range_header_is_ignored_except_on_get(method):
    assert header_range("2-5", method) == ALL


@pytest.mark.parametrize(
    ("limit", "offset", "expected"),
    [
        (None, None, (0, None)),
        (10, 5, (5, 14)),
        (0, None, (0, -1)),
        (None, 3, (3, None)),
        (0, 5, (5, 4)),
        (1, None, (0, 0)),
    ],
)
def test_query_range_from_limit_and_offset(limit, offset, expected):
    assert query_range(limit, offset) == expected


# -- top_range -----------------------------------------------------------------------------------


def test_head_ignores_the_range_header_but_not_limit_and_offset():
    assert top_range("0-1", "HEAD", 3, 2) == (2, 4)


def test_limit_zero_wins_over_a_range_header():
    assert top_range("2-5", "GET", 0, None) == (0, -1)


def test_negative_offset_alone_is_ignored():
    assert top_range(None, "GET", None, -1) == ALL


def test_reversed_range_header_is_416_even_with_a_valid_limit():
    with pytest.raises(ApiError) as info:
        top_range("5-2", "GET", 10, None)
    err = info.value
    assert (err.status, err.code, err.message, err.details, err.hint) == (
        416,
        "PGRST103",
        "Requested range not satisfiable",
        "The lower boundary must be lower than or equal to the upper boundary in the Range header.",
        None,
    )


def test_range_header_not_overlapping_the_offset_is_416():
    with pytest.raises(ApiError) as info:
        top_range("0-4", "GET", None, 10)
    err = info.value
    assert (err.status, err.code, err.message, err.details) == (
        416,
        "PGRST103",
        "Requested range not satisfiable",
        "Limit should be greater than or equal to zero.",
    )


def test_reversed_range_header_is_ignored_on_head():
    assert top_range("5-2", "HEAD", None, None) == ALL


# -- cap and limit_offset -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("r", "max_rows", "expected"),
    [
        ((0, None), None, (0, None)),
        ((0, None), 10, (0, 9)),
        ((5, None), 10, (5, 14)),
        ((5, 7), 10, (5, 7)),
        ((0, -1), 10, (0, -1)),
        ((0, 99), 1, (0, 0)),
    ],
)
def test_cap_keeps_at_most_max_rows(r, max_rows, expected):
    assert cap(r, max_rows) == expected


@pytest.mark.parametrize(
    ("r", "expected"),
    [((0, None), (None, 0)), ((5, 14), (10, 5)), ((3, 3), (1, 3)), ((5, 4), (0, 5)), ((3, 1), (0, 3))],
)
def test_limit_offset_of_a_range(r, expected):
    assert limit_offset(r) == expected


@given(
    st.integers(0, 1000),
    st.none() | st.integers(0, 1000),
    st.integers(1, 1000),
)
def test_capped_ranges_never_hold_more_than_max_rows(lower, length, max_rows):
    upper = None if length is None else lower + length - 1
    limit, offset = limit_offset(cap((lower, upper), max_rows))
    assert offset == lower
    assert limit is not None and 0 <= limit <= max_rows
    if upper is not None:
        assert limit <= length
