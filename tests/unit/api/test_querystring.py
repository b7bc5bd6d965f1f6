"""pgwsgi.api.querystring: the whole query string sorted into QueryParams (inventory §3), no database.

Expected error messages marked "upstream" are copied from PostgREST's own tests and
doctests (QueryParams.hs, QuerySpec, AndOrParamsSpec, JsonOperatorSpec, InsertSpec).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgwsgi.api.model import (
    Field,
    Filter,
    LogicTree,
    OpExpr,
    OrderTerm,
    QueryParams,
    SelectField,
)
from pgwsgi.api.querystring import (
    DEFAULT_SELECT,
    RESERVED,
    canonical_query,
    parse_columns,
    parse_field,
    parse_filter,
    parse_logic,
    parse_order,
    parse_query,
    parse_select,
)
from pgwsgi.errors import ApiError
from tests.unit.api.helpers import assert_parse_error, col, fails

STAR = SelectField(Field("*"))


_TEXT = st.text(
    alphabet=st.sampled_from(list('abcnotiqsl.,:()!*"\\{}->_ 0123456789$\t\né')) | st.characters(), max_size=40
)


def test_filter_key_embed_path_and_field():
    q = parse_query([("a.b.col", "eq.1"), ("id", "gt.2")])
    assert q.filters == (
        (("a", "b"), Filter(Field("col"), OpExpr("eq", "1"))),
        ((), Filter(Field("id"), OpExpr("gt", "2"))),
    )
    assert q.root_filters() == (Filter(Field("id"), OpExpr("gt", "2")),)


def test_filter_key_with_json_path_on_embed():
    q = parse_query([("a.data->>x", "eq.4"), ("data->0->>k", "not.is.null")])
    assert q.filters == (
        (("a",), Filter(col("data", ("->>", "x")), OpExpr("eq", "4"))),
        ((), Filter(col("data", ("->", 0), ("->>", "k")), OpExpr("is", "null"), negated=True)),
    )


def test_quoted_filter_key_may_contain_reserved_characters():
    q = parse_query([('"*id*"', "eq.1"), ('"a.b"', "eq.2")])
    assert [f.field.name for _, f in q.filters] == ["*id*", "a.b"]


def test_cast_in_filter_key_is_a_parse_error():
    assert_parse_error(
        fails(parse_query, [("col::text", "eq.1")]), '"failed to parse tree path (col::text)" (line 1, column 4)'
    )


def test_empty_filter_key_is_a_parse_error():
    assert_parse_error(
        fails(parse_query, [("", "eq.1")]),
        '"failed to parse tree path ()" (line 1, column 1)',
        "unexpected end of input expecting field name (* or [a..z0..9_$])",
    )


def test_filter_without_operator_on_tables_is_a_parse_error():
    assert_parse_error(
        fails(parse_query, [("id", "0")]),
        '"failed to parse filter (0)" (line 1, column 1)',
        'unexpected "0" expecting "not" or operator (eq, gt, ...)',
    )


def test_reserved_root_keys_are_not_filters_but_are_filters_on_embeds():
    q = parse_query([("select", "a"), ("columns", "a"), ("on_conflict", "a"), ("emb.select", "eq.1")])
    assert q.filters == ((("emb",), Filter(Field("select"), OpExpr("eq", "1"))),)


def test_embeddable_reserved_keys_are_never_filters():
    q = parse_query(
        [("e.order", "id"), ("e.limit", "1"), ("e.offset", "2"), ("e.and", "(a.eq.1)"), ("e.or", "(a.eq.1)")]
    )
    assert q.filters == ()
    assert q.order == ((("e",), (OrderTerm(Field("id")),)),)
    assert (q.limits, q.offsets) == (((("e",), 1),), ((("e",), 2),))
    assert [p for p, _ in q.logic] == [("e",), ("e",)]


def test_query_defaults():
    q = parse_query([])
    assert q == QueryParams()
    assert q.select == (STAR,)
    assert (q.columns, q.on_conflict, q.root_limit(), q.root_offset()) == (None, None, None, None)


def test_rpc_get_takes_non_filter_values_as_arguments_in_order():
    q = parse_query([("name", "John"), ("id", "eq.3"), ("v", "{1,2}"), ("v", "x"), ("select", "*")], rpc=True)
    assert q.rpc_args == (("name", "John"), ("v", "{1,2}"), ("v", "x"))
    assert q.filters == (((), Filter(Field("id"), OpExpr("eq", "3"))),)


def test_rpc_head_behaves_like_get():
    q = parse_query([("name", "John")], rpc=True, method="HEAD")
    assert q.rpc_args == (("name", "John"),)


def test_rpc_get_value_that_looks_like_a_filter_is_a_filter():
    q = parse_query([("id", "eq.1"), ("body", "fts(.x")], rpc=True)
    assert q.rpc_args == (("body", "fts(.x"),)
    assert q.filters == (((), Filter(Field("id"), OpExpr("eq", "1"))),)


@pytest.mark.parametrize("value", ["in.x", "in.(1", "is.x", "is.", "not.x", "not.eq"])
def test_rpc_get_committed_prefixes_that_fail_are_parse_errors(value):
    # `in.`, `is.` and `not.` commit the parser (PostgREST's parsec consumed input).
    assert fails(parse_query, [("a", value)], rpc=True).code == "PGRST100"


def test_rpc_get_empty_value_is_an_argument():
    assert parse_query([("a", "")], rpc=True).rpc_args == (("a", ""),)


def test_rpc_reserved_params_are_never_arguments():
    q = parse_query(
        [
            ("select", "a"),
            ("order", "a"),
            ("limit", "1"),
            ("offset", "1"),
            ("and", "(a.eq.1)"),
            ("or", "(a.eq.1)"),
            ("columns", "a"),
            ("on_conflict", "a"),
        ],
        rpc=True,
    )
    assert q.rpc_args == ()


def test_rpc_post_requires_every_param_to_be_a_filter():
    assert_parse_error(
        fails(parse_query, [("name", "John")], rpc=True, method="POST"),
        '"failed to parse filter (John)" (line 1, column 1)',
        'unexpected "J" expecting "not" or operator (eq, gt, ...)',
    )
    q = parse_query([("id", "eq.1")], rpc=True, method="POST")
    assert q.filters == (((), Filter(Field("id"), OpExpr("eq", "1"))),)


def test_non_rpc_get_requires_filters():
    assert fails(parse_query, [("name", "John")]).code == "PGRST100"


def test_logic_keys_with_not_and_embeds():
    q = parse_query([("not.or", "(a.eq.1)"), ("emb.not.and", "(b.eq.2)"), ("and", "(c.eq.3)")])
    assert q.logic == (
        ((), LogicTree("or", (Filter(Field("a"), OpExpr("eq", "1")),), negated=True)),
        (("emb",), LogicTree("and", (Filter(Field("b"), OpExpr("eq", "2")),), negated=True)),
        ((), LogicTree("and", (Filter(Field("c"), OpExpr("eq", "3")),))),
    )
    assert q.root_logic() == (q.logic[0][1], q.logic[2][1])


def test_empty_logic_tree_is_a_parse_error():
    assert_parse_error(
        fails(parse_query, [("or", "()")]),
        '"failed to parse logic tree (())" (line 1, column 4)',
        'unexpected ")" expecting field name (* or [a..z0..9_$]), negation operator (not) or logic operator (and, or)',
    )


@pytest.mark.parametrize(
    "value",
    [
        "(a.eq.1,)",
        "a.eq.1",
        "",
        "(a.eq.1",
        "(a.b.eq.1)",
        "(a.xx.1)",
        "(a.eq.{1,2}x)",
        "(or())",
        "(a.in.(1,2)",
    ],
)
def test_malformed_logic_trees(value):
    assert fails(parse_query, [("or", value)]).code == "PGRST100"


def test_logic_path_with_json_is_a_parse_error():
    assert fails(parse_query, [("a->b.or", "(a.eq.1)")]).message.startswith('"failed to parse logic path (a->b.or)"')


def test_select_empty_means_star():
    assert parse_select("") == (STAR,)
    assert parse_query([("select", "")]).select == (STAR,)


def test_huge_numbers_do_not_crash():
    assert parse_field("d->" + "1" * 5000) == col("d", ("->", "1" * 5000))
    assert parse_field("d->12345678901234567890") == col("d", ("->", 12345678901234567890))
    assert parse_query([("limit", "9" * 5000)]).limits == ()


def test_order_params_per_level_in_request_order():
    q = parse_query([("order", "a"), ("emb.order", "b.desc"), ("order", "c")])
    assert q.order == (
        ((), (OrderTerm(Field("a")),)),
        (("emb",), (OrderTerm(Field("b"), direction="desc"),)),
        ((), (OrderTerm(Field("c")),)),
    )
    assert q.root_order() == (OrderTerm(Field("a")),)  # PostgREST applies the first one


def test_limit_and_offset_root_and_embedded():
    q = parse_query([("limit", "10"), ("offset", "5"), ("a.b.limit", "2"), ("a.offset", "0")])
    assert q.limits == (((), 10), (("a", "b"), 2))
    assert q.offsets == (((), 5), (("a",), 0))
    assert (q.root_limit(), q.root_offset()) == (10, 5)


@pytest.mark.parametrize("value", ["x", "", "1.5", "1e3", "+3", "1_000", "٣"])
def test_non_integer_limits_are_ignored(value):
    assert parse_query([("limit", value), ("offset", value)]).limits == ()


def test_limit_accepts_what_haskell_read_accepts():
    q = parse_query([("limit", " 7 "), ("offset", "(3)"), ("a.limit", "0x10"), ("a.offset", "- 0")])
    assert (q.limits, q.offsets) == ((((), 7), (("a",), 16)), (((), 3), (("a",), 0)))


def test_last_limit_wins_even_if_invalid():
    assert parse_query([("limit", "5"), ("limit", "7")]).root_limit() == 7
    assert parse_query([("limit", "5"), ("limit", "x")]).root_limit() is None


def test_negative_root_limit_is_416():
    err = fails(parse_query, [("limit", "-1")])
    assert (err.status, err.code, err.message, err.details) == (
        416,
        "PGRST103",
        "Requested range not satisfiable",
        "Limit should be greater than or equal to zero.",
    )


def test_negative_embedded_limit_is_left_to_the_database():
    assert parse_query([("emb.limit", "-1")]).limits == ((("emb",), -1),)


def test_limit_zero_is_allowed():
    assert parse_query([("limit", "0")]).root_limit() == 0


def test_parse_errors_win_over_range_errors():
    assert fails(parse_query, [("limit", "-1"), ("a", "bad")]).code == "PGRST100"


def test_columns_and_on_conflict():
    q = parse_query([("columns", 'a, b ,"c,d",a'), ("on_conflict", "x,y")])
    assert q.columns == ("a", "b", "c,d")
    assert q.on_conflict == ("x", "y")


def test_empty_columns_is_a_parse_error():
    assert_parse_error(
        fails(parse_query, [("columns", "")]),
        '"failed to parse columns parameter ()" (line 1, column 1)',
        "unexpected end of input expecting field name (* or [a..z0..9_$])",
    )
    assert fails(parse_columns, "a,", "on_conflict").message.startswith('"failed to parse on_conflict parameter (a,)"')


def test_first_reserved_param_wins():
    q = parse_query([("select", "a"), ("select", "b"), ("columns", "c"), ("columns", "")])
    assert q.select == (SelectField(Field("a")),)
    assert q.columns == ("c",)


def test_errors_are_reported_in_postgrest_order():
    # order, logic, columns, select, filters, on_conflict: the first failing kind wins
    bad = [("a", "bad"), ("select", "a(("), ("columns", ""), ("or", "()"), ("order", "x.up")]
    assert fails(parse_query, bad).message.startswith('"failed to parse order')
    assert fails(parse_query, bad[:4]).message.startswith('"failed to parse logic tree')
    assert fails(parse_query, bad[:3]).message.startswith('"failed to parse columns')
    assert fails(parse_query, bad[:2]).message.startswith('"failed to parse select')


def test_canonical_query_sorts_and_encodes():
    pairs = [("select", "id,name"), ("b", "eq.1 2"), ("a", "in.(é,+)"), ("b", "eq.3")]
    assert canonical_query(pairs) == "a=in.%28%C3%A9%2C%2B%29&b=eq.1%202,eq.3&select=id%2Cname"
    assert parse_query(pairs[1:]).canonical == "a=in.%28%C3%A9%2C%2B%29&b=eq.1%202,eq.3"


def test_canonical_query_keeps_empty_values():
    assert canonical_query([("d", ""), ("a", "1")]) == "a=1&d="


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            _TEXT
            | st.sampled_from(["select", "order", "a.or", "not.and", "limit", "columns", "on_conflict", "x.offset"]),
            _TEXT,
        ),
        max_size=6,
    ),
    st.booleans(),
    st.sampled_from(["GET", "POST", "HEAD"]),
)
def test_arbitrary_query_strings_only_raise_api_errors(pairs, rpc, method):
    try:
        parse_query(pairs, rpc=rpc, method=method)
    except ApiError as err:
        assert err.code in ("PGRST100", "PGRST103")


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_arbitrary_values_only_raise_api_errors_in_every_parser(text):
    for fn in (parse_select, parse_order, parse_filter, parse_field, parse_columns):
        try:
            fn(text)
        except ApiError as err:
            assert err.code == "PGRST100"
    for op in ("or", "not.and"):
        try:
            parse_logic(op, text)
        except ApiError as err:
            assert err.code == "PGRST100"


def test_text_after_a_logic_tree_is_ignored_as_postgrest_does() -> None:
    assert parse_logic("and", "(id.eq.1,id.neq.2))") == parse_logic("and", "(id.eq.1,id.neq.2)")


# -- reserved parameters and keys -------------------------------------------------------------------


def test_reserved_parameters_and_default_select():
    assert RESERVED == ("select", "columns", "on_conflict")
    assert DEFAULT_SELECT == (STAR,)


def test_on_conflict_keeps_repeated_names_unlike_columns():
    q = parse_query([("on_conflict", "x,x"), ("columns", "y,y")])
    assert (q.on_conflict, q.columns) == (("x", "x"), ("y",))


def test_parse_columns_names_the_parameter_in_errors():
    assert_parse_error(
        fails(parse_columns, "", "on_conflict"),
        '"failed to parse on_conflict parameter ()" (line 1, column 1)',
        "unexpected end of input expecting field name (* or [a..z0..9_$])",
    )


def test_not_anywhere_in_a_logic_key_negates_and_is_dropped_from_the_path():
    q = parse_query([("not.emb.or", "(a.eq.1)")])
    assert q.logic == ((("emb",), LogicTree("or", (Filter(Field("a"), OpExpr("eq", "1")),), negated=True)),)


def test_key_ending_in_not_is_a_filter_key():
    assert_parse_error(
        fails(parse_query, [("emb.or.not", "(a.eq.1)")]),
        '"failed to parse filter ((a.eq.1))" (line 1, column 1)',
        'unexpected "(" expecting "not" or operator (eq, gt, ...)',
    )


def test_repeated_filters_and_logic_trees_are_all_kept_in_order():
    q = parse_query([("a", "eq.1"), ("or", "(b.eq.2)"), ("a", "eq.3"), ("or", "(c.eq.4)")])
    assert q.filters == (
        ((), Filter(Field("a"), OpExpr("eq", "1"))),
        ((), Filter(Field("a"), OpExpr("eq", "3"))),
    )
    assert q.logic == (
        ((), LogicTree("or", (Filter(Field("b"), OpExpr("eq", "2")),))),
        ((), LogicTree("or", (Filter(Field("c"), OpExpr("eq", "4")),))),
    )


def test_filters_and_order_on_a_nested_embed():
    q = parse_query([("a.b.order", "x.desc"), ("a.b.c", "eq.1")])
    assert q == QueryParams(
        filters=((("a", "b"), Filter(Field("c"), OpExpr("eq", "1"))),),
        order=((("a", "b"), (OrderTerm(Field("x"), direction="desc"),)),),
        canonical="a.b.c=eq.1&a.b.order=x.desc",
    )
    assert (q.root_filters(), q.root_order()) == ((), ())


def test_rpc_read_method_is_case_insensitive():
    assert parse_query([("name", "John")], rpc=True, method="get").rpc_args == (("name", "John"),)


# -- limit / offset -------------------------------------------------------------------------------------


def test_limit_and_offset_read_octal_hex_and_parenthesised_integers():
    q = parse_query([("limit", "0o17"), ("a.limit", "-0x10"), ("offset", "((5))"), ("b.offset", "0O7")])
    assert (q.limits, q.offsets) == ((((), 15), (("a",), -16)), (((), 5), (("b",), 7)))


def test_limit_minus_zero_is_zero():
    assert parse_query([("limit", "-0")]).limits == (((), 0),)


def test_negative_root_offset_is_left_to_the_range_computation():
    assert parse_query([("offset", "-1")]).offsets == (((), -1),)


# -- canonical form ----------------------------------------------------------------------------------


def test_canonical_query_sorts_keys_by_their_utf8_bytes():
    assert canonical_query([("é", "1"), ("a", "2"), ("B", "3")]) == "B=3&a=2&%C3%A9=1"


def test_canonical_query_encodes_everything_but_unreserved_characters():
    assert canonical_query([("k", "a/b c+d~e-f_g.h")]) == "k=a%2Fb%20c%2Bd~e-f_g.h"


def test_canonical_query_of_nothing_is_empty():
    assert canonical_query([]) == ""
    assert parse_query([]).canonical == ""


def test_canonical_form_of_a_query_includes_reserved_parameters():
    assert parse_query([("x", "eq.1"), ("select", "a")]).canonical == "select=a&x=eq.1"


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_TEXT, _TEXT, max_size=6), st.randoms(use_true_random=False))
def test_canonical_query_does_not_depend_on_the_order_of_distinct_keys(params, rnd):
    pairs = list(params.items())
    shuffled = pairs[:]
    rnd.shuffle(shuffled)
    assert canonical_query(shuffled) == canonical_query(pairs)
