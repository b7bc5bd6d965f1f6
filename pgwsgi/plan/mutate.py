"""ApiRequest + CatalogSnapshot -> MutatePlan for POST, PATCH, PUT and DELETE on tables and views (§4)."""

from __future__ import annotations

from pgwsgi.api.model import ApiRequest, Filter, Payload
from pgwsgi.catalog.model import CatalogSnapshot, Column, Relation
from pgwsgi.config import Config
from pgwsgi.errors import column_not_found, put_filters, put_paging
from pgwsgi.plan.model import Kind, MutatePlan, PlanCondition
from pgwsgi.plan.read import JSON, build_read, find_relation

KINDS: dict[str, Kind] = {"POST": "insert", "PATCH": "update", "PUT": "put", "DELETE": "delete"}


def build_mutation(req: ApiRequest, snapshot: CatalogSnapshot, config: Config, payload: Payload | None) -> MutatePlan:
    """Resolve a write. PAYLOAD's keys must be known (sql/mutate scans large bodies first)."""
    kind = KINDS[req.method]
    rel = find_relation(req, snapshot)
    prefs = req.preferences
    if kind == "put":
        _check_put(req, rel)
    # The representation is shaped like a read of the written rows: select, order, media.
    read = build_read(req, snapshot, config, for_write=True)
    columns: tuple[Column, ...] = ()
    if payload is not None and kind != "delete":
        names = req.query.columns if req.query.columns is not None and kind != "put" else payload.keys or ()
        columns = tuple(_column(rel, n) for n in names)
    parsers = tuple(snapshot.representation(JSON, c.nominal_type) for c in columns)
    where: tuple[PlanCondition, ...] = read.where if kind in ("update", "delete", "put") else ()
    conflict = None
    resolution = prefs.resolution if kind == "insert" else None
    if kind == "put":
        conflict, resolution = rel.primary_key, "merge-duplicates"
    elif resolution is not None:
        conflict = req.query.on_conflict or rel.primary_key or None
        if conflict is None:
            resolution = None  # no conflict target: a plain insert (H-PREFER-RESOLUTION)
        else:
            for name in conflict:
                _column(rel, name)
    location_keys: tuple[str, ...] = ()
    if kind == "insert" and prefs.return_ == "headers-only" and rel.primary_key:
        location_keys = tuple(c.name for c in rel.columns if c.name in rel.primary_key)
    return MutatePlan(
        kind=kind,
        relation=rel,
        payload=payload,
        columns=columns,
        parsers=parsers,
        where=where,
        conflict=conflict,
        resolution=resolution,
        missing_default=prefs.missing == "default" and kind in ("insert", "update"),
        representation=prefs.return_ == "representation",
        location_keys=location_keys,
        output=read.output,
        order=read.order,
        media=read.media,
        content_type=read.content_type,
        max_affected=prefs.max_affected if prefs.handling == "strict" and kind in ("update", "delete") else None,
        count=prefs.count in ("exact", "estimated"),
        explain=read.explain,
        handler=read.handler,
    )


def _column(rel: Relation, name: str) -> Column:
    col = rel.column(name)
    if col is None:
        raise column_not_found(rel.name, name)
    return col


def _check_put(req: ApiRequest, rel: Relation) -> None:
    """T-PUT-RULES and T-PUT-LIMIT: filters are exactly the primary key, each with `eq`."""
    q = req.query
    if q.root_limit() is not None or q.root_offset() is not None:
        raise put_paging()
    filters = q.root_filters()
    ok = bool(rel.primary_key) and not q.root_logic() and all(_is_pk_eq(f) for f in filters)
    if not ok or sorted(f.field.name for f in filters) != sorted(rel.primary_key):
        raise put_filters()


def _is_pk_eq(f: Filter) -> bool:
    return f.expr.op == "eq" and not f.negated and f.expr.modifier is None and not f.field.json_path
