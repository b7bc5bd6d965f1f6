"""The one statement that sets the request's role and GUCs (docs/postgrest-inventory.md §2.2).

`SELECT set_config($1, $2, true), set_config($3, $4, true), ...`: names and
values are bound parameters, so no name or value is ever spliced into SQL, and
the text depends only on how many settings there are; each count is prepared
once per connection. (Two bound `text[]` arrays unnested into one call did the
same with one fixed text, but dumping the arrays cost more per request than
the extra prepared statements: docs/performance.md.)
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from psycopg import sql

from pgwsgi.api.model import ApiRequest
from pgwsgi.auth import Identity
from pgwsgi.catalog.model import Function
from pgwsgi.config import Config

_GUC_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


@functools.lru_cache(maxsize=64)
def settings_sql(count: int) -> sql.SQL:
    """The statement setting COUNT name/value pairs, transaction-local, left to right."""
    return sql.SQL("SELECT " + ", ".join(["pg_catalog.set_config(%s, %s, true)"] * count))


def request_settings(
    config: Config,
    identity: Identity,
    *,
    schema: str,
    method: str,
    path: str,
    headers: tuple[tuple[str, str], ...],
    cookies: tuple[tuple[str, str], ...],
    timezone: str | None = None,
    function_settings: tuple[tuple[str, str], ...] = (),
    role_settings: tuple[tuple[str, str], ...] = (),
) -> tuple[sql.SQL, list[Any]]:
    """The set_config statement and its parameters (name, value, name, value, ...), in PostgREST's order.

    ROLE_SETTINGS (the role's `ALTER ROLE ... SET`) come before the role itself, as in
    PostgREST: a `GRANT SET ON PARAMETER` to the authenticator is then enough.
    """
    search_path = ", ".join(_quote_ident(s) for s in (schema, *config.db_extra_search_path))
    claims = dict(identity.claims)
    claims["role"] = identity.role
    header_map = {k.lower(): v for k, v in headers if k.lower() != "cookie"}
    pairs: list[tuple[str, str]] = [
        ("search_path", search_path),
        *role_settings,
        ("role", identity.role),
        ("request.jwt.claims", _json(claims)),
        ("request.method", method),
        ("request.path", path),
        ("request.headers", _json(header_map)),
        ("request.cookies", _json(dict(cookies))),
    ]
    if timezone is not None:
        pairs.append(("timezone", timezone))
    pairs.extend(function_settings)
    # Config keeps each app setting under its full key, `app.settings.<name>`, which is the GUC's name.
    pairs.extend(config.app_settings)
    if config.db_use_legacy_gucs:
        pairs.extend(_legacy(claims, header_map, cookies))
    params: list[Any] = []
    for pair in pairs:
        params.extend(pair)
    return settings_sql(len(pairs)), params


def _legacy(
    claims: dict[str, Any], headers: dict[str, str], cookies: tuple[tuple[str, str], ...]
) -> list[tuple[str, str]]:
    """Per-key GUCs of PostgREST before v10: request.jwt.claim.x, request.header.x, request.cookie.x.

    PostgreSQL 15+ only accepts identifier characters in custom setting names, so
    names such as `user-agent` cannot exist as GUCs and are skipped (they stay
    readable in the JSON GUCs).
    """
    out = [(f"request.jwt.claim.{k}", v if isinstance(v, str) else _json(v)) for k, v in claims.items()]
    out.extend((f"request.header.{k}", v) for k, v in headers.items())
    out.extend((f"request.cookie.{k}", v) for k, v in cookies)
    return [(k, v) for k, v in out if _GUC_NAME.match(k.rsplit(".", 1)[1])]


# One encoder for every request: json.dumps with these options builds a new one per call.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _json(value: Any) -> str:
    return _ENCODE(value)


def _quote_ident(name: str) -> str:
    # search_path is a GUC value, not SQL: it still needs identifier quoting so a
    # schema named `a, b` stays one schema.
    return '"' + name.replace('"', '""') + '"'


def settings_for(
    config: Config,
    identity: Identity,
    req: ApiRequest,
    function: Function | None = None,
    role_settings: tuple[tuple[str, str], ...] = (),
) -> tuple[sql.SQL, list[Any]]:
    """request_settings for a parsed request; a called FUNCTION's hoistable SET clauses are applied too."""
    return request_settings(
        config,
        identity,
        schema=req.schema,
        method=req.method,
        path=req.path,
        headers=req.headers,
        cookies=req.cookies,
        timezone=req.preferences.timezone,
        function_settings=hoisted(config, function) if function is not None else (),
        role_settings=role_settings,
    )


def hoisted(config: Config, function: Function) -> tuple[tuple[str, str], ...]:
    """The function's `SET x = v` clauses that db-hoisted-tx-settings names (R-HOISTED).

    Like PostgREST, each entry is a regular expression searched in `name=value`.
    """
    out = []
    for name, value in function.settings:
        if any(re.search(pattern, f"{name}={value}") for pattern in config.db_hoisted_tx_settings):
            out.append((name, value))
    return tuple(out)


@functools.lru_cache(maxsize=8)
def pre_request_call(name: str | None) -> sql.Composed | None:
    """`SELECT schema.fn()` for db-pre-request; an unqualified name resolves via search_path."""
    if not name:
        return None
    parts = name.split(".", 1)
    return sql.SQL("SELECT {}()").format(sql.Identifier(*parts))
