"""End to end: embedding through a real gunicorn, bodies and headers as a client sees them (§6)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Server
from tests.e2e.conftest import fetch, server_env
from tests.integration.test_embed_views import BOOKS_TWICE_AMBIGUOUS


@pytest.fixture
def views_server(gunicorn, pg_server: Server, test_db: str) -> str:  # noqa: ANN001
    """Schema ev (views only, see tests/fixtures/embed_views.sql) and test, with aggregates on."""
    return gunicorn(server_env(pg_server, test_db, PGRST_DB_SCHEMAS="ev, test", PGRST_DB_AGGREGATES_ENABLED="true"))


def test_views_embed_through_gunicorn(views_server: str) -> None:
    status, headers, body = fetch(
        f"{views_server}/authors?select=full_name,books(id,title)&author_no=eq.1&books.order=id"
    )
    assert status == 200
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Content-Range"] == "0-0/*"
    # Embedded objects are jsonb, as PostgREST sends them.
    assert body == (b'[{"full_name":"Ursula","books":[{"id": 1, "title": "Earthsea"}, {"id": 2, "title": "Lathe"}]}]')


def test_ambiguous_embed_through_gunicorn(views_server: str) -> None:
    status, headers, body = fetch(f"{views_server}/books_twice?select=id,authors(full_name)")
    assert status == 300
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(body) == BOOKS_TWICE_AMBIGUOUS


def test_hoisted_aggregates_and_legacy_warning_through_gunicorn(views_server: str) -> None:
    status, _, body = fetch(
        f"{views_server}/e_tasks?select=...e_projects(client_id,n:id.count())", {"Accept-Profile": "test"}
    )
    assert status == 200
    assert sorted(json.loads(body), key=lambda r: r["client_id"]) == [
        {"client_id": 1, "n": 4},
        {"client_id": 2, "n": 4},
    ]
    url = f"{views_server}/e_clients?select=id,work:e_projects(id)&e_projects.order=id.desc&id=eq.1"
    status, headers, body = fetch(url, {"Accept-Profile": "test"})
    assert status == 200
    assert body == b'[{"id":1,"work":[{"id": 2}, {"id": 1}]}]'
    assert headers["Warning"].startswith('299 PostgRESTv16.1 "Embedded resource was referenced by relation name')
