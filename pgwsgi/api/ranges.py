"""Paging: the Range header (Q-RANGE-HDR) combined with limit/offset, as PostgREST does it.

A range is (lower, upper) with an inclusive upper bound, None meaning unbounded;
it is empty when upper < lower. `limit=0` is the one empty range that is allowed
(PostgREST's "limit zero range", 0 <= x <= -1).
"""

from __future__ import annotations

import re

from pgwsgi.errors import range_not_satisfiable

Range = tuple[int, int | None]
ALL: Range = (0, None)
_HEADER = re.compile(r"^(\d+)-(\d*)$")


def is_empty(r: Range) -> bool:
    """True when no row index lies in R."""
    return r[1] is not None and r[1] < r[0]


def intersect(a: Range, b: Range) -> Range:
    """The rows in both A and B."""
    uppers = [u for u in (a[1], b[1]) if u is not None]
    return max(a[0], b[0]), (min(uppers) if uppers else None)


def header_range(header: str | None, method: str) -> Range:
    """The `Range: a-b` header on GET; malformed or another method means every row."""
    if method != "GET" or header is None:
        return ALL
    m = _HEADER.match(header.strip())
    if m is None:
        return ALL
    return int(m.group(1)), (int(m.group(2)) if m.group(2) else None)


def query_range(limit: int | None, offset: int | None) -> Range:
    """The range that `limit`/`offset` ask for."""
    lower = offset or 0
    return lower, (None if limit is None else lower + limit - 1)


def top_range(header: str | None, method: str, limit: int | None, offset: int | None) -> Range:
    """The requested rows of the top level, or 416 PGRST103 for an unsatisfiable request."""
    from_header = header_range(header, method)
    from_query = query_range(limit, offset)
    limit_zero = from_query == (0, -1)
    combined = from_query if limit_zero else intersect(from_header, from_query)
    if is_empty(combined) and not limit_zero:
        if is_empty(from_header):
            raise range_not_satisfiable(
                "The lower boundary must be lower than or equal to the upper boundary in the Range header."
            )
        raise range_not_satisfiable("Limit should be greater than or equal to zero.")
    return combined


def cap(r: Range, max_rows: int | None) -> Range:
    """R restricted to at most MAX_ROWS rows (db-max-rows); the limit-zero range stays as it is."""
    if max_rows is None or r == (0, -1):
        return r
    return intersect(r, (0, r[0] + max_rows - 1))


def limit_offset(r: Range) -> tuple[int | None, int]:
    """SQL LIMIT (None for no limit) and OFFSET of R."""
    return (None if r[1] is None else max(r[1] - r[0] + 1, 0)), r[0]
