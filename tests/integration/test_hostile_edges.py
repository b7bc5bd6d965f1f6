"""Bodies and states a client or a stale catalog can bring, found by review: a clear answer, never a 500."""

from __future__ import annotations

import json

import psycopg
import pytest
from werkzeug.test import Client

from tests.conftest import FIXTURES, Server, assert_error, database, load_sql, make_config

JSON_CT = {"Content-Type": "application/json"}


def test_an_object_after_many_blanks_is_still_an_object(client: Client) -> None:
    # The arguments were once told apart by the first 4 KiB only, and the wrong statement cached.
    r = client.post("/rpc/r_add", data=b" " * 5000 + b'{"a": 1, "b": 2}', headers=JSON_CT)
    assert (r.status_code, r.get_json()) == (200, 3)
    for a in range(3):
        r = client.post("/rpc/r_add", data=json.dumps({"a": a, "b": 2}), headers=JSON_CT)
        assert (r.status_code, r.get_json()) == (200, a + 2)


@pytest.mark.parametrize("url", ["/rpc/r_add", "/items"])
def test_json_nested_too_deep_for_python_is_invalid_json(client: Client, url: str) -> None:
    r = client.post(url, data=b"[" * 100_000, headers=JSON_CT)
    assert_error(r, 400, "PGRST102", "Empty or invalid json")


def test_a_number_too_long_for_python_goes_to_postgresql(client: Client) -> None:
    # Python refuses integers of more than 4,300 digits; PostgreSQL judges the value.
    r = client.post("/rpc/r_add", data=b'{"a": ' + b"9" * 5000 + b', "b": 1}', headers=JSON_CT)
    assert r.status_code == 400
    assert r.get_json()["code"] == "22003"


def test_geojson_of_a_scalar_is_postgis_over_the_row(client: Client) -> None:
    # As PostgREST's asGeoJsonF: without PostGIS the function is missing (42883), never JSON labelled GeoJSON.
    r = client.get("/rpc/add?a=1&b=2", headers={"Accept": "application/geo+json"})
    assert (r.status_code, r.get_json()["code"]) == (404, "42883")


def test_the_root_fails_closed_when_its_schema_is_gone(pg_server: Server) -> None:
    """A catalog older than a renamed schema shows nothing rather than everything."""
    from pgwsgi import create_app

    load_sql(pg_server, "postgres", FIXTURES / "roles.sql")
    with database(pg_server, "pgwsgi_root_stale", FIXTURES / "schema.sql") as name:
        app = create_app(make_config(pg_server, name, db_schemas=("test",)))
        try:
            client = Client(app, use_cookies=False)
            assert "/items" in client.get("/").get_json()["paths"]
            with psycopg.connect(pg_server.dsn(name), autocommit=True) as conn:
                conn.execute("ALTER SCHEMA test RENAME TO test_renamed")  # no NOTIFY: the catalog is stale
            paths = client.get("/").get_json()["paths"]
            assert set(paths) == {"/"}
        finally:
            app.close()


def test_an_unparsable_content_type_is_not_acceptable(client: Client) -> None:
    # PostgREST reads it as an unknown media type and names it whole (it was written as JSON before).
    r = client.post("/items", data=b'{"id": 900, "name": "x"}', headers={"Content-Type": ";;;=;/"})
    assert_error(r, 400, "PGRST102", "Content-Type not acceptable: ;;;=;/")
    assert client.get("/items?id=eq.900").get_json() == []


def test_a_csv_body_with_an_unterminated_quote_is_refused(client: Client) -> None:
    r = client.post("/items", data=b'id,name\n901,"unfinished\n', headers={"Content-Type": "text/csv"})
    assert_error(r, 400, "PGRST102", "Error in CSV input", "unexpected end of data")
    assert client.get("/items?id=eq.901").get_json() == []
