"""The database going away and coming back, through a real gunicorn, on a private server of this test's own.

A restart loses no request (pooled connections the server closed are not lent),
while the database is down every request is a JSON 503 within about a second, and
requests are served again within a couple of seconds of its return.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.conftest import AUTHENTICATOR, FIXTURES, ROOT, SECRET, Server, load_sql
from tests.e2e.conftest import fetch

OUTAGE_ROOT = ROOT / ".devdb-outage"


@pytest.fixture
def outage_server() -> Iterator[str]:
    """A private PostgreSQL server of its own (the others' tests keep theirs), as its superuser DSN."""
    from devtools import devdb

    dsn = devdb.start(OUTAGE_ROOT)
    try:
        yield dsn
    finally:
        devdb.stop(OUTAGE_ROOT)


def _timed(url: str) -> tuple[int, dict[str, str], bytes, float]:
    started = time.monotonic()
    status, headers, body = fetch(url)
    return status, headers, body, time.monotonic() - started


def test_restart_and_outage_through_gunicorn(gunicorn, outage_server: str) -> None:  # noqa: ANN001
    from devtools import devdb

    parts = urlsplit(outage_server)
    with psycopg.connect(outage_server, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS outage")
        conn.execute("CREATE DATABASE outage")
    admin = f"postgresql://{parts.username}@{parts.hostname}:{parts.port}/outage"
    server = Server(parts.hostname or "127.0.0.1", parts.port or 5432, parts.username or "postgres", None)
    load_sql(server, "postgres", FIXTURES / "roles.sql")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA api; CREATE TABLE api.t (id int); INSERT INTO api.t VALUES (1)")
        conn.execute("GRANT USAGE ON SCHEMA api TO pgwsgi_anon; GRANT SELECT ON api.t TO pgwsgi_anon")
    env = {
        "PGRST_DB_URI": f"postgresql://{AUTHENTICATOR}@{parts.hostname}:{parts.port}/outage",
        "PGRST_DB_SCHEMAS": "api",
        "PGRST_DB_ANON_ROLE": "pgwsgi_anon",
        "PGRST_JWT_SECRET": SECRET,
        "PGRST_DB_POOL": "2",
    }
    base = gunicorn(env, workers=2)
    url = f"{base}/t"
    deadline = time.monotonic() + 10
    while fetch(url)[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    for _ in range(10):  # every worker has pooled connections
        assert fetch(url)[0] == 200

    # A routine restart while idle: the pooled connections it closed are not lent.
    devdb.stop(OUTAGE_ROOT)
    devdb.start(OUTAGE_ROOT)
    answers = [fetch(url) for _ in range(40)]
    assert [a[0] for a in answers] == [200] * 40, [a[2] for a in answers if a[0] != 200][:3]

    # Down: a JSON 503 at once, never a hang.
    devdb.stop(OUTAGE_ROOT)
    answers = [_timed(url) for _ in range(20)]
    for status, headers, body, _ in answers:
        assert status == 503
        assert headers["Content-Type"] == "application/json; charset=utf-8"
        assert json.loads(body)["code"] in ("PGRST000", "PGRST001")
    assert max(seconds for *_, seconds in answers) < 1.5, [round(s, 2) for *_, s in answers]

    # Back: every worker serves again within a couple of seconds (each tries at most twice a second).
    devdb.start(OUTAGE_ROOT)
    back = time.monotonic()
    in_a_row = 0
    while in_a_row < 20:
        in_a_row = in_a_row + 1 if fetch(url)[0] == 200 else 0
        assert time.monotonic() - back < 3.0
        time.sleep(0.02)
