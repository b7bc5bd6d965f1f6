"""`pgwsgi.plan.build`: which plan each kind of request gets, and how its transaction ends."""

from __future__ import annotations

import dataclasses

import pytest

from pgwsgi.config import Config
from pgwsgi.plan import build
from pgwsgi.plan.model import CallPlan, FunctionInfo, MutatePlan, Plan, ReadPlan, RelationInfo, RootPlan, TxPlan
from tests.unit.snapshot import (
    ADD,
    CATALOG,
    CONFIG,
    ITEMS,
    LOGIN,
    NOARGS,
    OVER_A,
    RESET,
    planned,
    refused,
    request,
)

SIGNING = dataclasses.replace(CONFIG, jwt_secret="reallyreallyreallyreallyverysafe")


def test_a_read_is_a_read_only_committed_transaction() -> None:
    _, plan = planned("/items?id=eq.1")
    assert isinstance(plan.action, ReadPlan)
    assert plan.action.relation == ITEMS
    assert plan.tx == TxPlan(read_only=True, commit=True)
    assert plan.sign_token is False


def test_head_is_planned_like_get() -> None:
    _, get = planned("/items?select=id")
    _, head = planned("/items?select=id", "HEAD")
    assert head == get


@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT", "DELETE"])
def test_writes_are_read_write_transactions(method: str) -> None:
    url = "/items?id=eq.1" if method != "POST" else "/items"
    body = None if method == "DELETE" else '{"id": 1, "name": "a"}'
    _, plan = planned(url, method, body=body)
    assert isinstance(plan.action, MutatePlan)
    assert plan.tx == TxPlan(read_only=False, commit=True)


@pytest.mark.parametrize(
    ("tx_end", "prefer", "commit"),
    [
        ("commit", None, True),
        ("rollback", None, False),
        ("commit-allow-override", None, True),
        ("commit-allow-override", "tx=rollback", False),
        ("commit-allow-override", "tx=commit", True),
        ("rollback-allow-override", None, False),
        ("rollback-allow-override", "tx=commit", True),
        ("rollback-allow-override", "tx=rollback", False),
    ],
)
def test_db_tx_end_decides_commit_and_prefer_tx_overrides_where_allowed(
    tx_end: str, prefer: str | None, commit: bool
) -> None:
    config = Config(db_schemas=("api",), db_tx_end=tx_end)
    headers = {"Prefer": prefer} if prefer else {}
    _, plan = planned("/items", "POST", body="{}", headers=headers, config=config)
    assert plan.tx == TxPlan(read_only=False, commit=commit)


def test_prefer_tx_is_ignored_without_allow_override() -> None:
    _, plan = planned("/items", headers={"Prefer": "tx=rollback"})
    assert plan.tx is not None and plan.tx.commit is True
    _, plan = planned(
        "/items", headers={"Prefer": "tx=commit"}, config=Config(db_schemas=("api",), db_tx_end="rollback")
    )
    assert plan.tx is not None and plan.tx.commit is False


def test_get_on_a_function_is_read_only_and_carries_the_function() -> None:
    _, plan = planned("/rpc/add?a=1")
    assert isinstance(plan.action, CallPlan)
    assert plan.tx == TxPlan(read_only=True, commit=True)
    assert plan.function == ADD


def test_post_to_a_volatile_function_reads_and_writes() -> None:
    _, plan = planned("/rpc/reset", "POST", body="{}")
    assert plan.tx == TxPlan(read_only=False, commit=True)
    assert plan.function == RESET


def test_post_to_a_stable_function_stays_read_only() -> None:
    _, plan = planned("/rpc/over", "POST", body='{"a": 1}')
    assert plan.tx == TxPlan(read_only=True, commit=True)
    assert plan.function == OVER_A


def test_a_jwt_claims_result_is_signed_when_a_secret_is_set() -> None:
    _, plan = planned("/rpc/login?email=a&pass=b", config=SIGNING)
    assert plan.sign_token is True
    assert plan.tx == TxPlan(read_only=True, commit=True)
    assert plan.function == LOGIN


def test_a_jwt_claims_result_without_a_secret_is_pgrst300_before_the_call() -> None:
    assert refused("/rpc/login?email=a&pass=b") == (
        500,
        "PGRST300",
        "Server lacks JWT secret",
        "login returns jwt_claims, which pgwsgi signs with jwt-secret.",
        None,
    )


def test_jwt_claims_as_csv_or_with_signing_off_are_answered_as_they_are() -> None:
    _, csv = planned("/rpc/login?email=a&pass=b", headers={"Accept": "text/csv"}, config=SIGNING)
    assert csv.sign_token is False
    _, unsigned = planned("/rpc/login?email=a&pass=b", config=Config(db_schemas=("api",), jwt_sign_claims=False))
    assert unsigned.sign_token is False


def test_options_on_a_relation_is_answered_from_the_catalog() -> None:
    _, plan = planned("/items", "OPTIONS")
    assert plan == Plan(RelationInfo(ITEMS), None)


def test_options_on_a_function_is_the_function_called_without_arguments() -> None:
    _, plan = planned("/rpc/noargs", "OPTIONS")
    assert plan == Plan(FunctionInfo(NOARGS), None)


def test_options_on_a_function_that_needs_arguments_is_pgrst202() -> None:
    assert refused("/rpc/add", "OPTIONS") == (
        404,
        "PGRST202",
        "Could not find the function api.add without parameters in the schema cache",
        "Searched for the function api.add without parameters, but no matches were found in the schema cache.",
        None,
    )


def test_options_on_an_unknown_relation_is_pgrst205() -> None:
    assert refused("/itemz", "OPTIONS") == (
        404,
        "PGRST205",
        "Could not find the table 'api.itemz' in the schema cache",
        None,
        "Perhaps you meant the table 'api.items'",
    )


def test_the_root_plans_the_openapi_document_in_a_read_only_transaction() -> None:
    req = request("/")
    assert req.action == "root"
    plan = build(req, CATALOG, CONFIG)
    assert isinstance(plan.action, RootPlan)
    assert (plan.action.version, plan.action.content_type) == ("2.0", "application/openapi+json; charset=utf-8")
    assert plan.tx is not None and plan.tx.read_only
