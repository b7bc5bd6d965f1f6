"""URL routing: "/" (the API root), "/rpc/<name>" and "/<name>" (Q-PATH)."""

from __future__ import annotations

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from pgwsgi.api.model import Target
from pgwsgi.errors import invalid_path

URLS = Map(
    [
        Rule("/", endpoint="root"),
        Rule("/rpc/<name>", endpoint="rpc"),
        Rule("/<name>", endpoint="relation"),
    ],
    strict_slashes=False,
    merge_slashes=False,
)


# Matching only looks at the path, so one adapter serves every request.
_ADAPTER = URLS.bind("localhost")


def route(path: str) -> tuple[Target, str]:
    """(target, name) for PATH, or 404 PGRST125 for any other shape."""
    try:
        endpoint, args = _ADAPTER.match(path, method="GET")
    except HTTPException:
        raise invalid_path()
    if path != "/" and path.endswith("/"):
        raise invalid_path()
    return endpoint, args.get("name", "")
