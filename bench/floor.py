"""A WSGI app that answers every request with a fixed one-row JSON body.

`python -m bench.run --floor` serves it with the same gunicorn settings and
loads it with the same wrk settings as pgwsgi: what is left of a request when
pgwsgi's own work and PostgreSQL are taken away (HTTP parsing, the TCP
connection that sync workers close after every response, the load generator).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

# About the size of note 3 as pgwsgi returns it.
BODY = (
    b'[{"id":3,"owner":"alice","title":"Hello, world","body":"This note is public.",'
    b'"is_public":true,"created_at":"2025-01-01T00:00:00+00:00"}]'
)
HEADERS = [
    ("Content-Type", "application/json; charset=utf-8"),
    ("Content-Length", str(len(BODY))),
    ("Content-Range", "0-0/*"),
]


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Always 200 with BODY."""
    start_response("200 OK", HEADERS)
    return [BODY]
