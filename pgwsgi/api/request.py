"""HTTP request -> ApiRequest: the `api` stage entry point. Pure: no catalog, no database."""

from __future__ import annotations

import dataclasses
from urllib.parse import unquote_plus

from werkzeug.wrappers import Request

from pgwsgi.api.media import parse_accept
from pgwsgi.api.model import ApiRequest, Target
from pgwsgi.api.prefer import parse_prefer
from pgwsgi.api.querystring import canonical_query, parse_query
from pgwsgi.api.ranges import top_range
from pgwsgi.config import Config
from pgwsgi.errors import ApiError

READ_METHODS = ("GET", "HEAD", "OPTIONS")


def query_pairs(raw: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Decoded key/value pairs in order: those with `=`, and all of them for the canonical query.

    A key without `=` is no parameter (Q-KEY-NO-VALUE), but PostgREST keeps it as
    `key=` in Content-Location.
    """
    pairs, everything = [], []
    for part in raw.split("&"):
        if not part:
            continue
        key, eq, value = part.partition("=")
        pair = (unquote_plus(key), unquote_plus(value))
        everything.append(pair)
        if eq:
            pairs.append(pair)
    return pairs, everything


def choose_schema(request: Request, config: Config) -> tuple[str, bool]:
    """The schema from Accept-Profile/Content-Profile (S-PROFILE), or the default one."""
    header = "Accept-Profile" if request.method in READ_METHODS else "Content-Profile"
    wanted = request.headers.get(header)
    negotiated = len(config.db_schemas) > 1
    if wanted is None:
        return config.db_schemas[0], negotiated
    if wanted not in config.db_schemas:
        raise ApiError(
            406,
            "PGRST106",
            f"Invalid schema: {wanted}",
            hint="Only the following schemas are exposed: " + ", ".join(config.db_schemas),
        )
    return wanted, True


def parse(request: Request, target: Target, name: str, config: Config) -> ApiRequest:
    """Everything the request says, checked for grammar only."""
    schema, negotiated = choose_schema(request, config)
    # PEP 3333 hands the query string over as latin-1; clients send UTF-8.
    raw_query = request.environ.get("QUERY_STRING", "").encode("latin-1").decode("utf-8", "replace")
    pairs, everything = query_pairs(raw_query)
    query = parse_query(pairs, rpc=target == "rpc", method=request.method)
    if len(everything) != len(pairs):
        query = dataclasses.replace(query, canonical=canonical_query(everything))
    top = top_range(request.headers.get("Range"), request.method, query.root_limit(), query.root_offset())
    return ApiRequest(
        method=request.method,
        target=target,
        name=name,
        schema=schema,
        schema_negotiated=negotiated,
        path=request.path,
        query=query,
        preferences=parse_prefer(
            request.headers.getlist("Prefer"), allow_tx=config.db_tx_end.endswith("-allow-override")
        ),
        accept=parse_accept(request.headers.get("Accept")),
        top_range=top,
        content_type=request.mimetype or "application/json",
        headers=tuple(request.headers.items()),
        cookies=tuple(request.cookies.items(multi=True)),
    )
