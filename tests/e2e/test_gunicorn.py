"""End to end: real `gunicorn pgwsgi:app` processes, configured like production, over real HTTP."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator

import psycopg
import pytest

from devtools.demo import DEMO, load_demo
from tests.conftest import AUTHENTICATOR, ROOT, Server, database, expired, token
from tests.e2e.conftest import fetch, free_port, send


def test_read_through_gunicorn(test_server: str) -> None:
    status, headers, body = fetch(f"{test_server}/items?select=id,name&id=in.(1,2)&order=id")
    assert status == 200
    assert body == b'[{"id":1,"name":"item 1"}, \n {"id":2,"name":"item 2"}]'
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Content-Range"] == "0-1/*"
    assert headers["Content-Length"] == str(len(body))


def test_errors_through_gunicorn(test_server: str) -> None:
    status, headers, body = fetch(f"{test_server}/nothing_here")
    assert status == 404
    assert json.loads(body)["code"] == "PGRST205"
    status, headers, body = fetch(f"{test_server}/items", expired(role="pgwsgi_user"))
    assert status == 401
    assert headers["WWW-Authenticate"] == 'Bearer error="invalid_token", error_description="JWT expired"'
    assert json.loads(body) == {"code": "PGRST303", "message": "JWT expired", "details": None, "hint": None}
    status, _, body = fetch(f"{test_server}/items", {"Authorization": f"Bearer {token(role='pgwsgi_banned')}"})
    assert status == 403
    assert json.loads(body)["hint"] == "Ask an admin to lift the ban"


def test_schema_reload_reaches_every_worker(test_server: str, pg_server: Server, test_db: str) -> None:
    with psycopg.connect(pg_server.dsn(test_db), autocommit=True) as conn:
        conn.execute("CREATE TABLE test.e2e_late (id int)")
        conn.execute("GRANT SELECT ON test.e2e_late TO pgwsgi_anon")
        try:
            conn.execute("NOTIFY pgrst, 'reload schema'")
            deadline = time.monotonic() + 10
            # Several requests in a row land on both workers; all must see the table.
            while not all(fetch(f"{test_server}/e2e_late")[0] == 200 for _ in range(6)):
                assert time.monotonic() < deadline
                time.sleep(0.1)
        finally:
            conn.execute("DROP TABLE test.e2e_late")


@pytest.fixture
def demo_server(gunicorn, pg_server: Server) -> Iterator[str]:  # noqa: ANN001
    name = f"pgwsgi_demo_test_{os.getpid()}"
    with database(pg_server, name):
        dsn = load_demo(pg_server.dsn("postgres"), name)
        yield gunicorn({"PGRST_CONFIG": str(DEMO / "pgwsgi.conf"), "PGRST_DB_URI": dsn})
        with psycopg.connect(pg_server.dsn("postgres"), autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])


def demo_token(**claims: object) -> dict[str, str]:
    secret = "demo-only-secret-do-not-use-in-production-0123456789"
    return {"Authorization": f"Bearer {token(secret=secret, exp=int(time.time()) + 600, **claims)}"}


def test_demo_security_model(demo_server: str) -> None:
    url = f"{demo_server}/notes?select=id,owner&order=id"
    status, _, body = fetch(url)
    assert status == 200
    assert json.loads(body) == [{"id": 3, "owner": "alice"}, {"id": 5, "owner": "bob"}]
    status, _, body = fetch(url, demo_token(role="web_user", sub="alice"))
    assert [n["id"] for n in json.loads(body)] == [1, 2, 3, 5]
    status, _, body = fetch(url, demo_token(role="web_admin", sub="admin"))
    assert [n["id"] for n in json.loads(body)] == [1, 2, 3, 4, 5]
    status, headers, body = fetch(f"{demo_server}/users")
    assert status == 401
    assert headers["WWW-Authenticate"] == "Bearer"
    status, _, body = fetch(url, demo_token(role="nobody_role"))
    assert status == 401
    assert json.loads(body)["message"] == 'role "nobody_role" does not exist'
    other_secret = {"Authorization": f"Bearer {token(role='web_admin')}"}
    status, _, body = fetch(url, other_secret)
    assert status == 401
    assert json.loads(body)["code"] == "PGRST301"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"PGRST_DB_POOL": "lots"}, b"db-pool"),
        ({"PGRST_JWT_SECRET": "too-short"}, b"The JWT secret must be at least 32 characters long."),
    ],
)
def test_invalid_configuration_stops_start_up(
    pg_server: Server, test_db: str, setting: dict[str, str], message: bytes
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PGRST_")}
    env.update({"PGRST_DB_URI": pg_server.dsn(test_db, AUTHENTICATOR), **setting})
    proc = subprocess.run(
        [sys.executable, "-m", "gunicorn", "pgwsgi:app", "-b", f"127.0.0.1:{free_port()}", "-w", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert message in proc.stderr


def test_ten_thousand_element_in_list_through_gunicorn(test_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import http.client

    # Content-Location echoes the canonical query: ~80 KB, past http.client's 64 KB line limit.
    monkeypatch.setattr(http.client, "_MAXLINE", 1 << 20)
    in_list = ",".join(str(i) for i in range(1, 10001))
    status, headers, body = fetch(f"{test_server}/items?select=id&id=in.({in_list})&order=id&limit=2")
    assert status == 200
    assert json.loads(body) == [{"id": 1}, {"id": 2}]


def test_demo_writes_follow_row_level_security(demo_server: str) -> None:
    alice = demo_token(role="web_user", sub="alice")
    admin = demo_token(role="web_admin", sub="admin")
    status, headers, body = send(
        f"{demo_server}/notes?select=owner,title",
        "POST",
        {**alice, "Prefer": "return=representation"},
        {"title": "e2e"},
    )
    assert (status, json.loads(body)) == (201, [{"owner": "alice", "title": "e2e"}])
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    status, _, body = send(f"{demo_server}/notes", "POST", alice, {"title": "forged", "owner": "bob"})
    assert status == 403
    assert json.loads(body)["message"] == 'new row violates row-level security policy for table "notes"'
    status, headers, body = send(f"{demo_server}/notes?id=eq.4", "PATCH", alice, {"title": "hacked"})
    assert (status, body, headers["Content-Range"]) == (204, b"", "*/*")
    status, _, body = fetch(f"{demo_server}/notes?id=eq.4&select=title", admin)
    assert json.loads(body) == [{"title": "Gift ideas"}]
    status, headers, _ = send(f"{demo_server}/notes?id=eq.4", "DELETE", {**admin, "Prefer": "count=exact"})
    assert (status, headers["Content-Range"]) == (204, "*/1")
    status, _, _ = send(f"{demo_server}/notes", "POST", {}, {"title": "anonymous"})
    assert status == 401


def test_demo_embeds_through_views(demo_server: str) -> None:
    admin = demo_token(role="web_admin", sub="admin")
    status, _, body = fetch(f"{demo_server}/notes?select=id,author:users(sub)&id=in.(3,4)&order=id", admin)
    assert status == 200, body
    assert json.loads(body) == [{"id": 3, "author": {"sub": "alice"}}, {"id": 4, "author": {"sub": "bob"}}]
    status, _, body = fetch(f"{demo_server}/users?select=sub,notes(id)&sub=eq.bob&notes.order=id", admin)
    assert json.loads(body) == [{"sub": "bob", "notes": [{"id": 4}, {"id": 5}]}]


def test_reason_phrases_through_gunicorn(test_server: str) -> None:
    # What the status line says, word for word, as PostgREST (warp) sends it.
    address = urllib.parse.urlsplit(test_server)
    conn = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=10)
    try:
        answers = []
        for path, headers in (
            ("/items?order=id", {"Range": "0-0", "Prefer": "count=exact"}),
            ("/items?id=eq.1", {}),
            ("/nothing_here", {}),
        ):
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            resp.read()
            answers.append((resp.status, resp.reason))
    finally:
        conn.close()
    assert answers == [(206, "Partial Content"), (200, "OK"), (404, "Not Found")]
