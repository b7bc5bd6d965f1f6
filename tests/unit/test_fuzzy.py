"""pgwsgi.catalog.fuzzy against PostgREST's doctests and the fuzzyset-haskell 0.2.4 test suite (test/Spec.hs)."""

from __future__ import annotations

import pytest

from pgwsgi.catalog.fuzzy import DEFAULT_MIN_SCORE, FuzzySet, _similarity

STATES = [
    "Alabama", "Alaska", "American Samoa", "Arizona", "Arkansas", "California", "Colorado", "Connecticut",
    "Delaware", "District of Columbia", "Florida", "Georgia", "Guam", "Hawaii", "Idaho", "Illinois", "Indiana",
    "Iowa", "Kansas", "Kentucky", "Louisiana", "Maine", "Maryland", "Massachusetts", "Michigan", "Minnesota",
    "Mississippi", "Missouri", "Montana", "Nebraska", "Nevada", "New Hampshire", "New Jersey", "New Mexico",
    "New York", "North Carolina", "North Dakota", "Northern Marianas Islands", "Ohio", "Oklahoma", "Oregon",
    "Pennsylvania", "Puerto Rico", "Rhode Island", "South Carolina", "South Dakota", "Tennessee", "Texas", "Utah",
    "Vermont", "Virginia", "Virgin Islands", "Washington", "West Virginia", "Wisconsin", "Wyoming",
]  # fmt: skip

DETECTIVES = [
    "Bruce Wayne", "Charlie Chan", "Frank Columbo", "Hercule Poirot", "Jane Marple", "Lisbeth Salander",
    "Nancy Drew", "Nero Wolfe", "Perry Mason", "Philip Marlowe", "Sherlock Holmes",
]  # fmt: skip


def added(*values: str, **options: int | bool) -> FuzzySet:
    """A set built like the Haskell tests' ``defaultSet `add` a `add` b ...`` (first value gets index 0)."""
    fuzzy = FuzzySet(**options)  # type: ignore[arg-type]
    for value in values:
        fuzzy.add(value)
    return fuzzy


def check(found: list[tuple[float, str]], expected: list[tuple[float, str]]) -> None:
    assert [value for _, value in found] == [value for _, value in expected]
    assert [score for score, _ in found] == pytest.approx([score for score, _ in expected])


# PostgREST's own doctests (src/PostgREST/Error.hs)


def test_postgrest_table_hints() -> None:
    assert FuzzySet(["films"]).get_one("film") == "films"
    cast = FuzzySet(["directors", "roles", "actors"])
    score, value = cast.get("role")[0]
    assert value == "roles" and score < 1.0
    assert cast.get("actors")[0] == (1.0, "actors")
    assert FuzzySet(["films"]).get_one("noclosealternative") is None
    assert cast.get_one("noclosealternative") is None


@pytest.mark.parametrize(("query", "expected"), [("testt", "test"), ("noclosealternative", None), ("other", None)])
def test_postgrest_procedure_hints(query: str, expected: str | None) -> None:
    assert FuzzySet(["test", "another"]).get_one(query, 0.75) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("(nam, pqaram, vall)", "(name, param, val)"),
        ("(param, val)", "(name, param, val)"),
        ("(attrs, id)", "(attr, id)"),
        ("(id)", "(attr, id)"),
        ("(noclosealternative)", None),
    ],
)
def test_postgrest_parameter_hints(query: str, expected: str | None) -> None:
    assert FuzzySet(["(name, param, val)", "(attr, id)"]).get_one(query) == expected


# Library behaviour


def test_defaults_and_edge_cases() -> None:
    assert DEFAULT_MIN_SCORE == 0.33
    assert FuzzySet([]).get("anything") == []
    assert FuzzySet([]).get_one("anything") is None
    assert added("xxx").get("xxx") == [(1.0, "xxx")]
    assert FuzzySet(["Films"]).get("FILMS") == [(1.0, "Films")]  # exact hits ignore case and any minimum
    assert FuzzySet(["films"]).get("film", 0.99) == []


def test_duplicates() -> None:
    fuzzy = added("again")
    assert fuzzy.add("again") is False


def test_haddock_examples() -> None:
    assert added("Jurassic Park", "Terminator", "The Matrix").get_one("percolator") == "Terminator"
    shaggy = added("Shaggy Rogers", "Fred Jones", "Daphne Blake", "Velma Dinkley")
    check(shaggy.get("Shaggy Jones"), [(0.7692307692307693, "Shaggy Rogers"), (0.5, "Fred Jones")])
    states = FuzzySet(STATES)
    check(
        states.get("Burger Islands"),
        [
            (0.7142857142857143, "Virgin Islands"),
            (0.5714285714285714, "Rhode Island"),
            (0.44, "Northern Marianas Islands"),
            (0.35714285714285715, "Maryland"),
        ],
    )
    check(states.get("Why-oh-me-ing"), [(0.5384615384615384, "Wyoming")])
    check(states.get("Connect a cat"), [(0.6923076923076923, "Connecticut")])
    check(states.get("CanOfSauce"), [(0.4, "Kansas")])
    check(states.get("Alaska"), [(1.0, "Alaska")])


# fuzzyset-haskell 0.2.4 test/Spec.hs


@pytest.mark.parametrize("copies", [132, 133])
def test_large_set(copies: int) -> None:
    names = FuzzySet(["John Smith"] * copies)
    names.add("Joseph Dombrowski")
    assert len(names.get("Joe Dombrowski", 0.72)) == 1


def test_get_matches_detectives() -> None:
    with_levenshtein = [
        (0.2142857142857143, "Philip Marlowe"),
        (0.19999999999999996, "Sherlock Holmes"),
        (0.19999999999999996, "Nero Wolfe"),
        (0.18181818181818177, "Bruce Wayne"),
        (0.18181818181818177, "Jane Marple"),
        (0.07692307692307687, "Frank Columbo"),
    ]
    without_levenshtein = [
        (0.17677669529663687, "Sherlock Holmes"),
        (0.10660035817780521, "Nero Wolfe"),
        (0.10206207261596574, "Bruce Wayne"),
        (0.10206207261596574, "Jane Marple"),
        (0.0944911182523068, "Frank Columbo"),
        (0.09128709291752767, "Philip Marlowe"),
    ]
    # Spec.hs compares only as many results as it lists (zip).
    check(added(*DETECTIVES)._get_matches("Gumshoe", 0, 2)[:6], with_levenshtein)
    plain = added(*DETECTIVES, use_levenshtein=False)
    check(plain._get_matches("Gumshoe", 0, 2)[:6], without_levenshtein)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("flask", [(0.3651483716701107, "Alaska")]),
        ("lambda", [(0.40089186286863654, "Alabama")]),
        ("lambada", [(0.49999999999999999, "Alabama")]),
        ("alabama", [(1, "Alabama")]),
        ("al", [(0.4364357804719848, "Alaska"), (0.40824829046386296, "Alabama")]),
        ("albama", [(0.6172133998483676, "Alabama")]),
        ("Alabaska", [(0.7216878364870323, "Alaska"), (0.5345224838248487, "Alabama")]),
    ],
)
def test_get_without_levenshtein_small(query: str, expected: list[tuple[float, str]]) -> None:
    check(added("Alaska", "Alabama", "Guam", use_levenshtein=False).get(query), expected)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("homeland", [(0.37499999999999994, "Maryland")]),
        ("connectedcut", [(0.6963106238227914, "Connecticut")]),
        ("oregano", [(0.4629100498862757, "Oregon")]),
        (
            "akeloxasas",
            [(0.4622501635210243, "Arkansas"), (0.45291081365783836, "Texas"), (0.4193139346887673, "Kansas")],
        ),
        (
            "alaskansas",
            [(0.6454972243679029, "Kansas"), (0.6454972243679029, "Alaska"), (0.5590169943749475, "Arkansas")],
        ),
        ("South", [(0.5163977794943222, "South Dakota"), (0.47809144373375745, "South Carolina")]),
        ("penicillivania", [(0.46291004988627577, "Pennsylvania")]),
        ("Michisota", [(0.4714045207910316, "Michigan"), (0.4444444444444444, "Minnesota")]),
        (
            "New Mix",
            [
                (0.47809144373375745, "New Mexico"),
                (0.40089186286863654, "New York"),
                (0.35856858280031806, "New Jersey"),
            ],
        ),
        ("Waioming", [(0.5345224838248487, "Wyoming")]),
        ("Landland", [(0.5103103630798287, "Maryland"), (0.41666666666666674, "Rhode Island")]),
    ],
)
def test_get_without_levenshtein_states(query: str, expected: list[tuple[float, str]]) -> None:
    check(FuzzySet(STATES, use_levenshtein=False).get(query), expected)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("wyome", [(0.5714285714285714, "Wyoming")]),
        (
            "Louisianaland",
            [
                (0.6923076923076923, "Louisiana"),
                (0.3846153846153846, "Maryland"),
                (0.3846153846153846, "Rhode Island"),
                (0.36, "Northern Marianas Islands"),
            ],
        ),
        ("ia", [(0.5, "Iowa"), (0.4, "Idaho")]),
        ("flaska", [(0.8333333333333334, "Alaska"), (0.5, "Nebraska"), (0.4285714285714286, "Florida")]),
    ],
)
def test_get_with_levenshtein_states(query: str, expected: list[tuple[float, str]]) -> None:
    check(FuzzySet(STATES).get(query), expected)


def test_get_with_gram_sizes_2_to_4() -> None:
    states = FuzzySet(STATES, gram_size_upper=4)
    check(
        states.get("Alaskansas"),
        [(0.7, "Arkansas"), (0.6, "Kansas"), (0.6, "Alaska"), (0.5, "Alabama")],
    )
    check(states.get("Transylvania"), [(0.75, "Pennsylvania"), (0.33333333333333337, "California")])


@pytest.mark.parametrize(
    ("s", "t", "expected"),
    [
        ("hello", "yello", 0.8),
        ("fellow", "yello", 0.6666666666666667),
        ("fellow", "yellow", 0.8333333333333334),
        ("propeller", "yellow", 0.33333333333333337),
        ("propeller", "teller", 0.5555555555555556),
        ("balloon", "spoon", 0.4285714285714286),
        ("balloon", "electron", 0.25),
        ("spectrum", "electron", 0.5),
        ("spectrum", "techno", 0.25),
        ("technology", "techno", 0.6),
        ("technology", "logic", 0.19999999999999996),
        ("toxic", "logic", 0.6),
        ("sawa", "sawa", 1),
        ("fez", "baz", 0.33333333333333337),
    ],
)
def test_distance(s: str, t: str, expected: float) -> None:
    assert _similarity(s, t) == pytest.approx(expected)
