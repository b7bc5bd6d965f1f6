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
from pgwsgi.openapi import ApiDescription, server_of
from pgwsgi.plan.model import OpenApiVersion, RootInfo, RootPlan
from pgwsgi.plan.negotiate import negotiate_openapi

_JSON = ("pg_catalog", "json")


def build_root(req: ApiRequest, snapshot: CatalogSnapshot, config: Config) -> RootPlan | RootInfo:
    """The plan of a request to the root (openapi-mode disabled was refused when it was parsed)."""
    if req.method == "OPTIONS":
        return RootInfo()
    default: OpenApiVersion = "3.1" if config.openapi_version == "3.1" else "2.0"
    version, content_type = negotiate_openapi(req.accept, default)
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
