"""db-channel-uri: the LISTEN connection goes there, schema-cache loads stay on db-uri (a real server)."""

from __future__ import annotations

import os
import time

import psycopg

from pgwsgi import create_app
from tests.conftest import AUTHENTICATOR, Server, make_config


def _sessions(server: Server, application_name: str) -> list[tuple[str, str]]:
    """(state, last query) of every server session with APPLICATION_NAME."""
    with psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT state, query FROM pg_stat_activity WHERE application_name = %s ORDER BY pid", [application_name]
        ).fetchall()
    return [(str(state), str(query)) for state, query in rows]


def test_the_listener_connects_to_db_channel_uri_and_reloads_from_db_uri(pg_server: Server, test_db: str) -> None:
    listener = f"pgwsgi_channel_{os.getpid()}"
    loader = f"pgwsgi_loads_{os.getpid()}"
    uri = pg_server.dsn(test_db, AUTHENTICATOR)
    config = make_config(
        pg_server,
        test_db,
        db_uri=f"{uri}?application_name={loader}",
        db_channel_uri=f"{uri}?application_name={listener}",
        db_channel_enabled=True,
    )
    app = create_app(config)
    try:
        # start() waited until the listener listened: its one session did nothing else.
        assert _sessions(pg_server, listener) == [("idle", 'LISTEN "pgrst"')]
        loads = app.catalog.loads_ok
        with psycopg.connect(pg_server.dsn(test_db), autocommit=True) as conn:
            conn.execute("NOTIFY pgrst, 'reload schema'")
        deadline = time.monotonic() + 5
        while app.catalog.loads_ok == loads:
            assert time.monotonic() < deadline, "the NOTIFY did not reload the schema cache"
            time.sleep(0.02)
        # The reload itself ran on db-uri's connections (closed once loaded), never on the listener's.
        assert _sessions(pg_server, listener) == [("idle", 'LISTEN "pgrst"')]
        assert all("LISTEN" not in query for _, query in _sessions(pg_server, loader))
    finally:
        app.close()


def test_without_db_channel_uri_the_listener_uses_db_uri(pg_server: Server, test_db: str) -> None:
    name = f"pgwsgi_one_uri_{os.getpid()}"
    config = make_config(
        pg_server,
        test_db,
        db_uri=f"{pg_server.dsn(test_db, AUTHENTICATOR)}?application_name={name}",
        db_channel_enabled=True,
    )
    app = create_app(config)
    try:
        assert ("idle", 'LISTEN "pgrst"') in _sessions(pg_server, name)
    finally:
        app.close()
