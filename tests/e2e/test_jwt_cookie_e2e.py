"""PGRST_JWT_COOKIE_NAME through a real gunicorn: a cookie read, a refused cross-site write, a same-origin one."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import ROOT, Server, own_database, token
from tests.e2e.conftest import fetch, send, server_env

CONF = ROOT / "deploy" / "gunicorn.conf.py"
SCHEMA_SQL = """
CREATE SCHEMA cke;
GRANT USAGE ON SCHEMA cke TO pgwsgi_anon, pgwsgi_user;
CREATE TABLE cke.notes (
  id int PRIMARY KEY,
  body text NOT NULL,
  author text DEFAULT current_setting('request.jwt.claims', true)::json ->> 'sub'
);
GRANT SELECT ON cke.notes TO pgwsgi_anon;
GRANT SELECT, INSERT ON cke.notes TO pgwsgi_user;
CREATE VIEW cke.me AS SELECT current_user::text AS role, current_setting('request.jwt.claims', true)::json AS claims;
GRANT SELECT ON cke.me TO pgwsgi_anon, pgwsgi_user;
"""
ALICE = token(role="pgwsgi_user", sub="alice")


@pytest.fixture(scope="module")
def cke_db(pg_server: Server) -> Iterator[str]:
    with own_database(pg_server, "pgwsgi_jwt_cookie_e2e") as name:
        with psycopg.connect(pg_server.dsn(name), autocommit=True) as conn:
            conn.execute(SCHEMA_SQL)
        yield name


def _notes(pg_server: Server, dbname: str) -> list[tuple[object, ...]]:
    with psycopg.connect(pg_server.dsn(dbname), autocommit=True) as conn:
        return conn.execute("SELECT id, body, author FROM cke.notes ORDER BY id").fetchall()


def test_a_cookie_authenticates_and_only_same_origin_writes_pass(
    gunicorn,  # noqa: ANN001
    pg_server: Server,
    cke_db: str,
    tmp_path: Path,
) -> None:
    env = server_env(
        pg_server, cke_db, PGRST_DB_SCHEMAS="cke", PGRST_JWT_COOKIE_NAME="access_token", PGRST_LOG_LEVEL="info"
    )
    base = gunicorn(env, workers=1, conf=CONF)
    session = {"Cookie": f"theme=dark; access_token={ALICE}"}

    status, _, body = fetch(f"{base}/me", {**session, "Accept": "application/vnd.pgrst.object+json"})
    assert (status, json.loads(body)) == (
        200,
        {"role": "pgwsgi_user", "claims": {"role": "pgwsgi_user", "sub": "alice"}},
    )
    # Reads are allowed from any site.
    status, _, body = fetch(f"{base}/notes", {**session, "Sec-Fetch-Site": "cross-site"})
    assert (status, json.loads(body)) == (200, [])

    status, headers, body = send(
        f"{base}/notes", "POST", {**session, "Sec-Fetch-Site": "cross-site"}, {"id": 1, "body": "x"}
    )
    assert status == 403
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Proxy-Status"] == "PostgREST; error=PGWSGI301"
    assert body == (
        b'{"code":"PGWSGI301","details":"The POST request took its token from the \'access_token\' cookie and has '
        b'Sec-Fetch-Site: cross-site.","hint":"Send writes from a page of this origin (browsers then send '
        b'Sec-Fetch-Site: same-origin), or send the token in the Authorization header instead of the cookie.",'
        b'"message":"Cookie-authenticated write refused: the request does not show it comes from this site"}'
    )
    assert _notes(pg_server, cke_db) == []

    status, _, body = send(
        f"{base}/notes", "POST", {**session, "Sec-Fetch-Site": "same-origin"}, {"id": 2, "body": "y"}
    )
    assert status == 201, body
    assert _notes(pg_server, cke_db) == [(2, "y", "alice")]

    # The access log names the role; the cookie's token is never written there.
    time.sleep(0.5)
    log = (tmp_path / f"gunicorn-{base.rsplit(':', 1)[1]}.log").read_text()
    assert "- pgwsgi_user [" in log and '"POST /notes HTTP/1.1" 201' in log
    assert ALICE not in log
