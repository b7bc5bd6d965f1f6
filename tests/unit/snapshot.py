"""In-memory catalogs and parsed requests for the pure stages (plan/, sql/, response/), without a database.

The builders make the catalog values catalog/load.py makes from the database:
`column`, `relation`, `param`, `function`, `foreign_key`, `relationship` and
`snapshot`, which derives the relationships from foreign keys with the same
code the loader uses. `CATALOG` is a small shared schema `api` in the image of
tests/fixtures (items, the e_* embedding tables, a domain, functions).

`request` parses a URL (and headers, body) with werkzeug and `pgwsgi.api.parse`,
as App.handle does; `planned` also builds its plan.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from urllib.parse import urlsplit

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from pgwsgi.api import ApiRequest, parse
from pgwsgi.catalog.load import TYPE_ALIASES
from pgwsgi.catalog.model import (
    Cardinality,
    CatalogSnapshot,
    Column,
    ForeignKey,
    Function,
    Junction,
    Parameter,
    QName,
    Relation,
    Relationship,
)
from pgwsgi.catalog.relationships import build_relationships
from pgwsgi.config import Config
from pgwsgi.errors import ApiError
from pgwsgi.http.routes import route
from pgwsgi.plan import Plan, build

SCHEMA = "api"
CONFIG = Config(db_schemas=(SCHEMA,), db_anon_role="anon")

# format_type() spelling -> pg_type.typname, for the types the tests use.
TYPNAMES = {
    "integer": "int4",
    "bigint": "int8",
    "smallint": "int2",
    "boolean": "bool",
    "text": "text",
    "character varying": "varchar",
    "numeric": "numeric",
    "json": "json",
    "jsonb": "jsonb",
    "date": "date",
    "timestamp with time zone": "timestamptz",
    "tsvector": "tsvector",
    "uuid": "uuid",
    "bytea": "bytea",
    "xml": "xml",
    "void": "void",
    "text[]": "_text",
    "integer[]": "_int4",
}

# -- catalog values ---------------------------------------------------------------------


def column(
    name: str,
    type: str = "text",
    *,
    nullable: bool = True,
    default: str | None = None,
    domain: QName | None = None,
    base_type: str | None = None,
    position: int = 1,
) -> Column:
    """A column of TYPE (format_type() text); DOMAIN (schema, name) with BASE_TYPE for a domain column."""
    typname = TYPNAMES.get(type, type)
    type_schema, type_name = domain or ("pg_catalog", typname)
    return Column(
        name=name,
        position=position,
        type=type,
        type_schema=type_schema,
        type_name=type_name,
        base_type=base_type or typname,
        nullable=nullable,
        default=default,
        is_array=type.endswith("[]"),
    )


def relation(
    name: str,
    *columns: Column,
    schema: str = SCHEMA,
    kind: str = "r",
    pk: tuple[str, ...] = ("id",),
    insertable: bool = True,
    updatable: bool = True,
    deletable: bool = True,
) -> Relation:
    """A table (or view with KIND "v") with COLUMNS, numbered in order."""
    numbered = tuple(dataclasses.replace(c, position=i) for i, c in enumerate(columns, start=1))
    return Relation(schema, name, kind, numbered, pk, insertable, updatable, deletable)


def param(name: str, type: str = "integer", *, required: bool = True, variadic: bool = False) -> Parameter:
    """A function parameter; REQUIRED False means it has a default."""
    return Parameter(name, type, required, variadic)


def function(
    name: str,
    *parameters: Parameter,
    schema: str = SCHEMA,
    returns: str = "integer",
    returns_schema: str = "pg_catalog",
    returns_set: bool = False,
    composite: bool = False,
    volatility: str = "v",
    row_arg: QName | None = None,
    outputs: tuple[Parameter, ...] = (),
    base_type: str | None = None,
    settings: tuple[tuple[str, str], ...] = (),
    isolation_level: str | None = None,
    estimated_rows: float = 1000,
) -> Function:
    """A function returning RETURNS (a type name, or a relation's name with COMPOSITE)."""
    return Function(
        schema=schema,
        name=name,
        parameters=parameters,
        return_type_schema=returns_schema,
        return_type=returns,
        returns_set=returns_set,
        returns_composite=composite,
        volatility=volatility,
        row_arg=row_arg,
        return_base_type=base_type if base_type is not None else TYPNAMES.get(returns, returns),
        outputs=outputs,
        isolation_level=isolation_level,
        settings=settings,
        estimated_rows=estimated_rows,
    )


def foreign_key(
    name: str, table: str, columns: tuple[str, ...], ref_table: str, ref_columns: tuple[str, ...] = ("id",)
) -> ForeignKey:
    """A foreign key of SCHEMA.TABLE(COLUMNS) referencing SCHEMA.REF_TABLE(REF_COLUMNS)."""
    return ForeignKey(name, SCHEMA, table, columns, SCHEMA, ref_table, ref_columns)


def relationship(
    origin: str,
    target: str,
    cardinality: Cardinality,
    constraint: str,
    origin_columns: tuple[str, ...],
    target_columns: tuple[str, ...],
    *,
    junction: Junction | None = None,
    function: str | None = None,
) -> Relationship:
    """A relationship between two relations of SCHEMA, built by hand."""
    return Relationship(
        (SCHEMA, origin),
        (SCHEMA, target),
        cardinality,
        constraint,
        origin_columns,
        target_columns,
        junction,
        (SCHEMA, function) if function else None,
    )


def snapshot(
    *relations: Relation,
    functions: Iterable[Function] = (),
    foreign_keys: Iterable[ForeignKey] = (),
    unique_keys: Mapping[QName, list[frozenset[str]]] | None = None,
    relationships: Mapping[QName, tuple[Relationship, ...]] | None = None,
    representations: Mapping[tuple[QName, QName], QName] | None = None,
    composite_types: Iterable[Relation] = (),
    types: Mapping[str, QName] | None = None,
) -> CatalogSnapshot:
    """A snapshot as catalog/load.py builds one; relationships come from FOREIGN_KEYS unless given."""
    rels = {(r.schema, r.name): r for r in relations}
    fns: dict[QName, list[Function]] = defaultdict(list)
    for fn in functions:
        fns[(fn.schema, fn.name)].append(fn)
    computed: dict[QName, dict[str, Function]] = defaultdict(dict)
    for overloads in fns.values():
        for fn in overloads:
            if fn.is_computed_field and fn.row_arg is not None:
                computed[fn.row_arg][fn.name] = fn
    if relationships is None:
        # As the loader: functions of a row returning a table's rows are computed relationships.
        computed_rels = tuple(
            fn
            for overloads in fns.values()
            for fn in overloads
            if fn.row_arg is not None and fn.returns_composite and not fn.outputs
        )
        relationships = build_relationships(
            tuple(foreign_keys), rels, {k: list(v) for k, v in (unique_keys or {}).items()}, computed_rels
        )
    if types is None:
        builtin = {n: ("pg_catalog", n) for n in TYPNAMES.values()}
        types = {**builtin, **{alias: ("pg_catalog", n) for alias, n in TYPE_ALIASES.items()}}
    return CatalogSnapshot(
        relations=MappingProxyType(rels),
        functions=MappingProxyType({k: tuple(v) for k, v in fns.items()}),
        types=MappingProxyType(dict(types)),
        pg_version=170000,
        loaded_at=0.0,
        computed_fields=MappingProxyType({k: MappingProxyType(v) for k, v in computed.items()}),
        representations=MappingProxyType(dict(representations or {})),
        composite_types=MappingProxyType({(r.schema, r.name): r for r in composite_types}),
        relationships=MappingProxyType(dict(relationships)),
    )


# -- the shared catalog ---------------------------------------------------------------------

COLOR: QName = (SCHEMA, "color")  # a domain over integer with text and json representations
TEXT: QName = ("pg_catalog", "text")
JSON: QName = ("pg_catalog", "json")

ITEMS = relation(
    "items",
    column("id", "integer", nullable=False),
    column("name", nullable=False),
    column("price", "numeric"),
    column("tags", "text[]", nullable=False, default="'{}'::text[]"),
    column("data", "jsonb"),
    column("created", "date", nullable=False, default="'2024-01-01'::date"),
)
CHEAP_ITEMS = relation("cheap_items", column("id", "integer"), column("name"), column("price", "numeric"), kind="v")
ITEM_STATS = relation(
    "item_stats", column("n", "bigint"), kind="v", pk=(), insertable=False, updatable=False, deletable=False
)
PAINTS = relation(
    "paints",
    column("id", "integer", nullable=False),
    column("name"),
    column("color", "color", domain=COLOR, base_type="int4"),
)
PAIRS = relation(
    "pairs", column("k1", "integer", nullable=False), column("k2", nullable=False), column("v"), pk=("k1", "k2")
)
LOGS = relation("logs", column("msg"), column("at", "timestamp with time zone", default="now()"), pk=())
DOCS = relation("docs", column("id", "integer"), column("body"), column("tsv", "tsvector"))
CLIENTS = relation("clients", column("id", "integer", nullable=False), column("name", nullable=False))
PROJECTS = relation(
    "projects", column("id", "integer", nullable=False), column("name", nullable=False), column("client_id", "integer")
)
TASKS = relation(
    "tasks", column("id", "integer", nullable=False), column("name"), column("project_id", "integer", nullable=False)
)
USERS = relation("users", column("id", "integer", nullable=False), column("name"))
USERS_TASKS = relation(
    "users_tasks",
    column("user_id", "integer", nullable=False),
    column("task_id", "integer", nullable=False),
    pk=("user_id", "task_id"),
)
PROFILES = relation("profiles", column("user_id", "integer", nullable=False), column("bio"), pk=("user_id",))
MESSAGES = relation(
    "messages",
    column("id", "integer", nullable=False),
    column("body"),
    column("sender", "integer"),
    column("recipient", "integer"),
)
PEOPLE = relation("people", column("id", "integer", nullable=False), column("name"), column("boss_id", "integer"))
JWT_CLAIMS = relation(
    "jwt_claims",
    column("role"),
    column("email"),
    column("exp", "bigint"),
    kind="c",
    pk=(),
    insertable=False,
    updatable=False,
    deletable=False,
)

FOREIGN_KEYS = (
    foreign_key("projects_client_id_fkey", "projects", ("client_id",), "clients"),
    foreign_key("tasks_project_id_fkey", "tasks", ("project_id",), "projects"),
    foreign_key("users_tasks_user_id_fkey", "users_tasks", ("user_id",), "users"),
    foreign_key("users_tasks_task_id_fkey", "users_tasks", ("task_id",), "tasks"),
    foreign_key("profiles_user_id_fkey", "profiles", ("user_id",), "users"),
    foreign_key("messages_sender_fkey", "messages", ("sender",), "users"),
    foreign_key("messages_recipient_fkey", "messages", ("recipient",), "users"),
    foreign_key("people_boss_id_fkey", "people", ("boss_id",), "people"),
)

ADD = function("add", param("a"), param("b", required=False), volatility="i")
OVER_A = function("over", param("a", required=False), returns="text", volatility="s")
OVER_B = function("over", param("b", "text", required=False), returns="text", volatility="s")
SAME_INT = function("same", param("arg"), returns="text", volatility="s")
SAME_TEXT = function("same", param("arg", "text"), returns="text", volatility="s")
NOARGS = function("noargs", returns="text", volatility="s")
RESET = function("reset", returns="void")
IDS = function("ids", param("n"), returns_set=True, volatility="s")
PROJECTS_OF = function(
    "projects_of",
    param("client"),
    returns="projects",
    returns_schema=SCHEMA,
    returns_set=True,
    composite=True,
    volatility="s",
)
FIRST_CLIENT = function("first_client", returns="clients", returns_schema=SCHEMA, composite=True, volatility="s")
PAIRS_OUT = function(
    "pairs_out",
    returns="record",
    returns_set=True,
    composite=True,
    volatility="s",
    outputs=(param("x"), param("y", "text")),
)
LOGIN = function(
    "login",
    param("email", "text"),
    param("pass", "text"),
    returns="jwt_claims",
    returns_schema=SCHEMA,
    composite=True,
    volatility="s",
)
ECHO_JSON = function("echo_json", param("", "json"), returns="json")
ECHO_TEXT = function("echo_text", param("", "text"), returns="text")
SUM_ALL = function("sum_all", param("nums", "integer[]", variadic=True))
SLOW = function(
    "slow",
    returns="void",
    settings=(("statement_timeout", "5s"), ("search_path", "x")),
    isolation_level="serializable",
)
LABEL = function("label", param("", "items"), returns="text", volatility="s", row_arg=(SCHEMA, "items"))
BIG_PROJECTS = function(
    "big_projects",
    param("", "clients"),
    returns="projects",
    returns_schema=SCHEMA,
    returns_set=True,
    composite=True,
    volatility="s",
    row_arg=(SCHEMA, "clients"),
)

CATALOG = snapshot(
    ITEMS,
    CHEAP_ITEMS,
    ITEM_STATS,
    PAINTS,
    PAIRS,
    LOGS,
    DOCS,
    CLIENTS,
    PROJECTS,
    TASKS,
    USERS,
    USERS_TASKS,
    PROFILES,
    MESSAGES,
    PEOPLE,
    functions=(
        ADD,
        OVER_A,
        OVER_B,
        SAME_INT,
        SAME_TEXT,
        NOARGS,
        RESET,
        IDS,
        PROJECTS_OF,
        FIRST_CLIENT,
        PAIRS_OUT,
        LOGIN,
        ECHO_JSON,
        ECHO_TEXT,
        SUM_ALL,
        SLOW,
        LABEL,
        BIG_PROJECTS,
    ),
    foreign_keys=FOREIGN_KEYS,
    unique_keys={(SCHEMA, "profiles"): [frozenset({"user_id"})]},
    representations={
        (TEXT, COLOR): (SCHEMA, "color_from_text"),
        (JSON, COLOR): (SCHEMA, "color_from_json"),
        (COLOR, JSON): (SCHEMA, "color_to_json"),
    },
    composite_types=(JWT_CLAIMS,),
)


# -- requests ---------------------------------------------------------------------------------


def no_key_scan(body: bytes | bytearray, is_object: bool, any_keys: bool) -> tuple[str, ...]:
    """The api stage's key scanner: small bodies never need it, so a call fails the test."""
    pytest.fail("scan_keys was called: the body should have been parsed in Python")


def request(
    url: str,
    method: str = "GET",
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | str | None = None,
    content_type: str | None = None,
    config: Config = CONFIG,
) -> ApiRequest:
    """The ApiRequest App.handle would parse from METHOD URL; a BODY is JSON unless CONTENT_TYPE says otherwise."""
    parts = urlsplit(url)
    all_headers = dict(headers or {})
    if body is not None and content_type is None and "Content-Type" not in all_headers:
        content_type = "application/json"
    builder = EnvironBuilder(
        path=parts.path,
        query_string=parts.query,
        method=method,
        headers=list(all_headers.items()),
        data=body,
        content_type=content_type,
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    target, name = route(parts.path)
    return parse(Request(environ), target, name, config, no_key_scan)


def planned(
    url: str,
    method: str = "GET",
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | str | None = None,
    content_type: str | None = None,
    config: Config = CONFIG,
    catalog: CatalogSnapshot = CATALOG,
) -> tuple[ApiRequest, Plan]:
    """The request and the plan App.handle would build for it against CATALOG."""
    req = request(url, method, headers=headers, body=body, content_type=content_type, config=config)
    return req, build(req, catalog, config)


ErrorFields = tuple[int, str, str, object, object]


def fields(err: ApiError) -> ErrorFields:
    """What a client sees of an error: (status, code, message, details, hint)."""
    return err.status, err.code, err.message, err.details, err.hint


def refused(
    url: str,
    method: str = "GET",
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | str | None = None,
    content_type: str | None = None,
    config: Config = CONFIG,
    catalog: CatalogSnapshot = CATALOG,
) -> ErrorFields:
    """The error parsing or planning METHOD URL raises, as `fields`; fails the test if none is raised."""
    with pytest.raises(ApiError) as info:
        planned(url, method, headers=headers, body=body, content_type=content_type, config=config, catalog=catalog)
    return fields(info.value)


def sent_headers(response: Response) -> list[tuple[str, str]]:
    """The headers a WSGI server sends for RESPONSE (werkzeug drops Content-Length from a 204 only then)."""
    return list(response.get_wsgi_headers(EnvironBuilder().get_environ()).items())
