"""pgwsgi.api.grammar_fields: field names, JSON paths, casts, select items and order terms.

Expected error messages marked "upstream" are copied from PostgREST's own tests and
doctests (QueryParams.hs, QuerySpec, AndOrParamsSpec, JsonOperatorSpec, InsertSpec).
"""

from __future__ import annotations

import pytest

from pgwsgi.api.grammar_fields import AGGREGATES, FieldParser
from pgwsgi.api.model import Field, JsonStep, OrderTerm, SelectField, SelectRelation
from pgwsgi.api.querystring import parse_field, parse_order, parse_select
from tests.unit.api.helpers import assert_parse_error, col, fails

STAR = SelectField(Field("*"))


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


def test_select_columns_star_and_whitespace():
    assert parse_select(" a , b,* ") == (SelectField(Field("a")), SelectField(Field("b")), STAR)


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


# -- FieldParser rules -----------------------------------------------------------------------------


def test_field_name_stops_before_a_json_arrow():
    p = FieldParser("a-b->c")
    assert (p.field_name(), p.i) == ("a-b", 3)


def test_field_consumes_surrounding_blanks():
    p = FieldParser(" data->a->>0 ")
    assert (p.field(), p.i) == (col("data", ("->", "a"), ("->>", 0)), 13)


def test_json_path_without_an_arrow_is_empty_and_does_not_move():
    p = FieldParser("x")
    assert (p.json_path(), p.i) == ((), 0)
    p = FieldParser("->>x->0")
    assert (p.json_path(), p.i) == ((JsonStep("->>", "x"), JsonStep("->", 0)), 7)


def test_forest_of_nothing_is_no_items():
    p = FieldParser("")
    assert (p.forest(0), p.i) == ([], 0)


def test_order_rule_returns_every_term():
    assert FieldParser("a.desc,rel(b).nullsfirst").order() == [
        OrderTerm(Field("a"), direction="desc"),
        OrderTerm(Field("b"), relation="rel", nulls="first"),
    ]


def test_aggregates_are_the_five_postgrest_knows():
    assert AGGREGATES == ("sum", "avg", "count", "max", "min")


# -- fields and JSON paths ---------------------------------------------------------------------------


def test_json_index_is_negative_or_positive_integer_only():
    assert parse_field("data->-1") == col("data", ("->", -1))
    assert parse_field("data->1x") == col("data", ("->", "1x"))
    assert parse_field("data->'k'") == col("data", ("->", "'k'"))


def test_json_key_blanks_are_trimmed():
    assert parse_field("data-> k ") == col("data", ("->", "k"))


def test_json_index_of_up_to_4000_digits_is_an_integer_beyond_that_a_key():
    assert parse_field("d->" + "7" * 4000) == col("d", ("->", int("7" * 4000)))
    assert parse_field("d->" + "7" * 4001) == col("d", ("->", "7" * 4001))


@pytest.mark.parametrize(
    ("text", "column", "details"),
    [
        ("data->- 1", 8, 'unexpected " " expecting digit'),
        ("data->-", 8, "unexpected end of input expecting digit"),
        ("data->x-", 9, 'unexpected end of input expecting ">"'),
        (
            "data->x->",
            10,
            'unexpected end of input expecting "-", digit or any non reserved character different from: .,>()',
        ),
        ('data->"a', 9, 'unexpected end of input expecting "\\\\" or "\\""'),
        ("a--b", 3, 'unexpected "-" expecting ">", letter or digit'),
    ],
)
def test_field_errors_point_at_the_bad_character(text, column, details):
    assert_parse_error(fails(parse_field, text), f'"failed to parse field ({text})" (line 1, column {column})', details)


def test_field_name_keeps_inner_spaces():
    assert parse_field("a b") == Field("a b")


# -- select ----------------------------------------------------------------------------------------


def test_select_blank_star_and_blank_value():
    assert parse_select(" * ") == (STAR,)
    assert parse_select(" ") == (STAR,)


def test_select_alias_json_path_cast_aggregate_and_aggregate_cast_together():
    assert parse_select("t:data->>x::int.max()::text") == (
        SelectField(col("data", ("->>", "x")), alias="t", cast="int", aggregate="max", aggregate_cast="text"),
    )


def test_select_aggregate_on_a_json_path_without_cast():
    assert parse_select("a->b.avg()::int,a.count()") == (
        SelectField(col("a", ("->", "b")), aggregate="avg", aggregate_cast="int"),
        SelectField(Field("a"), aggregate="count"),
    )


def test_select_blanks_after_a_json_index_before_a_separator():
    assert parse_select("data->0 ::int,b") == (
        SelectField(col("data", ("->", 0)), cast="int"),
        SelectField(Field("b")),
    )


def test_select_first_join_type_and_first_hint_win():
    assert parse_select("rel!inner!left(*)") == (SelectRelation("rel", join="inner", children=(STAR,)),)
    assert parse_select("rel!a!b(*)") == (SelectRelation("rel", hint="a", children=(STAR,)),)


def test_select_spread_with_several_columns():
    assert parse_select("...rel(a,b)") == (
        SelectRelation("rel", spread=True, children=(SelectField(Field("a")), SelectField(Field("b")))),
    )


def test_select_nests_embeds_up_to_one_hundred_levels():
    items = parse_select("a(" * 100 + ")" * 100)
    depth = 0
    while items:
        (item,) = items
        assert item.name == "a"
        items = item.children
        depth += 1
    assert depth == 100


def test_select_nested_deeper_than_the_limit_is_a_parse_error():
    text = "a(" * 101 + ")" * 101
    assert_parse_error(
        fails(parse_select, text),
        f'"failed to parse select parameter ({text})" (line 1, column 202)',
        "nesting deeper than 100 levels is not supported",
    )


@pytest.mark.parametrize(
    ("text", "column", "details"),
    [
        ("a.sum", 6, 'unexpected end of input expecting "()"'),
        ("a.foo()", 3, 'unexpected "f" expecting "sum", "avg", "count", "max" or "min"'),
        ("...rel", 7, 'unexpected end of input expecting letter, digit, "-", "!" or "("'),
        ("rel(a", 6, 'unexpected end of input expecting letter, digit, "-", "->>", "->", "::", ".", "," or ")"'),
        ("a,,b", 3, 'unexpected "," expecting "...", field name (* or [a..z0..9_$]), "*" or "count()"'),
        ("a::", 4, "unexpected end of input expecting letter or digit"),
        ("a.sum()::", 10, "unexpected end of input expecting letter or digit"),
        (
            "a:b:c",
            4,
            'unexpected \':\' expecting letter, digit, "-", "->>", "->", "::", ".", ")", "," or end of input',
        ),
    ],
)
def test_select_errors_point_at_the_bad_character(text, column, details):
    assert_parse_error(
        fails(parse_select, text), f'"failed to parse select parameter ({text})" (line 1, column {column})', details
    )


# -- order ------------------------------------------------------------------------------------------


def test_order_quoted_name_and_json_index():
    assert parse_order('"a,b".desc,a->>0.asc') == (
        OrderTerm(Field("a,b"), direction="desc"),
        OrderTerm(col("a", ("->>", 0)), direction="asc"),
    )


def test_order_blanks_around_names_modifiers_and_related_columns():
    assert parse_order("a .desc ,rel ( b )") == (
        OrderTerm(Field("a"), direction="desc"),
        OrderTerm(Field("b"), relation="rel"),
    )


def test_order_dangling_arrow_is_a_parse_error():
    assert_parse_error(
        fails(parse_order, "a->"),
        '"failed to parse order (a->)" (line 1, column 4)',
        'unexpected end of input expecting "-", digit or any non reserved character different from: .,>()',
    )


def test_text_after_a_list_ending_with_an_embed_is_ignored():
    # PostgREST's pRequestSelect does not ask for the end of input (spec URLs carry `count)'`).
    assert parse_select("id,projects(count)'") == parse_select("id,projects(count)")
    assert parse_select("a,b(c)))") == parse_select("a,b(c)")
    # After a field the field's own rule still wants `,` or the end.
    assert fails(parse_select, "id'").code == "PGRST100"
