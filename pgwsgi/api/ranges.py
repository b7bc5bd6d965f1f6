"""The Range request header (Q-RANGE-HDR): honoured on GET only."""

from __future__ import annotations

import re

from pgwsgi.errors import ApiError

_RANGE = re.compile(r"^(\d+)-(\d*)$")


def parse_range(header: str | None, method: str) -> tuple[int, int | None]:
    """(first, last-or-None) of a `Range: a-b` header; malformed or non-GET means the whole set."""
    if method != "GET" or header is None:
        return 0, None
    m = _RANGE.match(header.strip())
    if m is None:
        return 0, None
    first = int(m.group(1))
    last = int(m.group(2)) if m.group(2) else None
    if last is not None and first > last:
        raise ApiError(
            416,
            "PGRST103",
            "Requested range not satisfiable",
            "The lower boundary must be lower than or equal to the upper boundary in the Range header.",
        )
    return first, last
