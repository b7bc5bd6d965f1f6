"""The root: which OpenAPI document to answer, and everything the catalog can put in it.

What the request's role may see is only known inside its transaction
(openapi-mode = follow-privileges): the plan carries every candidate and the
response stage keeps those the transaction reported as usable.
"""

from __future__ import annotations

from pgwsgi.api.model import ApiRequest
from pgwsgi.catalog.calls import is_callable
from pgwsgi.catalog.model import CatalogSnapshot
from pgwsgi.config import Config
from pgwsgi.errors import not_acceptable
from pgwsgi.openapi import ApiDescription, server_of
from pgwsgi.plan.model import OpenApiVersion, RootInfo, RootPlan
from pgwsgi.plan.negotiate import _show as show_media_type

_JSON = ("pg_catalog", "json")
OPENAPI_JSON = "application/openapi+json; charset=utf-8"
OPENAPI_31_JSON = "application/vnd.oai.openapi+json;version=3.1; charset=utf-8"


def build_root(req: ApiRequest, snapshot: CatalogSnapshot, config: Config) -> RootPlan | RootInfo:
    """The plan of a request to the root (openapi-mode disabled was refused when it was parsed)."""
    if req.method == "OPTIONS":
        return RootInfo()
    version, content_type = _negotiate(req, config)
    schema = req.schema
    relations = tuple(sorted((r for (s, _), r in snapshot.relations.items() if s == schema), key=lambda r: r.name))
    functions = tuple(
        fn
        for (s, _), overloads in sorted(snapshot.functions.items())
        if s == schema
        for fn in overloads
        if is_callable(fn)
    )
    description = ApiDescription(
        schema=schema,
        description=None,
        relations=relations,
        functions=functions,
        relationships=snapshot.relationships,
        views=frozenset(k for k, r in snapshot.relations.items() if r.kind in ("v", "m")),
        server=server_of(config.openapi_server_proxy_uri, config.server_host, config.server_port),
        security=config.openapi_security_active,
        extra_schemas=config.db_extra_search_path,
        represented=frozenset(source for source, target in snapshot.representations if target == _JSON),
    )
    return RootPlan(description, version, content_type, config.openapi_mode == "follow-privileges")


_GENERIC = ("application/openapi+json", "application/json", "*/*")
# PostgREST reads these as application/json (M-ARRAY-STRIP).
_ARRAY = ("application/vnd.pgrst.array+json", "application/vnd.pgrst.array")


def _negotiate(req: ApiRequest, config: Config) -> tuple[OpenApiVersion, str]:
    """The document and Content-Type for the Accept header, or 406 PGRST107.

    PostgREST answers its document when Accept names application/openapi+json,
    application/json or */* anywhere. pgwsgi adds OpenAPI 3.1, asked for by
    application/vnd.oai.openapi+json (version 3.1 or none); the first of the
    types it can answer wins. openapi-version chooses what the others get.
    """
    default: OpenApiVersion = "3.1" if config.openapi_version == "3.1" else "2.0"
    for mt in req.accept:
        if mt.essence == "application/vnd.oai.openapi+json" and mt.param("version") in (None, "3.1", "3.1.0"):
            return "3.1", OPENAPI_31_JSON
        if mt.essence in _GENERIC or (mt.essence in _ARRAY and mt.param("nulls") != "stripped"):
            return default, OPENAPI_JSON
    raise not_acceptable(", ".join(show_media_type(mt) for mt in req.accept))
