"""The root: the OpenAPI document (GET, HEAD) and the methods it allows (OPTIONS)."""

from __future__ import annotations

import dataclasses
from typing import Any

from werkzeug.wrappers import Response

from pgwsgi.api.model import ApiRequest
from pgwsgi.openapi import ApiDescription, openapi31, swagger
from pgwsgi.plan.model import RootPlan
from pgwsgi.response.headers import ApiResponse


def render_root(req: ApiRequest, plan: RootPlan, row: dict[str, Any]) -> Response:
    """The OpenAPI document of the request's schema, with what its role may use when privileges are followed."""
    desc = _visible(plan.description, row, plan.follow_privileges)
    build = openapi31.document if plan.version == "3.1" else swagger.document
    body = swagger.encode(build(desc))
    # As PostgREST, HEAD names no length: an empty iterator keeps werkzeug from computing one.
    resp = ApiResponse(iter(()) if req.method == "HEAD" else body, status=200, content_type=plan.content_type)
    if req.schema_negotiated:
        resp.headers["Content-Profile"] = req.schema
    return resp


def _visible(desc: ApiDescription, row: dict[str, Any], follow_privileges: bool) -> ApiDescription:
    """DESC with the schema's COMMENT and, following privileges, only the tables and functions ROW lists.

    Whatever the transaction did not list is left out (fail closed).
    """
    relations, fns = desc.relations, desc.functions
    if follow_privileges:
        usable = set(row.get("tables") or ())
        relations = tuple(r for r in relations if r.name in usable)
        executable = set(row.get("functions") or ())
        fns = tuple(f for f in fns if f.oid in executable)
    return dataclasses.replace(desc, description=row.get("description"), relations=relations, functions=fns)
