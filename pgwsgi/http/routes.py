"""URL routing: "/" (the API root), "/rpc/<name>" and "/<name>" (Q-PATH)."""

from __future__ import annotations

from pgwsgi.api.model import Target
from pgwsgi.errors import invalid_path


def route(path: str, root_spec: str | None = None) -> tuple[Target, str]:
    """(target, name) for PATH, or 404 PGRST125 for any other shape.

    A name is one non-empty path segment; a trailing slash is refused. (Three
    string checks, where werkzeug's URL map cost 12-20 us per request for the
    same three rules.) With ROOT_SPEC (db-root-spec) the root is a call of that
    function, as /rpc/<root_spec> is.
    """
    if path in ("/", ""):
        return ("rpc", root_spec) if root_spec else ("root", "")
    if not path.endswith("/"):
        # Leading slashes are one slash, as they were for the werkzeug map this replaced.
        parts = path.lstrip("/").split("/")
        if len(parts) == 1:
            return "relation", parts[0]
        if len(parts) == 2 and parts[0] == "rpc" and parts[1]:
            return "rpc", parts[1]
    raise invalid_path()
