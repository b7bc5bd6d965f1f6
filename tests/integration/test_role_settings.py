"""The impersonated role's own settings (ALTER ROLE ... SET) apply to its transaction, as in PostgREST.

PostgREST reads them (queryRoleSettings) for the roles the authenticator may become:
settings a user may set, or (PostgreSQL 15+) that the authenticator was granted SET
on; default_transaction_isolation becomes the transaction's level, under a
function's own. pgwsgi reads them with the catalog, so a change takes effect at the
next schema reload.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import psycopg
import pytest
from werkzeug.test import Client

from tests.conftest import AUTHENTICATOR, FIXTURES, Server, bearer, client_factory, load_sql, own_database

TIMED = bearer(role="pgwsgi_timed")


@pytest.fixture(scope="module")
def timed_role(pg_server: Server) -> Iterator[None]:
    """A role of this module's own, with settings of its own; dropped afterwards (roles outlive databases)."""
    load_sql(pg_server, "postgres", FIXTURES / "roles.sql")
    with psycopg.connect(pg_server.dsn("postgres"), autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS pgwsgi_timed")
        conn.execute("CREATE ROLE pgwsgi_timed NOLOGIN")
        conn.execute(f"GRANT pgwsgi_timed TO {AUTHENTICATOR}")
        conn.execute("ALTER ROLE pgwsgi_timed SET statement_timeout = '500ms'")
        conn.execute("ALTER ROLE pgwsgi_timed SET default_transaction_isolation = 'serializable'")
        conn.execute("ALTER ROLE pgwsgi_timed SET work_mem = '7MB'")
    try:
        yield
    finally:
        with psycopg.connect(pg_server.dsn("postgres"), autocommit=True) as conn:
            conn.execute("DROP ROLE IF EXISTS pgwsgi_timed")


@pytest.fixture(scope="module")
def make(pg_server: Server, timed_role: None) -> Iterator[Callable[..., Client]]:
    with (
        own_database(pg_server, "pgwsgi_role_settings", FIXTURES / "role_settings.sql") as name,
        client_factory(pg_server, name, db_schemas=("rs",)) as factory,
    ):
        yield factory


def test_a_statement_timeout_of_the_role_cancels_its_request(make: Callable[..., Client]) -> None:
    client = make()
    started = time.monotonic()
    r = client.get("/rpc/nap?s=3", headers=TIMED)
    assert time.monotonic() - started < 2.5
    assert r.status_code == 500
    assert r.get_json() == {
        "code": "57014",
        "message": "canceling statement due to statement timeout",
        "details": None,
        "hint": None,
    }


def test_other_roles_keep_the_servers_settings(make: Callable[..., Client]) -> None:
    r = make().get("/rpc/nap?s=0.6")
    assert (r.status_code, r.get_json()) == (200, "awake")


def test_the_roles_settings_are_the_transactions(make: Callable[..., Client]) -> None:
    client = make()
    assert client.get("/rpc/setting?name=work_mem", headers=TIMED).get_json() == "7MB"
    assert client.get("/rpc/setting?name=work_mem").get_json() != "7MB"


def test_the_roles_isolation_level_under_a_functions_own(make: Callable[..., Client]) -> None:
    client = make()
    assert client.get("/rpc/isolation", headers=TIMED).get_json() == "serializable"
    assert client.get("/rpc/isolation").get_json() == "read committed"
    assert client.get("/rpc/isolation_rr", headers=TIMED).get_json() == "repeatable read"
