"""pgwsgi.api.model: the values the `api` stage produces, and the QueryParams.root_* helpers."""

from __future__ import annotations

import dataclasses

import pytest

from pgwsgi.api.model import (
    ApiRequest,
    Field,
    Filter,
    JsonStep,
    LogicTree,
    MediaType,
    OpExpr,
    OrderTerm,
    Payload,
    Preferences,
    QueryParams,
    SelectField,
    SelectRelation,
)

A1 = Filter(Field("a"), OpExpr("eq", "1"))
B2 = Filter(Field("b"), OpExpr("eq", "2"))
C3 = Filter(Field("c"), OpExpr("eq", "3"))


# -- QueryParams ---------------------------------------------------------------------------------


def test_query_params_default_to_select_star_and_nothing_else():
    q = QueryParams()
    assert q.select == (SelectField(Field("*")),)
    assert (q.filters, q.logic, q.order, q.limits, q.offsets, q.rpc_args) == ((), (), (), (), (), ())
    assert (q.columns, q.on_conflict, q.canonical) == (None, None, "")


def test_root_filters_keep_only_top_level_filters_in_order():
    q = QueryParams(filters=(((), A1), (("emb",), B2), ((), C3)))
    assert q.root_filters() == (A1, C3)


def test_root_logic_keeps_only_top_level_trees_in_order():
    t1, t2, t3 = LogicTree("or", (A1,)), LogicTree("and", (B2,)), LogicTree("or", (C3,), negated=True)
    q = QueryParams(logic=(((), t1), (("emb",), t2), ((), t3)))
    assert q.root_logic() == (t1, t3)


def test_root_order_is_the_first_top_level_order():
    first, second = (OrderTerm(Field("a")),), (OrderTerm(Field("b"), direction="desc"),)
    q = QueryParams(order=((("emb",), (OrderTerm(Field("x")),)), ((), first), ((), second)))
    assert q.root_order() == first


def test_root_order_is_empty_without_a_top_level_order():
    assert QueryParams(order=((("emb",), (OrderTerm(Field("x")),)),)).root_order() == ()
    assert QueryParams().root_order() == ()


def test_root_limit_and_offset_ignore_embedded_ones():
    q = QueryParams(limits=((("emb",), 3), ((), 10)), offsets=((("emb",), 4), ((), 5)))
    assert (q.root_limit(), q.root_offset()) == (10, 5)


def test_root_limit_and_offset_are_none_when_only_embeds_have_them():
    q = QueryParams(limits=((("emb",), 3),), offsets=((("a", "b"), 4),))
    assert (q.root_limit(), q.root_offset()) == (None, None)


def test_root_limit_zero_is_not_none():
    assert QueryParams(limits=(((), 0),), offsets=(((), 0),)).root_limit() == 0
    assert QueryParams(limits=(((), 0),), offsets=(((), 0),)).root_offset() == 0


# -- MediaType -------------------------------------------------------------------------------------


def test_media_type_essence_is_type_slash_subtype():
    assert MediaType("application", "vnd.pgrst.object+json").essence == "application/vnd.pgrst.object+json"
    assert MediaType("*", "*").essence == "*/*"


def test_media_type_param_returns_the_first_value_or_none():
    m = MediaType("application", "json", (("nulls", "stripped"), ("nulls", "other")))
    assert (m.param("nulls"), m.param("charset")) == ("stripped", None)


def test_media_type_defaults_to_no_parameters_and_quality_one():
    m = MediaType("text", "csv")
    assert (m.params, m.quality) == ((), 1.0)


# -- the other values ---------------------------------------------------------------------------------


def test_preferences_default_to_nothing():
    p = Preferences()
    assert dataclasses.astuple(p) == (None, None, None, None, None, None, None, None, None, ())


def test_defaults_of_fields_filters_select_items_and_order_terms():
    assert Field("a").json_path == ()
    assert OpExpr("eq", "1") == OpExpr("eq", "1", modifier=None, language=None)
    assert Filter(Field("a"), OpExpr("eq", "1")).negated is False
    assert LogicTree("or", ()).negated is False
    assert SelectField(Field("a")) == SelectField(Field("a"), None, None, None, None)
    assert SelectRelation("r") == SelectRelation("r", None, None, None, False, ())
    assert OrderTerm(Field("a")) == OrderTerm(Field("a"), None, None, None)


def test_json_index_and_json_key_are_different_steps():
    assert JsonStep("->", 0) != JsonStep("->", "0")
    assert JsonStep("->", "a") != JsonStep("->>", "a")


def test_api_request_defaults():
    r = ApiRequest(
        method="GET",
        action="read",
        target="relation",
        name="items",
        schema="public",
        schema_negotiated=False,
        path="/items",
        query=QueryParams(),
        preferences=Preferences(),
        accept=(MediaType("*", "*"),),
    )
    assert (r.top_range, r.body, r.payload, r.content_type, r.headers, r.cookies) == (
        (0, None),
        None,
        None,
        "application/json",
        (),
        (),
    )


def test_payload_is_the_json_text_its_shape_and_its_keys():
    p = Payload(b'[{"a": 1}]', False, ("a",))
    assert (p.json, p.is_object, p.keys) == (b'[{"a": 1}]', False, ("a",))
    assert Payload(b"{}", True, None).keys is None


@pytest.mark.parametrize(
    "value",
    [
        Field("a"),
        JsonStep("->", 0),
        OpExpr("eq", "1"),
        SelectField(Field("a")),
        QueryParams(),
        Preferences(),
        MediaType("text", "csv"),
        Payload(b"[]", False, ()),
    ],
)
def test_values_are_frozen_and_hashable(value):
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.__setattr__(dataclasses.fields(value)[0].name, None)
    assert {value: 1}[value] == 1
