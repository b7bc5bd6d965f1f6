"""response/info.py: OPTIONS answered from the catalog: the methods a relation or function allows."""

from __future__ import annotations

import pytest

from pgwsgi.catalog.model import Function, Relation
from pgwsgi.response.info import render_call_options, render_options
from tests.unit.snapshot import (
    ADD,
    CHEAP_ITEMS,
    ITEM_STATS,
    ITEMS,
    LOGS,
    NOARGS,
    RESET,
    column,
    function,
    relation,
    sent_headers,
)


def allow_of(rel: Relation) -> str:
    return render_options(rel).headers["Allow"]


def test_a_table_with_a_primary_key_allows_every_method() -> None:
    assert allow_of(ITEMS) == "OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE"


def test_a_view_with_an_inferred_primary_key_allows_put_too() -> None:
    assert allow_of(CHEAP_ITEMS) == "OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE"


def test_without_a_primary_key_there_is_no_put() -> None:
    assert allow_of(LOGS) == "OPTIONS,GET,HEAD,POST,PATCH,DELETE"


def test_a_read_only_view_allows_reading_only() -> None:
    assert allow_of(ITEM_STATS) == "OPTIONS,GET,HEAD"


@pytest.mark.parametrize(
    ("insertable", "updatable", "deletable", "allow"),
    [
        (True, False, False, "OPTIONS,GET,HEAD,POST"),
        (False, True, False, "OPTIONS,GET,HEAD,PATCH"),
        (False, False, True, "OPTIONS,GET,HEAD,DELETE"),
        (True, True, False, "OPTIONS,GET,HEAD,POST,PUT,PATCH"),
    ],
)
def test_each_write_method_follows_the_relations_capabilities(
    insertable: bool, updatable: bool, deletable: bool, allow: str
) -> None:
    rel = relation(
        "v", column("id", "integer"), kind="v", insertable=insertable, updatable=updatable, deletable=deletable
    )
    assert allow_of(rel) == allow


def test_relation_options_is_200_without_a_body_and_allows_any_origin() -> None:
    resp = render_options(ITEMS)
    assert resp.status_code == 200
    assert sent_headers(resp) == [
        ("Content-Length", "0"),
        ("Allow", "OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE"),
        ("Access-Control-Allow-Origin", "*"),
    ]
    assert resp.get_data() == b""


def test_a_volatile_function_allows_post_only() -> None:
    assert render_call_options(RESET).headers["Allow"] == "OPTIONS,POST"


@pytest.mark.parametrize("fn", [ADD, NOARGS, function("s", volatility="s")])
def test_a_stable_or_immutable_function_allows_get_and_head(fn: Function) -> None:
    assert render_call_options(fn).headers["Allow"] == "OPTIONS,GET,HEAD,POST"


def test_function_options_is_200_without_a_body_and_allows_any_origin() -> None:
    resp = render_call_options(NOARGS)
    assert resp.status_code == 200
    assert sent_headers(resp) == [
        ("Content-Length", "0"),
        ("Allow", "OPTIONS,GET,HEAD,POST"),
        ("Access-Control-Allow-Origin", "*"),
    ]
    assert resp.get_data() == b""
