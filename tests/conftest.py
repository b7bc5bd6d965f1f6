"""Shared fixtures: a real PostgreSQL server, a test database per session, apps and clients.

The server is the one named by PGWSGI_TEST_DSN (a superuser DSN; `make test`
provides it), or else the private server under .devdb/, started on demand.
Databases are created and dropped with pytest-postgresql's DatabaseJanitor.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from jose import jwt
from psycopg import sql
from pytest_postgresql.janitor import DatabaseJanitor
from werkzeug.test import Client

from pgwsgi.config import Config

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SECRET = "reallyreallyreallyreallyverysafe"
AUTHENTICATOR = "pgwsgi_authenticator"


@dataclasses.dataclass(frozen=True)
class Server:
    """Where the PostgreSQL server listens, and its superuser."""

    host: str
    port: int
    user: str
    password: str | None

    def dsn(self, dbname: str, user: str | None = None) -> str:
        """A DSN for DBNAME as USER (default: the superuser)."""
        who = user or self.user
        auth = f"{who}:{self.password}" if self.password and user is None else who
        return f"postgresql://{auth}@{self.host}:{self.port}/{dbname}"


@pytest.fixture(scope="session")
def pg_server() -> Server:
    """The PostgreSQL server the tests use."""
    dsn = os.environ.get("PGWSGI_TEST_DSN")
    if not dsn:
        from devtools import devdb

        dsn = devdb.start(ROOT / ".devdb")
    parts = urlsplit(dsn)
    return Server(parts.hostname or "127.0.0.1", parts.port or 5432, parts.username or "postgres", parts.password)


# Cluster-wide roles the tests create (tests/fixtures/roles.sql, deploy/demo/schema.sql,
# tests/integration/test_role_settings.py drops its own). Roles outlive databases.
TEST_ROLES = (
    "pgwsgi_authenticator",
    "pgwsgi_anon",
    "pgwsgi_user",
    "pgwsgi_admin",
    "pgwsgi_banned",
    "authenticator",
    "web_anon",
    "web_user",
    "web_admin",
)


@pytest.fixture(scope="session", autouse=True)
def _test_roles_dropped(pg_server: Server) -> Iterator[None]:
    """Drop, at the end of the session, the roles it created; roles that were there before it stay."""
    with psycopg.connect(pg_server.dsn("postgres"), autocommit=True) as conn:
        before = {
            r for (r,) in conn.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", [list(TEST_ROLES)])
        }
    yield
    with psycopg.connect(pg_server.dsn("postgres"), autocommit=True) as conn:
        for role in TEST_ROLES:
            if role in before:
                continue
            try:
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
            except psycopg.Error:
                pass  # it still holds privileges in a database another session keeps: leave it


# Debian's PostgreSQL 15, where `make test` installs PostGIS (postgresql-15-postgis-3) when run as root.
POSTGIS_BIN = Path(os.environ.get("PGWSGI_POSTGIS_BIN", "/usr/lib/postgresql/15/bin"))


@contextlib.contextmanager
def _pg_bin(bindir: Path) -> Iterator[None]:
    """devtools.devdb with BINDIR's binaries (PGWSGI_PG_BIN), for the time of the block."""
    before = os.environ.get("PGWSGI_PG_BIN")
    os.environ["PGWSGI_PG_BIN"] = str(bindir)
    try:
        yield
    finally:
        if before is None:
            del os.environ["PGWSGI_PG_BIN"]
        else:
            os.environ["PGWSGI_PG_BIN"] = before


@pytest.fixture(scope="session")
def postgis_server(pg_server: Server) -> Iterator[Server]:
    """A server with PostGIS: the test server if it has it, else a private PostgreSQL 15 with Debian's PostGIS.

    Skips, saying what to install, where neither is available.
    """
    with psycopg.connect(pg_server.dsn("postgres")) as conn:
        if conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").fetchone():
            yield pg_server
            return
    from devtools import devdb

    if not (POSTGIS_BIN / "postgres").exists() or not devdb.has_extension("postgis", POSTGIS_BIN):
        pytest.skip(
            f"PostGIS is not installed: neither on the test server nor for {POSTGIS_BIN} "
            "(Debian: apt install postgresql-15-postgis-3, which `make test` does when run as root)"
        )
    root = ROOT / ".devdb-postgis"
    with _pg_bin(POSTGIS_BIN):
        dsn = devdb.start(root)
    parts = urlsplit(dsn)
    try:
        yield Server(parts.hostname or "127.0.0.1", parts.port or 5432, parts.username or "postgres", parts.password)
    finally:
        with _pg_bin(POSTGIS_BIN):
            devdb.stop(root)


def load_sql(server: Server, dbname: str, *files: Path) -> None:
    """Run SQL files as the superuser, in one transaction each."""
    with psycopg.connect(server.dsn(dbname), autocommit=False) as conn:
        for f in files:
            conn.execute(f.read_text())
            conn.commit()


@contextlib.contextmanager
def database(server: Server, name: str, *files: Path) -> Iterator[str]:
    """A fresh database NAME with FILES loaded; dropped afterwards."""
    janitor = DatabaseJanitor(
        user=server.user, host=server.host, port=server.port, dbname=name, password=server.password
    )
    with janitor:
        load_sql(server, name, *files)
        yield name


@contextlib.contextmanager
def own_database(server: Server, prefix: str, *files: Path) -> Iterator[str]:
    """A database of a module's own, PREFIX_<pid>, with FILES loaded; dropped afterwards.

    The cluster-wide roles of tests/fixtures/roles.sql are loaded first (into "postgres"), so FILES may use them.
    """
    load_sql(server, "postgres", FIXTURES / "roles.sql")
    with database(server, f"{prefix}_{os.getpid()}", *files) as name:
        yield name


@pytest.fixture(scope="session")
def test_db(pg_server: Server) -> Iterator[str]:
    """The session's database with the SQL files of tests/fixtures loaded."""
    load_sql(pg_server, "postgres", FIXTURES / "roles.sql")
    with database(
        pg_server,
        f"pgwsgi_test_{os.getpid()}",
        FIXTURES / "schema.sql",
        FIXTURES / "grammar.sql",
        FIXTURES / "writes.sql",
        FIXTURES / "rpc.sql",
        FIXTURES / "embed.sql",
        FIXTURES / "embed_views.sql",
    ) as name:
        yield name


def make_config(server: Server, dbname: str, **overrides: Any) -> Config:
    """The tests' usual configuration, with OVERRIDES."""
    base = Config(
        db_uri=server.dsn(dbname, AUTHENTICATOR),
        db_schemas=("test", "other"),
        db_anon_role="pgwsgi_anon",
        jwt_secret=SECRET,
        db_pool=2,
        db_pool_acquisition_timeout=2,
        db_channel_enabled=False,
    )
    return dataclasses.replace(base, **overrides)


@contextlib.contextmanager
def client_factory(server: Server, dbname: str, **base: Any) -> Iterator[Callable[..., Client]]:
    """A factory of test clients over apps on DBNAME configured with BASE and keyword overrides of Config.

    `factory(**overrides)` answers a new Client (no cookies) over one app per distinct configuration:
    the settings, sorted by name, are the key, so their values should be hashable (tuples, not lists);
    a configuration with an unhashable value gets an app of its own at every call. Every app the
    factory made is closed when the block is left.
    """
    from pgwsgi import create_app

    shared: dict[tuple[tuple[str, Any], ...], Any] = {}
    apps: list[Any] = []

    def factory(**overrides: Any) -> Client:
        settings = {**base, **overrides}
        key = tuple(sorted(settings.items()))
        try:
            application = shared.get(key)
        except TypeError:  # an unhashable value: this app is not shared
            application = None
        if application is None:
            application = create_app(make_config(server, dbname, **settings))
            apps.append(application)
            with contextlib.suppress(TypeError):
                shared[key] = application
        return Client(application, use_cookies=False)

    try:
        yield factory
    finally:
        for application in apps:
            application.close()


@pytest.fixture
def make_client(pg_server: Server, test_db: str) -> Iterator[Callable[..., Client]]:
    """A factory of test clients over apps configured with keyword overrides of Config."""
    from pgwsgi import create_app

    apps: list[Any] = []

    def factory(**overrides: Any) -> Client:
        application = create_app(make_config(pg_server, test_db, **overrides))
        apps.append(application)
        return Client(application, use_cookies=False)

    yield factory
    for application in apps:
        application.close()


@pytest.fixture
def client(make_client: Callable[..., Client]) -> Client:
    """A client of an app with the usual configuration."""
    return make_client()


def token(secret: str = SECRET, algorithm: str = "HS256", **claims: Any) -> str:
    """A signed JWT with CLAIMS."""
    return jwt.encode(claims, secret, algorithm=algorithm)


def bearer(**claims: Any) -> dict[str, str]:
    """An Authorization header carrying a token with CLAIMS."""
    return {"Authorization": f"Bearer {token(**claims)}"}


def expired(**claims: Any) -> dict[str, str]:
    """An Authorization header with a token that expired a minute ago."""
    return bearer(exp=int(time.time()) - 60, **claims)


JSON = "application/json; charset=utf-8"


def rows(client: Client, url: str, headers: dict[str, str] | None = None) -> Any:
    """The JSON body of a GET that must succeed with 200."""
    r = client.get(url, headers=headers or {})
    assert r.status_code == 200, f"{url}: {r.status_code} {r.get_data(as_text=True)}"
    return r.get_json()


def assert_error(r: Any, status: int, code: str, message: str, details: object = None, hint: str | None = None) -> None:
    """PostgREST's error shape (E-BODY, E-HEADERS)."""
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.headers["Content-Type"] == JSON
    assert r.headers["Proxy-Status"] == f"PostgREST; error={code}"
    assert r.get_json() == {"code": code, "message": message, "details": details, "hint": hint}
