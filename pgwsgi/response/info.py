"""OPTIONS: the methods a relation, a function or the root allows (T-ALLOW, R-METHODS), from the catalog alone."""

from __future__ import annotations

from werkzeug.wrappers import Response

from pgwsgi.catalog.model import Function, Relation
from pgwsgi.response.headers import ApiResponse


def render_options(rel: Relation) -> Response:
    """OPTIONS on a relation: the methods it supports (T-ALLOW)."""
    methods = ["OPTIONS", "GET", "HEAD"]
    if rel.insertable:
        methods.append("POST")
    if rel.insertable and rel.updatable and rel.primary_key:
        methods.append("PUT")
    if rel.updatable:
        methods.append("PATCH")
    if rel.deletable:
        methods.append("DELETE")
    resp = Response(b"", status=200)
    del resp.headers["Content-Type"]
    resp.headers["Allow"] = ",".join(methods)
    resp.headers["Content-Length"] = "0"
    # PostgREST answers OPTIONS with this header whether or not the request is a CORS one.
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


def render_call_options(fn: Function) -> Response:
    """OPTIONS on /rpc/<name>: the function as called without arguments; POST only if VOLATILE (R-METHODS)."""
    volatile = fn.volatility == "v"
    resp = ApiResponse(b"", status=200)
    del resp.headers["Content-Type"]
    resp.headers["Allow"] = "OPTIONS,POST" if volatile else "OPTIONS,GET,HEAD,POST"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


def render_root_options() -> Response:
    """OPTIONS on the root: the methods it allows, as PostgREST's SchemaInfoPlan."""
    resp = ApiResponse(b"", status=200)
    del resp.headers["Content-Type"]
    resp.headers["Allow"] = "OPTIONS,GET,HEAD"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp
