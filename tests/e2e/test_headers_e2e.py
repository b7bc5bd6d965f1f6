"""End to end: the headers a real `gunicorn pgwsgi:app` sends (no gunicorn config file, as in test_gunicorn)."""

from __future__ import annotations

import http.client
import re
from urllib.parse import urlsplit

import pytest

from tests.conftest import Server
from tests.e2e.conftest import server_env

RawResult = tuple[int, list[tuple[str, str]], bytes]
TIMING = re.compile(
    r"jwt;dur=\d+\.\d, parse;dur=\d+\.\d, plan;dur=\d+\.\d, transaction;dur=\d+\.\d, response;dur=\d+\.\d"
)


def raw(base: str, path: str, headers: dict[str, str] | None = None, method: str = "GET") -> RawResult:
    """Status, every header line as sent (repeats included) and body of one request."""
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        conn.close()


def values(headers: list[tuple[str, str]], name: str) -> list[str]:
    return [v for k, v in headers if k.lower() == name.lower()]


def test_exactly_one_postgrest_server_header(test_server: str) -> None:  # noqa: F811
    for method, path in [("GET", "/items?id=eq.1"), ("HEAD", "/items"), ("GET", "/nope"), ("OPTIONS", "/items")]:
        status, headers, _ = raw(test_server, path, method=method)
        assert status in (200, 404)
        assert values(headers, "Server") == ["postgrest/16.1"], (method, path, headers)
        assert len(values(headers, "Date")) == 1
        assert values(headers, "Server-Timing") == []
    status, headers, _ = raw(test_server, "/items?id=eq.1")
    assert values(headers, "Vary") == ["Accept, Prefer, Range"]


@pytest.fixture
def headers_server(gunicorn, pg_server: Server, test_db: str) -> str:  # noqa: ANN001, F811
    env = server_env(
        pg_server,
        test_db,
        PGRST_SERVER_CORS_ALLOWED_ORIGINS="http://a.example, http://b.example",
        PGRST_SERVER_TRACE_HEADER="X-Request-Id",
        PGRST_SERVER_TIMING_ENABLED="true",
    )
    return gunicorn(env, workers=1)


def test_cors_preflight_through_gunicorn(headers_server: str) -> None:
    request = {
        "Origin": "http://b.example",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "Prefer, Range",
        "X-Request-Id": "pre-1",
        "Authorization": "Bearer not-a-token",  # preflights are answered before authentication
    }
    status, headers, body = raw(headers_server, "/items", request, method="OPTIONS")
    assert (status, body) == (200, b"")
    sent = [(k, v) for k, v in headers if k not in ("Date", "Connection")]
    assert sent == [
        ("Server", "postgrest/16.1"),
        ("Content-Length", "0"),
        ("Access-Control-Allow-Origin", "http://b.example"),
        ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Allow-Methods", "GET, POST, PATCH, PUT, DELETE, OPTIONS, HEAD"),
        ("Access-Control-Allow-Headers", "Authorization, Prefer, Range, Accept, Accept-Language, Content-Language"),
        ("Access-Control-Max-Age", "86400"),
        ("X-Request-Id", "pre-1"),
    ]


def test_timing_trace_and_cors_on_a_read_through_gunicorn(headers_server: str) -> None:
    status, headers, body = raw(headers_server, "/items?select=id&id=eq.1", {"Origin": "http://a.example"})
    assert (status, body) == (200, b'[{"id":1}]')
    assert values(headers, "Server") == ["postgrest/16.1"]
    (timing,) = values(headers, "Server-Timing")
    assert TIMING.fullmatch(timing), timing
    assert values(headers, "X-Request-Id") == [""]
    assert values(headers, "Access-Control-Allow-Origin") == ["http://a.example"]
    assert values(headers, "Access-Control-Allow-Credentials") == ["true"]
    assert values(headers, "Access-Control-Expose-Headers") == [
        "Content-Encoding, Content-Location, Content-Range, Content-Type, Date, Location, Server, "
        "Transfer-Encoding, Range-Unit"
    ]
    status, headers, _ = raw(headers_server, "/nope", {"Origin": "http://other.example", "X-Request-Id": "e-1"})
    assert status == 404
    assert values(headers, "Server") == ["postgrest/16.1"]
    assert values(headers, "X-Request-Id") == ["e-1"]
    assert not [k for k, _ in headers if k.lower().startswith("access-control-") or k in ("Vary", "Server-Timing")]
