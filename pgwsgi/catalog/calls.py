"""How a function of the catalog can be called: PostgREST's rules, shared by the planner, the SQL and the documents."""

from __future__ import annotations

from pgwsgi.catalog.model import Function

# R-SINGLE-UNNAMED: the Content-Types whose whole body is the one unnamed argument, and its types.
RAW_BODY_TYPES: dict[str, tuple[str, ...]] = {
    "application/json": ("json", "jsonb"),
    "text/plain": ("text",),
    "text/xml": ("xml",),
    "application/octet-stream": ("bytea",),
}
# The only types a function's one unnamed parameter may have to be callable (PostgREST's funcsSqlQuery).
UNNAMED_TYPES = frozenset(t for types in RAW_BODY_TYPES.values() for t in types)

# R-CHAR-BIT: `character` and `bit` (and their arrays) would cut an argument to one character;
# PostgREST passes arguments as the varying types, whose values the parameter then takes whole.
_VARYING = {
    "character": "character varying",
    "character[]": "character varying[]",
    "bit": "bit varying",
    "bit[]": "bit varying[]",
}


def is_callable(fn: Function) -> bool:
    """Whether PostgREST's schema cache has FN as a function to call (funcsSqlQuery's `callable`).

    Parameters all unnamed are callable only as a single json, jsonb, text, xml or bytea
    one; a name anywhere (even on an OUT parameter) makes PostgreSQL keep names for all.
    """
    params = fn.parameters
    if not params or any(p.name for p in params) or any(p.name for p in fn.outputs):
        return True
    return len(params) == 1 and params[0].type in UNNAMED_TYPES


def argument_type(type_name: str) -> str:
    """The type an argument of a parameter of TYPE_NAME is passed as (R-CHAR-BIT)."""
    return _VARYING.get(type_name, type_name)
