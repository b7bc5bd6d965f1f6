"""gunicorn's sync worker, with its own error pages in JSON.

gunicorn answers a request it cannot parse (a malformed request line, headers
past its limits, control characters) itself, in HTML, before pgwsgi sees it.
This worker class answers the same statuses with pgwsgi's error shape,
`{code, message, details, hint}`, so that no client of the API meets HTML.
deploy/gunicorn.conf.py and the `pgwsgi` command use it (`worker_class`).
"""

from __future__ import annotations

import json
from typing import Any

from gunicorn import util
from gunicorn.workers.sync import SyncWorker


def write_json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's util.write_error, in JSON: code HTTP<status>, gunicorn's reason and message."""
    body = json.dumps(
        {"code": f"HTTP{status_int}", "details": mesg or None, "hint": None, "message": reason},
        separators=(",", ":"),
    ).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json; charset=utf-8\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


class JsonSyncWorker(SyncWorker):
    """SyncWorker whose request-parsing errors are JSON."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """gunicorn's handling (status, log line), with the error written as JSON."""
        html = util.write_error
        util.write_error = write_json_error
        try:
            super().handle_error(req, client, addr, exc)
        finally:
            util.write_error = html
