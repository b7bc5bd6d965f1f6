"""pgwsgi.api.prefer: the Prefer header (H-PREFER-PARSE) and Preference-Applied (H-PREF-APPLIED)."""

from __future__ import annotations

import pytest

from pgwsgi.api.model import Preferences
from pgwsgi.api.prefer import applied, parse_prefer


def test_prefer_first_occurrence_per_category_wins_across_headers() -> None:
    p = parse_prefer(["return=minimal, count=exact", "return=representation, tx=rollback, nonsense"])
    assert p == Preferences(return_="minimal", count="exact", tx="rollback", invalid=("nonsense",))


def test_prefer_max_affected_needs_digits_and_timezone_is_kept() -> None:
    assert parse_prefer(["max-affected=5, timezone=America/Los_Angeles"]) == Preferences(
        max_affected=5, timezone="America/Los_Angeles"
    )
    assert parse_prefer(["max-affected=lots"]).max_affected is None


# -- parse_prefer ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("resolution=merge-duplicates", Preferences(resolution="merge-duplicates")),
        ("resolution=ignore-duplicates", Preferences(resolution="ignore-duplicates")),
        ("return=representation", Preferences(return_="representation")),
        ("return=minimal", Preferences(return_="minimal")),
        ("return=headers-only", Preferences(return_="headers-only")),
        ("count=exact", Preferences(count="exact")),
        ("count=planned", Preferences(count="planned")),
        ("count=estimated", Preferences(count="estimated")),
        ("tx=commit", Preferences(tx="commit")),
        ("tx=rollback", Preferences(tx="rollback")),
        ("missing=default", Preferences(missing="default")),
        ("missing=null", Preferences(missing="null")),
        ("handling=strict", Preferences(handling="strict")),
        ("handling=lenient", Preferences(handling="lenient")),
        ("timezone=UTC", Preferences(timezone="UTC")),
        ("max-affected=10", Preferences(max_affected=10)),
    ],
)
def test_each_known_token_sets_its_preference(token, expected):
    assert parse_prefer([token]) == expected


def test_no_prefer_header_means_no_preferences():
    assert parse_prefer([]) == Preferences()


def test_first_token_wins_within_one_header():
    assert parse_prefer(["count=exact, count=planned, timezone=UTC, timezone=CET"]) == Preferences(
        count="exact", timezone="UTC"
    )


def test_tokens_are_trimmed_but_otherwise_matched_exactly():
    assert parse_prefer(["  return=minimal\t,Return=minimal, count = exact, count=EXACT"]) == Preferences(
        return_="minimal", invalid=("Return=minimal", "count = exact", "count=EXACT")
    )


def test_empty_tokens_are_invalid():
    assert parse_prefer(["return=minimal,", ""]).invalid == ("", "")


def test_unknown_values_of_known_categories_are_invalid():
    assert parse_prefer(["count=maybe, return=everything, tx=later"]) == Preferences(
        invalid=("count=maybe", "return=everything", "tx=later")
    )


def test_tx_is_ignored_but_not_invalid_when_overriding_is_not_allowed():
    assert parse_prefer(["tx=rollback, count=exact"], allow_tx=False) == Preferences(count="exact")


def test_max_affected_accepts_negative_integers():
    assert parse_prefer(["max-affected=-1"]).max_affected == -1


def test_first_max_affected_wins_even_when_it_is_not_a_number():
    assert parse_prefer(["max-affected=x, max-affected=5"]) == Preferences()
    assert parse_prefer(["max-affected=3", "max-affected=5"]).max_affected == 3


def test_empty_timezone_is_kept_as_empty():
    assert parse_prefer(["timezone="]).timezone == ""


# -- applied --------------------------------------------------------------------------------------


FULL = Preferences(
    return_="representation",
    count="exact",
    resolution="merge-duplicates",
    missing="default",
    handling="strict",
    timezone="UTC",
    tx="rollback",
    max_affected=5,
)


def test_applied_lists_preferences_in_postgrest_order():
    assert (
        applied(FULL, resolution=True, missing=True, return_=True, max_affected=True)
        == "resolution=merge-duplicates, missing=default, return=representation, count=exact, tx=rollback, "
        "handling=strict, timezone=UTC, max-affected=5"
    )


def test_applied_on_a_read_lists_only_count_tx_handling_and_timezone():
    assert applied(FULL) == "count=exact, tx=rollback, handling=strict, timezone=UTC"


def test_applied_max_affected_needs_strict_handling():
    p = Preferences(handling="lenient", max_affected=5)
    assert applied(p, max_affected=True) == "handling=lenient"
    assert applied(Preferences(max_affected=5), max_affected=True) is None


def test_applied_is_none_when_nothing_applies():
    assert applied(Preferences()) is None
    assert applied(Preferences(return_="minimal", invalid=("x",))) is None


def test_applied_return_when_flagged():
    assert applied(Preferences(return_="minimal"), return_=True) == "return=minimal"


# -- read=primary (pgwsgi's, for db-read-replicas) ---------------------------------------------------


def test_read_primary_is_taken_only_when_replicas_are_configured_and_never_invalid():
    assert parse_prefer(["handling=strict, read=primary"], allow_read=True) == Preferences(
        handling="strict", read="primary"
    )
    assert parse_prefer(["handling=strict, read=primary"]) == Preferences(handling="strict")
    assert parse_prefer(["read=replica"], allow_read=True) == Preferences(invalid=("read=replica",))


def test_applied_echoes_read_primary_last():
    p = Preferences(return_="representation", handling="strict", read="primary")
    assert applied(p, return_=True) == "return=representation, handling=strict, read=primary"
    assert applied(Preferences(read="primary")) == "read=primary"
