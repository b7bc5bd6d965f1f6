"""The contract of the `api` stage: what a request asks for, before the catalog is consulted.

Everything here is parsed from the URL, headers and body alone. Names are plain
strings that have not been checked against the database yet; values are the raw
text the client sent (they become bound parameters, never SQL text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# -- fields and JSON paths ---------------------------------------------------


@dataclass(frozen=True)
class JsonStep:
    """One `->key`, `->>key`, `->0` step of a JSON path."""

    arrow: Literal["->", "->>"]
    key: str | int  # int = array index


@dataclass(frozen=True)
class Field:
    """A column (or computed field) name with an optional JSON path."""

    name: str
    json_path: tuple[JsonStep, ...] = ()


# -- select ---------------------------------------------------------------------


@dataclass(frozen=True)
class SelectField:
    """`[alias:]field[::cast][.agg()[::cast]]`; `*` is a SelectField named "*"."""

    field: Field
    alias: str | None = None
    cast: str | None = None
    aggregate: str | None = None  # sum, avg, max, min, count
    aggregate_cast: str | None = None


@dataclass(frozen=True)
class SelectRelation:
    """`[alias:][...]name[!hint][!inner|!left](children)`: an embedded resource or spread."""

    name: str
    alias: str | None = None
    hint: str | None = None
    join: Literal["inner", "left"] | None = None
    spread: bool = False
    children: tuple[SelectItem, ...] = ()


SelectItem = SelectField | SelectRelation

# -- filters and logic ------------------------------------------------------------

Operator = Literal[
    "eq",
    "neq",
    "gt",
    "gte",
    "lt",
    "lte",
    "like",
    "ilike",
    "match",
    "imatch",
    "in",
    "is",
    "isdistinct",
    "fts",
    "plfts",
    "phfts",
    "wfts",
    "cs",
    "cd",
    "ov",
    "sl",
    "sr",
    "nxr",
    "nxl",
    "adj",
]


@dataclass(frozen=True)
class OpExpr:
    """`op[(any|all)][(language)].value`.

    `value` is the raw text; for `in` it is the tuple of list elements; for `is`
    it is one of null, not_null, true, false, unknown (lower-cased).
    """

    op: Operator
    value: str | tuple[str, ...]
    modifier: Literal["any", "all"] | None = None
    language: str | None = None


@dataclass(frozen=True)
class Filter:
    """`field=[not.]op.value`."""

    field: Field
    expr: OpExpr
    negated: bool = False


@dataclass(frozen=True)
class LogicTree:
    """`[not.]or=(...)` / `[not.]and=(...)`, nested to any depth."""

    operator: Literal["and", "or"]
    children: tuple[Condition, ...]
    negated: bool = False


Condition = Filter | LogicTree

# -- order and paging ---------------------------------------------------------------


@dataclass(frozen=True)
class OrderTerm:
    """`[relation(]field[)][.asc|.desc][.nullsfirst|.nullslast]`."""

    field: Field
    relation: str | None = None
    direction: Literal["asc", "desc"] | None = None
    nulls: Literal["first", "last"] | None = None


EmbedPath = tuple[str, ...]  # () is the root; ("clients", "projects") an embed below it


@dataclass(frozen=True)
class QueryParams:
    """Everything the query string says, grouped by the embed level it applies to."""

    select: tuple[SelectItem, ...] = (SelectField(Field("*")),)
    filters: tuple[tuple[EmbedPath, Filter], ...] = ()
    logic: tuple[tuple[EmbedPath, LogicTree], ...] = ()
    order: tuple[tuple[EmbedPath, tuple[OrderTerm, ...]], ...] = ()
    limits: tuple[tuple[EmbedPath, int], ...] = ()
    offsets: tuple[tuple[EmbedPath, int], ...] = ()
    columns: tuple[str, ...] | None = None
    on_conflict: tuple[str, ...] | None = None
    # GET/HEAD on /rpc: parameters that are not filters, in order (repeats kept).
    rpc_args: tuple[tuple[str, str], ...] = ()
    canonical: str = ""

    def root_filters(self) -> tuple[Filter, ...]:
        """Filters of the top level."""
        return tuple(f for p, f in self.filters if p == ())

    def root_logic(self) -> tuple[LogicTree, ...]:
        """Logic trees of the top level."""
        return tuple(t for p, t in self.logic if p == ())

    def root_order(self) -> tuple[OrderTerm, ...]:
        """Order terms of the top level."""
        for path, terms in self.order:
            if path == ():
                return terms
        return ()

    def root_limit(self) -> int | None:
        """`limit=` of the top level, if it was a valid integer."""
        return next((n for p, n in self.limits if p == ()), None)

    def root_offset(self) -> int | None:
        """`offset=` of the top level, if it was a valid integer."""
        return next((n for p, n in self.offsets if p == ()), None)


# -- preferences, media, the whole request ---------------------------------------------


@dataclass(frozen=True)
class Preferences:
    """The `Prefer` header, first occurrence per category (H-PREFER-PARSE)."""

    return_: Literal["minimal", "headers-only", "representation"] | None = None
    count: Literal["exact", "planned", "estimated"] | None = None
    resolution: Literal["merge-duplicates", "ignore-duplicates"] | None = None
    missing: Literal["default", "null"] | None = None
    handling: Literal["strict", "lenient"] | None = None
    timezone: str | None = None
    tx: Literal["commit", "rollback"] | None = None
    max_affected: int | None = None
    # pgwsgi's `read=primary`: a read that must see the client's own writes skips the replicas.
    read: Literal["primary"] | None = None
    invalid: tuple[str, ...] = ()


@dataclass(frozen=True)
class MediaType:
    """One entry of an Accept header (type/subtype and parameters, lower-cased)."""

    type: str
    subtype: str
    params: tuple[tuple[str, str], ...] = ()
    quality: float = 1.0

    @property
    def essence(self) -> str:
        """`type/subtype`; an entry without a slash (`undefined`) stays as it was written."""
        return f"{self.type}/{self.subtype}" if self.subtype else self.type

    def param(self, name: str) -> str | None:
        """The value of a parameter, if given."""
        return next((v for k, v in self.params if k == name), None)


Target = Literal["root", "relation", "rpc"]

# What the request is, decided by the api stage from the route and the method
# (PostgREST's Action): the plan stage builds one kind of plan for each.
Action = Literal["read", "mutate", "call", "relation-info", "function-info", "root"]


@dataclass(frozen=True)
class Payload:
    """A write's body, ready to bind."""

    json: bytes | bytearray
    is_object: bool  # the top level is one object (json_to_record), else an array
    keys: tuple[str, ...] | None  # the common key set; None when PostgreSQL must find it


@dataclass(frozen=True)
class ApiRequest:
    """A parsed request: what to do to which object, and how to answer."""

    method: str  # GET, HEAD, POST, PATCH, PUT, DELETE, OPTIONS
    action: Action
    target: Target
    name: str  # relation or function name ("" for the root)
    schema: str  # the schema chosen by profile headers or the default one
    schema_negotiated: bool  # a profile header was sent or several schemas are configured
    path: str  # raw request path, as request.path sees it
    query: QueryParams
    preferences: Preferences
    accept: tuple[MediaType, ...]
    # The rows asked for by Range, limit and offset: (first, last or None), inclusive.
    top_range: tuple[int, int | None] = (0, None)
    body: bytes | bytearray | None = None  # POST /rpc: the raw body, bounded by server-max-body-size
    payload: Payload | None = None  # POST, PATCH, PUT: the body of the write
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = field(default=())
    cookies: tuple[tuple[str, str], ...] = field(default=())
