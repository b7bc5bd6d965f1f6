"""jwt-secret as a JWKS URL through a real gunicorn: keys fetched by the worker, rotated without a restart.

The JWKS server runs in the test process (tests/unit/test_jwks.py's `JwksServer`, on 127.0.0.1).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Server
from tests.e2e.conftest import HttpResult, eventually, fetch, server_env
from tests.unit.test_jwks import JwksServer, RawServer, _request_line, rsa_key

WHOAMI = "/whoami?select=role"
USER = b'[{"role":"pgwsgi_user"}]'
# PostgREST's body for a token no key of the set can check.
NO_SUITABLE_KEY = (
    b'{"code":"PGRST301","details":"No suitable key was found to decode the JWT","hint":null,'
    b'"message":"No suitable key or wrong key type"}'
)
WWW_AUTHENTICATE = 'Bearer error="invalid_token", error_description="No suitable key or wrong key type"'


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    found = JwksServer()
    yield found
    found.close()


def _get(base: str, token: str) -> HttpResult:
    return fetch(base + WHOAMI, {"Authorization": f"Bearer {token}"})


def _log(tmp_path: Path, base: str) -> str:
    return (tmp_path / f"gunicorn-{base.rsplit(':', 1)[1]}.log").read_text()


def test_keys_rotate_without_a_restart_and_survive_an_outage(
    gunicorn,  # noqa: ANN001
    pg_server: Server,
    test_db: str,
    jwks_server: JwksServer,
    tmp_path: Path,
) -> None:
    key_a, key_b = rsa_key("a"), rsa_key("b")
    # A day of max-age: only an unknown kid makes the worker fetch again in this test.
    jwks_server.serve(key_a, Cache_Control="max-age=86400")
    env = server_env(
        pg_server,
        test_db,
        PGRST_JWT_SECRET=jwks_server.url(),
        PGRST_JWT_JWKS_REFETCH_INTERVAL="1",
        PGRST_LOG_LEVEL="warn",
    )
    base = gunicorn(env, workers=1)
    # Fetched once, by the worker as it starts, before any request.
    assert eventually(lambda: jwks_server.requests == ["/jwks"])
    time.sleep(0.3)
    assert jwks_server.requests == ["/jwks"]

    token_a = key_a.token()
    status, _, body = _get(base, token_a)
    assert (status, body) == (200, USER)

    # Rotation: B replaces A. A B token is accepted without a restart (unknown kid: fetched again).
    jwks_server.serve(key_b, Cache_Control="max-age=86400")
    time.sleep(1.1)  # past jwt-jwks-refetch-interval since the fetch at start
    token_b = key_b.token()
    status, _, body = _get(base, token_b)
    assert (status, body) == (200, USER)
    assert jwks_server.requests == ["/jwks", "/jwks"]
    # A's token, verified (and cached) before, is refused now that A is gone.
    status, headers, body = _get(base, token_a)
    assert (status, body) == (401, NO_SUITABLE_KEY)
    assert headers["WWW-Authenticate"] == WWW_AUTHENTICATE

    # The JWKS server fails: the last good set keeps serving.
    jwks_server.answer("/jwks", {"message": "unavailable"}, status=503)
    time.sleep(1.1)
    fetched = len(jwks_server.requests)
    status, _, body = _get(base, key_b.token(kid="c"))  # an unknown kid: fetched again, and that fails
    assert (status, body) == (401, NO_SUITABLE_KEY)
    assert len(jwks_server.requests) == fetched + 1
    for token in (token_b, key_b.token(n=1)):  # cached and new
        status, _, body = _get(base, token)
        assert (status, body) == (200, USER)
    assert eventually(
        lambda: (
            f"could not fetch the keys from {jwks_server.url()}: {jwks_server.url()} answered 503; "
            "keeping the last good key set" in _log(tmp_path, base)
        )
    )


def test_a_jwks_server_down_at_start_does_not_stop_the_worker(
    gunicorn,  # noqa: ANN001
    pg_server: Server,
    test_db: str,
    jwks_server: JwksServer,
    tmp_path: Path,
) -> None:
    key_a = rsa_key("a")
    jwks_server.answer("/jwks", b"down", status=503)
    env = server_env(pg_server, test_db, PGRST_JWT_SECRET=jwks_server.url(), PGRST_JWT_JWKS_REFETCH_INTERVAL="1")
    base = gunicorn(env, workers=1)
    assert eventually(lambda: jwks_server.requests == ["/jwks"])
    # The worker serves: anonymous requests work, tokens are refused until a fetch succeeds.
    status, _, body = fetch(base + WHOAMI)
    assert (status, body) == (200, b'[{"role":"pgwsgi_anon"}]')
    token = key_a.token()
    status, _, body = _get(base, token)
    assert (status, body) == (401, NO_SUITABLE_KEY)
    jwks_server.serve(key_a)
    time.sleep(1.1)
    status, _, body = _get(base, token)
    assert (status, body) == (200, USER)


def test_a_loopback_jwks_is_fetched_directly_whatever_http_proxy_says(
    gunicorn,  # noqa: ANN001
    pg_server: Server,
    test_db: str,
    jwks_server: JwksServer,
) -> None:
    lines: list[str] = []
    proxy = RawServer(lambda conn: _request_line(conn, lines))  # records what it is asked, answers nothing
    try:
        key_a = rsa_key("a")
        jwks_server.serve(key_a)
        via = f"http://127.0.0.1:{proxy.port}"
        env = server_env(
            pg_server,
            test_db,
            PGRST_JWT_SECRET=jwks_server.url(),
            http_proxy=via,
            HTTP_PROXY=via,
            no_proxy="",
            NO_PROXY="",
        )
        base = gunicorn(env, workers=1)
        status, _, body = _get(base, key_a.token())
        assert (status, body) == (200, USER)
        assert jwks_server.requests == ["/jwks"]
        assert (proxy.connections, lines) == (0, [])
    finally:
        proxy.close()


def test_plain_http_to_another_host_stops_gunicorn(
    gunicorn,  # noqa: ANN001
    pg_server: Server,
    test_db: str,
    tmp_path: Path,
) -> None:
    env = server_env(pg_server, test_db, PGRST_JWT_SECRET="http://jwks.example.com/keys")
    try:
        base = gunicorn(env, workers=1)
    except RuntimeError as exc:  # it may stop before it even listens
        log = str(exc)
    else:
        master = gunicorn.processes[-1]
        assert master.wait(timeout=30) != 0
        log = _log(tmp_path, base)
    assert "jwt-secret: a JWKS URL must use https (http only for loopback addresses)" in log
