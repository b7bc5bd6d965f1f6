"""Error responses: status, JSON body and headers, as PostgREST sends them."""

from __future__ import annotations

from werkzeug.test import Client

from tests.conftest import make_config


def test_unknown_table_is_404_with_suggestion(client: Client) -> None:
    r = client.get("/itemz")
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert r.headers["Proxy-Status"] == "PostgREST; error=PGRST205"
    assert r.get_json() == {
        "code": "PGRST205",
        "message": "Could not find the table 'test.itemz' in the schema cache",
        "details": None,
        "hint": "Perhaps you meant the table 'test.items'",
    }


def test_unknown_path_shape_is_pgrst125(client: Client) -> None:
    for path in ("/items/1", "/a/b/c", "/items/"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.get_json() == {
            "code": "PGRST125",
            "message": "Invalid path specified in request URL",
            "details": None,
            "hint": None,
        }


def test_unsupported_method_is_405(client: Client) -> None:
    r = client.open("/items", method="TRACE")
    assert r.status_code == 405
    assert r.get_json() == {
        "code": "PGRST117",
        "message": "Unsupported HTTP method: TRACE",
        "details": None,
        "hint": None,
    }


def test_bad_filter_grammar_is_pgrst100(client: Client) -> None:
    r = client.get("/items?id=noop.1")
    assert r.status_code == 400
    body = r.get_json()
    assert body["code"] == "PGRST100"
    assert body["message"].startswith('"failed to parse filter (noop.1)"')


def test_unknown_column_is_42703(client: Client) -> None:
    r = client.get("/items?select=nope")
    assert r.status_code == 400
    assert r.get_json() == {
        "code": "42703",
        "message": "column items.nope does not exist",
        "details": None,
        "hint": None,
    }


def test_invalid_value_is_400_from_postgres(client: Client) -> None:
    r = client.get("/items?id=eq.abc")
    assert r.status_code == 400
    assert r.get_json() == {
        "code": "22P02",
        "message": 'invalid input syntax for type integer: "abc"',
        "details": None,
        "hint": None,
    }


def test_minimal_error_verbosity(make_client) -> None:  # noqa: ANN001
    client = make_client(client_error_verbosity="minimal")
    r = client.get("/itemz")
    assert r.get_json() == {"code": "PGRST205", "message": "Could not find the table 'test.itemz' in the schema cache"}


def test_database_unreachable_is_503(pg_server, test_db) -> None:  # noqa: ANN001
    from werkzeug.test import Client as WClient

    from pgwsgi.http.app import App

    config = make_config(pg_server, test_db)
    app = App(config)
    app.start()
    try:
        # Point the app at a port nothing listens on, as if the server went away.
        down = make_config(pg_server, test_db, db_uri="postgresql://nobody@127.0.0.1:1/none")
        app.db.close()
        from pgwsgi.db.pool import Database

        app.db = Database(down)
        app.db.open()
        r = WClient(app).get("/items")
        assert r.status_code == 503
        assert r.headers["Retry-After"] == "0"
        body = r.get_json()
        assert body["code"] == "PGRST000"
        assert body["message"] == "Database connection error. Retrying the connection."
        assert "nobody" not in (body["details"] or "") or "password" not in (body["details"] or "")
    finally:
        app.close()


def test_pool_exhausted_is_504(make_client) -> None:  # noqa: ANN001
    client = make_client(db_pool=1, db_pool_acquisition_timeout=1)
    app = client.application
    with app.db.connection():
        r = client.get("/items")
    assert r.status_code == 504
    assert r.get_json() == {
        "code": "PGRST003",
        "message": "Timed out acquiring connection from connection pool.",
        "details": None,
        "hint": None,
    }
    assert client.get("/items?id=eq.1").status_code == 200


def test_no_traceback_on_internal_error(client: Client, monkeypatch) -> None:  # noqa: ANN001
    import pgwsgi.http.app

    def boom(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("secret internals")

    monkeypatch.setattr(pgwsgi.http.app, "build", boom)
    r = client.get("/items")
    assert r.status_code == 500
    assert r.get_json() == {"code": "PGRSTX00", "message": "Internal server error", "details": None, "hint": None}
    assert b"secret internals" not in r.get_data()


def test_lost_connection_is_503_then_the_pool_recovers(make_client, pg_server, test_db) -> None:  # noqa: ANN001
    import psycopg

    client = make_client()
    assert client.get("/items?id=eq.1").status_code == 200
    with psycopg.connect(pg_server.dsn(test_db), autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE usename = 'pgwsgi_authenticator' AND datname = %s",
            [test_db],
        )
    r = client.get("/items?id=eq.1")
    if r.status_code != 200:
        assert r.status_code == 503
        assert r.headers["Retry-After"] == "0"
        assert r.get_json()["code"] == "PGRST001"
    statuses = [client.get("/items?id=eq.1").status_code for _ in range(3)]
    assert statuses[-1] == 200
