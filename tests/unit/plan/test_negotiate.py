"""plan/negotiate.py: the media type of the answer, from the parsed Accept header (M-ACCEPT-PARSE, M-406)."""

from __future__ import annotations

import pytest

from pgwsgi.api.media import parse_accept
from pgwsgi.errors import ApiError
from pgwsgi.plan.negotiate import negotiate
from tests.unit.snapshot import fields

JSON = ("json", "application/json; charset=utf-8")
OBJECT = ("object", "application/vnd.pgrst.object+json; charset=utf-8")


def unavailable(accept: str) -> str:
    with pytest.raises(ApiError) as info:
        negotiate(parse_accept(accept))
    assert fields(info.value)[:2] == (406, "PGRST107")
    assert (info.value.details, info.value.hint) == (None, None)
    return info.value.message.removeprefix("None of these media types are available: ")


@pytest.mark.parametrize("accept", [None, "", "application/json", "application/*", "*/*"])
def test_json_is_the_default_answer(accept: str | None) -> None:
    assert negotiate(parse_accept(accept)) == JSON


@pytest.mark.parametrize("accept", ["application/vnd.pgrst.array", "application/vnd.pgrst.array+json"])
def test_the_array_media_type_is_answered_as_plain_json(accept: str) -> None:
    assert negotiate(parse_accept(accept)) == JSON


@pytest.mark.parametrize("accept", ["application/vnd.pgrst.object", "application/vnd.pgrst.object+json"])
def test_the_object_media_type_asks_for_a_single_object(accept: str) -> None:
    assert negotiate(parse_accept(accept)) == OBJECT


def test_nulls_stripped_applies_to_the_pgrst_types_only() -> None:
    assert negotiate(parse_accept("application/json;nulls=stripped")) == JSON
    assert negotiate(parse_accept("application/vnd.pgrst.array;nulls=stripped")) == (
        "array-stripped",
        "application/vnd.pgrst.array+json;nulls=stripped; charset=utf-8",
    )


def test_higher_quality_entries_are_tried_first() -> None:
    assert negotiate(parse_accept("text/csv;q=0.5, application/json")) == JSON
    assert negotiate(parse_accept("application/json;q=0.2, text/csv")) == ("csv", "text/csv; charset=utf-8")


def test_unavailable_entries_are_skipped_for_a_later_one() -> None:
    assert negotiate(parse_accept("image/png, */*;q=0.1")) == JSON


def test_pgrst107_prints_known_types_without_their_parameters() -> None:
    assert unavailable("text/xml;charset=utf-8") == "text/xml"
    assert unavailable("application/openapi+json") == "application/openapi+json"


def test_pgrst107_keeps_the_parameters_of_unknown_types() -> None:
    assert unavailable("image/png;a=b") == "image/png;a=b"


def test_pgrst107_prints_plan_media_types_as_postgrest_writes_them_back() -> None:
    assert unavailable("application/vnd.pgrst.plan") == 'application/vnd.pgrst.plan+text; for="application/json"'
    assert unavailable('application/vnd.pgrst.plan+json; for="text/csv"; options=verbose|analyze') == (
        'application/vnd.pgrst.plan+json; for="text/csv"; options=analyze|verbose'
    )


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
