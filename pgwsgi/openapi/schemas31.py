"""JSON Schema (2020-12, as OpenAPI 3.1 uses it) for PostgreSQL types, columns and relations.

A schema here describes the JSON PostgreSQL itself produces (`to_json`), which is
what pgwsgi answers, and what a body may hold for PostgreSQL to read it back:

- integers are JSON integers bounded by their type; `numeric`, `real` and
  `double precision` are JSON numbers (the special values NaN and Infinity come
  as strings, and are not described);
- `json`/`jsonb` accept anything; arrays are `type: array` of their element,
  which may be null (PostgreSQL arrays hold NULLs; only one dimension is described);
- a standard `format` where PostgreSQL's JSON text always meets it for finite
  values (int32, int64, float, double, uuid, date, date-time; `infinity` dates
  do not), otherwise PostgreSQL's own type name, as PostgREST's Swagger document
  does: OpenAPI formats are open-ended, and validators ignore the ones they do
  not know, so it informs without constraining;
- a type pgwsgi cannot see into (a composite type that is not a relation of the
  document, an extension's type) accepts any JSON value: a composite becomes an
  object, most other types a string, and either is true of `{}`;
- nullable columns add `null` to their type (and to their enum).

Component names must match `^[a-zA-Z0-9._-]+$`, while relation names are any
identifier: `component_key` encodes every other character (and `-`) as
`-<hex>-`, an injective encoding that never yields a `.`, so the suffixed names
(`notes.write`, filters `rowFilter.notes.id`) cannot collide with a relation's.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from pgwsgi.catalog.model import Column, Relation
from pgwsgi.openapi.model import ApiDescription

Json = dict[str, Any]


def _int(bits: int, fmt: str) -> Json:
    return {"type": "integer", "format": fmt, "minimum": -(2 ** (bits - 1)), "maximum": 2 ** (bits - 1) - 1}


_STRING = {"type": "string"}
# Built-in types by format_type() name (what Column.data_type and Parameter.type hold) and by
# pg_type.typname (what a function's return type is): name -> (typname, schema).
_BUILTINS: dict[str, tuple[str, Json]] = {
    "smallint": ("int2", _int(16, "int32")),
    "integer": ("int4", _int(32, "int32")),
    "bigint": ("int8", _int(64, "int64")),
    "numeric": ("numeric", {"type": "number"}),
    "real": ("float4", {"type": "number", "format": "float"}),
    "double precision": ("float8", {"type": "number", "format": "double"}),
    "boolean": ("bool", {"type": "boolean"}),
    "uuid": ("uuid", {"type": "string", "format": "uuid"}),
    "date": ("date", {"type": "string", "format": "date"}),
    "timestamp with time zone": ("timestamptz", {"type": "string", "format": "date-time"}),
    "json": ("json", {}),
    "jsonb": ("jsonb", {}),
    # Strings whose text has no standard format: "2024-01-01T12:00:00" has no offset, times
    # print "+00" offsets, intervals "1 day", bytea "\\x01", money "$1.00", oids "1".
    **{
        name: (typname, dict(_STRING))
        for name, typname in (
            ("text", "text"),
            ("character varying", "varchar"),
            ("character", "bpchar"),
            ('"char"', "char"),
            ("name", "name"),
            ("timestamp without time zone", "timestamp"),
            ("time without time zone", "time"),
            ("time with time zone", "timetz"),
            ("interval", "interval"),
            ("bytea", "bytea"),
            ("money", "money"),
            ("inet", "inet"),
            ("cidr", "cidr"),
            ("macaddr", "macaddr"),
            ("macaddr8", "macaddr8"),
            ("bit", "bit"),
            ("bit varying", "varbit"),
            ("xml", "xml"),
            ("tsvector", "tsvector"),
            ("tsquery", "tsquery"),
            ("point", "point"),
            ("line", "line"),
            ("lseg", "lseg"),
            ("box", "box"),
            ("path", "path"),
            ("polygon", "polygon"),
            ("circle", "circle"),
            ("int4range", "int4range"),
            ("int8range", "int8range"),
            ("numrange", "numrange"),
            ("tsrange", "tsrange"),
            ("tstzrange", "tstzrange"),
            ("daterange", "daterange"),
            ("oid", "oid"),
            ("regclass", "regclass"),
            ("regproc", "regproc"),
            ("regtype", "regtype"),
            ("pg_lsn", "pg_lsn"),
        )
    },
}
_BY_TYPNAME = {typname: name for name, (typname, _) in _BUILTINS.items()}
# The standard formats kept as they are; any other `format` is PostgreSQL's type name.
_STANDARD_FORMATS = {"int32", "int64", "float", "double", "uuid", "date", "date-time"}


def builtin_name(typname: str) -> str | None:
    """The format_type() name of the built-in type TYPNAME (`int4` -> `integer`), or None."""
    return _BY_TYPNAME.get(typname)


def component_key(name: str, reserved: frozenset[str] = frozenset()) -> str:
    """NAME as a component key: [A-Za-z0-9_] kept, any other character as `-<hex>-`.

    A name equal to one in RESERVED (the document's own components) has its first
    character encoded too, which decodes to the same name, so keys stay unique.
    """
    out = "".join(c if c.isascii() and (c.isalnum() or c == "_") else f"-{ord(c):x}-" for c in name)
    if out in reserved:
        out = f"-{ord(name[0]):x}-{out[1:]}"
    return out


def ref(key: str) -> Json:
    """A reference to the schema component KEY."""
    return {"$ref": f"#/components/schemas/{key}"}


def nullable(schema: Json) -> Json:
    """SCHEMA that also accepts null."""
    if "$ref" in schema or "anyOf" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    if "type" not in schema:
        return schema  # no type: null is already allowed
    out = dict(schema)
    kinds = out["type"] if isinstance(out["type"], list) else [out["type"]]
    if "null" not in kinds:
        out["type"] = [*kinds, "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def _unquote(name: str) -> str:
    if len(name) >= 2 and name.startswith('"') and name.endswith('"'):
        return name[1:-1].replace('""', '"')
    return name


def _relation_named(desc: ApiDescription, pg_type: str) -> Relation | None:
    """The relation of DESC whose row type PG_TYPE (a format_type name) is, if it is one."""
    for schema in (desc.schema, *desc.extra_schemas):
        prefix = f"{schema}."
        if pg_type.startswith(prefix):
            pg_type = pg_type[len(prefix) :]
            break
    name = _unquote(pg_type)
    return next((r for r in desc.relations if r.name == name), None)


def type_schema(desc: ApiDescription, pg_type: str, keys: dict[str, str]) -> Json:
    """The schema of a value of PG_TYPE, a format_type() name ("integer", "text[]", "api.my_type").

    KEYS maps relation names to their component keys: a relation's row type is a reference.
    """
    if pg_type.endswith("[]"):
        return {"type": "array", "items": nullable(type_schema(desc, pg_type[:-2], keys))}
    found = _BUILTINS.get(pg_type)
    if found is not None:
        schema = dict(found[1])
        if "format" not in schema:
            schema["format"] = pg_type
        return schema
    rel = _relation_named(desc, pg_type)
    if rel is not None and rel.name in keys:
        return ref(keys[rel.name])
    return {"format": pg_type}  # unknown to pgwsgi: any JSON value


def typname_schema(desc: ApiDescription, schema: str, typname: str, keys: dict[str, str]) -> Json:
    """The schema of a value of the type SCHEMA.TYPNAME (pg_type names: `int4`, `_text`, `notes`)."""
    if typname.startswith("_") and len(typname) > 1:
        element = typname_schema(desc, schema, typname[1:], keys)
        return {"type": "array", "items": nullable(element)}
    name = builtin_name(typname) if schema == "pg_catalog" else None
    if name is not None:
        return type_schema(desc, name, keys)
    if schema == desc.schema and typname in keys:
        return ref(keys[typname])
    return {"format": typname if schema == "pg_catalog" else f"{schema}.{typname}"}


def column_schema(desc: ApiDescription, rel: Relation, col: Column, keys: dict[str, str], *, write: bool) -> Json:
    """The schema of COL's values, as read (WRITE false) or as a body may set them (with its default)."""
    if col.nominal_type in desc.represented:
        # A cast function makes its JSON (M-DOMAIN-REP): any JSON value, as far as the catalog knows.
        schema: Json = {}
    elif col.enum:
        schema = {"type": "string", "enum": list(col.enum)}
    elif (col.type_schema, col.type_name) in desc.row_types:
        schema = ref(keys[col.type_name])
    elif col.is_array and (col.type_schema, col.type_name[1:]) in desc.row_types:
        schema = {"type": "array", "items": nullable(ref(keys[col.type_name[1:]]))}
    else:
        schema = type_schema(desc, col.data_type, keys)
    if col.max_length is not None and schema.get("type") == "string":
        schema["maxLength"] = col.max_length
    if write:
        default = literal_default(schema, col.default)
        if default is not None:
            schema["default"] = default
    if col.nullable:
        schema = nullable(schema)
    notes = _notes(desc, rel, col)
    if col.description is not None or notes:
        text = "\n\n".join(t for t in (col.description, notes) if t)
        schema = {**schema, "description": text} if "$ref" not in schema else {"allOf": [schema], "description": text}
    return schema


def _notes(desc: ApiDescription, rel: Relation, col: Column) -> str:
    """Plain-text notes on keys (what PostgREST's Swagger marks up as <pk/> and <fk/>)."""
    notes = []
    if col.name in rel.primary_key:
        notes.append("Primary key.")
    # A single-column foreign key of this relation; one to a table rather than to a view over it.
    targets = sorted(
        (r.target in desc.views, r.target[1], r.target_columns[0])
        for r in desc.relationships.get((rel.schema, rel.name), ())
        if r.function is None
        and (r.cardinality == "many-to-one" or (r.cardinality == "one-to-one" and not r.inverse))
        and r.origin_columns == (col.name,)
    )
    if targets:
        notes.append(f"Foreign key to `{targets[0][1]}.{targets[0][2]}`.")
    return " ".join(notes)


_LITERAL = re.compile(r"'((?:[^']|'')*)'::[^']+")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")


def literal_default(schema: Json, default: str | None) -> Any:
    """A column default (SQL text) as JSON when it is a constant of SCHEMA's type, else None.

    `'a''b'::text` is "a'b", `0` and `'-1'::integer` are numbers, `true` a boolean;
    expressions (`now()`, `nextval(...)`) are not values, so they are left out.
    """
    if default is None:
        return None
    quoted = _LITERAL.fullmatch(default)
    text = quoted.group(1).replace("''", "'") if quoted else default
    kind = schema.get("type")
    if kind == "string":
        if quoted is None or ("enum" in schema and text not in schema["enum"]):
            return None
        return text
    if kind in ("integer", "number") and _NUMBER.fullmatch(text):
        try:
            value = json.loads(text)
        except ValueError:  # past Python's 4,300 digits: no default rather than a 500
            return None
        if (kind == "integer" and not isinstance(value, int)) or (
            isinstance(value, float) and not math.isfinite(value)
        ):
            return None
        lo, hi = schema.get("minimum"), schema.get("maximum")
        return None if (lo is not None and value < lo) or (hi is not None and value > hi) else value
    if kind == "boolean" and text in ("true", "false"):
        return text == "true"
    return None


def row_schema(desc: ApiDescription, rel: Relation, keys: dict[str, str]) -> Json:
    """A row of REL as a read answers it without `select`: every column, none required.

    `select` can leave columns out (and nulls=stripped drops null ones), and can add
    aliases, embeds and computed fields, so no column is required and other keys are allowed.
    """
    out: Json = {
        "type": "object",
        "properties": {c.name: column_schema(desc, rel, c, keys, write=False) for c in rel.columns},
    }
    if rel.description is not None:
        out["description"] = rel.description
    return out


def write_schema(desc: ApiDescription, rel: Relation, keys: dict[str, str]) -> Json:
    """An object a write may carry for REL: its columns, nothing required, no other key.

    A key that is not a column is refused (400), so other keys are not allowed;
    what an insert requires is added where the body is described.
    """
    out: Json = {
        "type": "object",
        "properties": {c.name: column_schema(desc, rel, c, keys, write=True) for c in rel.columns},
        "additionalProperties": False,
    }
    if rel.description is not None:
        out["description"] = rel.description
    return out


def insert_required(rel: Relation) -> list[str]:
    """The columns an inserted row must name: NOT NULL without a default."""
    return [c.name for c in rel.columns if not c.nullable and c.default is None]
