"""Large and oversized write bodies: the PostgreSQL key scan and the 413 limit."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest
from werkzeug.test import Client

from pgwsgi.api import payload
from tests.conftest import Server


@pytest.fixture(autouse=True)
def fresh_rows(pg_server: Server, test_db: str) -> Iterator[None]:
    with psycopg.connect(pg_server.dsn(test_db), autocommit=True) as conn:
        conn.execute("SELECT test.w_reset()")
    yield


@pytest.fixture
def scan_in_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every body 'large', so its keys are read by PostgreSQL instead of Python."""
    monkeypatch.setattr(payload, "PARSE_LIMIT", 0)


def count(pg_server: Server, test_db: str, where: str) -> int:
    with psycopg.connect(pg_server.dsn(test_db)) as conn:
        return conn.execute(f"SELECT count(*) FROM test.w_items WHERE {where}").fetchone()[0]


def test_large_array_keys_are_read_by_postgres(client: Client, scan_in_postgres: None, pg_server, test_db) -> None:  # noqa: ANN001
    rows = [{"name": f"scan {i}", "qty": i} for i in range(50)]
    r = client.post("/w_items", json=rows, headers={"Prefer": "count=exact"})
    assert (r.status_code, r.headers["Content-Range"]) == (201, "*/50")
    assert count(pg_server, test_db, "name LIKE 'scan %'") == 50


def test_large_array_with_mismatched_keys_is_rejected(
    client: Client, scan_in_postgres: None, pg_server, test_db
) -> None:  # noqa: ANN001
    r = client.post("/w_items", json=[{"name": "a"}, {"name": "b", "qty": 2}])
    assert r.status_code == 400
    assert r.get_json() == {"code": "PGRST102", "message": "All object keys must match", "details": None, "hint": None}
    assert count(pg_server, test_db, "name IN ('a', 'b')") == 0


def test_large_invalid_json_is_rejected(client: Client, scan_in_postgres: None) -> None:
    r = client.post("/w_items", data=b'[{"name": "x"}, {nope', headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.get_json()["message"] == "Empty or invalid json"


def test_large_object_body(client: Client, scan_in_postgres: None, pg_server, test_db) -> None:  # noqa: ANN001
    r = client.post("/w_items", data=json.dumps({"name": "big object"}), headers={"Content-Type": "application/json"})
    assert r.status_code == 201
    assert count(pg_server, test_db, "name = 'big object'") == 1


def test_body_over_the_limit_is_413_before_anything_is_written(make_client, pg_server, test_db) -> None:  # noqa: ANN001
    client = make_client(server_max_body_size=64)
    rows = [{"name": f"too big {i}"} for i in range(10)]
    r = client.post("/w_items", json=rows)
    assert r.status_code == 413
    body = r.get_json()
    assert body["code"] == "PGRST102" and body["message"] == "Request body too large"
    assert body["details"].endswith("server-max-body-size allows 64 bytes.")
    assert count(pg_server, test_db, "name LIKE 'too big %'") == 0
    assert client.post("/w_items", json={"name": "small"}).status_code == 201
