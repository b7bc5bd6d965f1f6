"""The shipped nginx site (deploy/nginx/pgwsgi.conf) in front of gunicorn with deploy/gunicorn.conf.py.

Only the addresses and file paths of the site are changed for the test; every
limit and error page is the shipped one. nginx comes from Debian's package, which
`make` installs when it runs as root; elsewhere these tests skip, saying so.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools import nginx
from tests.conftest import ROOT, Server
from tests.e2e.conftest import fetch, send, server_env

CONF = ROOT / "deploy" / "gunicorn.conf.py"

pytestmark = pytest.mark.skipif(
    nginx.BINARY is None, reason="nginx is not installed (Debian: apt install nginx, which `make test` does as root)"
)


@pytest.fixture
def stack(gunicorn, pg_server: Server, test_db: str, tmp_path: Path) -> Iterator[tuple[str, str]]:  # noqa: ANN001
    """(nginx's base URL, gunicorn's) for the shipped site in front of gunicorn."""
    env = server_env(pg_server, test_db, PGRST_DB_TX_END="commit-allow-override", PGWSGI_ACCESS_LOG="")
    upstream = gunicorn(env, workers=2, conf=CONF)
    with nginx.running(tmp_path, [upstream.removeprefix("http://")]) as (base, _):
        yield base, upstream


def test_reads_writes_and_errors_pass_through(stack: tuple[str, str]) -> None:
    base, _ = stack
    status, headers, body = fetch(f"{base}/items?select=id&id=eq.1")
    assert (status, headers["Content-Type"], json.loads(body)) == (200, "application/json; charset=utf-8", [{"id": 1}])
    status, _, body = send(f"{base}/w_items", "POST", {"Prefer": "return=representation, tx=rollback"}, {"name": "x"})
    assert status == 201 and json.loads(body)[0]["name"] == "x"
    status, headers, body = fetch(f"{base}/no_such_table")
    assert (status, json.loads(body)["code"]) == (404, "PGRST205")


def test_an_in_list_of_ten_thousand_ids(stack: tuple[str, str]) -> None:
    # Content-Location repeats the query percent-encoded, as PostgREST's does: about 69 kB
    # here, past what Python's http.client reads in one header line, so the answer is read
    # off the socket. What matters is that nginx's buffers pass it (no 502 "too big header").
    base, _ = stack
    ids = ",".join(str(i) for i in range(1, 10_001))
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"GET /items?select=id&id=in.({ids}) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 200 OK"
    location = next(line for line in lines if line.lower().startswith(b"content-location:"))
    assert len(location) > 60_000
    assert b'"id"' in body


def test_an_oversized_body_is_a_json_413(stack: tuple[str, str]) -> None:
    base, _ = stack
    conn = http.client.HTTPConnection(base.removeprefix("http://"), timeout=10)
    # nginx answers from the Content-Length alone, before the body: none needs sending.
    conn.putrequest("POST", "/items")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(100 * 1024 * 1024 + 1))
    conn.endheaders()
    resp = conn.getresponse()
    assert resp.status == 413
    assert resp.getheader("Content-Type") == "application/json"
    assert json.loads(resp.read())["code"] == "PGRST102"
    conn.close()


def test_too_many_requests_is_a_json_429(stack: tuple[str, str]) -> None:
    base, _ = stack
    answers = [fetch(f"{base}/no_such_table") for _ in range(500)]
    limited = [a for a in answers if a[0] == 429]
    assert limited, "the burst of 200 should have run out"
    status, headers, body = limited[0]
    assert headers["Content-Type"] == "application/json"
    assert headers["Retry-After"] == "1"
    assert json.loads(body)["code"] == "NGINX429"


def test_gunicorn_stopped_is_a_json_502(stack: tuple[str, str], gunicorn) -> None:  # noqa: ANN001
    base, _ = stack
    for proc in gunicorn.processes:
        proc.terminate()
        proc.wait(timeout=15)
    status, headers, body = fetch(f"{base}/items")
    assert status == 502
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "code": "NGINX502",
        "details": "The proxy could not reach the API server.",
        "hint": None,
        "message": "Bad gateway",
    }
