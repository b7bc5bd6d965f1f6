"""End to end: the execution-plan media type (M-PLAN) through a real gunicorn, db-plan-enabled from the environment."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Server
from tests.e2e.conftest import fetch, send, server_env

TEXT = 'application/vnd.pgrst.plan+text; for="application/json"; charset=utf-8'


@pytest.fixture
def plan_server(gunicorn, pg_server: Server, test_db: str) -> str:  # noqa: ANN001
    return gunicorn(server_env(pg_server, test_db, PGRST_DB_PLAN_ENABLED="true"), workers=1)


def test_a_text_plan_and_its_head(plan_server: str) -> None:
    url = f"{plan_server}/e_projects?id=eq.1"
    status, headers, body = fetch(url, {"Accept": "application/vnd.pgrst.plan"})
    assert status == 200
    assert (headers["Content-Type"], headers["Content-Length"]) == (TEXT, str(len(body)))
    assert headers["Server"] == "postgrest/16.1"
    assert "Content-Range" not in headers
    assert body.startswith(b"Aggregate  (cost=") and body.endswith(b"\n")
    status, head_headers, head_body = fetch(url, {"Accept": "application/vnd.pgrst.plan"}, method="HEAD")
    assert (status, head_body) == (200, b"")
    assert (head_headers["Content-Type"], head_headers["Content-Length"]) == (TEXT, str(len(body)))


def test_an_analyzed_insert_runs_and_is_rolled_back(plan_server: str) -> None:
    accept = "application/vnd.pgrst.plan+json; options=analyze"
    status, headers, body = send(f"{plan_server}/w_items", "POST", {"Accept": accept}, {"name": "e2e plan"})
    assert status == 200
    assert headers["Content-Type"] == (
        'application/vnd.pgrst.plan+json; for="application/json"; options=analyze; charset=utf-8'
    )
    root = json.loads(body)[0]["Plan"]
    insert = next(n for n in root["Plans"] if n["Node Type"] == "ModifyTable")
    assert (insert["Operation"], insert["Actual Rows"]) == ("Insert", 1)
    status, _, body = fetch(f"{plan_server}/w_items?name=eq.e2e%20plan")
    assert (status, body) == (200, b"[]")
