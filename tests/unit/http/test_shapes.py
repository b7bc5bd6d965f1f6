"""http/shapes.py's pure helpers: the query-string template, putting values back, the `columns` probe.

A request's shape key holds `_template(query)[0]`: two query strings with the
same template must differ only in their slot values, and putting one's values
into the other (`_with_values`) must give the other back exactly.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgwsgi.http.shapes import _names_columns, _template, _with_values

OPS = ("eq", "neq", "gt", "gte", "lt", "lte")


# _template ---------------------------------------------------------------------------------


def test_an_empty_query_is_its_own_template() -> None:
    assert _template("", slotted=True) == ("", ())
    assert _template("", slotted=False) == ("", ())


@pytest.mark.parametrize("op", OPS)
def test_each_comparison_operator_is_a_slot(op: str) -> None:
    assert _template(f"id={op}.5", slotted=True) == (f"id={op}.\x00", ("5",))


@pytest.mark.parametrize(
    "value",
    ["5", "-5", "1.25", "abc", "a_b", "2024-01-15", "2024-01-15T12:00:00.5", "12:30", "a@b.example", "00FF00", "NaN"],
)
def test_slot_values_of_letters_digits_and_punctuation(value: str) -> None:
    assert _template(f"col=eq.{value}", slotted=True) == ("col=eq.\x00", (value,))


def test_slots_in_order_and_everything_else_as_written() -> None:
    raw = "select=id,name&id=gte.1&order=id.desc&name=neq.a@b.c&limit=10&offset=2&_x=lt.9"
    assert _template(raw, slotted=True) == (
        "select=id,name&id=gte.\x00&order=id.desc&name=neq.\x00&limit=10&offset=2&_x=lt.\x00",
        ("1", "a@b.c", "9"),
    )


def test_equal_values_are_still_two_slots() -> None:
    assert _template("a=eq.1&b=eq.1", slotted=True) == ("a=eq.\x00&b=eq.\x00", ("1", "1"))
    assert _template("a=eq.1&a=eq.1", slotted=True) == ("a=eq.\x00&a=eq.\x00", ("1", "1"))


def test_the_same_shape_with_other_values_has_the_same_template() -> None:
    first = _template("select=id&id=eq.1&active=eq.true&at=lt.2024-01-01T00:00:00", slotted=True)
    second = _template("select=id&id=eq.99&active=eq.false&at=lt.2025-12-31T23:59:59.9", slotted=True)
    assert first[0] == second[0]
    assert first[1] != second[1]


@pytest.mark.parametrize(
    "part",
    [
        "id=eq.",  # no value
        "id=like.a",  # not a comparison slot
        "id=ilike.a",
        "id=in.(1,2)",
        "id=is.null",
        "id=not.eq.1",  # negated
        "id=eq(any).{1,2}",  # a modifier
        "id=cs.{1}",
        "id=fts.word",
        "id=EQ.1",  # operators are lower case
        "id=eq.a%20b",  # percent-encoded
        "id=eq.a+b",  # + is a space
        "id=eq.a,b",
        "id=eq.(x)",
        "id=eq.a*",
        "id=eq.1=2",
        "id=eq.ü",
        "a.b=eq.1",  # an embed's filter
        "data->>k=eq.1",  # a JSON path
        "1a=eq.1",  # not an identifier
        "i%64=eq.1",  # an encoded key
        "select=id",
        "order=id.desc",
        "limit=10",
    ],
)
def test_what_is_not_a_slot_is_kept_as_written(part: str) -> None:
    assert _template(part, slotted=True) == (part, ())
    assert _template(f"{part}&x=eq.1", slotted=True) == (f"{part}&x=eq.\x00", ("1",))


def test_nothing_is_a_slot_when_not_slotted() -> None:
    raw = "a=eq.1&b=gt.2"
    assert _template(raw, slotted=False) == (raw, ())


@pytest.mark.parametrize("raw", ["flag", "select=id&flag", "id=eq.1&flag", "id=eq.1&", "&id=eq.1", "a=1&&b=2", "&"])
def test_a_part_without_equals_is_not_a_shape(raw: str) -> None:
    assert _template(raw, slotted=True) == (None, ())
    assert _template(raw, slotted=False) == (None, ())


def test_a_raw_nul_value_does_not_share_the_template_of_a_slot() -> None:
    """The template marks a cut-out value with NUL: a query string whose value IS a NUL must not look alike.

    (gunicorn refuses a raw NUL in the request line, other WSGI servers may pass it on.)
    """
    slotted, values = _template("id=eq.1", slotted=True)
    raw_nul, raw_values = _template("id=eq.\x00", slotted=True)
    assert not (slotted == raw_nul and values != raw_values)


# _with_values --------------------------------------------------------------------------------


def test_with_values_replaces_the_slots_in_order() -> None:
    raw = "select=id&id=gte.1&order=id&name=eq.x&limit=2"
    assert _with_values(raw, ("7", "y@z")) == "select=id&id=gte.7&order=id&name=eq.y@z&limit=2"


def test_with_values_and_no_values_is_the_query_itself() -> None:
    assert _with_values("a=eq.1&b=like.x", ()) == "a=eq.1&b=like.x"
    assert _with_values("", ()) == ""


def test_with_values_puts_sentinels_where_the_values_were() -> None:
    sentinels = ("Zq0pgwsgiSlotQz", "Zq1pgwsgiSlotQz")
    assert _with_values("a=eq.1&b=eq.1&c=in.(1)", sentinels) == "a=eq.Zq0pgwsgiSlotQz&b=eq.Zq1pgwsgiSlotQz&c=in.(1)"


def test_with_values_leaves_what_is_not_a_slot() -> None:
    raw = "a.b=eq.1&x=not.eq.2&y=eq.a%20b&z=lt.3"
    assert _with_values(raw, ("9",)) == "a.b=eq.1&x=not.eq.2&y=eq.a%20b&z=lt.9"


# Both: a template and its values give the query string back ---------------------------------

_IDENT = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
_VALUE = st.from_regex(r"[A-Za-z0-9_.:@-]{1,12}", fullmatch=True)
_OTHER = st.sampled_from(
    ["select=id,name", "order=id.desc", "limit=3", "x=in.(1,2)", "y=is.null", "a.b=eq.1", "n=eq.a%20b"]
)


@st.composite
def _queries(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A query string of slot parts and other parts, and the slot parts' keys and operators."""
    parts: list[str] = []
    heads: list[str] = []
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.booleans()):
            head = f"{draw(_IDENT)}={draw(st.sampled_from(OPS))}."
            heads.append(head)
            parts.append(head + draw(_VALUE))
        else:
            parts.append(draw(_OTHER))
            heads.append("")
    return "&".join(parts), heads


@given(_queries(), st.data())
def test_other_values_keep_the_template_and_round_trip(query: tuple[str, list[str]], data: st.DataObject) -> None:
    raw, _ = query
    template, values = _template(raw, slotted=True)
    assert template is not None
    assert _with_values(raw, values) == raw
    others = tuple(data.draw(_VALUE) for _ in values)
    other = _with_values(raw, others)
    assert _template(other, slotted=True) == (template, others)


# _names_columns ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ("", False),
        ("columns=a,b", True),
        ("select=id&columns=a", True),
        ("columns=", True),
        ("columns_x=1", False),
        ("x_columns=1", False),
        ("select=columns", False),
        ("a=eq.columns", False),
        ("my.columns=eq.1", False),
    ],
)
def test_names_columns(raw: str, named: bool) -> None:
    assert _names_columns(raw) is named
