"""pgwsgi.api.media: the Accept header as PostgREST parses it (M-ACCEPT-PARSE)."""

from __future__ import annotations

from pgwsgi.api.media import ANY, parse_accept
from pgwsgi.api.model import MediaType


def test_accept_orders_by_quality_then_specificity() -> None:
    accept = parse_accept("text/*;q=0.5, application/json;q=0.9, application/vnd.pgrst.object+json")
    assert [m.essence for m in accept] == ["application/vnd.pgrst.object+json", "application/json", "text/*"]
    assert parse_accept(None)[0].essence == "*/*"
    assert parse_accept("")[0].essence == "*/*"


def test_accept_parameters_before_q_are_kept() -> None:
    (m,) = parse_accept("application/vnd.pgrst.object+json;nulls=stripped;q=0.8;ext=1")
    assert m.param("nulls") == "stripped" and m.quality == 0.8 and m.param("ext") is None


# -- parse_accept ------------------------------------------------------------------------------------


def test_missing_or_blank_accept_is_any():
    assert parse_accept(None) == (MediaType("*", "*"),)
    assert parse_accept(None) == (ANY,)
    assert parse_accept(" \t ") == (ANY,)
    assert parse_accept(",,") == (ANY,)


def test_type_and_parameter_names_are_lower_cased_values_kept():
    assert parse_accept("Application/JSON;Charset=UTF-8") == (
        MediaType("application", "json", (("charset", "UTF-8"),)),
    )


def test_blanks_are_removed_everywhere_and_quotes_around_values_dropped():
    assert parse_accept('application / json ; nulls="stripped"') == (
        MediaType("application", "json", (("nulls", "stripped"),)),
    )


def test_empty_entries_are_skipped():
    assert parse_accept(",,text/csv,") == (MediaType("text", "csv"),)


def test_type_without_subtype_is_kept_as_written():
    # wai hands "text" over as it is and PostgREST's decoder makes it an unknown type, printed
    # back as "text" in PGRST107 (CustomMediaSpec "media type parser fails").
    assert parse_accept("text") == (MediaType("text", ""),)
    assert parse_accept("text")[0].essence == "text"


def test_invalid_quality_counts_as_one():
    assert parse_accept("text/csv;q=abc") == (MediaType("text", "csv"),)


def test_q_parameter_name_is_case_insensitive():
    assert parse_accept("text/csv;Q=0.5, application/json;q=0.7") == (
        MediaType("application", "json", quality=0.7),
        MediaType("text", "csv", quality=0.5),
    )


def test_quality_zero_is_kept_and_sorted_last():
    assert parse_accept("application/json;q=0, text/csv") == (
        MediaType("text", "csv"),
        MediaType("application", "json", quality=0.0),
    )


def test_wildcards_are_less_specific():
    assert [m.essence for m in parse_accept("*/*, text/*, text/csv")] == ["text/csv", "text/*", "*/*"]


def test_parameters_make_an_entry_more_specific():
    assert parse_accept("application/json, application/json;nulls=stripped") == (
        MediaType("application", "json", (("nulls", "stripped"),)),
        MediaType("application", "json"),
    )


def test_equal_quality_and_specificity_keep_the_header_order():
    assert [m.essence for m in parse_accept("text/csv, application/json, application/xml")] == [
        "text/csv",
        "application/json",
        "application/xml",
    ]
