"""A superuser or BYPASSRLS authenticator is refused (issue 14): it would see every row whatever role it becomes."""

from __future__ import annotations

import psycopg
import pytest
from werkzeug.test import Client

from tests.conftest import Server, make_config


def test_a_superuser_authenticator_is_refused_at_start(pg_server: Server, test_db: str) -> None:
    from pgwsgi import create_app
    from pgwsgi.http.app import PrivilegedAuthenticatorError

    with pytest.raises(PrivilegedAuthenticatorError, match="is a superuser"):
        create_app(make_config(pg_server, test_db, db_uri=pg_server.dsn(test_db)))


def test_it_serves_when_the_config_allows_it(pg_server: Server, test_db: str) -> None:
    from pgwsgi import create_app

    app = create_app(
        make_config(pg_server, test_db, db_uri=pg_server.dsn(test_db), db_allow_privileged_authenticator=True)
    )
    try:
        assert Client(app).get("/items?select=id&id=eq.1").get_json() == [{"id": 1}]
    finally:
        app.close()


def test_bypassrls_is_refused_too(pg_server: Server, test_db: str) -> None:
    from pgwsgi import create_app
    from pgwsgi.http.app import PrivilegedAuthenticatorError

    with psycopg.connect(pg_server.dsn("postgres"), autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS pgwsgi_bypass")
        conn.execute("CREATE ROLE pgwsgi_bypass LOGIN BYPASSRLS NOINHERIT")
    try:
        with pytest.raises(PrivilegedAuthenticatorError, match="pgwsgi_bypass has BYPASSRLS"):
            create_app(make_config(pg_server, test_db, db_uri=pg_server.dsn(test_db, "pgwsgi_bypass")))
    finally:
        with psycopg.connect(pg_server.dsn("postgres"), autocommit=True) as conn:
            conn.execute("DROP ROLE IF EXISTS pgwsgi_bypass")


def test_found_after_start_every_request_is_refused(pg_server: Server, test_db: str) -> None:
    # As when the database was unreachable at start: the first load that can tell decides.
    import dataclasses

    from pgwsgi import create_app

    config = make_config(pg_server, test_db, db_uri=pg_server.dsn(test_db), db_allow_privileged_authenticator=True)
    app = create_app(config)
    try:
        app.config = dataclasses.replace(config, db_allow_privileged_authenticator=False)
        r = Client(app).get("/items?select=id&id=eq.1")
        assert r.status_code == 500
        body = r.get_json()
        assert (body["code"], body["message"]) == ("PGRSTX00", "Internal server error")
        assert body["details"].startswith(f"pgwsgi refuses to serve: {pg_server.user} is a superuser")
    finally:
        app.close()
