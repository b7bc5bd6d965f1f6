"""End to end: requests of one shape through a real gunicorn worker, where the second is a shape-cache hit.

One worker, so the second request of a shape reaches the worker that learnt it
(http/shapes.py). Every answer is checked exactly: status, each header line as
sent (Date and Connection aside) and body.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.conftest import Server
from tests.e2e.conftest import server_env

RawResult = tuple[int, list[tuple[str, str]], bytes]
JSON = "application/json; charset=utf-8"
SERVER = ("Server", "postgrest/16.1")
VARY = ("Vary", "Accept, Prefer, Range")


def raw(base: str, method: str, path: str, headers: dict[str, str] | None = None, body: object = None) -> RawResult:
    """Status, every header line as sent but Date and Connection, and body of one request."""
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
    hdrs = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        sent = [(k, v) for k, v in resp.getheaders() if k not in ("Date", "Connection")]
        return resp.status, sent, resp.read()
    finally:
        conn.close()


@pytest.fixture
def one_worker(gunicorn: Callable[..., str], pg_server: Server, test_db: str) -> str:
    with psycopg.connect(pg_server.dsn(test_db), autocommit=True) as conn:
        conn.execute("SELECT test.w_reset()")
    return gunicorn(server_env(pg_server, test_db, PGRST_DB_PRE_REQUEST="test.pre_request"), workers=1)


def test_requests_of_one_shape_through_gunicorn(one_worker: str, pg_server: Server, test_db: str) -> None:
    """One test, so gunicorn boots once (about 2 s)."""
    check_reads(one_worker)
    check_writes(one_worker, pg_server, test_db)


def check_reads(one_worker: str) -> None:
    def read(i: str) -> RawResult:
        return raw(one_worker, "GET", f"/items?select=id,name,price&id=eq.{i}")

    def expected(body: bytes, location: str, content_range: str) -> RawResult:
        return (
            200,
            [
                SERVER,
                ("Content-Type", JSON),
                ("Content-Length", str(len(body))),
                ("Content-Range", content_range),
                ("Content-Location", location),
                VARY,
                ("Content-Profile", "test"),
            ],
            body,
        )

    assert read("1") == expected(
        b'[{"id":1,"name":"item 1","price":1.50}]', "/items?id=eq.1&select=id%2Cname%2Cprice", "0-0/*"
    )
    assert read("2") == expected(
        b'[{"id":2,"name":"item 2","price":3.00}]', "/items?id=eq.2&select=id%2Cname%2Cprice", "0-0/*"
    )
    assert read("15") == expected(
        b'[{"id":15,"name":"item 15","price":null}]', "/items?id=eq.15&select=id%2Cname%2Cprice", "0-0/*"
    )
    assert read("99") == expected(b"[]", "/items?id=eq.99&select=id%2Cname%2Cprice", "*/*")
    status, headers, body = read("abc")
    assert status == 400
    assert headers == [
        SERVER,
        ("Content-Type", JSON),
        ("Content-Length", str(len(body))),
        ("Proxy-Status", "PostgREST; error=22P02"),
    ]
    assert json.loads(body) == {
        "code": "22P02",
        "details": None,
        "hint": None,
        "message": 'invalid input syntax for type integer: "abc"',
    }


def check_writes(one_worker: str, pg_server: Server, test_db: str) -> None:
    url = "/w_items?select=id,name,qty,total,ticket"
    prefer = {"Prefer": "return=representation"}
    for name, qty, row_id, ticket in (("first", 2, 4, 103), ("second", 5, 5, 104)):
        body = json.dumps(
            [{"id": row_id, "name": name, "qty": qty, "total": None, "ticket": ticket}], separators=(",", ":")
        )
        assert raw(one_worker, "POST", url, prefer, {"name": name, "qty": qty}) == (
            201,
            [
                SERVER,
                ("Content-Type", JSON),
                ("Content-Length", str(len(body))),
                ("Content-Profile", "test"),
                ("Content-Range", "*/*"),
                ("Preference-Applied", "return=representation"),
                VARY,
            ],
            body.encode(),
        )
    for name, row_id in (("third", 6), ("fourth", 7)):
        assert raw(one_worker, "POST", "/w_items", {"Prefer": "return=headers-only"}, {"name": name}) == (
            201,
            [
                SERVER,
                ("Content-Length", "0"),
                ("Location", f"/w_items?id=eq.{row_id}"),
                ("Content-Range", "*/*"),
                ("Preference-Applied", "return=headers-only"),
                VARY,
            ],
            b"",
        )
    with psycopg.connect(pg_server.dsn(test_db), autocommit=True) as conn:
        written = conn.execute("SELECT id, name, qty FROM test.w_items WHERE id > 3 ORDER BY id").fetchall()
        conn.execute("SELECT test.w_reset()")
    assert written == [(4, "first", 2), (5, "second", 5), (6, "third", 1), (7, "fourth", 1)]
