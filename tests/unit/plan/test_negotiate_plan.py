"""plan/negotiate.py: the execution-plan media type, `application/vnd.pgrst.plan` (M-PLAN)."""

from __future__ import annotations

import pytest

from pgwsgi.api.media import parse_accept
from pgwsgi.errors import ApiError
from pgwsgi.plan.model import Explain
from pgwsgi.plan.negotiate import negotiate_media


@pytest.mark.parametrize(
    ("accept", "media", "content_type", "explain"),
    [
        (
            "application/vnd.pgrst.plan",
            "json",
            'application/vnd.pgrst.plan+text; for="application/json"; charset=utf-8',
            Explain("text", ()),
        ),
        (
            'application/vnd.pgrst.plan+json; for="text/csv"; options=wal|analyze|bogus',
            "csv",
            'application/vnd.pgrst.plan+json; for="text/csv"; options=analyze|wal; charset=utf-8',
            Explain("json", ("analyze", "wal")),
        ),
        (
            'application/vnd.pgrst.plan+text; for="application/vnd.pgrst.object"',
            "object",
            'application/vnd.pgrst.plan+text; for="application/vnd.pgrst.object+json"; charset=utf-8',
            Explain("text", ()),
        ),
        (
            'application/vnd.pgrst.plan; for="application/vnd.pgrst.object+json;nulls=stripped"',
            "object-stripped",
            'application/vnd.pgrst.plan+text; for="application/vnd.pgrst.object+json;nulls=stripped"; charset=utf-8',
            Explain("text", ()),
        ),
        (
            'application/vnd.pgrst.plan; for="*/*"',
            "json",
            'application/vnd.pgrst.plan+text; for="*/*"; charset=utf-8',
            Explain("text", ()),
        ),
    ],
)
def test_enabled_the_plan_is_offered_for_what_for_names(
    accept: str, media: str, content_type: str, explain: Explain
) -> None:
    assert negotiate_media(parse_accept(accept), plan_enabled=True) == (media, content_type, explain, None)


def test_disabled_the_plan_matches_nothing_and_the_next_entry_wins() -> None:
    accept = parse_accept("application/vnd.pgrst.plan, text/csv;q=0.5")
    assert negotiate_media(accept, plan_enabled=False) == ("csv", "text/csv; charset=utf-8", None, None)
    assert negotiate_media(accept, plan_enabled=True)[2] == Explain("text", ())


@pytest.mark.parametrize(
    ("accept", "enabled", "listed"),
    [
        ("application/vnd.pgrst.plan", False, 'application/vnd.pgrst.plan+text; for="application/json"'),
        ('application/vnd.pgrst.plan+json; for="text/xml"', True, 'application/vnd.pgrst.plan+json; for="text/xml"'),
        ('application/vnd.pgrst.plan; for=""', True, 'application/vnd.pgrst.plan+text; for=""'),
    ],
)
def test_406_prints_the_plan_as_postgrest_writes_it_back(accept: str, enabled: bool, listed: str) -> None:
    with pytest.raises(ApiError) as info:
        negotiate_media(parse_accept(accept), plan_enabled=enabled)
    assert (info.value.status, info.value.code) == (406, "PGRST107")
    assert info.value.message == f"None of these media types are available: {listed}"
