"""End to end: custom media type handlers through a real gunicorn (bytes, raw headers, request.headers)."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator

import pytest

from tests.conftest import AUTHENTICATOR, FIXTURES, SECRET, Server, database, load_sql
from tests.e2e.conftest import fetch

# PostgREST's test/spec/fixtures/A.png, which tests/fixtures/media.sql stores in media.images.
A_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAB4AAAAeAQMAAAAB/jzhAAAABlBMVEUAAAD/AAAb/40iAAAAP0lEQVQI12NgwAbYG2AE/wEYwQMiZB4AC"
    "QkQYZEAIgqAhAGIKLCAEQ8kgMT/P1CCEUwc4IMSzA3sUIIdCHECAGSQEkeOTUyCAAAAAElFTkSuQmCC"
)


@pytest.fixture(scope="module")
def media_db(pg_server: Server) -> Iterator[str]:
    """A database of this module's own with tests/fixtures/media.sql."""
    load_sql(pg_server, "postgres", FIXTURES / "roles.sql")
    with database(pg_server, f"pgwsgi_media_e2e_{os.getpid()}", FIXTURES / "media.sql") as name:
        yield name


@pytest.fixture
def media_server(gunicorn: Callable[..., str], pg_server: Server, media_db: str) -> str:
    return gunicorn(
        {
            "PGRST_DB_URI": pg_server.dsn(media_db, AUTHENTICATOR),
            "PGRST_DB_SCHEMAS": "media, media_two",
            "PGRST_DB_ANON_ROLE": "pgwsgi_anon",
            "PGRST_JWT_SECRET": SECRET,
            "PGRST_DB_POOL": "2",
        }
    )


def test_an_image_and_its_head_through_gunicorn(media_server: str) -> None:
    # A browser's Accept: image/png wins over */* by q; the bytes arrive untouched, without charset.
    accept = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/png,*/*;q=0.8"}
    status, headers, body = fetch(f"{media_server}/rpc/ret_image", accept)
    assert (status, headers["Content-Type"], headers["Content-Length"], body) == (200, "image/png", "138", A_PNG)
    status, headers, body = fetch(f"{media_server}/rpc/ret_image", accept, method="HEAD")
    assert (status, headers["Content-Type"], body) == (200, "image/png", b"")


def test_a_relations_any_handler_reads_the_accept_header_through_gunicorn(media_server: str) -> None:
    # some_numbers' "*/*" handler names the Content-Type from request.headers itself.
    status, headers, body = fetch(f"{media_server}/some_numbers?val=eq.2", {"Accept": "magic/number"})
    assert (status, headers["Content-Type"], body) == (200, "magic/number", b"magic\n2")
    status, headers, body = fetch(f"{media_server}/some_numbers?val=eq.4", {"Accept": "unknown/unknown"})
    assert (status, headers["Content-Type"], body) == (200, "application/octet-stream", b"anything\n4")
    status, headers, body = fetch(f"{media_server}/lines", {"Accept": "text/plain"})
    assert (status, headers["Content-Type"]) == (406, "application/json; charset=utf-8")
    assert body == (
        b'{"code":"PGRST107","details":null,"hint":null,'
        b'"message":"None of these media types are available: text/plain"}'
    )
