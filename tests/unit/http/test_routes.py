"""http/routes.py: the three URL shapes, checked against the werkzeug URL map they replaced."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from pgwsgi.errors import ApiError
from pgwsgi.http.routes import route

# The map pgwsgi used before: what `route` must keep answering.
_MAP = Map(
    [Rule("/", endpoint="root"), Rule("/rpc/<name>", endpoint="rpc"), Rule("/<name>", endpoint="relation")],
    strict_slashes=False,
    merge_slashes=False,
).bind("localhost")


def _werkzeug(path: str) -> tuple[str, str] | None:
    try:
        endpoint, args = _MAP.match(path, method="GET")
    except HTTPException:
        return None
    if path != "/" and path.endswith("/"):
        return None
    return endpoint, args.get("name", "")


PATHS = [
    "/",
    "",
    "///",
    "//items/",
    "///items",
    "//rpc/x",
    "//rpc//x",
    "/items",
    "/items/",
    "/rpc",
    "/rpc/",
    "/rpc/add",
    "/rpc/add/",
    "/rpc/add/x",
    "/a/b",
    "//",
    "//items",
    "/items//",
    "/rpc//add",
    "/with space",
    "/Zoë",
    "/a.b",
    "/a;b",
    "/%2F",
    "/rpc/rpc",
    "/ rpc/x",
    "/RPC/x",
]


@pytest.mark.parametrize("path", PATHS)
def test_route_answers_as_the_werkzeug_map_did(path: str) -> None:
    expected = _werkzeug(path)
    if expected is None:
        with pytest.raises(ApiError) as info:
            route(path)
        assert (info.value.status, info.value.code) == (404, "PGRST125")
    else:
        assert route(path) == expected
