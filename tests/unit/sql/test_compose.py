"""`pgwsgi.sql.compose`: a Plan -> the statements of its transaction (settings, pre-request, main, after)."""

from __future__ import annotations

import dataclasses

import pytest
from psycopg import sql

from pgwsgi.auth import Identity
from pgwsgi.config import Config
from pgwsgi.plan.model import Plan, RelationInfo, TxPlan
from pgwsgi.sql import Statements, compose
from pgwsgi.sql.call import compose_call
from pgwsgi.sql.mutate import compose_mutation
from pgwsgi.sql.read import compose_read
from pgwsgi.sql.settings import settings_for
from tests.unit.snapshot import CATALOG, CONFIG, SLOW, planned, request

ANON = Identity("anon", {}, True)


def render(composed: sql.Composable) -> str:
    """Render without a connection: identifiers are quoted the same way."""
    return composed.as_string(None)


def statements(
    url: str, method: str = "GET", body: str | None = None, config: Config = CONFIG, **headers: str
) -> Statements:
    req, plan = planned(url, method, body=body, headers=headers, config=config)
    found = compose(plan, req, ANON, config)
    assert found is not None
    return found


def same(a: tuple[sql.Composable, list[object]] | None, b: tuple[sql.Composable, list[object]] | None) -> bool:
    if a is None or b is None:
        return a is b
    return (render(a[0]), a[1]) == (render(b[0]), b[1])


@pytest.mark.parametrize(("url", "method"), [("/items", "OPTIONS"), ("/rpc/noargs", "OPTIONS")])
def test_plans_answered_from_the_catalog_need_no_statements(url: str, method: str) -> None:
    req, plan = planned(url, method)
    assert plan.tx is None
    assert compose(plan, req, ANON, CONFIG) is None


def test_a_read_is_its_settings_and_its_read() -> None:
    req, plan = planned("/items?id=eq.1")
    found = compose(plan, req, ANON, CONFIG)
    assert found is not None
    assert same(found.main, compose_read(plan.action))  # type: ignore[arg-type]
    assert same(found.settings, settings_for(CONFIG, ANON, req))
    assert (found.pre_request, found.after) == (None, None)


def test_head_reads_without_building_a_body() -> None:
    assert "NULL::text AS body" in render(statements("/items", "HEAD").main[0])
    assert "NULL::text AS body" not in render(statements("/items").main[0])


def test_a_planned_count_runs_its_explain_after_the_read() -> None:
    found = statements("/items?id=gt.1", Prefer="count=planned")
    assert found.after is not None
    assert render(found.after[0]) == (
        'EXPLAIN (FORMAT JSON) SELECT 1 FROM "api"."items" AS "items" WHERE ("items"."id" > %s)'
    )
    assert found.after[1] == ["1"]


def test_db_pre_request_runs_between_the_settings_and_the_main_statement() -> None:
    config = dataclasses.replace(CONFIG, db_pre_request="api.check")
    found = statements("/items", config=config)
    assert found.pre_request is not None
    assert render(found.pre_request) == 'SELECT "api"."check"()'


def test_a_write_is_its_mutation_statement() -> None:
    req, plan = planned("/items", "POST", body='{"id": 1}')
    found = compose(plan, req, ANON, CONFIG)
    assert found is not None
    assert render(found.main[0]) == render(compose_mutation(plan.action)[0])  # type: ignore[arg-type]
    assert found.after is None


def test_a_call_applies_the_functions_hoisted_settings() -> None:
    req, plan = planned("/rpc/slow", "POST", body="{}")
    found = compose(plan, req, ANON, CONFIG)
    assert found is not None
    assert render(found.main[0]) == render(compose_call(plan.action)[0])  # type: ignore[arg-type]
    assert same(found.settings, settings_for(CONFIG, ANON, req, SLOW))
    names = found.settings[1][0::2]
    assert names[-1] == "statement_timeout"


def test_a_plan_with_a_transaction_but_nothing_to_run_is_a_type_error() -> None:
    info = RelationInfo(CATALOG.relation("api", "items"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="no statement for RelationInfo"):
        compose(Plan(info, TxPlan(read_only=True, commit=True)), request("/"), ANON, CONFIG)
