"""db/replicas.py: which transactions may run on a read replica, and how replicas take turns and are skipped.

The pools here are never opened (their URIs point at a closed port of 127.0.0.1):
the routing decision and the health bookkeeping need no connection.
"""

from __future__ import annotations

import dataclasses

import pytest

from pgwsgi.db import Database
from pgwsgi.db.replicas import Replicas, reads_from_replica
from pgwsgi.plan.model import CallPlan
from tests.unit.snapshot import CONFIG, planned

REPLICAS = dataclasses.replace(
    CONFIG, db_read_replicas=("postgresql://127.0.0.1:1/app", "postgresql://127.0.0.1:1/app?sslmode=disable")
)
PLAN_MEDIA = {"Accept": "application/vnd.pgrst.plan+json"}


@pytest.mark.parametrize(
    ("method", "url", "headers", "expected"),
    [
        # Reads of tables and views, embeds included, and their HEAD.
        ("GET", "/items", {}, True),
        ("HEAD", "/items", {}, True),
        ("GET", "/cheap_items?select=id,name&order=id", {"Prefer": "count=exact"}, True),
        ("GET", "/clients?select=name,projects(name)", {}, True),
        # GET/HEAD calls of STABLE or IMMUTABLE functions.
        ("GET", "/rpc/add?a=1&b=2", {}, True),  # immutable
        ("GET", "/rpc/noargs", {}, True),  # stable
        ("HEAD", "/rpc/ids?n=3", {}, True),
        # A VOLATILE function, even by GET, and any POST call: the primary.
        ("GET", "/rpc/reset", {}, False),
        ("POST", "/rpc/noargs", {}, False),
        # Writes.
        ("POST", "/items", {}, False),
        ("PATCH", "/items?id=eq.1", {}, False),
        ("DELETE", "/items?id=eq.1", {}, False),
        # The root (OpenAPI) and what needs no transaction.
        ("GET", "/", {}, False),
        ("OPTIONS", "/items", {}, False),
        # Read-your-writes.
        ("GET", "/items", {"Prefer": "read=primary"}, False),
        ("GET", "/rpc/noargs", {"Prefer": "handling=strict, read=primary"}, False),
    ],
)
def test_the_routing_rule(method: str, url: str, headers: dict[str, str], expected: bool) -> None:
    body = '{"id": 1}' if method in ("POST", "PATCH") and not url.startswith("/rpc/") else None
    req, plan = planned(url, method, headers=headers, body=body, config=REPLICAS)
    assert reads_from_replica(plan, req) is expected


def test_without_replicas_read_primary_is_not_taken() -> None:
    req, plan = planned("/items", headers={"Prefer": "read=primary"})
    assert req.preferences.read is None
    assert reads_from_replica(plan, req) is True


def test_serializable_transactions_stay_on_the_primary() -> None:
    # A hot standby refuses SERIALIZABLE: the function's level, else its role's default, decides.
    req, plan = planned("/rpc/noargs", config=REPLICAS)
    assert isinstance(plan.action, CallPlan)
    function = dataclasses.replace(plan.action.function, isolation_level="serializable")
    serializable = dataclasses.replace(plan, action=dataclasses.replace(plan.action, function=function))
    assert reads_from_replica(serializable, req) is False
    req, plan = planned("/items", config=REPLICAS)
    assert reads_from_replica(plan, req, "serializable") is False
    assert reads_from_replica(plan, req, "'SERIALIZABLE'") is False
    assert reads_from_replica(plan, req, "repeatable read") is True


def test_an_execution_plan_follows_the_read_it_explains() -> None:
    config = dataclasses.replace(REPLICAS, db_plan_enabled=True)
    req, plan = planned("/items", headers=PLAN_MEDIA, config=config)
    assert plan.explain is not None
    assert reads_from_replica(plan, req) is True
    req, plan = planned("/items", "POST", headers=PLAN_MEDIA, body='{"id": 1}', config=config)
    assert reads_from_replica(plan, req) is False


def _replicas() -> Replicas:
    return Replicas(REPLICAS, Database(REPLICAS))


def test_replicas_take_turns_and_a_failed_one_is_skipped() -> None:
    replicas = _replicas()
    first, second = replicas.replicas
    assert (first.label, second.label) == ("127.0.0.1:1/app", "127.0.0.1:1/app#2")
    req, plan = planned("/items", config=REPLICAS)
    assert [replicas.for_plan(plan, req) for _ in range(4)] == [first, second, first, second]
    first.failed("connection refused")
    assert [replicas.for_plan(plan, req) for _ in range(3)] == [second, second, second]
    assert (first.healthy, first.failures, replicas.fallbacks) == (False, 1, 0)
    # None left: the primary, counted as a fallback.
    second.failed("connection refused")
    assert replicas.for_plan(plan, req) is None
    assert replicas.fallbacks == 1
    # A write is no fallback: it was never a replica's.
    wreq, wplan = planned("/items", "POST", body='{"id": 1}', config=REPLICAS)
    assert replicas.for_plan(wplan, wreq) is None
    assert replicas.fallbacks == 1


def test_a_pool_that_cannot_connect_marks_its_replica_failed_before_any_request_tries() -> None:
    replicas = _replicas()
    first, second = replicas.replicas
    first.db.last_connect_error = "connection refused"
    req, plan = planned("/items", config=REPLICAS)
    assert replicas.for_plan(plan, req) is second
    assert (first.healthy, first.failures) == (False, 1)


def test_replica_figures_for_metrics() -> None:
    replicas = _replicas()
    replicas.replicas[0].failed("gone")
    stats = replicas.stats()
    assert stats[""] == {"routed": 0, "fallbacks": 0}
    assert stats["127.0.0.1:1/app"] == {
        "available": 0,
        "waiting": 0,
        "max": 10,
        "timeouts": 0,
        "healthy": 0,
        "routed": 0,
        "failures": 1,
    }
    assert stats["127.0.0.1:1/app#2"]["healthy"] == 1
