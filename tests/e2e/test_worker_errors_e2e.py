"""Requests gunicorn cannot parse are answered in JSON by pgwsgi's worker class (deploy/gunicorn.conf.py)."""

from __future__ import annotations

import json
import socket

import pytest

from tests.conftest import ROOT, Server
from tests.e2e.conftest import server_env

CONF = ROOT / "deploy" / "gunicorn.conf.py"


def _raw(base: str, request: bytes) -> tuple[bytes, dict[str, str], bytes]:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    status, *lines = head.split(b"\r\n")
    headers = {k.decode(): v.decode().strip() for k, _, v in (line.partition(b":") for line in lines)}
    return status, headers, body


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"NOT A REQUEST LINE\r\n\r\n", b"HTTP/1.1 400 Bad Request"),
        (b"GET /items HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + b"a" * 100_000 + b"\r\n\r\n", None),
        (b"GET /items HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n", b"HTTP/1.1 400 Bad Request"),
    ],
)
def test_unparsable_requests_are_json(gunicorn, pg_server: Server, test_db: str, request_bytes: bytes, status) -> None:  # noqa: ANN001
    base = gunicorn(server_env(pg_server, test_db, PGWSGI_ACCESS_LOG=""), workers=1, conf=CONF)
    line, headers, body = _raw(base, request_bytes)
    if status is not None:
        assert line == status
    assert line.split()[1].startswith(b"4")
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    doc = json.loads(body)
    assert set(doc) == {"code", "message", "details", "hint"}
    assert doc["code"] == "HTTP" + line.split()[1].decode()
