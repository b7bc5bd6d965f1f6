"""Media negotiation (pgwsgi/plan/negotiate.py) of parsed Accept headers, without a server.

The Prefer, Accept and Range parsing tests that were here live in tests/unit/api/
(test_prefer.py, test_media.py, test_ranges.py).
"""

from __future__ import annotations

import pytest

from pgwsgi.api.media import parse_accept
from pgwsgi.errors import ApiError
from pgwsgi.plan.negotiate import negotiate


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
