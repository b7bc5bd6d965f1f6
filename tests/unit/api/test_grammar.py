"""pgwsgi.api.grammar: filters (`[not.]op.value`), `in` lists, logic trees and parameter keys.

Expected error messages marked "upstream" are copied from PostgREST's own tests and
doctests (QueryParams.hs, QuerySpec, AndOrParamsSpec, JsonOperatorSpec, InsertSpec).
"""

from __future__ import annotations

import pytest

from pgwsgi.api.grammar import Parser, filter_value, run, run_as
from pgwsgi.api.model import Field, Filter, LogicTree, OpExpr
from pgwsgi.api.querystring import parse_filter, parse_logic
from tests.unit.api.helpers import assert_parse_error, col, fails


@pytest.mark.parametrize(
    "op",
    [
        "eq",
        "neq",
        "gt",
        "gte",
        "lt",
        "lte",
        "like",
        "ilike",
        "match",
        "imatch",
        "isdistinct",
        "fts",
        "plfts",
        "phfts",
        "wfts",
        "cs",
        "cd",
        "ov",
        "sl",
        "sr",
        "nxr",
        "nxl",
        "adj",
    ],
)
def test_every_single_value_operator(op):
    assert parse_filter(f"{op}.v") == (False, OpExpr(op, "v"))


def test_filter_value_is_the_entire_remainder():
    assert parse_filter('eq.a.b,c"d(e)') == (False, OpExpr("eq", 'a.b,c"d(e)'))
    assert parse_filter("eq.") == (False, OpExpr("eq", ""))
    assert parse_filter("cs.{1,2}") == (False, OpExpr("cs", "{1,2}"))
    assert parse_filter("ov.[1,3)") == (False, OpExpr("ov", "[1,3)"))


def test_like_value_keeps_stars_for_the_sql_layer():
    assert parse_filter("like.*a*b") == (False, OpExpr("like", "*a*b"))
    assert parse_filter("ilike(any).{*a,b*}") == (False, OpExpr("ilike", "{*a,b*}", modifier="any"))


def test_not_negates_any_operator():
    assert parse_filter("not.eq.5") == (True, OpExpr("eq", "5"))
    assert parse_filter("not.in.(1,2)") == (True, OpExpr("in", ("1", "2")))
    assert parse_filter("not.is.null") == (True, OpExpr("is", "null"))
    assert parse_filter("not.fts(english).x") == (True, OpExpr("fts", "x", language="english"))


@pytest.mark.parametrize("op", ["eq", "gt", "gte", "lt", "lte", "like", "ilike", "match", "imatch"])
def test_any_all_modifiers_on_quantifiable_operators(op):
    assert parse_filter(f"{op}(any).{{a,b}}") == (False, OpExpr(op, "{a,b}", modifier="any"))
    assert parse_filter(f"not.{op}(all).{{a}}") == (True, OpExpr(op, "{a}", modifier="all"))


@pytest.mark.parametrize(
    "value",
    [
        "neq(any).{1}",
        "cs(all).{1}",
        "in(any).(1)",
        "is(any).null",
        "fts(any)(english).x",
        "isdistinct(all).1",
        "eq(some).1",
    ],
)
def test_modifier_on_other_operators_is_a_parse_error(value):
    assert fails(parse_filter, value).code == "PGRST100"


def test_full_text_search_with_and_without_language():
    assert parse_filter("fts.a&b") == (False, OpExpr("fts", "a&b"))
    assert parse_filter("plfts(english).The Fat Rats") == (False, OpExpr("plfts", "The Fat Rats", language="english"))
    assert parse_filter("phfts(simple).a b") == (False, OpExpr("phfts", "a b", language="simple"))
    assert parse_filter("wfts(my lang$1).x") == (False, OpExpr("wfts", "x", language="my lang$1"))


def test_fts_with_empty_language_fails_like_upstream():
    assert_parse_error(
        fails(parse_filter, "fts().value"),
        '"failed to parse filter (fts().value)" (line 1, column 5)',
        'unexpected ")" expecting operator (eq, gt, ...)',
    )


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("null", "null"),
        ("NULL", "null"),
        ("NuLl", "null"),
        ("not_null", "not_null"),
        ("NOT_NULL", "not_null"),
        ("true", "true"),
        ("TRUE", "true"),
        ("False", "false"),
        ("unknown", "unknown"),
    ],
)
def test_is_values_are_case_insensitive_and_lower_cased(raw, expected):
    assert parse_filter(f"is.{raw}") == (False, OpExpr("is", expected))


def test_is_with_other_value_is_a_parse_error():
    assert_parse_error(
        fails(parse_filter, "is.nil"),
        '"failed to parse filter (is.nil)" (line 1, column 5)',
        'unexpected "i" expecting isVal: (null, not_null, true, false, unknown)',
    )
    assert fails(parse_filter, "is.ok").code == "PGRST100"
    assert fails(parse_filter, "is.").code == "PGRST100"


def test_is_value_with_trailing_text_is_rejected():
    # PostgREST ignores the tail (`is.nullx` = `is.null`); the spec says anything else is an error.
    assert_parse_error(
        fails(parse_filter, "is.nullx"),
        '"failed to parse filter (is.nullx)" (line 1, column 8)',
        "unexpected 'x' expecting end of input",
    )


def test_unknown_operator_messages_match_upstream():
    assert_parse_error(
        fails(parse_filter, "0"),
        '"failed to parse filter (0)" (line 1, column 1)',
        'unexpected "0" expecting "not" or operator (eq, gt, ...)',
    )
    assert_parse_error(
        fails(parse_filter, "noop.0"),
        '"failed to parse filter (noop.0)" (line 1, column 1)',
        'unexpected "o" expecting "not" or operator (eq, gt, ...)',
    )
    assert_parse_error(
        fails(parse_filter, "not.noop.1"),
        '"failed to parse filter (not.noop.1)" (line 1, column 5)',
        'unexpected "n" expecting operator (eq, gt, ...)',
    )
    assert_parse_error(
        fails(parse_filter, "eq().value"),
        '"failed to parse filter (eq().value)" (line 1, column 4)',
        'unexpected ")" expecting operator (eq, gt, ...)',
    )
    assert_parse_error(
        fails(parse_filter, "is().value"),
        '"failed to parse filter (is().value)" (line 1, column 3)',
        'unexpected "(" expecting operator (eq, gt, ...)',
    )
    assert_parse_error(
        fails(parse_filter, "in().value"),
        '"failed to parse filter (in().value)" (line 1, column 3)',
        'unexpected "(" expecting operator (eq, gt, ...)',
    )


@pytest.mark.parametrize("value", ["EQ.1", "eq", "eq1", "eqx.1", "not.not.eq.1", "NOT.eq.1", "", ".eq.1", "gte"])
def test_malformed_operators_are_parse_errors(value):
    assert fails(parse_filter, value).code == "PGRST100"


def test_in_list_elements_are_split_on_commas():
    assert parse_filter("in.(1,2,3)") == (False, OpExpr("in", ("1", "2", "3")))


def test_in_filter_with_quoted_commas():
    assert parse_filter('in.("a,b",c,"d)e")') == (False, OpExpr("in", ("a,b", "c", "d)e")))


def test_in_quoted_elements_unescape_backslashes():
    assert parse_filter(r'in.("a\"b","c\\d","\e")') == (False, OpExpr("in", ('a"b', "c\\d", "e")))


def test_in_list_keeps_spaces_except_right_after_the_paren():
    assert parse_filter("in.(  a , b ,c )") == (False, OpExpr("in", ("a ", " b ", "c ")))


def test_in_quoted_element_followed_by_text_is_taken_verbatim():
    assert parse_filter('in.("a"b,"c" )') == (False, OpExpr("in", ('"a"b', '"c" ')))


def test_empty_in_list_is_empty_tuple():
    assert parse_filter("in.()") == (False, OpExpr("in", ()))
    assert parse_filter("in.(    )") == (False, OpExpr("in", ()))
    assert parse_filter('in.("")') == (False, OpExpr("in", ()))
    assert parse_filter("not.in.()") == (True, OpExpr("in", ()))


def test_in_list_with_empty_elements_keeps_them():
    assert parse_filter("in.( ,3,4)") == (False, OpExpr("in", ("", "3", "4")))
    assert parse_filter("in.(a,)") == (False, OpExpr("in", ("a", "")))


def test_in_without_parentheses_is_a_parse_error():
    assert_parse_error(
        fails(parse_filter, "in.1,2"),
        '"failed to parse filter (in.1,2)" (line 1, column 4)',
        'unexpected "1" expecting "("',
    )


def test_unterminated_in_list_is_a_parse_error():
    assert_parse_error(
        fails(parse_filter, "in.(1,2"),
        '"failed to parse filter (in.(1,2)" (line 1, column 8)',
        'unexpected end of input expecting "," or ")"',
    )


def test_text_after_in_list_is_rejected():
    assert_parse_error(
        fails(parse_filter, "in.(1,2)x"),
        '"failed to parse filter (in.(1,2)x)" (line 1, column 9)',
        "unexpected 'x' expecting end of input",
    )
    assert parse_filter("in.(1) ") == (False, OpExpr("in", ("1",)))


def test_logic_tree_basic():
    assert parse_logic("or", "(a.eq.1,b.gt.2)") == LogicTree(
        "or", (Filter(Field("a"), OpExpr("eq", "1")), Filter(Field("b"), OpExpr("gt", "2")))
    )


def test_logic_nesting_and_negation():
    tree = parse_logic("and", "(a.eq.1,or(b.eq.2,not.and(c.eq.3,d.not.eq.4)))")
    assert tree == LogicTree(
        "and",
        (
            Filter(Field("a"), OpExpr("eq", "1")),
            LogicTree(
                "or",
                (
                    Filter(Field("b"), OpExpr("eq", "2")),
                    LogicTree(
                        "and",
                        (Filter(Field("c"), OpExpr("eq", "3")), Filter(Field("d"), OpExpr("eq", "4"), True)),
                        negated=True,
                    ),
                ),
            ),
        ),
    )


def test_logic_quoted_values_with_escapes():
    tree = parse_logic("or", r'(a.eq."x,y",b.eq."p)q\"r",c.like."*\\*")')
    assert [c.expr.value for c in tree.children] == ["x,y", 'p)q"r', "*\\*"]


def test_logic_quoted_value_followed_by_text_is_raw():
    assert parse_logic("or", '(a.eq."x"y)').children[0].expr.value == '"x"y'


def test_logic_array_literal_keeps_commas():
    tree = parse_logic("or", "(tags.cs.{a,b},tags.ov.{c})")
    assert [c.expr.value for c in tree.children] == ["{a,b}", "{c}"]


def test_logic_in_list_and_is_and_fts_inside():
    tree = parse_logic("or", '(id.in.(1,"2,3"),x.is.NULL,t.fts(english).cat rat,d.isdistinct.5)')
    assert [c.expr for c in tree.children] == [
        OpExpr("in", ("1", "2,3")),
        OpExpr("is", "null"),
        OpExpr("fts", "cat rat", language="english"),
        OpExpr("isdistinct", "5"),
    ]


def test_logic_whitespace_around_parens_and_commas_is_ignored_not_inside_values():
    tree = parse_logic("or", "( a.eq.1 , and ( b.gt.x y , c.is.null ) )")
    assert tree == LogicTree(
        "or",
        (
            Filter(Field("a"), OpExpr("eq", "1 ")),
            LogicTree("and", (Filter(Field("b"), OpExpr("gt", "x y ")), Filter(Field("c"), OpExpr("is", "null")))),
        ),
    )


def test_logic_fields_with_json_paths_and_embed_null_filters():
    tree = parse_logic("or", "(data->x->>0.eq.1,actors.not.is.null)")
    assert tree.children == (
        Filter(col("data", ("->", "x"), ("->>", 0)), OpExpr("eq", "1")),
        Filter(Field("actors"), OpExpr("is", "null"), negated=True),
    )


def test_logic_tree_errors_match_upstream():
    assert_parse_error(
        fails(parse_logic, "or", "(id.in.1,2,id.eq.3)"),
        '"failed to parse logic tree ((id.in.1,2,id.eq.3))" (line 1, column 10)',
        'unexpected "1" expecting "("',
    )
    assert_parse_error(
        fails(parse_logic, "or", ")("),
        '"failed to parse logic tree ()()" (line 1, column 3)',
        'unexpected ")" expecting "("',
    )
    assert_parse_error(
        fails(parse_logic, "and", "(ord(id.eq.1,id.eq.1),id.eq.2)"),
        '"failed to parse logic tree ((ord(id.eq.1,id.eq.1),id.eq.2))" (line 1, column 7)',
        'unexpected "d" expecting "("',
    )
    assert_parse_error(
        fails(parse_logic, "or", "(id.eq.1,not.xor(id.eq.2,id.eq.3))"),
        '"failed to parse logic tree ((id.eq.1,not.xor(id.eq.2,id.eq.3)))" (line 1, column 16)',
        'unexpected "x" expecting logic operator (and, or)',
    )


# -- filter_value -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["John", "", "not", "nothing", "fts(.x", "{1,2}", "eqx"])
def test_filter_value_returns_none_for_a_plain_value_when_allowed(value):
    assert filter_value(value, allow_plain=True) is None


def test_filter_value_with_plain_values_allowed_still_parses_filters():
    assert filter_value("not.isdistinct.5", allow_plain=True) == (True, OpExpr("isdistinct", "5"))
    assert filter_value("in.(1,2)", allow_plain=True) == (False, OpExpr("in", ("1", "2")))


def test_filter_value_rejects_a_plain_value_by_default():
    assert_parse_error(
        fails(filter_value, "John"),
        '"failed to parse filter (John)" (line 1, column 1)',
        'unexpected "J" expecting "not" or operator (eq, gt, ...)',
    )


@pytest.mark.parametrize(
    ("value", "column", "details"),
    [
        ("not.x", 5, 'unexpected "x" expecting operator (eq, gt, ...)'),
        ("in.x", 4, 'unexpected "x" expecting "("'),
        ("is.x", 4, 'unexpected "x" expecting isVal: (null, not_null, true, false, unknown)'),
        ("in.(", 5, 'unexpected end of input expecting "," or ")"'),
    ],
)
def test_committed_prefixes_fail_even_when_plain_values_are_allowed(value, column, details):
    assert_parse_error(
        fails(filter_value, value, allow_plain=True),
        f'"failed to parse filter ({value})" (line 1, column {column})',
        details,
    )


@pytest.mark.parametrize(
    ("value", "column", "details"),
    [
        ("not", 4, "unexpected end of input expecting delimiter (.)"),
        ("not.", 5, "unexpected end of input expecting operator (eq, gt, ...)"),
        ("neq", 4, "unexpected end of input expecting operator (eq, gt, ...)"),
        ("isdistinct", 11, "unexpected end of input expecting operator (eq, gt, ...)"),
    ],
)
def test_operator_without_a_value_delimiter_is_a_parse_error(value, column, details):
    assert_parse_error(
        fails(filter_value, value), f'"failed to parse filter ({value})" (line 1, column {column})', details
    )


def test_unexpected_characters_are_shown_as_haskell_does():
    assert fails(filter_value, "é").details == 'unexpected "\\233" expecting "not" or operator (eq, gt, ...)'
    assert fails(filter_value, "\tx").details == 'unexpected "\\t" expecting "not" or operator (eq, gt, ...)'


def test_fts_language_without_closing_paren_is_a_parse_error():
    assert_parse_error(
        fails(filter_value, "fts(english.x"),
        '"failed to parse filter (fts(english.x)" (line 1, column 12)',
        'unexpected "." expecting operator (eq, gt, ...)',
    )


# -- the Parser rules ----------------------------------------------------------------------------


def test_op_expr_in_a_logic_tree_stops_at_a_comma_or_paren():
    p = Parser("eq.1,b")
    assert (p.op_expr(logic=True), p.i) == ((False, OpExpr("eq", "1")), 4)
    p = Parser("not.gt.a b)")
    assert (p.op_expr(logic=True), p.i) == ((True, OpExpr("gt", "a b")), 10)


def test_op_expr_outside_a_logic_tree_takes_the_rest_of_the_text():
    p = Parser("eq.1,b)")
    assert (p.op_expr(logic=False), p.i) == ((False, OpExpr("eq", "1,b)")), 7)


def test_tree_path_splits_embeds_from_the_field_and_its_json_path():
    assert Parser("a.b.c->x->>0").tree_path() == (("a", "b"), col("c", ("->", "x"), ("->>", 0)))
    assert Parser('"a.b".c').tree_path() == (("a.b",), Field("c"))
    assert Parser("id").tree_path() == ((), Field("id"))


def test_dotted_names_keeps_every_segment():
    assert Parser("a.not.or").dotted_names() == ["a", "not", "or"]
    assert Parser('"x.y".and').dotted_names() == ["x.y", "and"]


def test_columns_trims_names_and_keeps_quoted_commas():
    assert Parser(' a , "b,c" ,d').columns() == ["a", "b,c", "d"]


def test_run_names_the_source_after_the_label_and_the_text():
    assert_parse_error(
        fails(run, "failed to parse columns parameter", "a,", lambda p: p.columns()),
        '"failed to parse columns parameter (a,)" (line 1, column 3)',
        "unexpected end of input expecting field name (* or [a..z0..9_$])",
    )
    assert run("label", "a, b", lambda p: p.columns()) == ["a", "b"]


def test_run_as_uses_the_name_whole():
    assert_parse_error(
        fails(run_as, "custom name", "a,", lambda p: p.columns()),
        '"custom name" (line 1, column 3)',
        "unexpected end of input expecting field name (* or [a..z0..9_$])",
    )


# -- logic trees -----------------------------------------------------------------------------------


def test_negated_logic_operator_from_the_key():
    assert parse_logic("not.and", "(a.eq.1)") == LogicTree(
        "and", (Filter(Field("a"), OpExpr("eq", "1")),), negated=True
    )


def test_logic_tree_with_negated_isdistinct_and_negated_subtree():
    assert parse_logic("or", "(a.not.isdistinct.1,not.or(b.is.true))") == LogicTree(
        "or",
        (
            Filter(Field("a"), OpExpr("isdistinct", "1"), negated=True),
            LogicTree("or", (Filter(Field("b"), OpExpr("is", "true")),), negated=True),
        ),
    )


def test_logic_unterminated_quoted_value_is_taken_as_raw_text():
    assert parse_logic("or", '(a.eq."x)').children == (Filter(Field("a"), OpExpr("eq", '"x')),)


def test_logic_unclosed_array_literal_is_text_up_to_the_next_comma_or_paren():
    assert parse_logic("or", "(a.cs.{1)").children == (Filter(Field("a"), OpExpr("cs", "{1")),)


def test_logic_unknown_operator_is_a_parse_error():
    assert_parse_error(
        fails(parse_logic, "xor", "(a.eq.1)"),
        '"failed to parse logic tree ((a.eq.1))" (line 1, column 1)',
        'unexpected "x" expecting negation operator (not) or logic operator (and, or)',
    )


def test_logic_tree_without_parentheses_is_a_parse_error():
    assert_parse_error(
        fails(parse_logic, "or", ""),
        '"failed to parse logic tree ()" (line 1, column 3)',
        'unexpected end of input expecting "("',
    )


def test_logic_trees_nest_up_to_one_hundred_levels():
    inner = Filter(Field("a"), OpExpr("eq", "1"))
    tree = parse_logic("or", "(" + "or(" * 99 + "a.eq.1" + ")" * 100)
    depth = 0
    while isinstance(tree, LogicTree):
        (tree,) = tree.children
        depth += 1
    assert (depth, tree) == (100, inner)


def test_logic_tree_nested_deeper_than_the_limit_is_a_parse_error():
    value = "(" + "or(" * 100 + "a.eq.1" + ")" * 101
    assert_parse_error(
        fails(parse_logic, "or", value),
        f'"failed to parse logic tree ({value})" (line 1, column 304)',
        "nesting deeper than 100 levels is not supported",
    )
