"""End to end: a schema named SPECIAL "@/\\#~_- through a real gunicorn.

tests/integration/test_multiple_schemas_spec.py ports MultipleSchemaSpec through WSGI, where the
name reaches the app as a Python string. Here it goes the whole way a deployment sends it:
read from a PostgREST config file with its escapes, sent as raw bytes in Accept-Profile and
Content-Profile, parsed by gunicorn, and echoed in the response's Content-Profile header.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import AUTHENTICATOR, FIXTURES, SECRET, Server, database, load_sql
from tests.e2e.conftest import fetch, send

SPECIAL = 'SPECIAL "@/\\#~_-'


@pytest.fixture(scope="module")
def schemas_db(pg_server: Server) -> Iterator[str]:
    """A database of this module's own with tests/fixtures/schemas_spec.sql."""
    load_sql(pg_server, "postgres", FIXTURES / "roles.sql")
    with database(pg_server, f"pgwsgi_schemas_e2e_{os.getpid()}", FIXTURES / "schemas_spec.sql") as name:
        yield name


@pytest.fixture
def schemas_server(gunicorn: Callable[..., str], pg_server: Server, schemas_db: str, tmp_path: Path) -> str:
    # db-schemas as PostgREST's test config would spell it in a file: \" and \\ escapes.
    # Every transaction is rolled back (as PostgREST's spec runs), so the insert below leaves no trace.
    config = tmp_path / "schemas.conf"
    config.write_text('db-schemas = "v1, v2, SPECIAL \\"@/\\\\#~_-"\ndb-tx-end = "rollback"\n')
    return gunicorn(
        {
            "PGRST_CONFIG": str(config),
            "PGRST_DB_URI": pg_server.dsn(schemas_db, AUTHENTICATOR),
            "PGRST_DB_ANON_ROLE": "pgwsgi_anon",
            "PGRST_JWT_SECRET": SECRET,
            "PGRST_DB_POOL": "2",
        }
    )


def test_the_special_schema_through_headers_of_real_http(schemas_server: str) -> None:
    # A read with an embed, chosen by Accept-Profile.
    status, headers, body = fetch(
        f"{schemas_server}/names?select=name,languages(name)&id=in.(1,3)", {"Accept-Profile": SPECIAL}
    )
    assert (status, headers["Content-Profile"]) == (200, SPECIAL), body
    assert json.loads(body) == [
        {"name": "John", "languages": {"name": "English"}},
        {"name": "José", "languages": {"name": "Spanish"}},
    ]
    # A write, chosen by Content-Profile.
    status, headers, body = send(
        f"{schemas_server}/languages",
        "POST",
        {"Content-Profile": SPECIAL, "Prefer": "return=representation"},
        {"id": 3, "name": "Quechua"},
    )
    assert (status, headers["Content-Profile"], json.loads(body)) == (201, SPECIAL, [{"id": 3, "name": "Quechua"}])
    status, _, body = fetch(f"{schemas_server}/languages?id=eq.3", {"Accept-Profile": SPECIAL})
    assert (status, json.loads(body)) == (200, [])
    # The error lists the name as configured.
    status, headers, body = fetch(f"{schemas_server}/names", {"Accept-Profile": "SPECIAL"})
    assert status == 406
    assert "Content-Profile" not in headers
    assert json.loads(body) == {
        "code": "PGRST106",
        "details": None,
        "hint": 'Only the following schemas are exposed: v1, v2, SPECIAL "@/\\#~_-',
        "message": "Invalid schema: SPECIAL",
    }
