"""The query string of a request, parsed into `QueryParams` (docs/postgrest-inventory.md §3).

The low-level grammar lives in `grammar.py`; this module sorts the parameters
into reserved ones, logic trees, orders, ranges and filters, and parses each in
the order PostgREST does so that the first error reported is the same one.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from urllib.parse import quote

from pgwsgi.errors import range_not_satisfiable

from . import grammar
from .grammar import Parser
from .model import (
    EmbedPath,
    Field,
    Filter,
    LogicTree,
    OpExpr,
    OrderTerm,
    QueryParams,
    SelectField,
    SelectItem,
    SelectRelation,
)

__all__ = [
    "canonical_query",
    "parse_columns",
    "parse_field",
    "parse_filter",
    "parse_logic",
    "parse_order",
    "parse_query",
    "parse_select",
]

RESERVED = ("select", "columns", "on_conflict")  # only at the root
DEFAULT_SELECT: tuple[SelectItem, ...] = (SelectField(Field("*")),)

# Haskell's `readMaybe :: Maybe Integer`, which PostgREST applies to limit/offset:
# surrounding blanks, a minus sign (blanks allowed after it), decimal, 0x and 0o literals.
_INTEGER = re.compile(r"\s*(-\s*)?(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|([0-9]+))\s*", re.ASCII)


def _read_integer(text: str) -> int | None:
    t = text.strip()
    while len(t) >= 2 and t[0] == "(" and t[-1] == ")":
        t = t[1:-1].strip()
    m = _INTEGER.fullmatch(t)
    if m is None or len(t) > 4000:  # int() refuses more digits; no limit is that large anyway
        return None
    hexa, octal, dec = m.group(2), m.group(3), m.group(4)
    n = int(hexa, 16) if hexa else int(octal, 8) if octal else int(dec)
    return -n if m.group(1) else n


# -- single parameters -----------------------------------------------------------------------


def parse_select(text: str) -> tuple[SelectItem, ...]:
    """Parse a `select` value into select items; an empty value selects `*`."""
    if text == "":
        return DEFAULT_SELECT

    def forest(p: Parser) -> tuple[SelectItem, ...]:
        items = p.forest(0)
        # PostgREST's pRequestSelect does not ask for the end of input: what follows a list
        # that ends with an embed's `)` is ignored (`projects(count)'`). A field must still be
        # followed by `,` or the end, which the field's own rule checks.
        if not (items and isinstance(items[-1], SelectRelation) and p.s[p.i - 1 : p.i] == ")"):
            p.expect_eof()
        return tuple(items)

    return grammar.run("failed to parse select parameter", text, forest) or DEFAULT_SELECT


def parse_order(text: str) -> tuple[OrderTerm, ...]:
    """Parse an `order` value: `field[->json][.asc|.desc][.nullsfirst|.nullslast]`, or `rel(field)...`."""
    return grammar.run("failed to parse order", text, lambda p: tuple(p.order()))


def parse_filter(value: str) -> tuple[bool, OpExpr]:
    """Parse a filter value: `"not.eq.5"` gives `(True, OpExpr("eq", "5"))`."""
    result = grammar.filter_value(value)
    assert result is not None  # only None when plain values are allowed
    return result


def parse_logic(key_op: str, value: str) -> LogicTree:
    """Parse a logic tree: `key_op` is `or`, `and`, `not.or` or `not.and`, `value` is `(...)`."""

    def top(p: Parser) -> LogicTree:
        # Text after the closing parenthesis is ignored, as PostgREST's parser does
        # (its own tests send `and=(id.eq.1,id.neq.2))`).
        return p.logic_expr(0)

    # PostgREST parses `op + value` but names only `value` in the message.
    return grammar.run_as(f"failed to parse logic tree ({value})", key_op + value, top)


def parse_field(text: str) -> Field:
    """Parse a column name with an optional JSON path: `data->a->>b`, `"quoted.name"`."""

    def field(p: Parser) -> Field:
        f = p.field()
        p.expect_eof()
        return f

    return grammar.run("failed to parse field", text, field)


def parse_columns(text: str, param: str = "columns") -> tuple[str, ...]:
    """Parse `columns`/`on_conflict`: comma-separated column names (at least one)."""
    return tuple(grammar.run(f"failed to parse {param} parameter", text, lambda p: p.columns()))


def _tree_path(key: str) -> tuple[EmbedPath, Field]:
    return grammar.run("failed to parse tree path", key, lambda p: p.tree_path())


def _logic_param(key: str, value: str) -> tuple[EmbedPath, LogicTree]:
    names = grammar.run("failed to parse logic path", key, lambda p: p.dotted_names())
    # As PostgREST: a `not` anywhere in the key negates, and is dropped from the path.
    negated = "not" in names
    path = tuple(n for n in names[:-1] if n != "not")
    return path, parse_logic(("not." if negated else "") + names[-1], value)


def _ranges(params: list[tuple[str, str]]) -> tuple[tuple[EmbedPath, int], ...]:
    # The last occurrence per level wins, even when it is not a number (then: no limit).
    found: dict[EmbedPath, int | None] = {}
    for key, value in params:
        found[_tree_path(key)[0]] = _read_integer(value)
    return tuple((path, n) for path, n in found.items() if n is not None)


# -- the whole query string --------------------------------------------------------------------


def parse_query(pairs: Sequence[tuple[str, str]], *, rpc: bool = False, method: str = "GET") -> QueryParams:
    """Parse the decoded query parameters of a request.

    `pairs` are (key, value) in request order, already percent-decoded, keys without
    `=` dropped. With `rpc` and GET/HEAD, parameters whose value is not a filter become
    function arguments (`rpc_args`); otherwise every non-reserved parameter must be a
    filter. Raises `ApiError` PGRST100 on syntax errors and PGRST103 (416) on a
    negative root `limit`.
    """
    rpc_read = rpc and method.upper() in ("GET", "HEAD")
    first: dict[str, str] = {}
    orders: list[tuple[str, str]] = []
    logics: list[tuple[str, str]] = []
    limits: list[tuple[str, str]] = []
    offsets: list[tuple[str, str]] = []
    filter_params: list[tuple[str, str]] = []
    for key, value in pairs:
        if key in RESERVED:
            first.setdefault(key, value)
            continue
        last = key.rpartition(".")[2]
        if last == "order":
            orders.append((key, value))
        elif last in ("and", "or"):
            logics.append((key, value))
        elif last == "limit":
            limits.append((key, value))
        elif last == "offset":
            offsets.append((key, value))
        else:
            filter_params.append((key, value))

    # PostgREST's order of evaluation, so the same error wins when several are wrong.
    order = tuple((_tree_path(k)[0], parse_order(v)) for k, v in orders)
    logic = tuple(_logic_param(k, v) for k, v in logics)
    columns = None
    if "columns" in first:
        columns = tuple(dict.fromkeys(parse_columns(first["columns"])))
    select = parse_select(first["select"]) if "select" in first else DEFAULT_SELECT
    filters: list[tuple[EmbedPath, Filter]] = []
    rpc_args: list[tuple[str, str]] = []
    for key, value in filter_params:
        path, fld = _tree_path(key)
        parsed = grammar.filter_value(value, allow_plain=rpc_read)
        if parsed is None:
            rpc_args.append((fld.name, value))
        else:
            filters.append((path, Filter(fld, parsed[1], parsed[0])))
    on_conflict = parse_columns(first["on_conflict"], "on_conflict") if "on_conflict" in first else None
    limit_values = _ranges(limits)
    offset_values = _ranges(offsets)

    root_limit = next((n for p, n in limit_values if p == ()), None)
    if root_limit is not None and root_limit < 0:
        raise range_not_satisfiable("Limit should be greater than or equal to zero.")

    return QueryParams(
        select=select,
        filters=tuple(filters),
        logic=logic,
        order=order,
        limits=limit_values,
        offsets=offset_values,
        columns=columns,
        on_conflict=on_conflict,
        rpc_args=tuple(rpc_args),
        canonical=canonical_query(pairs),
    )


def canonical_query(pairs: Sequence[tuple[str, str]]) -> str:
    """Q-CANONICAL: parameters sorted by key (stable), url-encoded; repeated keys joined `k=v1,v2`."""

    def enc(text: str) -> str:
        return quote(text, safe="-_.~", errors="surrogatepass")

    ordered = sorted(pairs, key=lambda kv: kv[0].encode("utf-8", "surrogatepass"))
    return "&".join(
        enc(key) + "=" + ",".join(enc(v) for _, v in group)
        for key, group in itertools.groupby(ordered, key=lambda kv: kv[0])
    )
