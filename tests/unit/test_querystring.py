"""Query-string grammar (inventory §3): pure parsing, no database.

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
    JsonStep,
    LogicTree,
    OpExpr,
    OrderTerm,
    QueryParams,
    SelectField,
    SelectRelation,
)
from pgwsgi.api.querystring import (
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

STAR = SelectField(Field("*"))


def fails(fn, *args, **kwargs) -> ApiError:
    with pytest.raises(ApiError) as info:
        fn(*args, **kwargs)
    return info.value


def assert_parse_error(err: ApiError, message: str, details: str | None = None) -> None:
    assert (err.status, err.code) == (400, "PGRST100")
    assert err.message == message
    if details is not None:
        assert err.details == details


def col(name: str, *steps: tuple[str, str | int]) -> Field:
    return Field(name, tuple(JsonStep(a, k) for a, k in steps))  # type: ignore[arg-type]


# -- filters: operators ---------------------------------------------------------------


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


# -- filters: in lists --------------------------------------------------------------------


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


# -- fields and JSON paths -------------------------------------------------------------------


def test_field_json_path_with_keys_and_indexes():
    assert parse_field("data->a->>b") == col("data", ("->", "a"), ("->>", "b"))
    assert parse_field("data->0->>-1") == col("data", ("->", 0), ("->>", -1))
    assert parse_field("data->>12") == col("data", ("->>", 12))


def test_json_key_that_starts_with_digits_is_a_key():
    assert parse_field("data->0xy1->1") == col("data", ("->", "0xy1"), ("->", 1))


def test_json_keys_allow_special_characters_and_quotes():
    assert parse_field("data->!@#$%^&*_a") == col("data", ("->", "!@#$%^&*_a"))
    assert parse_field('data->"a.b,c"->>"x\\"y"') == col("data", ("->", "a.b,c"), ("->>", 'x"y'))
    assert parse_field("data->a-b") == col("data", ("->", "a-b"))


def test_field_names_trim_spaces_unless_quoted():
    assert parse_field(" my col ") == Field("my col")
    assert parse_field('" spaced "') == Field(" spaced ")
    assert parse_field('"information.cpe"') == Field("information.cpe")
    assert parse_field('"a\\"b"') == Field('a"b')


def test_field_names_allow_unicode_digits_dollar_and_dashes():
    assert parse_field("größe_1$") == Field("größe_1$")
    assert parse_field("a-b-c") == Field("a-b-c")
    assert parse_field("123") == Field("123")


def test_bad_json_paths_match_upstream_errors():
    assert_parse_error(
        fails(parse_select, "data->>--34"),
        '"failed to parse select parameter (data->>--34)" (line 1, column 9)',
        'unexpected "-" expecting digit',
    )
    assert_parse_error(
        fails(parse_select, "data->>-78xy"),
        '"failed to parse select parameter (data->>-78xy)" (line 1, column 11)',
        'unexpected \'x\' expecting digit, "->", "::", ".", "," or end of input',
    )
    assert_parse_error(
        fails(parse_select, "data->(!@#$%^&*_d->>!@#$%^&*_e::integer"),
        '"failed to parse select parameter (data->(!@#$%^&*_d->>!@#$%^&*_e::integer)" (line 1, column 7)',
        'unexpected "(" expecting "-", digit or any non reserved character different from: .,>()',
    )


@pytest.mark.parametrize("text", ["", "a->", "a-", ":", "a b.c", '"unterminated', "a::text"])
def test_invalid_fields(text):
    assert fails(parse_field, text).code == "PGRST100"


# -- query keys ---------------------------------------------------------------------------------


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


# -- rpc arguments --------------------------------------------------------------------------------


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


# -- logic trees --------------------------------------------------------------------------------------


def test_logic_tree_basic():
    assert parse_logic("or", "(a.eq.1,b.gt.2)") == LogicTree(
        "or", (Filter(Field("a"), OpExpr("eq", "1")), Filter(Field("b"), OpExpr("gt", "2")))
    )


def test_logic_keys_with_not_and_embeds():
    q = parse_query([("not.or", "(a.eq.1)"), ("emb.not.and", "(b.eq.2)"), ("and", "(c.eq.3)")])
    assert q.logic == (
        ((), LogicTree("or", (Filter(Field("a"), OpExpr("eq", "1")),), negated=True)),
        (("emb",), LogicTree("and", (Filter(Field("b"), OpExpr("eq", "2")),), negated=True)),
        ((), LogicTree("and", (Filter(Field("c"), OpExpr("eq", "3")),))),
    )
    assert q.root_logic() == (q.logic[0][1], q.logic[2][1])


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


def test_empty_logic_tree_is_a_parse_error():
    assert_parse_error(
        fails(parse_query, [("or", "()")]),
        '"failed to parse logic tree (())" (line 1, column 4)',
        'unexpected ")" expecting field name (* or [a..z0..9_$]), negation operator (not) or logic operator (and, or)',
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


# -- select --------------------------------------------------------------------------------------------


def test_select_columns_star_and_whitespace():
    assert parse_select(" a , b,* ") == (SelectField(Field("a")), SelectField(Field("b")), STAR)


def test_select_empty_means_star():
    assert parse_select("") == (STAR,)
    assert parse_query([("select", "")]).select == (STAR,)


def test_select_alias_and_cast():
    assert parse_select("alias:name->jsonpath::cast") == (
        SelectField(col("name", ("->", "jsonpath")), alias="alias", cast="cast"),
    )
    assert parse_select("x::_int4,y::my type$1") == (
        SelectField(Field("x"), cast="_int4"),
        SelectField(Field("y"), cast="my type$1"),
    )


def test_select_json_paths_are_parsed_without_naming():
    assert parse_select("data->a->>b,data->0,d->-1") == (
        SelectField(col("data", ("->", "a"), ("->>", "b"))),
        SelectField(col("data", ("->", 0))),
        SelectField(col("d", ("->", -1))),
    )


def test_select_json_index_inside_embed_is_an_index():
    # PostgREST would read `0` before `)` as a key; the spec says integers are indexes.
    assert parse_select("rel(data->0)")[0].children == (SelectField(col("data", ("->", 0))),)


def test_select_quoted_names():
    assert parse_select('"a,b":"c(d)","x.y"') == (SelectField(Field("c(d)"), alias="a,b"), SelectField(Field("x.y")))


def test_select_quoted_names_with_reserved_characters_upstream_case():
    assert parse_select('":arr->ow::cast","(inside,parens)","a.dotted.column","  col  w  space  "') == (
        SelectField(Field(":arr->ow::cast")),
        SelectField(Field("(inside,parens)")),
        SelectField(Field("a.dotted.column")),
        SelectField(Field("  col  w  space  ")),
    )


def test_select_long_json_chain_upstream_case():
    assert parse_select("data->0->0xy1->1->23-xy-45->1->xy-6->>0::int") == (
        SelectField(
            col(
                "data", ("->", 0), ("->", "0xy1"), ("->", 1), ("->", "23-xy-45"), ("->", 1), ("->", "xy-6"), ("->>", 0)
            ),
            cast="int",
        ),
    )


def test_select_aggregates():
    assert parse_select("a.sum(),b.avg(),c.max(),d.min(),e.count()") == tuple(
        SelectField(Field(n), aggregate=a) for n, a in zip("abcde", ["sum", "avg", "max", "min", "count"], strict=True)
    )


def test_select_aggregate_with_alias_and_casts():
    assert parse_select("total:x::numeric.sum()::int") == (
        SelectField(Field("x"), alias="total", cast="numeric", aggregate="sum", aggregate_cast="int"),
    )


def test_select_second_cast_without_aggregate_is_accepted_and_dropped():
    assert parse_select("a::int::text") == (SelectField(Field("a"), cast="int"),)


def test_select_bare_count_with_alias_and_cast():
    assert parse_select("count(),c:count()::text") == (
        SelectField(Field("*"), aggregate="count"),
        SelectField(Field("*"), alias="c", aggregate="count", aggregate_cast="text"),
    )


def test_select_legacy_count_is_a_plain_field():
    assert parse_select("count") == (SelectField(Field("count")),)


def test_select_unknown_aggregate_is_a_parse_error():
    assert fails(parse_select, "a.foo()").code == "PGRST100"
    assert fails(parse_select, "a.sum").code == "PGRST100"


def test_select_embeds():
    assert parse_select("*,client(*,nested(*))") == (
        STAR,
        SelectRelation("client", children=(STAR, SelectRelation("nested", children=(STAR,)))),
    )
    assert parse_select("alias:rel(a)") == (SelectRelation("rel", alias="alias", children=(SelectField(Field("a")),)),)


def test_select_empty_embed():
    assert parse_select("a,rel()") == (SelectField(Field("a")), SelectRelation("rel"))
    assert parse_select("rel( )") == (SelectRelation("rel"),)


def test_select_hints_and_join_types_in_either_order():
    assert parse_select("rel!hint(*)")[0] == SelectRelation("rel", hint="hint", children=(STAR,))
    assert parse_select("rel!inner(*)")[0] == SelectRelation("rel", join="inner", children=(STAR,))
    assert parse_select("rel!left(*)")[0] == SelectRelation("rel", join="left", children=(STAR,))
    assert parse_select("rel!hint!inner(*)")[0] == SelectRelation("rel", hint="hint", join="inner", children=(STAR,))
    assert parse_select("a:rel!inner!hint(*)")[0] == SelectRelation("rel", "a", "hint", "inner", children=(STAR,))
    assert parse_select('rel!"inner"(*)')[0] == SelectRelation("rel", hint="inner", children=(STAR,))


def test_select_spreads():
    assert parse_select("*,...client(*),other(*)") == (
        STAR,
        SelectRelation("client", spread=True, children=(STAR,)),
        SelectRelation("other", children=(STAR,)),
    )
    assert parse_select("...rel!hint!inner(a)")[0] == SelectRelation(
        "rel", hint="hint", join="inner", spread=True, children=(SelectField(Field("a")),)
    )


def test_select_alias_on_spread_is_a_parse_error():
    assert fails(parse_select, "alias:...rel(*)").code == "PGRST100"


def test_select_json_path_on_embed_is_a_parse_error():
    assert fails(parse_select, "rel->x(*)").code == "PGRST100"
    assert fails(parse_select, "...rel->x(*)").code == "PGRST100"


def test_select_errors_match_upstream():
    assert_parse_error(
        fails(parse_select, "id,clients(name[])"),
        '"failed to parse select parameter (id,clients(name[]))" (line 1, column 16)',
        'unexpected \'[\' expecting letter, digit, "-", "->>", "->", "::", ".", ")", "," or end of input',
    )
    assert_parse_error(
        fails(parse_select, "name!hint"), '"failed to parse select parameter (name!hint)" (line 1, column 5)'
    )
    assert_parse_error(
        fails(parse_select, "*!hint"),
        '"failed to parse select parameter (*!hint)" (line 1, column 2)',
        'unexpected \'!\' expecting ")", "," or end of input',
    )
    assert_parse_error(
        fails(parse_select, "name::"),
        '"failed to parse select parameter (name::)" (line 1, column 7)',
        "unexpected end of input expecting letter or digit",
    )


@pytest.mark.parametrize(
    "text", ["a,", ",a", "a)", "a,b(()", "rel(", "rel(a", "count(x)", "a::text(2)", "a:*", "rel!(a)", "a b:c:d", "..."]
)
def test_malformed_selects(text):
    assert fails(parse_select, text).code == "PGRST100"


def test_select_error_message_prefix():
    assert fails(parse_select, "a,b(()").message.startswith(
        '"failed to parse select parameter (a,b(())" (line 1, column '
    )


def test_huge_numbers_do_not_crash():
    assert parse_field("d->" + "1" * 5000) == col("d", ("->", "1" * 5000))
    assert parse_field("d->12345678901234567890") == col("d", ("->", 12345678901234567890))
    assert parse_query([("limit", "9" * 5000)]).limits == ()


def test_unterminated_quotes_are_parse_errors():
    assert fails(parse_select, '"abc').details == 'unexpected end of input expecting "\\\\" or "\\""'
    assert fails(parse_select, '"abc\\').details == "unexpected end of input"
    assert fails(parse_filter, 'in.("a').code == "PGRST100"


def test_deep_nesting_is_a_parse_error_not_a_crash():
    assert fails(parse_select, "a(" * 2000).code == "PGRST100"
    assert fails(parse_logic, "or", "(" + "or(" * 2000).code == "PGRST100"


# -- order ------------------------------------------------------------------------------------------------


def test_order_terms():
    assert parse_order("name.desc.nullsfirst,age,x.asc,y.nullslast") == (
        OrderTerm(Field("name"), direction="desc", nulls="first"),
        OrderTerm(Field("age")),
        OrderTerm(Field("x"), direction="asc"),
        OrderTerm(Field("y"), nulls="last"),
    )


def test_order_json_paths():
    assert parse_order("json_col->key.asc.nullslast,data->0.desc") == (
        OrderTerm(col("json_col", ("->", "key")), direction="asc", nulls="last"),
        OrderTerm(col("data", ("->", 0)), direction="desc"),
    )


def test_order_related():
    assert parse_order("clients(json_col->key).desc.nullsfirst") == (
        OrderTerm(col("json_col", ("->", "key")), relation="clients", direction="desc", nulls="first"),
    )
    assert parse_order("name,clients(name),id")[1] == OrderTerm(Field("name"), relation="clients")


def test_order_whitespace_around_terms():
    assert parse_order(" a , b.desc ") == (OrderTerm(Field("a")), OrderTerm(Field("b"), direction="desc"))


@pytest.mark.parametrize(
    "text,column,details",
    [
        ("id.ac", 4, 'unexpected "c" expecting "asc", "desc", "nullsfirst" or "nullslast"'),
        ("id.descc", 8, "unexpected 'c' expecting delimiter (.), \",\" or end of input"),
        ("id.nulsfist", 4, 'unexpected "n" expecting "asc", "desc", "nullsfirst" or "nullslast"'),
        ("id.nullslasttt", 13, "unexpected 't' expecting \",\" or end of input"),
        ("id.asc.nlsfst", 8, 'unexpected "l" expecting "nullsfirst" or "nullslast"'),
        ("id.asc.nullslasttt", 17, "unexpected 't' expecting \",\" or end of input"),
        (
            "clients(name,id)",
            8,
            'unexpected \'(\' expecting letter, digit, "-", "->>", "->", delimiter (.), "," or end of input',
        ),
    ],
)
def test_order_errors_match_upstream(text, column, details):
    assert_parse_error(fails(parse_order, text), f'"failed to parse order ({text})" (line 1, column {column})', details)


@pytest.mark.parametrize("text", ["", "a,", "x.up", "a.desc.asc", "a.nullsfirst.desc", "rel(a,b)"])
def test_malformed_orders(text):
    assert fails(parse_order, text).code == "PGRST100"


def test_order_params_per_level_in_request_order():
    q = parse_query([("order", "a"), ("emb.order", "b.desc"), ("order", "c")])
    assert q.order == (
        ((), (OrderTerm(Field("a")),)),
        (("emb",), (OrderTerm(Field("b"), direction="desc"),)),
        ((), (OrderTerm(Field("c")),)),
    )
    assert q.root_order() == (OrderTerm(Field("a")),)  # PostgREST applies the first one


# -- limit / offset ----------------------------------------------------------------------------------------


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


# -- columns / on_conflict ------------------------------------------------------------------------------------


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


# -- ordering of errors, canonical form ---------------------------------------------------------------------------


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


# -- robustness ------------------------------------------------------------------------------------------------------

_TEXT = st.text(
    alphabet=st.sampled_from(list('abcnotiqsl.,:()!*"\\{}->_ 0123456789$\t\né')) | st.characters(), max_size=40
)


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
