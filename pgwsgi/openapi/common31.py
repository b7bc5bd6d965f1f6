"""Pieces every OpenAPI 3.1 operation shares: parameters, error responses, media types.

They are components of the document (`#/components/parameters/...`,
`#/components/responses/...`), referenced by the relation and function paths.
"""

from __future__ import annotations

from typing import Any

from pgwsgi.openapi.model import split_comment
from pgwsgi.openapi.schemas31 import component_key, ref

Json = dict[str, Any]

# Query keys the server reads itself (a column or argument of that name cannot be a filter or a
# query argument); a key with a dot names an embed (`rel.col`).
_RESERVED = frozenset({"select", "columns", "on_conflict", "order", "and", "or", "limit", "offset"})
OPERATORS = (
    "eq|neq|gt|gte|lt|lte|like|ilike|match|imatch|in|is|isdistinct|cs|cd|ov|sl|sr|nxr|nxl|adj|fts|plfts|phfts|wfts"
)
# A filter's value starts with its operator (any other value is refused with 400).
FILTER_PATTERN = rf"^(not\.)?({OPERATORS})(\([^()]*\))?\."
STRING: Json = {"type": "string"}

ERROR_SCHEMA: Json = {
    "type": "object",
    "description": "PostgREST's error object (client-error-verbosity = minimal keeps code and message only).",
    "properties": {
        "code": {"type": "string", "description": "A PGRST code, a SQLSTATE, or the code a function raised"},
        "message": {"type": "string"},
        "details": {
            "type": ["string", "array", "null"],
            "description": "Text; for an ambiguous embed, the candidate relationships",
        },
        "hint": {"type": ["string", "null"]},
    },
    "required": ["code", "message"],
}
_ERROR_CONTENT = {"application/json": {"schema": ref("Error")}}
_READ_MEDIA = (
    "application/json",
    "application/vnd.pgrst.array+json;nulls=stripped",
    "application/vnd.pgrst.object+json",
    "application/vnd.pgrst.object+json;nulls=stripped",
)
_STATUSES = {
    "300": ("MultipleChoices", "Ambiguous: several relationships for an embed, or several function overloads"),
    "400": ("BadRequest", "Bad request: query syntax, an invalid value, a constraint violation"),
    "401": ("Unauthorized", "No valid token, or the anonymous role lacks a privilege"),
    "403": ("Forbidden", "The role lacks a privilege, or a row-level security check failed"),
    "404": ("NotFound", "Not found"),
    "405": ("MethodNotAllowed", "Not allowed: a write in a read-only transaction, or PUT filters other than the key"),
    "406": (
        "NotAcceptable",
        "No acceptable media type, an unknown profile, or not exactly one row for a singular answer",
    ),
    "409": ("Conflict", "A unique or foreign key violation"),
    "413": ("PayloadTooLarge", "The body is larger than server-max-body-size"),
    "416": ("RangeNotSatisfiable", "The requested range is not satisfiable"),
}
RESPONSES: Json = {
    name: {"description": text, "content": _ERROR_CONTENT} for name, text in (*_STATUSES.values(), ("Error", "Error"))
}
# An offset past the counted rows is a read answer with its body replaced: it keeps the media type
# the read negotiated (PostgREST does the same).
RESPONSES["RangeNotSatisfiable"]["content"] = {
    **{media: {"schema": ref("Error")} for media in _READ_MEDIA},
    "text/csv": {"schema": {"type": "string", "description": "The error object, as JSON"}},
}
RESPONSES["Unauthorized"]["headers"] = {
    "WWW-Authenticate": {"description": "`Bearer`, with the token's error when it was refused", "schema": STRING}
}
CONTENT_RANGE = {
    "description": "`first-last/total`: the rows answered and the count, `*` when unknown",
    "schema": STRING,
}
_PAGING = "Limiting and Pagination"
# Row counts are bigint in SQL.
_ROWS: Json = {"type": "integer", "format": "int64", "minimum": 0, "maximum": 2**63 - 1}


def query(name: str, description: str, schema: Json) -> Json:
    """An optional query parameter."""
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def header(name: str, description: str, schema: Json) -> Json:
    """An optional header parameter."""
    return {"name": name, "in": "header", "required": False, "description": description, "schema": schema}


def _prefer(*examples: str) -> Json:
    text = "Comma-separated preferences; unknown ones are ignored unless handling=strict"
    return header("Prefer", text, {"type": "string", "examples": list(examples)})


_COMMON = ("handling=strict", "timezone=UTC", "tx=rollback")
PARAMETERS: Json = {
    "select": query("select", "Columns, aliases, casts, computed fields and embeds of the result", STRING),
    "order": query("order", "Ordering: `col.asc`, `col.desc.nullslast`, comma-separated", STRING),
    "limit": query("limit", _PAGING, _ROWS),
    "offset": query("offset", _PAGING, _ROWS),
    "or": query("or", "Filters joined by OR: `(col.eq.1,col.gt.5)`", {"type": "string", "pattern": r"^\(.*\)$"}),
    "and": query("and", "Filters joined by AND: `(col.eq.1,col.gt.5)`", {"type": "string", "pattern": r"^\(.*\)$"}),
    "columns": query("columns", "The body keys to write, comma-separated; other keys are ignored", STRING),
    "on_conflict": query("on_conflict", "The unique columns an upsert resolves on", STRING),
    "range": header("Range", _PAGING, {"type": "string", "pattern": r"^\d+-\d*$"}),
    "rangeUnit": header("Range-Unit", _PAGING, {"type": "string", "default": "items"}),
    "preferRead": _prefer("count=exact", "count=planned", "count=estimated", *_COMMON),
    "preferPost": _prefer(
        "return=representation",
        "return=minimal",
        "return=headers-only",
        "resolution=merge-duplicates",
        "resolution=ignore-duplicates",
        "missing=default",
        "count=exact",
        *_COMMON,
    ),
    "preferPatch": _prefer("return=representation", "return=minimal", "missing=default", "max-affected=1", *_COMMON),
    "preferDelete": _prefer("return=representation", "return=minimal", "count=exact", "max-affected=1", *_COMMON),
    "preferPut": _prefer("return=representation", "return=minimal", *_COMMON),
    "preferRpc": _prefer("count=exact", "max-affected=1", *_COMMON),
}


def usable_key(name: str) -> bool:
    """Whether NAME can be a query key of its own (a filter or a function argument)."""
    return bool(name) and "." not in name and name not in _RESERVED


def filter_key(rel_key: str, column: str) -> str:
    """The parameter component of the filter on COLUMN of the relation whose schema is REL_KEY."""
    return f"rowFilter.{rel_key}.{component_key(column)}"


def param(name: str) -> Json:
    """A reference to the parameter component NAME."""
    return {"$ref": f"#/components/parameters/{name}"}


def errors(*codes: str) -> Json:
    """The error responses CODES, and the error object as the default response."""
    out: Json = {code: {"$ref": f"#/components/responses/{_STATUSES[code][0]}"} for code in codes}
    out["default"] = {"$ref": "#/components/responses/Error"}
    return out


def rows_content(item: Json, *, many: bool = True) -> Json:
    """A result by media type: JSON (an array, or ITEM itself when not MANY), one object, CSV."""
    body = {"type": "array", "items": item} if many else item
    return {
        "application/json": {"schema": body},
        "application/vnd.pgrst.array+json;nulls=stripped": {"schema": body},
        "application/vnd.pgrst.object+json": {"schema": item},
        "application/vnd.pgrst.object+json;nulls=stripped": {"schema": item},
        "text/csv": {"schema": STRING},
    }


def operation(tags: list[str], description: str | None, operation_id: str) -> Json:
    """An operation's tags, id, and summary and description from a COMMENT (first line, the rest)."""
    summary, details = split_comment(description)
    out: Json = {"tags": tags, "operationId": operation_id}
    if summary:
        out["summary"] = summary
    if details:
        out["description"] = details
    return out


def any_of(schemas: list[Json]) -> Json:
    """Any one of SCHEMAS (itself when they are all the same schema)."""
    found = distinct(schemas)
    return found[0] if len(found) == 1 else {"anyOf": found}


def distinct(schemas: list[Json]) -> list[Json]:
    """SCHEMAS without repeats, in order."""
    out: list[Json] = []
    for s in schemas:
        if s not in out:
            out.append(s)
    return out
