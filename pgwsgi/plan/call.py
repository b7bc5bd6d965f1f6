"""ApiRequest + CatalogSnapshot -> CallPlan for /rpc/<name> (§5).

The function is chosen among its overloads by the argument names (R-RESOLVE);
its result is then shaped like a read of a relation: the return type's table
when it has one, else the columns of its OUT/TABLE parameters.
"""

from __future__ import annotations

import json
from dataclasses import replace
from urllib.parse import parse_qsl

from pgwsgi.api.model import ApiRequest
from pgwsgi.api.payload import csv_objects, load_json
from pgwsgi.catalog.calls import RAW_BODY_TYPES, is_callable
from pgwsgi.catalog.fuzzy import FuzzySet
from pgwsgi.catalog.model import CatalogSnapshot, Column, Function, Parameter, Relation
from pgwsgi.config import Config
from pgwsgi.errors import (
    ApiError,
    ambiguous_function,
    function_not_found,
    invalid_body,
    keys_differ,
    max_affected_needs_set,
)
from pgwsgi.plan.model import CallPlan, Shape
from pgwsgi.plan.read import plan_read_of


def returns_jwt_claims(fn: Function) -> bool:
    """A function returning one `...jwt_claims` composite: early PostgREST signed its result as a token."""
    return fn.returns_composite and not fn.returns_set and fn.return_type.endswith("jwt_claims")


# The raw bodies, and the type PGRST202 names for each (PostgREST's MTTextPlain, MTTextXML, MTOctetStream).
_RAW = {"text/plain": "text", "text/xml": "xml", "application/octet-stream": "bytea"}
_JSON = "application/json"
# PostgREST's decodeMediaType reads these as application/json too.
_JSON_ALIASES = frozenset({_JSON, "application/vnd.pgrst.array+json", "application/vnd.pgrst.array"})
_FORM = "application/x-www-form-urlencoded"
_CSV = "text/csv"


def build_call(req: ApiRequest, snapshot: CatalogSnapshot, config: Config, body: bytes | bytearray | None) -> CallPlan:
    """Resolve the function and its arguments, then plan the read of its result.

    The argument names come as PostgREST's getPayload finds them: the query string for
    GET, else the body by its Content-Type (a JSON object's keys, or `?columns=`; a CSV
    header; form keys; none for a raw body). Any other Content-Type is PGRST102.
    """
    overloads = callable_overloads(snapshot, req.schema, req.name)
    json_body: bytes | bytearray | None = None
    json_array = False  # the body's arguments are the first object of an array (json_to_recordset)
    pairs: tuple[tuple[str, str], ...] = ()
    ctype = _body_type(req)
    if req.method != "POST":
        pairs = req.query.rpc_args
        keys = tuple(dict.fromkeys(k for k, _ in pairs))
    elif ctype == _FORM:
        pairs = tuple(parse_qsl((body or b"").decode("utf-8", "replace"), keep_blank_values=True))
        keys = tuple(dict.fromkeys(k for k, _ in pairs))
    elif ctype in _RAW:
        keys = ()  # a raw body names no argument
    elif ctype == _JSON and req.query.columns is not None:
        # `?columns=` are the argument names; the body is passed on unread (PostgREST's RawJSON),
        # so a listed key it lacks is NULL.
        json_body, keys = body if body is not None else b"", req.query.columns
        json_array = not bytes(json_body).lstrip(b" \t\n\r").startswith(b"{")
    elif ctype == _JSON:
        json_body, keys, json_array = _json_arguments(body)
    elif ctype == _CSV:
        rows = csv_objects(body or b"")
        json_body, keys, json_array = json.dumps(rows).encode(), tuple(rows[0]) if rows else (), True
    else:
        raise invalid_body(f"Content-Type not acceptable: {ctype}")
    fn, whole_body = _find(req, snapshot, overloads, keys)
    if whole_body:
        # The whole body is the argument of the one function with a single unnamed parameter.
        data = json_body if json_body is not None else body
        return _plan(req, snapshot, config, fn, (), None, (), (fn.parameters[0], bytes(data or b"")))
    by_name = {p.name: p for p in fn.parameters}
    text_args: list[tuple[Parameter, tuple[str, ...]]] = []
    if json_body is None:
        for name in keys:
            values = tuple(v for k, v in pairs if k == name)
            param = by_name[name]
            # A repeated argument keeps its last value unless the parameter is VARIADIC (R-ARGS-GET).
            text_args.append((param, values if param.variadic else values[-1:]))
    json_params = tuple(by_name[k] for k in keys) if json_body is not None else ()
    return _plan(req, snapshot, config, fn, tuple(text_args), json_body, json_params, None, json_array)


def _plan(
    req: ApiRequest,
    snapshot: CatalogSnapshot,
    config: Config,
    fn: Function,
    text_args: tuple[tuple[Parameter, tuple[str, ...]], ...],
    json_body: bytes | bytearray | None,
    json_params: tuple[Parameter, ...],
    raw_arg: tuple[Parameter, bytes] | None,
    json_array: bool = False,
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
    return CallPlan(
        fn, text_args, json_body, json_params, shape, read, read_only, max_affected, raw_arg, json_array=json_array
    )


def _json_arguments(body: bytes | bytearray | None) -> tuple[bytes | bytearray, tuple[str, ...], bool]:
    """A JSON body, the argument names it gives and whether it is an array, as PostgREST's payloadAttributes reads it.

    An empty body is `{}`. An object gives its keys; an array, the keys of its objects, which
    must all have the same ones (the call takes the first). Anything else is no argument at
    all, and a single unnamed json parameter then gets `[]`.
    """
    if not body:
        return b"{}", (), False
    doc = load_json(body)
    if isinstance(doc, dict):
        return body, tuple(doc), False
    if not isinstance(doc, list) or not doc:
        return b"[]", (), True
    first = doc[0]
    if not isinstance(first, dict) or any(not isinstance(row, dict) or row.keys() != first.keys() for row in doc):
        raise keys_differ()
    return body, tuple(first), True


def _body_type(req: ApiRequest) -> str:
    """The request body's media type as PostgREST tells bodies apart (JSON under any of its names)."""
    return _JSON if req.content_type in _JSON_ALIASES else req.content_type


def callable_overloads(snapshot: CatalogSnapshot, schema: str, name: str) -> tuple[Function, ...]:
    """The functions /rpc/NAME may call: the others are not in PostgREST's schema cache at all."""
    return tuple(f for f in snapshot.functions.get((schema, name), ()) if is_callable(f))


def _fits(fn: Function, given: set[str], raw: bool) -> bool:
    """PostgREST's matchesParams: every required parameter given, every argument a parameter."""
    if not fn.parameters:
        # A raw body is meant for a parameter: it never calls a function without any.
        return not given and not raw
    names = {p.name for p in fn.parameters}
    if "" in names:
        return False  # unnamed parameters: only the single-unnamed-body form calls these
    return {p.name for p in fn.parameters if p.required} <= given <= names


def _takes_whole_body(fn: Function, content_type: str) -> bool:
    """A single unnamed parameter of the type the Content-Type's whole body goes to (R-SINGLE-UNNAMED)."""
    params = fn.parameters
    return len(params) == 1 and params[0].name == "" and params[0].type in RAW_BODY_TYPES.get(content_type, ())


def _find(
    req: ApiRequest, snapshot: CatalogSnapshot, overloads: tuple[Function, ...], keys: tuple[str, ...]
) -> tuple[Function, bool]:
    """PostgREST's findProc: the one overload KEYS fit, else the one taking the whole POST body (True)."""
    post = req.method == "POST"
    ctype = _body_type(req)
    raw = post and ctype in _RAW
    given = set(keys)
    matches: list[Function] = []
    whole: list[Function] = []
    for fn in overloads:
        if _fits(fn, given, raw):
            matches.append(fn)
        elif post and _takes_whole_body(fn, ctype):
            whole.append(fn)
    if len(matches) == 1:
        return matches[0], False
    if matches:
        raise _ambiguous(matches)
    if len(whole) == 1:
        return whole[0], True
    if whole:
        raise _ambiguous(whole)
    raise _not_found(req, snapshot, overloads, sorted(given))


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
    fn, _ = _find(req, snapshot, tuple(f for f in overloads if is_callable(f)), keys)
    return fn


def _not_found(
    req: ApiRequest, snapshot: CatalogSnapshot, overloads: tuple[Function, ...], keys: list[str]
) -> ApiError:
    func = f"{req.schema}.{req.name}"
    listed = ", ".join(keys)
    ctype = _body_type(req)
    raw = _RAW.get(ctype)
    if req.method == "POST" and raw:
        # A raw body names no parameters: the message lists none and there is no hint.
        details = (
            f"Searched for the function {func} with a single unnamed {raw} parameter, but no matches were "
            "found in the schema cache."
        )
        return function_not_found(f"Could not find the function {func}", details)
    message = f"Could not find the function {func}" + (f"({listed})" if keys else " without parameters")
    searched = f" with parameter{'s' if len(keys) > 1 else ''} {listed}" if keys else " without parameters"
    if req.method == "POST" and ctype == _JSON:
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
        # Only names with a callable overload are in PostgREST's schema cache.
        names = sorted(
            n for (s, n), fns in snapshot.functions.items() if s == req.schema and any(map(is_callable, fns))
        )
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
        table = snapshot.relation(*key)
        composite = snapshot.composite_types.get(key)
        if table is None and composite is not None:
            # Not a table: PostgREST knows no types for its attributes (unknown fields), so
            # full-text filters never wrap them in to_tsvector and JSON paths go through
            # to_jsonb. An empty base type says so, as for OUT parameters below.
            table = replace(composite, columns=tuple(replace(c, base_type="") for c in composite.columns))
    if table is not None:
        # Filters and select resolve against the table's columns, computed fields included.
        return table, shape
    columns = tuple(
        Column(p.name, i + 1, p.type, "", p.type, "", True, None) for i, p in enumerate(fn.outputs) if p.name
    )
    return Relation(fn.schema, fn.name, "f", columns, (), False, False, False), shape
