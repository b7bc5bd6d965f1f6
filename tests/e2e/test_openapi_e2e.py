"""End to end: the OpenAPI root `GET /` through a real gunicorn, on the session's test database."""

from __future__ import annotations

import json

from tests.conftest import Server
from tests.e2e.conftest import fetch, server_env

OPENAPI = "application/openapi+json; charset=utf-8"
# Headers that depend on the connection or the body rather than on what the root answers.
TRANSPORT = {"date", "connection", "content-length", "transfer-encoding"}


def test_root_document_through_gunicorn(test_server: str) -> None:
    status, headers, body = fetch(f"{test_server}/")
    assert status == 200
    assert headers["Content-Type"] == OPENAPI
    assert headers["Content-Length"] == str(len(body))
    # db-schemas lists two schemas, so the default one counts as negotiated.
    assert headers["Content-Profile"] == "test"
    doc = json.loads(body)
    assert doc["swagger"] == "2.0"
    assert {"/", "/items", "/rpc/r_add"} <= set(doc["paths"])
    assert doc["paths"]["/items"]["get"]["tags"] == ["items"]
    assert "items" in doc["definitions"]


def test_root_head_through_gunicorn(test_server: str) -> None:
    _, get_headers, _ = fetch(f"{test_server}/")
    status, headers, body = fetch(f"{test_server}/", method="HEAD")
    assert (status, body) == (200, b"")
    assert headers["Content-Type"] == OPENAPI

    def kept(h: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in h.items() if k.lower() not in TRANSPORT}

    assert kept(headers) == kept(get_headers)


def test_root_disabled_through_gunicorn(gunicorn, pg_server: Server, test_db: str) -> None:  # noqa: ANN001
    base = gunicorn(server_env(pg_server, test_db, PGRST_OPENAPI_MODE="disabled"), workers=1)
    status, headers, body = fetch(f"{base}/", {"Accept": "application/openapi+json"})
    assert status == 404
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Content-Length"] == str(len(body)) == "93"
    assert json.loads(body) == {
        "code": "PGRST126",
        "message": "Root endpoint metadata is disabled",
        "details": None,
        "hint": None,
    }


def test_openapi_31_through_gunicorn(gunicorn, pg_server: Server, test_db: str) -> None:  # noqa: ANN001
    # PGRST_OPENAPI_VERSION makes 3.1 the default; the 3.1 media type asks for it explicitly.
    base = gunicorn(server_env(pg_server, test_db, PGRST_OPENAPI_VERSION="3.1"), workers=1)
    status, headers, body = fetch(f"{base}/")
    assert (status, headers["Content-Type"]) == (200, OPENAPI)
    assert json.loads(body)["openapi"] == "3.1.0"
    status, headers, body = fetch(f"{base}/", {"Accept": "application/vnd.oai.openapi+json;version=3.1"})
    assert (status, headers["Content-Type"]) == (200, "application/vnd.oai.openapi+json;version=3.1; charset=utf-8")
    doc = json.loads(body)
    assert "/items" in doc["paths"]
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A JWT whose role claim names the database role of the request",
    }
