"""pgwsgi.api.parsing: the parsec-style Cursor, Haskell `show` of tokens, and run_parser."""

from __future__ import annotations

import pytest

from pgwsgi.api.parsing import (
    DELIM,
    EOF,
    MAX_DEPTH,
    Consumed,
    Cursor,
    Empty,
    TooDeep,
    run_parser,
    show_char,
    show_str,
    unescape,
)
from pgwsgi.api.querystring import parse_filter, parse_logic, parse_select
from tests.unit.api.helpers import fails


def report(cursor: Cursor, label: str = "lbl") -> tuple[int, str, str, str | None, object]:
    """What a parse failure at the cursor's furthest error would answer."""
    err = cursor.error(label)
    return err.status, err.code, err.message, err.details, err.hint


def test_unterminated_quotes_are_parse_errors():
    assert fails(parse_select, '"abc').details == 'unexpected end of input expecting "\\\\" or "\\""'
    assert fails(parse_select, '"abc\\').details == "unexpected end of input"
    assert fails(parse_filter, 'in.("a').code == "PGRST100"


def test_deep_nesting_is_a_parse_error_not_a_crash():
    assert fails(parse_select, "a(" * 2000).code == "PGRST100"
    assert fails(parse_logic, "or", "(" + "or(" * 2000).code == "PGRST100"


# -- Haskell show ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("abc", '"abc"'),
        ('a"b', '"a\\"b"'),
        ("a\\b", '"a\\\\b"'),
        ("'", '"\'"'),
        ("é", '"\\233"'),
        ("\n\t", '"\\n\\t"'),
        ("\x00\x1b\x7f", '"\\NUL\\ESC\\DEL"'),
        ("", '""'),
    ],
)
def test_show_str_prints_strings_as_haskell_show_does(text, shown):
    assert show_str(text) == shown


@pytest.mark.parametrize(
    ("char", "shown"),
    [("a", "'a'"), ("'", "'\\''"), ('"', "'\"'"), ("\\", "'\\\\'"), ("\t", "'\\t'"), ("é", "'\\233'")],
)
def test_show_char_prints_chars_as_haskell_show_does(char, shown):
    assert show_char(char) == shown


def test_unescape_takes_the_character_after_each_backslash_literally():
    assert unescape(r"a\"b\\c\d") == 'a"b\\cd'
    assert unescape("plain") == "plain"
    assert unescape("\\\\\\") == "\\\\"


# -- error bookkeeping --------------------------------------------------------------------------


def test_error_reports_the_furthest_failure_only():
    c = Cursor("abc")
    c.note(1, ('"x"',))
    c.note(0, ('"y"',))
    assert report(c) == (400, "PGRST100", '"lbl" (line 1, column 2)', 'unexpected "b" expecting "x"', None)


def test_expectations_at_the_same_position_merge_without_duplicates():
    c = Cursor("abc")
    c.note(0, ("a",))
    c.note(0, ("b", "a"))
    c.note(0, ("c",))
    assert report(c)[2:4] == ('"lbl" (line 1, column 1)', 'unexpected "a" expecting a, b or c')


def test_a_further_failure_forgets_what_was_expected_before():
    c = Cursor("abc")
    c.note(0, ("x",))
    c.note(2, ("y",))
    assert report(c)[2:4] == ('"lbl" (line 1, column 3)', 'unexpected "c" expecting y')


def test_error_at_the_end_says_end_of_input():
    c = Cursor("ab")
    c.note(2, ("digit",))
    assert report(c)[2:4] == ('"lbl" (line 1, column 3)', "unexpected end of input expecting digit")
    assert report(Cursor(""))[2:4] == ('"lbl" (line 1, column 1)', "unexpected end of input")


def test_error_without_expectations_names_only_the_unexpected_token():
    c = Cursor("x")
    c.note(0)
    assert report(c)[3] == 'unexpected "x"'


def test_note_eof_shows_the_char_in_single_quotes_and_expects_end_of_input():
    c = Cursor("ab")
    c.note_eof(1, '","')
    assert report(c)[2:4] == ('"lbl" (line 1, column 2)', "unexpected 'b' expecting \",\" or end of input")


def test_unexpected_tokens_are_deduplicated_and_win_over_the_character_at_the_position():
    c = Cursor("abc")
    c.note(1, un="'z'")
    c.note(1, un="'z'")
    c.note(1, ("x",))
    assert report(c)[3] == "unexpected 'z' expecting x"


def test_note_lit_reports_the_first_mismatching_character_at_the_start_position():
    # parsec's `string "not"` on "nop": column of the start, the unexpected char is "p".
    c = Cursor("nop")
    c.note_lit(0, "not")
    assert report(c)[2:4] == ('"lbl" (line 1, column 1)', 'unexpected "p" expecting "not"')


def test_note_lit_past_the_end_says_end_of_input():
    c = Cursor("no")
    c.note_lit(0, "not")
    assert report(c)[3] == 'unexpected end of input expecting "not"'


@pytest.mark.parametrize(
    ("text", "pos", "where"),
    [
        ("\tx", 1, "(line 1, column 9)"),
        ("a\tbc", 3, "(line 1, column 10)"),
        ("12345678\tx", 9, "(line 1, column 17)"),
        ("a\nbc", 3, "(line 2, column 2)"),
        ("a\n\nb", 3, "(line 3, column 1)"),
    ],
)
def test_positions_follow_parsec_tabs_to_multiples_of_eight_and_newlines(text, pos, where):
    c = Cursor(text)
    c.note(pos)
    assert report(c)[2] == f'"lbl" {where}'


def test_clear_forgets_errors_noted_before_consumed_input():
    c = Cursor("abc")
    c.note(2, ("x",))
    c.clear()
    c.note(1, ("y",))
    assert report(c)[2:4] == ('"lbl" (line 1, column 2)', 'unexpected "b" expecting y')


def test_save_clears_and_relabel_merge_replaces_expectations_by_the_label():
    c = Cursor("abc")
    prior = c.save()
    assert c.e_pos == -1
    c.note(1, ("y", "z"))
    c.relabel_merge("LBL", prior)
    assert report(c)[3] == 'unexpected "b" expecting LBL'


def test_relabel_merge_keeps_prior_expectations_at_the_same_position_first():
    c = Cursor("abc")
    c.note(1, ("x",))
    prior = c.save()
    c.note(1, ("y", "z"))
    c.relabel_merge("LBL", prior)
    assert report(c)[3] == 'unexpected "b" expecting x or LBL'


def test_relabel_merge_keeps_a_further_prior_error():
    c = Cursor("abc")
    c.note(2, ("x",))
    prior = c.save()
    c.note(1, ("y",))
    c.relabel_merge("LBL", prior)
    assert report(c)[2:4] == ('"lbl" (line 1, column 3)', 'unexpected "c" expecting x')


# -- lexical pieces ----------------------------------------------------------------------------


def test_ws_skips_spaces_and_tabs_but_not_newlines():
    c = Cursor(" \t \nx")
    assert (c.ws(), c.i) == (True, 3)
    assert (c.ws(), c.i) == (False, 3)


def test_identifier_takes_letters_digits_underscore_dollar_and_spaces_then_strips():
    c = Cursor(" ab_1$ c ,")
    assert (c.identifier(), c.i) == ("ab_1$ c", 9)
    assert report(c)[2:4] == ('"lbl" (line 1, column 10)', 'unexpected "," expecting letter or digit')


def test_identifier_on_a_non_identifier_fails_empty_without_moving():
    c = Cursor(",")
    with pytest.raises(Empty):
        c.identifier()
    assert c.i == 0
    assert report(c)[3] == 'unexpected "," expecting letter or digit'


def test_quoted_unescapes_and_stops_after_the_closing_quote():
    c = Cursor('"a\\"b,c"rest')
    assert (c.quoted(), c.i) == ('a"b,c', 8)


def test_unterminated_quote_fails_consumed_at_the_end_of_input():
    c = Cursor('"abc')
    with pytest.raises(Consumed):
        c.quoted()
    assert report(c)[2:4] == ('"lbl" (line 1, column 5)', 'unexpected end of input expecting "\\\\" or "\\""')


def test_quote_ending_in_a_lone_backslash_expects_nothing():
    c = Cursor('"abc\\')
    with pytest.raises(Consumed):
        c.quoted()
    assert report(c)[2:4] == ('"lbl" (line 1, column 6)', "unexpected end of input")


@pytest.mark.parametrize(("consumed", "raised"), [(False, Empty), (True, Consumed)])
def test_char_failure_is_empty_or_consumed_as_the_caller_says(consumed, raised):
    c = Cursor("x")
    with pytest.raises(raised):
        c.char("(", consumed)
    assert (c.i, report(c)[3]) == (0, 'unexpected "x" expecting "("')


def test_char_consumes_the_expected_character():
    c = Cursor("(x")
    c.char("(", False)
    assert c.i == 1


def test_lexeme_char_skips_blanks_on_both_sides():
    c = Cursor("  (  x")
    c.lexeme_char("(", False)
    assert c.i == 5


def test_delimiter_expects_a_dot():
    c = Cursor("x")
    with pytest.raises(Empty):
        c.delimiter(False)
    assert report(c)[3] == f'unexpected "x" expecting {DELIM}'
    c = Cursor(".x")
    c.delimiter(True)
    assert c.i == 1


def test_expect_eof_accepts_the_end_and_rejects_anything_else():
    c = Cursor("ab")
    c.i = 2
    c.expect_eof()
    c.i = 1
    with pytest.raises(Consumed):
        c.expect_eof()
    assert report(c)[2:4] == ('"lbl" (line 1, column 2)', f"unexpected 'b' expecting {EOF}")


# -- run_parser --------------------------------------------------------------------------------


def test_run_parser_returns_what_the_rule_returns():
    assert run_parser("name", Cursor("ab c"), lambda c: c.identifier()) == "ab c"


@pytest.mark.parametrize("failure", [Empty, Consumed])
def test_run_parser_turns_a_failure_into_pgrst100_named_after_the_source(failure):
    def rule(c: Cursor) -> None:
        c.note(1, ("q",))
        raise failure()

    err = fails(run_parser, "my source", Cursor("a\tb"), rule)
    assert (err.status, err.code, err.message, err.details, err.hint) == (
        400,
        "PGRST100",
        '"my source" (line 1, column 2)',
        'unexpected "\\t" expecting q',
        None,
    )


def test_run_parser_reports_too_deep_nesting_at_its_position():
    def rule(c: Cursor) -> None:
        raise TooDeep(2)

    err = fails(run_parser, "n", Cursor("a\tb"), rule)
    assert (err.status, err.code, err.message, err.details) == (
        400,
        "PGRST100",
        '"n" (line 1, column 9)',
        f"nesting deeper than {MAX_DEPTH} levels is not supported",
    )


def test_run_parser_turns_a_recursion_error_into_pgrst100():
    def rule(c: Cursor) -> None:
        raise RecursionError()

    err = fails(run_parser, "n", Cursor("abc"), rule)
    assert (err.status, err.code, err.message, err.details) == (
        400,
        "PGRST100",
        '"n" (line 1, column 1)',
        "input nested too deeply",
    )
