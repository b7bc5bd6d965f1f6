"""OpenAPI 3.1 paths of functions, `/rpc/<name>`: arguments in, results out.

POST takes the arguments as one JSON object (the required ones required, no
other key: an unknown argument finds no function), or the whole body for a
single unnamed json/jsonb/text/xml/bytea parameter; GET, for functions that are
not VOLATILE (as PostgREST's document), takes them as query text. Overloads
share a path: their bodies and results are alternatives (`anyOf`).
"""

from __future__ import annotations

from collections.abc import Iterable

from pgwsgi.catalog.calls import RAW_BODY_TYPES, argument_type
from pgwsgi.catalog.model import Function, Parameter
from pgwsgi.openapi.common31 import (
    CONTENT_RANGE,
    STRING,
    Json,
    any_of,
    errors,
    operation,
    param,
    rows_content,
    usable_key,
)
from pgwsgi.openapi.model import ApiDescription
from pgwsgi.openapi.schemas31 import builtin_name, nullable, ref, type_schema, typname_schema


def by_name(functions: Iterable[Function]) -> list[tuple[str, list[Function]]]:
    """Functions grouped by name (overloads together), in order."""
    found: dict[str, list[Function]] = {}
    for fn in functions:
        found.setdefault(fn.name, []).append(fn)
    return list(found.items())


def rpc_path(desc: ApiDescription, keys: dict[str, str], name: str, overloads: list[Function]) -> Json:
    """The path item of /rpc/NAME: GET (unless every overload is VOLATILE) and POST."""
    description = next((fn.description for fn in overloads if fn.description), None)
    results = [_result(desc, keys, fn) for fn in overloads]
    shaped = any(fn.returns_set or fn.returns_composite for fn in overloads)
    responses: Json = {}
    answers = [r for r in results if r is not None]
    if answers:
        content = rows_content(any_of([a[2] for a in answers]), many=False)
        content["application/json"] = {"schema": any_of([a[0] for a in answers])}
        content["application/vnd.pgrst.array+json;nulls=stripped"] = {"schema": any_of([a[1] for a in answers])}
        responses["200"] = {"description": "OK", "headers": {"Content-Range": CONTENT_RANGE}, "content": content}
        if any(fn.returns_set for fn in overloads):
            responses["206"] = {**responses["200"], "description": "Partial Content (Prefer: count=...)"}
    if any(r is None for r in results):
        responses["204"] = {"description": "No Content: the function returns void"}
    codes = ("300", "400", "401", "403", "404", "405", "406", "409", "413", "416")
    paging = ["select", "order", "limit", "offset"] if shaped else []

    def op(method: str, params: list[Json]) -> Json:
        out = {**operation([f"(rpc) {name}"], description, f"rpc_{method}_{name}"), "parameters": params}
        if method == "post":
            out["requestBody"] = _rpc_body(desc, keys, overloads)
        out["responses"] = {**responses, **errors(*codes)}
        return out

    item: Json = {}
    if any(fn.volatility != "v" for fn in overloads):
        ranged = [*paging, "range", "rangeUnit"] if shaped else []
        params = [*_query_arguments(desc, keys, overloads), *map(param, (*ranged, "preferRpc", "acceptProfile"))]
        item["get"] = op("get", params)
    item["post"] = op("post", [*map(param, (*paging, "preferRpc", "contentProfile"))])
    return item


def _result(desc: ApiDescription, keys: dict[str, str], fn: Function) -> tuple[Json, Json, Json] | None:
    """FN's answer as JSON, as a nulls=stripped array, and one element of it (singular); None for void.

    A single composite is an object (null when a filter drops it, every column null
    when the function found no row), but a nulls=stripped array of it.
    """
    base = fn.return_base_type or fn.return_type
    if base == "void":
        return None
    if fn.returns_composite:
        one = _composite(desc, keys, fn)
        rows = {"type": "array", "items": one}
        if fn.returns_set:
            return rows, rows, one
        single = nullable(one) if "$ref" not in one else {"anyOf": [one, _NULLS, {"type": "null"}]}
        if fn.return_type.endswith("jwt_claims"):
            # pgwsgi signs the claims (jwt-sign-claims, on by default).
            single = {"anyOf": [_TOKEN, single]}
        return single, rows, single
    # A domain is described by the type it rests on (a built-in one when that is what it is).
    element = base[1:] if base.startswith("_") else base
    schema = "pg_catalog" if base != fn.return_type and builtin_name(element) else fn.return_type_schema
    value = nullable(typname_schema(desc, schema, base, keys))
    if fn.returns_set:
        values = {"type": "array", "items": value}
        return values, values, value
    return value, value, value


_NULLS: Json = {"type": "object", "additionalProperties": {"type": "null"}, "description": "No row: every column null"}
_TOKEN: Json = {
    "type": "object",
    "properties": {"token": {"type": "string", "description": "The signed JWT"}},
    "required": ["token"],
    "additionalProperties": False,
}


def _composite(desc: ApiDescription, keys: dict[str, str], fn: Function) -> Json:
    """One row of FN's composite result: OUT/TABLE columns, a relation's row, or any object."""
    if fn.outputs:
        props = {p.name: nullable(type_schema(desc, p.type, keys)) for p in fn.outputs}
        return {"type": "object", "properties": props}
    if fn.return_type_schema == desc.schema and fn.return_type in keys:
        return ref(keys[fn.return_type])
    return {"type": "object"}


def _arguments(desc: ApiDescription, keys: dict[str, str], fn: Function) -> Json:
    """The JSON object of FN's named arguments: the required ones required, no other key."""
    out: Json = {
        "type": "object",
        "properties": {p.name: nullable(type_schema(desc, _passed_type(desc, p), keys)) for p in fn.parameters},
        "additionalProperties": False,
    }
    required = [p.name for p in fn.parameters if p.required]
    if required:
        out["required"] = required
    return out


# The Content-Type of a raw body for each type of a single unnamed parameter (R-SINGLE-UNNAMED).
_RAW_BODIES = {t: ctype for ctype, types in RAW_BODY_TYPES.items() for t in types}


def _rpc_body(desc: ApiDescription, keys: dict[str, str], overloads: list[Function]) -> Json:
    """A POST's body: the arguments as a JSON object, or the whole body for a single unnamed parameter."""
    objects: list[Json] = []
    content: Json = {}
    for fn in overloads:
        unnamed = [p for p in fn.parameters if not p.name]
        if not unnamed:
            objects.append(_arguments(desc, keys, fn))
            continue
        media = _RAW_BODIES.get(unnamed[0].type, "application/octet-stream")
        content[media] = {"schema": {} if media != "text/plain" and media != "text/xml" else STRING}
    if objects and "application/json" not in content:
        content["application/json"] = {"schema": any_of(objects)}
    # A body may be left out (arguments with defaults), unless every overload needs an argument.
    required = all(any(p.required for p in fn.parameters) for fn in overloads)
    return {"description": "The arguments", "required": required, "content": content}


def _query_arguments(desc: ApiDescription, keys: dict[str, str], overloads: list[Function]) -> list[Json]:
    """GET's query arguments: one per name over the overloads, required where every overload requires it."""
    found: dict[str, Json] = {}
    for fn in overloads:
        for p in fn.parameters:
            if not usable_key(p.name):
                continue
            schema = _query_schema(desc, keys, p)
            seen = found.get(p.name)
            if seen is None:
                found[p.name] = {"name": p.name, "in": "query", "required": p.required, "schema": schema}
            elif seen["schema"] != schema:
                seen["schema"] = STRING
    for name, arg in found.items():
        arg["required"] = all(any(p.name == name and p.required for p in fn.parameters) for fn in overloads)
    return list(found.values())


_QUERY_TYPES = ("integer", "number", "boolean", "string")


# The server passes `character` and `bit` arguments as their varying types, so any length is taken.
def _passed_type(desc: ApiDescription, param: Parameter) -> str:
    """PARAM's type as the server passes it (character and bit as their varying types), named as the schema sees it."""
    return desc.unqualified(argument_type(param.type))


def _query_schema(desc: ApiDescription, keys: dict[str, str], param: Parameter) -> Json:
    """A query argument's schema: the value is text, so arrays (`{1,2}`), JSON and rows are strings."""
    pg_type = _passed_type(desc, param)
    if param.variadic and pg_type.endswith("[]"):
        # Repeated: `?v=1&v=2` (form style, exploded: OpenAPI's default for query parameters).
        return {"type": "array", "items": _query_schema(desc, keys, Parameter(param.name, pg_type[:-2], True))}
    schema = type_schema(desc, pg_type, keys)
    return schema if schema.get("type") in _QUERY_TYPES else {"type": "string", "format": pg_type}
