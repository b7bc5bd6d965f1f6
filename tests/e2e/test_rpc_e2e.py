"""End to end: /rpc through a real gunicorn, including the user-management example's token flow."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import psycopg
import pytest

from tests.conftest import ROOT, SECRET, Server, database
from tests.e2e.conftest import fetch, send

EXAMPLES = ROOT / "deploy" / "examples"


def test_function_call_through_gunicorn(test_server: str) -> None:
    status, headers, body = fetch(f"{test_server}/rpc/r_add?a=2&b=40")
    assert (status, body, headers["Content-Range"]) == (200, b"42", "0-0/*")
    status, _, body = send(f"{test_server}/rpc/r_add", "POST", {}, {"a": 1, "b": 1})
    assert (status, body) == (200, b"2")
    status, _, body = send(f"{test_server}/rpc/r_add", "PUT", {}, {"a": 1, "b": 1})
    assert status == 405 and json.loads(body)["code"] == "PGRST101"


@pytest.fixture
def user_management_server(gunicorn, pg_server: Server) -> Iterator[str]:  # noqa: ANN001
    with psycopg.connect(pg_server.dsn("postgres"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pgcrypto'").fetchone() is None:
            pytest.skip("the test server has no pgcrypto, which deploy/examples/user-management.sql needs")
    name = f"pgwsgi_um_e2e_{os.getpid()}"
    with database(pg_server, name):
        with psycopg.connect(pg_server.dsn(name), autocommit=True) as conn:
            conn.execute((EXAMPLES / "user-management.sql").read_text())
        yield gunicorn(
            {
                "PGRST_DB_URI": pg_server.dsn(name, "authenticator"),
                "PGRST_DB_SCHEMAS": "api",
                "PGRST_DB_ANON_ROLE": "web_anon",
                "PGRST_JWT_SECRET": SECRET,
            }
        )
        with psycopg.connect(pg_server.dsn("postgres"), autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])


def test_signup_login_and_use_the_token(user_management_server: str) -> None:
    base = user_management_server
    creds = {"email": "e2e@example.com", "pass": "correct horse"}
    status, _, _ = send(f"{base}/rpc/signup", "POST", {}, creds)
    assert status in (200, 204)
    status, _, body = send(f"{base}/rpc/login", "POST", {}, {**creds, "pass": "wrong password"})
    assert (status, json.loads(body)["code"]) == (403, "28P01")
    status, _, body = send(f"{base}/rpc/login", "POST", {}, creds)
    assert status == 200
    token = json.loads(body)["token"]
    status, _, body = fetch(f"{base}/rpc/me", {"Authorization": f"Bearer {token}"})
    assert status == 200
    assert json.loads(body)["email"] == "e2e@example.com"
