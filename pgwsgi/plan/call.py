"""ApiRequest + CatalogSnapshot -> CallPlan for /rpc/<name> (§5).

The function is chosen among its overloads by the argument names (R-RESOLVE);
its result is then shaped like a read of a relation: the return type's table
when it has one, else the columns of its OUT/TABLE parameters.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from pgwsgi.api.model import ApiRequest
from pgwsgi.catalog.fuzzy import FuzzySet
from pgwsgi.catalog.model import CatalogSnapshot, Column, Function, Parameter, Relation
from pgwsgi.config import Config
from pgwsgi.errors import ApiError, ambiguous_function, function_not_found, invalid_body, max_affected_needs_set
from pgwsgi.plan.model import CallPlan, Shape
from pgwsgi.plan.read import plan_read_of


def returns_jwt_claims(fn: Function) -> bool:
    """A function returning one `...jwt_claims` composite: early PostgREST signed its result as a token."""
    return fn.returns_composite and not fn.returns_set and fn.return_type.endswith("jwt_claims")


# R-SINGLE-UNNAMED: the Content-Types whose whole body is the one unnamed argument.
RAW_BODY_TYPES = {
    "application/json": ("json", "jsonb"),
    "text/plain": ("text",),
    "text/xml": ("xml",),
    "application/octet-stream": ("bytea",),
}


def build_call(req: ApiRequest, snapshot: CatalogSnapshot, config: Config, body: bytes | bytearray | None) -> CallPlan:
    """Resolve the function and its arguments, then plan the read of its result."""
    overloads = snapshot.functions.get((req.schema, req.name), ())
    json_body: bytes | bytearray | None = None
    raw = req.method == "POST" and req.content_type in ("text/plain", "text/xml", "application/octet-stream")
    if req.method == "POST" and req.content_type == "application/x-www-form-urlencoded":
        pairs: tuple[tuple[str, str], ...] = tuple(
            parse_qsl((body or b"").decode("utf-8", "replace"), keep_blank_values=True)
        )
    elif req.method == "POST" and not raw:
        pairs = ()
        json_body, keys = _json_arguments(body)
    else:
        pairs = () if raw else req.query.rpc_args
    if json_body is None:
        keys = tuple(dict.fromkeys(k for k, _ in pairs))
    if req.query.columns is not None:
        keys = tuple(k for k in keys if k in req.query.columns)
    unnamed = _single_unnamed(overloads, req.content_type) if req.method == "POST" else ()
    if raw or (json_body is not None and unnamed and not _named_match(overloads, keys)):
        # The whole body is the argument of the one function with a single unnamed parameter.
        if len(unnamed) != 1:
            raise _not_found(req, snapshot, overloads, []) if not unnamed else _ambiguous(unnamed)
        fn = unnamed[0]
        raw_arg = (fn.parameters[0], bytes(body or b""))
        return _plan(req, snapshot, config, fn, (), None, (), raw_arg)
    fn = resolve_function(req, snapshot, overloads, keys)
    by_name = {p.name: p for p in fn.parameters}
    text_args: list[tuple[Parameter, tuple[str, ...]]] = []
    if json_body is None:
        for name in keys:
            values = tuple(v for k, v in pairs if k == name)
            param = by_name[name]
            # A repeated argument keeps its last value unless the parameter is VARIADIC (R-ARGS-GET).
            text_args.append((param, values if param.variadic else values[-1:]))
    json_params = tuple(by_name[k] for k in keys) if json_body is not None else ()
    return _plan(req, snapshot, config, fn, tuple(text_args), json_body, json_params, None)


def _plan(
    req: ApiRequest,
    snapshot: CatalogSnapshot,
    config: Config,
    fn: Function,
    text_args: tuple[tuple[Parameter, tuple[str, ...]], ...],
    json_body: bytes | bytearray | None,
    json_params: tuple[Parameter, ...],
    raw_arg: tuple[Parameter, bytes] | None,
) -> CallPlan:
    read_only = req.method in ("GET", "HEAD") or fn.volatility in ("i", "s")
    rel, shape = _result_relation(fn, snapshot)
    # PostgREST looks handlers up by the function's schema and its table's name, or its own name.
    read = plan_read_of(
        req, rel, snapshot, config, handled_as=(fn.schema, rel.name if fn.returns_composite else fn.name)
    )
    max_affected = req.preferences.max_affected if req.preferences.handling == "strict" else None
    if max_affected is not None and not fn.returns_set:
        raise max_affected_needs_set()
    return CallPlan(fn, text_args, json_body, json_params, shape, read, read_only, max_affected, raw_arg)


def _json_arguments(body: bytes | bytearray | None) -> tuple[bytes | bytearray, tuple[str, ...]]:
    """The JSON object of arguments (R-ARGS-POST-JSON): an array uses its first object, empty means {}."""
    json_body = body if body and body.strip() else b"{}"
    try:
        doc = json.loads(json_body)
    except ValueError:
        raise invalid_body()
    if isinstance(doc, list):
        doc = doc[0] if doc and isinstance(doc[0], dict) else {}
        json_body = json.dumps(doc).encode()
    if not isinstance(doc, dict):
        return json_body, ()  # a scalar: only a single-unnamed-parameter function can take it
    return json_body, tuple(doc)


def _single_unnamed(overloads: tuple[Function, ...], content_type: str) -> tuple[Function, ...]:
    types = RAW_BODY_TYPES.get(content_type, ())
    return tuple(
        f for f in overloads if len(f.parameters) == 1 and f.parameters[0].name == "" and f.parameters[0].type in types
    )


def _named_match(overloads: tuple[Function, ...], keys: tuple[str, ...]) -> bool:
    given = set(keys)
    return any(
        "" not in {p.name for p in f.parameters}
        and {p.name for p in f.parameters if p.required} <= given <= {p.name for p in f.parameters}
        for f in overloads
    )


def _ambiguous(matches: tuple[Function, ...] | list[Function]) -> ApiError:
    ordered = sorted(
        matches, key=lambda f: (len(f.parameters), [p.name for p in f.parameters], [p.type for p in f.parameters])
    )
    listed = ", ".join(
        f"{f.schema}.{f.name}(" + ", ".join(f"{p.name} => {p.type}" for p in f.parameters) + ")" for f in ordered
    )
    return ambiguous_function(listed)


def resolve_function(
    req: ApiRequest, snapshot: CatalogSnapshot, overloads: tuple[Function, ...], keys: tuple[str, ...]
) -> Function:
    """The one overload whose parameters fit KEYS (R-RESOLVE), or PGRST202/PGRST203."""
    given = set(keys)
    matches = []
    for fn in overloads:
        names = {p.name for p in fn.parameters}
        required = {p.name for p in fn.parameters if p.required}
        if "" in names:
            continue  # unnamed parameters: only the single-unnamed-body form calls these
        if required <= given <= names:
            matches.append(fn)
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise _ambiguous(matches)
    raise _not_found(req, snapshot, overloads, sorted(given))


def _not_found(
    req: ApiRequest, snapshot: CatalogSnapshot, overloads: tuple[Function, ...], keys: list[str]
) -> ApiError:
    func = f"{req.schema}.{req.name}"
    listed = ", ".join(keys)
    raw = {"text/plain": "text", "text/xml": "xml", "application/octet-stream": "bytea"}.get(req.content_type)
    if req.method == "POST" and raw:
        # A raw body names no parameters: the message lists none and there is no hint.
        details = (
            f"Searched for the function {func} with a single unnamed {raw} parameter, but no matches were "
            "found in the schema cache."
        )
        return function_not_found(f"Could not find the function {func}", details)
    message = f"Could not find the function {func}" + (f"({listed})" if keys else " without parameters")
    searched = f" with parameter{'s' if len(keys) > 1 else ''} {listed}" if keys else " without parameters"
    if req.method == "POST" and req.content_type == "application/json":
        searched += " or with a single unnamed json/jsonb parameter"
    details = f"Searched for the function {func}{searched}, but no matches were found in the schema cache."
    hint = None
    if overloads and keys:  # an empty list "()" has nothing for the fuzzy match to go on
        options = ["(" + ", ".join(sorted(p.name for p in f.parameters)) + ")" for f in overloads]
        # PostgREST keeps a parameter-list suggestion scoring 0.33 or more (names need 0.75).
        close = FuzzySet(options).get_one("(" + ", ".join(keys) + ")")
        if close:
            hint = f"Perhaps you meant to call the function {func}{close}"
    elif not overloads:
        names = sorted(n for (s, n) in snapshot.functions if s == req.schema)
        close = FuzzySet(names).get_one(req.name, 0.75)
        if close:
            hint = f"Perhaps you meant to call the function {req.schema}.{close}"
    return function_not_found(message, details, hint)


def _result_relation(fn: Function, snapshot: CatalogSnapshot) -> tuple[Relation, Shape]:
    """The relation the result is read as, and the result's shape."""
    if fn.return_type == "void" and fn.return_type_schema == "pg_catalog":
        shape: Shape = "void"
    elif fn.returns_composite:
        shape = "setof-composite" if fn.returns_set else "composite"
    else:
        shape = "setof-scalar" if fn.returns_set else "scalar"
    table = None
    if fn.returns_composite:
        key = (fn.return_type_schema, fn.return_type)
        table = snapshot.relation(*key) or snapshot.composite_types.get(key)
    if table is not None:
        # Filters and select resolve against the table's columns, computed fields included.
        return table, shape
    columns = tuple(
        Column(p.name, i + 1, p.type, "", p.type, "", True, None) for i, p in enumerate(fn.outputs) if p.name
    )
    return Relation(fn.schema, fn.name, "f", columns, (), False, False, False), shape
