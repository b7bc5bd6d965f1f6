"""OpenAPI 3.1, pgwsgi's addition beyond PostgREST: a document that is true of what pgwsgi answers.

It lists the same objects as the Swagger 2.0 document (with openapi-mode =
follow-privileges, the relations and functions the request's role may use), for
generators, and so that a fuzzer can hold the server to it. What it promises:

- `servers`: one URL from server-host/port or openapi-server-proxy-uri, without
  the scheme's default port and without a trailing slash (paths start with `/`).
- Schemas (JSON Schema 2020-12, `schemas31.py`): `<relation>` is a row as a read
  answers it: typed columns, null where the column is nullable, nothing
  required and other keys allowed, because `select` may leave columns out and
  add aliases, embeds and computed fields (a cast in `select` may change a
  column's type: no static schema can follow that). `<relation>.write` is what a
  body may set: the columns with their literal defaults and nothing else (another
  key is a 400); POST requires the NOT NULL columns without a default, PUT those
  and the primary key. `Error` is PostgREST's error object.
- Relation paths: GET with one filter parameter per column (the value starts
  with an operator, as the server requires), `or`/`and`, `select`, `order`,
  `limit`/`offset`, `Range`/`Range-Unit` and `Prefer`; POST, PATCH and DELETE as
  the relation allows them (its capability, as in 2.0: the database checks the
  role's privileges), PUT when it is insertable, updatable and has a primary key.
  Successes are PostgREST's: 200/206 for reads, 201 (or 200 for an upsert that
  inserted nothing) for POST, 200/204 for PATCH and DELETE, 200/201/204 for PUT.
  A write's rows come only with `Prefer: return=representation`; otherwise the
  answer has no body and no Content-Type (`content` lists what a body may be).
  Every media type is described: JSON arrays, `vnd.pgrst.object` (one row),
  `vnd.pgrst.array;nulls=stripped`, CSV. The 4xx codes an operation can meet are
  listed, and `default` (the error object) covers the rest: 5xx, `PTnnn`
  statuses, `RAISE SQLSTATE 'PGRST'`.
- `/rpc/<name>` (`rpc31.py`): POST with the arguments as a JSON object, GET with
  query arguments for functions that are not VOLATILE; results typed where the
  catalog says what they are, any JSON value otherwise; `void` is 204.
- Security: a bearer JWT scheme, and `security: [{}, {bearerAuth: []}]`, as a
  request may also be anonymous (db-anon-role). It is always there, whatever
  openapi-security-active says (that key shapes the 2.0 document only): every
  request may carry a token.
- `Accept-Profile`/`Content-Profile` are optional parameters naming this
  document's schema, needed when it is not the first of db-schemas.

Not described: HEAD and OPTIONS; statuses and headers a function or
db-pre-request sets through `response.status`/`response.headers`; the `Accept`
header (OpenAPI 3.1 ignores `Accept` parameters: each response lists its media
types); domain representations (a domain with a cast to json changes its JSON,
which the description does not carry: such a column is described by its base type).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from pgwsgi.catalog.model import Relation
from pgwsgi.openapi.common31 import (
    CONTENT_RANGE,
    ERROR_SCHEMA,
    FILTER_PATTERN,
    PARAMETERS,
    RESPONSES,
    STRING,
    Json,
    errors,
    filter_key,
    header,
    operation,
    param,
    query,
    rows_content,
    usable_key,
)
from pgwsgi.openapi.model import ApiDescription, Server, split_comment
from pgwsgi.openapi.rpc31 import by_name, rpc_path
from pgwsgi.openapi.schemas31 import component_key, insert_required, ref, row_schema, write_schema
from pgwsgi.version import POSTGREST_VERSION

OPENAPI_31_MEDIA = "application/vnd.oai.openapi+json;version=3.1"
_OWNED_SCHEMAS = frozenset({"Error"})


def document(desc: ApiDescription) -> Json:
    """The OpenAPI 3.1 document of DESC, ready to encode: it shares module constants, so it is not to be changed."""
    keys = {r.name: component_key(r.name, _OWNED_SCHEMAS) for r in desc.relations}
    title, details = split_comment(desc.description)
    schemas: Json = {"Error": ERROR_SCHEMA}
    parameters: Json = {
        **PARAMETERS,
        "acceptProfile": header("Accept-Profile", _profile_text(desc), {"type": "string", "enum": [desc.schema]}),
        "contentProfile": header("Content-Profile", _profile_text(desc), {"type": "string", "enum": [desc.schema]}),
    }
    paths: Json = {"/": _root()}
    for rel in desc.relations:
        key = keys[rel.name]
        schemas[key] = row_schema(desc, rel, keys)
        if _writable(rel):
            schemas[f"{key}.write"] = write_schema(desc, rel, keys)
        for col in rel.columns:
            if usable_key(col.name):
                description = col.description or f"Filter on {col.name}: `operator.value`, e.g. `eq.1`"
                schema = {"type": "string", "pattern": FILTER_PATTERN}
                parameters[filter_key(key, col.name)] = query(col.name, description, schema)
        paths[f"/{_segment(rel.name)}"] = _relation_path(rel, key)
    for name, overloads in by_name(desc.functions):
        paths[f"/rpc/{_segment(name)}"] = rpc_path(desc, keys, name, overloads)
    doc = {
        "openapi": "3.1.0",
        "info": {
            "title": title if title is not None else "PostgREST API",
            "description": details if details is not None else "This is a dynamic API generated by PostgREST",
            "version": POSTGREST_VERSION,
        },
        "externalDocs": {
            "description": "PostgREST Documentation",
            "url": f"https://postgrest.org/en/v{POSTGREST_VERSION.split('.')[0]}/references/api.html",
        },
        "servers": [{"url": server_url(desc.server)}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "parameters": parameters,
            "responses": RESPONSES,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A JWT whose role claim names the database role of the request",
                }
            },
        },
        "security": [{}, {"bearerAuth": []}],
    }
    # The parts shared by every document (and many places in one) are module constants, not
    # copied: a deep copy cost more than building the rest. The document is for encoding only.
    return doc


def server_url(server: Server) -> str:
    """The API's base URL: the default port of the scheme and a trailing slash left out."""
    default = {"http": 80, "https": 443}.get(server.scheme)
    port = "" if server.port == default else f":{server.port}"
    return f"{server.scheme}://{server.host}{port}{server.base_path.rstrip('/')}"


def _segment(name: str) -> str:
    """NAME as a path segment: percent-encoded but for the characters a segment may hold (not braces)."""
    return quote(name, safe="-._~!$&'()*+,;=:@")


def _writable(rel: Relation) -> bool:
    return rel.insertable or rel.updatable or rel.deletable


def _profile_text(desc: ApiDescription) -> str:
    return f"The schema `{desc.schema}`: needed when it is not the first of db-schemas"


def _relation_path(rel: Relation, key: str) -> Json:
    filters = [param(filter_key(key, c.name)) for c in rel.columns if usable_key(c.name)]
    where = [*filters, param("or"), param("and")]
    rows = rows_content(ref(key))
    written = "; the rows come with Prefer: return=representation, no body with return=minimal (the default)"

    def op(method: str, params: Iterable[str | Json], responses: Json, body: Json | None = None) -> Json:
        out = operation([rel.name], rel.description, f"{method}_{rel.name}")
        out["parameters"] = [p if isinstance(p, dict) else param(p) for p in params]
        if body is not None:
            out["requestBody"] = body
        out["responses"] = responses
        return out

    def answer(text: str, **headers: Json) -> Json:
        return {"description": text, "headers": {"Content-Range": CONTENT_RANGE, **headers}, "content": rows}

    no_content = {"description": "No Content: return=minimal (the default)"}
    item = {
        "get": op(
            "get",
            [*where, "select", "order", "limit", "offset", "range", "rangeUnit", "preferRead", "acceptProfile"],
            {
                "200": answer("OK"),
                "206": answer("Partial Content: fewer rows than the count (Prefer: count=...)"),
                **errors("300", "400", "401", "403", "404", "406", "416"),
            },
        )
    }
    write = ref(f"{key}.write")
    required = insert_required(rel)
    if rel.insertable:
        one = _requiring(write, required)
        location = {"description": "With return=headers-only: the inserted row's URL", "schema": STRING}
        item["post"] = op(
            "post",
            ["select", "columns", "on_conflict", "preferPost", "contentProfile"],
            {
                "200": answer("An upsert (resolution=merge-duplicates) that inserted no row" + written),
                "201": answer("Created" + written, Location=location),
                **errors("300", "400", "401", "403", "404", "406", "409", "413"),
            },
            _body(
                {"anyOf": [one, {"type": "array", "items": one}]},
                "A row, or an array of rows with the same keys",
                csv=True,
            ),
        )
    pk = [rel.column(name) for name in rel.primary_key]
    if rel.insertable and rel.updatable and pk and all(c is not None and usable_key(c.name) for c in pk):
        keyed = [
            {
                "name": name,
                "in": "query",
                "required": True,
                "description": "The primary key column: `eq.value`",
                "schema": {"type": "string", "pattern": r"^eq\."},
            }
            for name in rel.primary_key
        ]
        item["put"] = op(
            "put",
            [*keyed, "select", "preferPut", "contentProfile"],
            {
                "200": answer("Updated" + written),
                "201": answer("Inserted" + written),
                "204": no_content,
                **errors("300", "400", "401", "403", "404", "405", "406", "409", "413"),
            },
            _body(_requiring(write, [*rel.primary_key, *(c for c in required if c not in rel.primary_key)]), "The row"),
        )
    if rel.updatable:
        item["patch"] = op(
            "patch",
            [*where, "columns", "select", "order", "preferPatch", "contentProfile"],
            {
                "200": answer("Updated" + written),
                "204": no_content,
                **errors("300", "400", "401", "403", "404", "406", "409", "413"),
            },
            _body(write, "The values to set"),
        )
    if rel.deletable:
        item["delete"] = op(
            "delete",
            [*where, "select", "order", "preferDelete", "contentProfile"],
            {
                "200": answer("Deleted" + written),
                "204": no_content,
                **errors("300", "400", "401", "403", "404", "406", "409"),
            },
        )
    return item


def _requiring(schema: Json, required: list[str]) -> Json:
    return {"allOf": [schema], "required": required} if required else schema


def _body(schema: Json, description: str, *, csv: bool = False) -> Json:
    """A write's body: JSON, or CSV (a header line of column names, then rows)."""
    content: Json = {"application/json": {"schema": schema}}
    if csv:
        content["text/csv"] = {"schema": {"type": "string", "description": "A header line of columns, then rows"}}
    return {"description": description, "required": True, "content": content}


def _root() -> Json:
    documents = {
        "application/openapi+json": {
            "schema": {"type": "object", "description": "The default document (openapi-version)"}
        },
        OPENAPI_31_MEDIA: {"schema": {"type": "object", "description": "OpenAPI 3.1: this document"}},
    }
    return {
        "get": {
            "tags": ["Introspection"],
            "summary": "OpenAPI description",
            "operationId": "openapi",
            "parameters": [param("acceptProfile")],
            "responses": {"200": {"description": "OK", "content": documents}, **errors("406")},
        }
    }
