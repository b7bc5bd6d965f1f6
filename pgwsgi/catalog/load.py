"""Load a CatalogSnapshot from the database in one read-only transaction."""

from __future__ import annotations

import logging
import re
import time
from collections import defaultdict
from dataclasses import replace
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

import psycopg
from psycopg.rows import dict_row

from pgwsgi.catalog.model import (
    CatalogSnapshot,
    Column,
    ForeignKey,
    Function,
    MediaHandler,
    Parameter,
    QName,
    Relation,
    RoleSettings,
)
from pgwsgi.catalog.relationships import build_relationships
from pgwsgi.catalog.viewkeys import KeyConstraint, KeyDependency, KeyKind, ViewSource, key_dependencies

log = logging.getLogger("pgwsgi.catalog")

# SQL spellings of built-in types that are not pg_type names (for `::cast`).
TYPE_ALIASES = {
    "int": "int4",
    "integer": "int4",
    "smallint": "int2",
    "bigint": "int8",
    "real": "float4",
    "float": "float8",
    "double precision": "float8",
    "boolean": "bool",
    "decimal": "numeric",
    "character varying": "varchar",
    "character": "bpchar",
    "char": "bpchar",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
    "time without time zone": "time",
    "time with time zone": "timetz",
}


@cache
def _queries() -> dict[str, str]:
    text = resources.files("pgwsgi.catalog").joinpath("queries.sql").read_text()
    parts = re.split(r"^-- name: (\w+)\n", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def load_snapshot(
    conn: psycopg.Connection[Any], schemas: tuple[str, ...], extra_search_path: tuple[str, ...] = ()
) -> CatalogSnapshot:
    """Read the catalog of SCHEMAS (and cast types of EXTRA_SEARCH_PATH) through CONN."""
    started = time.monotonic()
    q = _queries()
    params = {
        "schemas": list(schemas),
        "type_schemas": ["pg_catalog", *schemas, *extra_search_path],
        "view_schemas": [*schemas, *extra_search_path],
    }
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute("set transaction read only")
        cur.execute("select set_config('search_path', '', true)")
        cur.execute(q["relations"], params)
        rel_rows = cur.fetchall()
        cur.execute(q["columns"], params)
        col_rows = cur.fetchall()
        cur.execute(q["key_constraints"], params)
        key_rows = cur.fetchall()
        cur.execute(q["views"], params)
        view_rows = cur.fetchall()
        cur.execute(q["functions"], params)
        fn_rows = cur.fetchall()
        cur.execute(q["types"], params)
        type_rows = cur.fetchall()
        cur.execute(q["representations"])
        rep_rows = cur.fetchall()
        cur.execute(q["composite_types"], params)
        composite_rows = cur.fetchall()
        cur.execute(q["unique_keys"])
        unique_rows = cur.fetchall()
        cur.execute(q["media_handlers"], params)
        handler_rows = cur.fetchall()
        role_query = q["role_settings"]
        if conn.info.server_version >= 150000:
            role_query = role_query.replace(
                "/*SET-PRIVILEGE*/", "or has_parameter_privilege(current_user, ps.name, 'SET')"
            )
        cur.execute(role_query)
        role_rows = cur.fetchall()
        cur.execute(q["authenticator"])
        who = cur.fetchone() or {"role": "", "superuser": False, "bypassrls": False}
    functions = _functions(fn_rows)
    relations = _relations(rel_rows, col_rows)
    foreign_keys = tuple(
        ForeignKey(
            r["name"],
            r["schema"],
            r["table"],
            tuple(r["columns"]),
            r["ref_schema"],
            r["ref_table"],
            tuple(r["ref_columns"]),
        )
        for r in key_rows
        if r["kind"] == "f"
    )
    view_keys = key_dependencies([ViewSource(**r) for r in view_rows], _key_constraints(key_rows))
    relations = _with_view_primary_keys(relations, view_keys)
    snapshot = CatalogSnapshot(
        relations=MappingProxyType(relations),
        functions=MappingProxyType(functions),
        types=MappingProxyType(_types(type_rows)),
        pg_version=conn.info.server_version,
        loaded_at=time.time(),
        computed_fields=MappingProxyType(_computed_fields(functions)),
        composite_types=MappingProxyType(_composite_types(composite_rows)),
        relationships=MappingProxyType(
            build_relationships(
                foreign_keys,
                relations,
                _unique_keys(unique_rows),
                _computed_relationships(functions),
                view_keys,
                _table_primary_keys(key_rows),
            )
        ),
        media_handlers=MappingProxyType(_media_handlers(handler_rows)),
        role_settings=MappingProxyType(_role_settings(role_rows)),
        privileged_authenticator=(
            f"{who['role']} is a superuser"
            if who["superuser"]
            else f"{who['role']} has BYPASSRLS"
            if who["bypassrls"]
            else None
        ),
        representations=MappingProxyType(
            {
                ((r["source_schema"], r["source_name"]), (r["target_schema"], r["target_name"])): (
                    r["function_schema"],
                    r["function_name"],
                )
                for r in rep_rows
            }
        ),
    )
    # PostgREST's two lines (Logger.hs, SchemaCacheLoadedObs), at info: each worker loads its own.
    log.info(
        "Schema cache loaded %d Relations, %d Relationships, %d Functions, %d Domain Representations, "
        "%d Media Type Handlers",
        len(snapshot.relations),
        sum(len(v) for v in snapshot.relationships.values()),
        sum(len(v) for v in snapshot.functions.values()),
        len(snapshot.representations),
        len(snapshot.media_handlers),
    )
    log.info("Schema cache loaded in %.1f milliseconds", (time.monotonic() - started) * 1000)
    return snapshot


def _columns(col_rows: list[dict[str, Any]]) -> dict[tuple[str, str], list[Column]]:
    """Column rows (as the columns and composite_types queries return them) grouped by relation."""
    columns: dict[tuple[str, str], list[Column]] = defaultdict(list)
    for r in col_rows:
        columns[(r["schema"], r["relation"])].append(
            Column(
                name=r["name"],
                position=r["position"],
                type=r["type"],
                type_schema=r["type_schema"],
                type_name=r["type_name"],
                base_type=r["base_type"],
                nullable=r["nullable"],
                default=r["default"],
                is_array=r["is_array"],
                data_type=r["data_type"],
                description=r["description"],
                max_length=r["max_length"],
                enum=tuple(r["enum"]),
            )
        )
    return columns


def _relations(rel_rows: list[dict[str, Any]], col_rows: list[dict[str, Any]]) -> dict[tuple[str, str], Relation]:
    columns = _columns(col_rows)
    out = {}
    for r in rel_rows:
        key = (r["schema"], r["name"])
        mask = r["updatable_mask"] or 0
        out[key] = Relation(
            schema=r["schema"],
            name=r["name"],
            kind=r["kind"],
            columns=tuple(columns.get(key, ())),
            primary_key=tuple(r["primary_key"]),
            insertable=bool(mask & 8),
            updatable=bool(mask & 4),
            deletable=bool(mask & 16),
            description=r["description"],
        )
    return out


def _functions(rows: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[Function, ...]]:
    out: dict[tuple[str, str], list[Function]] = defaultdict(list)
    for r in rows:
        names, types, modes = r["arg_names"], r["arg_types"], r["arg_modes"] or ["i"] * len(r["arg_types"])
        inputs = [
            (names[i] if i < len(names) else "", types[i], modes[i])
            for i in range(len(types))
            if modes[i] in ("i", "b", "v")
        ]
        first_default = r["n_in_args"] - r["n_defaults"]
        settings: list[str] = r["settings"]  # `name=value` for each SET clause
        params = tuple(
            Parameter(name, typ, i < first_default, mode == "v") for i, (name, typ, mode) in enumerate(inputs)
        )
        outputs = tuple(
            Parameter(names[i] if i < len(names) else "", types[i], False)
            for i in range(len(types))
            if modes[i] in ("o", "b", "t")
        )
        out[(r["schema"], r["name"])].append(
            Function(
                schema=r["schema"],
                name=r["name"],
                parameters=params,
                return_type_schema=r["return_type_schema"],
                return_type=r["return_type"],
                returns_set=r["returns_set"],
                returns_composite=r["returns_composite"],
                volatility=r["volatility"],
                description=r["description"],
                row_arg=(r["row_arg_schema"], r["row_arg_relation"]) if r["row_arg_relation"] else None,
                return_base_type=r["return_base_type"],
                outputs=outputs,
                isolation_level=r["isolation_level"],
                estimated_rows=r["estimated_rows"],
                oid=r["oid"],
                settings=tuple((name, value) for name, sep, value in (c.partition("=") for c in settings) if sep),
            )
        )
    return {k: tuple(v) for k, v in out.items()}


def _role_settings(rows: list[dict[str, Any]]) -> dict[str, RoleSettings]:
    """Role -> its settings for each request, the isolation level apart (PostgREST's RoleSettings, RoleIsolationLvl)."""
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in rows:
        found[r["role"]].append((r["key"], r["value"]))
    out = {}
    for role, pairs in found.items():
        isolation = next((v for k, v in pairs if k == "default_transaction_isolation"), None)
        out[role] = RoleSettings(tuple((k, v) for k, v in pairs if k != "default_transaction_isolation"), isolation)
    return out


def _media_handlers(rows: list[dict[str, Any]]) -> dict[tuple[QName | None, str], MediaHandler]:
    """(target, media type) -> handler; a later row for the same key (PostgREST's map) replaces an earlier one."""
    out: dict[tuple[QName | None, str], MediaHandler] = {}
    for r in rows:
        target = (r["target_schema"], r["target_name"]) if r["target_name"] is not None else None
        out[(target, r["media_type"])] = MediaHandler(
            (r["handler_schema"], r["handler_name"]), target, r["resolved"], r["base_type"], r["aggregate"]
        )
    return out


def _computed_fields(
    functions: dict[tuple[str, str], tuple[Function, ...]],
) -> dict[tuple[str, str], MappingProxyType[str, Function]]:
    out: dict[tuple[str, str], dict[str, Function]] = defaultdict(dict)
    for overloads in functions.values():
        for fn in overloads:
            if fn.is_computed_field and fn.row_arg is not None:
                out[fn.row_arg][fn.name] = fn
    return {k: MappingProxyType(v) for k, v in out.items()}


def _types(rows: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    # Later schemas must not shadow pg_catalog's built-in names, so built-ins go last.
    for r in sorted(rows, key=lambda r: r["schema"] == "pg_catalog"):
        out[r["name"]] = (r["schema"], r["name"])
    for alias, name in TYPE_ALIASES.items():
        out[alias] = ("pg_catalog", name)
    return out


def _composite_types(rows: list[dict[str, Any]]) -> dict[tuple[str, str], Relation]:
    return {k: Relation(k[0], k[1], "c", tuple(v), (), False, False, False) for k, v in _columns(rows).items()}


def _unique_keys(rows: list[dict[str, Any]]) -> dict[tuple[str, str], list[frozenset[str]]]:
    out: dict[tuple[str, str], list[frozenset[str]]] = defaultdict(list)
    for r in rows:
        out[(r["schema"], r["table"])].append(frozenset(r["columns"]))
    return out


def _computed_relationships(functions: dict[tuple[str, str], tuple[Function, ...]]) -> tuple[Function, ...]:
    """Functions of one table row that return rows of a table: computed relationships (EMB-COMPUTED)."""
    return tuple(
        fn
        for overloads in functions.values()
        for fn in overloads
        if fn.row_arg is not None and fn.returns_composite and not fn.outputs
    )


def _table_primary_keys(rows: list[dict[str, Any]]) -> dict[QName, tuple[str, ...]]:
    """The primary key of every table, in any schema: a junction outside the exposed ones has one too."""
    return {(r["schema"], r["table"]): tuple(r["columns"]) for r in rows if r["kind"] == "p"}


def _key_constraints(rows: list[dict[str, Any]]) -> list[KeyConstraint]:
    """Both sides of each key: a foreign key's referenced columns are a key too (f_ref)."""
    out = []
    for r in rows:
        kind: KeyKind = "p" if r["kind"] == "p" else "f"
        out.append(
            KeyConstraint(
                r["name"], kind, r["table_oid"], (r["schema"], r["table"]), tuple(r["attnums"]), tuple(r["columns"])
            )
        )
        if kind == "f":
            out.append(
                KeyConstraint(
                    r["name"],
                    "f_ref",
                    r["ref_oid"],
                    (r["ref_schema"], r["ref_table"]),
                    tuple(r["ref_attnums"]),
                    tuple(r["ref_columns"]),
                )
            )
    return out


def _with_view_primary_keys(relations: dict[QName, Relation], view_keys: list[KeyDependency]) -> dict[QName, Relation]:
    """Views get the primary keys of the tables they expose whole (T-PK-NEEDED, EMB-M2M junction views).

    Where a key column is shown twice, the first of its view columns stands for it.
    """
    keys: dict[QName, list[str]] = defaultdict(list)
    for d in view_keys:
        if d.kind == "p":
            keys[d.view].extend(views[0] for _, views in d.columns)
    out = dict(relations)
    for name, cols in keys.items():
        if name in out and out[name].kind in ("v", "m"):
            out[name] = replace(out[name], primary_key=tuple(cols))
    return out
