"""PostgREST's order of media type handlers (Plan/Negotiate.hs), without a database."""

from __future__ import annotations

import pytest

from pgwsgi.api.media import parse_accept
from pgwsgi.catalog.model import MediaHandler
from pgwsgi.errors import ApiError
from pgwsgi.plan.negotiate import Handlers, negotiate_media

LINES = ("api", "lines")
OWN_CSV = MediaHandler(("api", "lines_csv"), LINES, "text/csv", "text", True)
OWN_ANY = MediaHandler(("api", "lines_any"), LINES, "application/octet-stream", "bytea", True)
ANY_PLAIN = MediaHandler(("api", "plain_agg"), None, "text/plain", "text", True)
ANY_JSON = MediaHandler(("api", "my_json"), None, "application/json", "text", True)
PNG = MediaHandler(("api", "image/png"), ("api", "img"), "image/png", "bytea", False)
TABLE = {
    (LINES, "text/csv"): OWN_CSV,
    (None, "text/plain"): ANY_PLAIN,
    (("api", "img"), "image/png"): PNG,
}


def pick(accept: str, handlers: Handlers) -> tuple[str, str, MediaHandler | None]:
    found = negotiate_media(parse_accept(accept), plan_enabled=False, handlers=handlers)
    return found.media, found.content_type, found.handler


def test_a_relations_own_handler_needs_the_plain_select() -> None:
    assert pick("text/csv", Handlers(TABLE, LINES, True)) == ("custom", "text/csv; charset=utf-8", OWN_CSV)
    # With another select its rows are not the relation's: the built-in CSV answers.
    assert pick("text/csv", Handlers(TABLE, LINES, False)) == ("csv", "text/csv; charset=utf-8", None)


def test_an_anyelement_handler_answers_for_every_relation() -> None:
    assert pick("text/plain", Handlers(TABLE, ("api", "other"), False)) == (
        "custom",
        "text/plain; charset=utf-8",
        ANY_PLAIN,
    )


def test_an_own_star_handler_wins_over_every_type_but_the_vendored_ones() -> None:
    handlers = Handlers({(LINES, "*/*"): OWN_ANY}, LINES, True)
    assert pick("application/json", handlers) == ("custom", "application/octet-stream", OWN_ANY)
    assert pick("application/vnd.pgrst.object+json", handlers)[0] == "object"
    assert pick("application/vnd.pgrst.array+json;nulls=stripped", handlers)[0] == "array-stripped"


def test_an_anyelement_json_handler_overrides_the_built_in_one() -> None:
    handlers = Handlers({(None, "application/json"): ANY_JSON}, LINES, True)
    assert pick("application/json", handlers)[2] == ANY_JSON
    # A plain array is application/json to PostgREST, so the override applies to it too.
    assert pick("application/vnd.pgrst.array+json", handlers)[2] == ANY_JSON


def test_unknown_types_without_a_handler_are_406_and_types_without_charset_are_sent_as_named() -> None:
    handlers = Handlers(TABLE, ("api", "img"), True)
    assert pick("image/png", handlers) == ("custom", "image/png", PNG)
    with pytest.raises(ApiError) as info:
        pick("text/html", handlers)
    assert (info.value.status, info.value.code) == (406, "PGRST107")


def test_geojson_is_built_in() -> None:
    assert pick("application/geo+json", Handlers({})) == ("geojson", "application/geo+json; charset=utf-8", None)
