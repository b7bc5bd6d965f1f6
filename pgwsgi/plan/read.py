"""ApiRequest + CatalogSnapshot -> ReadPlan for GET/HEAD on tables and views."""

from __future__ import annotations

from dataclasses import replace

from pgwsgi.api.model import (
    ApiRequest,
    Condition,
    EmbedPath,
    Field,
    Filter,
    OrderTerm,
    Preferences,
    SelectField,
    SelectItem,
    SelectRelation,
)
from pgwsgi.api.ranges import cap, limit_offset
from pgwsgi.catalog.model import CatalogSnapshot, Column, QName, Relation, Relationship
from pgwsgi.config import Config
from pgwsgi.errors import (
    ApiError,
    UndefinedColumn,
    aggregates_disabled,
    aliased_target_name,
    bigint_out_of_range,
    duplicate_alias,
    not_embedded,
    not_implemented,
    related_order_not_to_one,
    strict_preferences,
    table_not_found,
    undefined_column,
    undefined_text_search_config,
    undefined_type,
)
from pgwsgi.plan.embed import resolve_relationship
from pgwsgi.plan.model import (
    LEGACY_COUNT,
    ColumnRef,
    EmbedPlan,
    OutputColumn,
    PlanCondition,
    PlanEmbedExists,
    PlanFilter,
    PlanLogic,
    PlanOrder,
    ReadPlan,
    TypeName,
    has_aggregates,
)
from pgwsgi.plan.negotiate import Handlers, negotiate_media

JSON: QName = ("pg_catalog", "json")
TEXT: QName = ("pg_catalog", "text")


def find_relation(req: ApiRequest, snapshot: CatalogSnapshot) -> Relation:
    """The relation the request names, or 404 PGRST205."""
    rel = snapshot.relation(req.schema, req.name)
    if rel is None:
        raise table_not_found(req.schema, req.name, snapshot.suggest_relation(req.schema, req.name))
    return rel


def build_read(req: ApiRequest, snapshot: CatalogSnapshot, config: Config, for_write: bool = False) -> ReadPlan:
    """Resolve a read: columns, filters, order, the page and the media type.

    FOR_WRITE: the representation of a write, where limit and offset do not apply
    (Q-LIMIT-MUTATION) and db-max-rows does not cap (V-MAX-ROWS).
    """
    return plan_read_of(req, find_relation(req, snapshot), snapshot, config, for_write)


def plan_read_of(
    req: ApiRequest,
    rel: Relation,
    snapshot: CatalogSnapshot,
    config: Config,
    for_write: bool = False,
    handled_as: QName | None = None,
) -> ReadPlan:
    """The read of REL as REQ asks for it (also the result of a function call).

    HANDLED_AS names whose media type handlers apply (a call's function or its
    table); REL's own by default.
    """
    q = req.query
    handlers = Handlers(snapshot.media_handlers, handled_as or (rel.schema, rel.name), _default_select(q.select))
    media, content_type, explain, handler = negotiate_media(req.accept, config.db_plan_enabled, handlers)
    reject_invalid_preferences(req.preferences)
    target = TEXT if media == "csv" else JSON
    ctx = _Level(req, snapshot, config, target)
    output = ctx.outputs(q.select, rel, ())
    for path, _ in (*q.filters, *q.logic, *q.order, *q.limits, *q.offsets):
        if path and path not in ctx.paths:
            missing = next(p for i, p in enumerate(path) if path[: i + 1] not in ctx.paths)
            raise not_embedded(missing)
    embeds = _embeds_by_key(output)
    conditions: tuple[Condition, ...] = (*q.root_filters(), *q.root_logic())
    where = tuple(_condition(c, rel, snapshot, embeds) for c in conditions)
    order = tuple(_order_term(t, rel, snapshot, output, 1) for t in q.root_order())
    limit, offset = (None, 0) if for_write else page(req, config)
    return ReadPlan(
        relation=rel,
        output=output,
        where=where,
        order=order,
        limit=limit,
        offset=offset,
        count=req.preferences.count,
        media=media,
        content_type=content_type,
        max_rows=config.db_max_rows,
        legacy_names=tuple(ctx.legacy),
        explain=explain,
        handler=handler,
    )


def _default_select(select: tuple[SelectItem, ...]) -> bool:
    """Whether the select is the plain `*`: a relation's own handlers take its whole rows only."""
    if len(select) != 1 or not isinstance(select[0], SelectField):
        return False
    item = select[0]
    return item.field.name == "*" and item.aggregate is None and item.alias is None


def reject_invalid_preferences(p: Preferences) -> None:
    """PGRST122: with handling=strict any unknown Prefer token is an error (H-PREFER-HANDLING)."""
    if p.invalid and p.handling == "strict":
        raise strict_preferences(p.invalid)


def page(req: ApiRequest, config: Config) -> tuple[int | None, int]:
    """LIMIT and OFFSET: the requested range capped at db-max-rows (Q-RANGE-COMBINE)."""
    return _bigint(*limit_offset(cap(req.top_range, config.db_max_rows)))


_INT8_MIN, _INT8_MAX = -(2**63), 2**63 - 1


def _bigint(limit: int | None, offset: int) -> tuple[int | None, int]:
    """LIMIT and OFFSET as PostgreSQL can take them: past 64 bits its 22003, as PostgREST's SQL gets."""
    if not _INT8_MIN <= offset <= _INT8_MAX or (limit is not None and not _INT8_MIN <= limit <= _INT8_MAX):
        raise bigint_out_of_range()
    return limit, offset


def _expand_star(
    output: tuple[OutputColumn, ...], rel: Relation, snapshot: CatalogSnapshot, target: QName
) -> tuple[OutputColumn, ...]:
    """`*` as explicit columns when a column has a domain representation (M-DOMAIN-REP)."""
    formatters = snapshot.column_formatters(rel, target)
    # With aggregates, `*` must be explicit columns too: they are grouped by (Q-SELECT-GROUPBY).
    needed = any(formatters.values()) or has_aggregates(output)
    if not needed or all(o.ref is not None or o.embed is not None or o.aggregate for o in output):
        return output
    expanded: list[OutputColumn] = []
    for o in output:
        if o.ref is None and o.embed is None and not o.aggregate:
            expanded.extend(OutputColumn(ColumnRef(c), c.name, None, formatters[c.name]) for c in rel.columns)
        else:
            expanded.append(o)
    return tuple(expanded)


class _Level:
    """Plans the select list of each level, embeds included (§6), and records the embed paths."""

    def __init__(self, req: ApiRequest, snapshot: CatalogSnapshot, config: Config, target: QName) -> None:
        self.req, self.snapshot, self.config, self.target = req, snapshot, config, target
        self.paths: set[EmbedPath] = set()
        self.legacy: list[tuple[str, str]] = []  # (relation name, alias) pairs addressed the old way

    def outputs(self, items: tuple[SelectItem, ...], rel: Relation, path: EmbedPath) -> tuple[OutputColumn, ...]:
        _refuse_twice_embedded(items, rel, len(path) + 1)
        out = tuple(self.output(item, rel, path) for item in items)
        return _expand_star(out, rel, self.snapshot, self.target)

    def output(self, item: SelectItem, rel: Relation, path: EmbedPath) -> OutputColumn:
        if isinstance(item, SelectRelation):
            return self.embed(item, rel, path)
        if item.aggregate is not None:
            return self.aggregate(item, rel)
        return _output(item, rel, self.snapshot, self.target)

    def aggregate(self, item: SelectField, rel: Relation) -> OutputColumn:
        """`col.sum()`, `count()`, with casts before and after (Q-SELECT-AGG); needs db-aggregates-enabled."""
        if not self.config.db_aggregates_enabled:
            raise aggregates_disabled()
        assert item.aggregate is not None
        ref = None if item.field.name == "*" else _ref(item.field, rel, self.snapshot)
        cast = _type(item.cast, self.snapshot) if item.cast else None
        after = _type(item.aggregate_cast, self.snapshot) if item.aggregate_cast else None
        agg = item.aggregate.lower()
        name = item.alias or agg  # Q-SELECT-AGG-NAME
        field_name = item.alias or (item.field.name if ref is not None else agg)
        return OutputColumn(ref, name, cast, None, aggregate=agg, aggregate_cast=after, field_name=field_name)

    def embed(self, item: SelectRelation, origin: Relation, path: EmbedPath) -> OutputColumn:
        relationship, target = resolve_relationship(self.snapshot, origin, item, self.req.schema)
        key = item.alias or item.name
        here = (*path, key)
        self.paths.add(here)
        q = self.req.query
        names = {here}
        legacy = (*path, item.name)
        if item.alias and item.alias != item.name:
            used = any(p[: len(legacy)] == legacy for p, _ in (*q.filters, *q.logic, *q.order, *q.limits, *q.offsets))
            if used:
                # EMB-LEGACY-NAME: the relation name of an aliased embed, deprecated.
                if not self.config.url_use_legacy_target_names:
                    raise aliased_target_name(item.name, item.alias)
                self.legacy.append((item.name, item.alias))
            self.paths.add(legacy)
            names.add(legacy)
        conditions = [f for p, f in q.filters if p in names] + [t for p, t in q.logic if p in names]
        order = next((terms for p, terms in q.order if p in names), ())
        limit, offset = _bigint(
            next((n for p, n in q.limits if p in names), None), next((n for p, n in q.offsets if p in names), None) or 0
        )
        if self.config.db_max_rows is not None and self.req.method in ("GET", "HEAD"):
            limit = (
                min(limit, self.config.db_max_rows) if limit is not None else self.config.db_max_rows
            )  # EMB-MAX-ROWS
        try:
            output = self.outputs(item.children, target, here) if item.children else ()
            where = tuple(_condition(c, target, self.snapshot, _embeds_by_key(output)) for c in conditions)
            # Related orders work inside embeds too (`tasks.order=projects(id)`), on this embed's own embeds.
            order_terms = tuple(_order_term(t, target, self.snapshot, output, len(here) + 1) for t in order)
        except ApiError as err:
            raise _as_aliased(err, target, relationship, len(here)) from None
        if item.spread and not relationship.to_one and has_aggregates(output):
            raise not_implemented("Aggregates are not implemented for one-to-many or many-to-many spreads.")
        plan = EmbedPlan(
            relationship=relationship,
            relation=target,
            output=output,
            where=where,
            order=order_terms,
            limit=limit,
            offset=offset,
            inner=item.join == "inner",
            hidden=not item.children,
            spread=item.spread,
        )
        return OutputColumn(None, key, embed=plan)


def _refuse_twice_embedded(items: tuple[SelectItem, ...], parent: Relation, depth: int) -> None:
    """Two embeds of one name at one level: PostgREST's SQL names both joins alike and PostgreSQL refuses it.

    Its join alias is `<parent>_<alias or name>_<depth>`, so the error names that
    alias; pgwsgi answers the same error rather than an object with a key twice.
    """
    seen: set[str] = set()
    for item in items:
        if isinstance(item, SelectRelation):
            key = item.alias or item.name
            if key in seen:
                raise duplicate_alias(f"{parent.name}_{key}_{depth}")
            seen.add(key)


def _as_aliased(err: ApiError, target: Relation, relationship: Relationship, depth: int) -> ApiError:
    """An unknown column of an embedded relation, named as PostgreSQL names it under PostgREST's alias.

    PostgREST's SQL calls an embedded table `<name>_<depth>` (a many-to-many
    target keeps its name), so the message reads `column cities_1.x does not exist`.
    """
    if not isinstance(err, UndefinedColumn) or err.relation != target.name or relationship.junction is not None:
        return err
    return undefined_column(f"{target.name}_{depth}", err.column)


def _output(item: SelectField, rel: Relation, snapshot: CatalogSnapshot, target: QName) -> OutputColumn:
    if item.field.name == "*":
        return OutputColumn(None, "*")
    ref = _ref(item.field, rel, snapshot)
    cast = _type(item.cast, snapshot) if item.cast else None
    formatter = None
    if ref.column is not None and not ref.json_path and cast is None:
        formatter = snapshot.representation(ref.column.nominal_type, target)
    return OutputColumn(ref, item.alias or _default_key(item.field), cast, formatter)


def _default_key(field: Field) -> str:
    """Output key of a JSON path: its last key, or the column name (Q-SELECT-JSON)."""
    for step in reversed(field.json_path):
        if isinstance(step.key, str):
            return step.key
    return field.name


def _type(name: str, snapshot: CatalogSnapshot) -> TypeName:
    found = snapshot.types.get(name.strip().lower()) or snapshot.types.get(name.strip())
    if found is None:
        raise undefined_type(name)
    return found


def _ref(field: Field, rel: Relation, snapshot: CatalogSnapshot) -> ColumnRef:
    col = rel.column(field.name)
    if col is None:
        computed = snapshot.computed_field(rel, field.name)
        if computed is not None:
            return ColumnRef(None, field.json_path, computed)
        if field.name == "count" and not field.json_path:
            return ColumnRef(LEGACY_COUNT)
        raise undefined_column(rel.name, field.name)
    parser = None if field.json_path else snapshot.representation(TEXT, col.nominal_type)
    return ColumnRef(col, field.json_path, None, parser)


def _condition(
    cond: Condition, rel: Relation, snapshot: CatalogSnapshot, embeds: dict[str, EmbedPlan] | None = None
) -> PlanCondition:
    if isinstance(cond, Filter):
        embed = (embeds or {}).get(cond.field.name)
        if embed is not None and cond.expr.op == "is" and cond.expr.value in ("null", "not_null"):
            # An embed's name as `is.null`/`not.is.null` asks whether related rows exist.
            exists = (cond.expr.value == "not_null") != cond.negated
            return PlanEmbedExists(embed, exists)
        language = cond.expr.language
        if language is not None and language.strip().isdigit():
            # `::regconfig` would read an all-digit name as an OID and fail with an internal error.
            raise undefined_text_search_config(language)
        return PlanFilter(_ref(cond.field, rel, snapshot), cond.expr, cond.negated)
    children = tuple(_condition(c, rel, snapshot, embeds) for c in cond.children)
    return PlanLogic(cond.operator, children, cond.negated)


def _embeds_by_key(output: tuple[OutputColumn, ...]) -> dict[str, EmbedPlan]:
    """The embeds of one level, by output key and by relation name."""
    found: dict[str, EmbedPlan] = {}
    for o in output:
        if o.embed is not None:
            found[o.name] = o.embed
            found.setdefault(o.embed.relation.name, o.embed)
    return found


def _order_term(
    t: OrderTerm, rel: Relation, snapshot: CatalogSnapshot, output: tuple[OutputColumn, ...], depth: int
) -> PlanOrder:
    """An ORDER BY term of the level whose select is OUTPUT; DEPTH is the depth of its embeds (1 at the root).

    `rel(key)` orders by a key of a to-one embed of that level (Q-ORDER-RELATED). As in
    PostgREST, REL is the embed's alias (else its relation's name) and KEY one of the keys
    its rows have, aliases included: `order=processes(factory)` with
    `...processes(factory:factory_id)`.
    """
    if t.relation is None:
        return PlanOrder(_ref(t.field, rel, snapshot), t.direction, t.nulls)
    embed = next((o.embed for o in output if o.embed is not None and o.name == t.relation), None)
    if embed is None:
        raise not_embedded(t.relation)
    if not embed.relationship.to_one:
        raise related_order_not_to_one(t.relation, rel.name)
    keys = _row_keys(embed)
    if t.field.name not in keys:
        # What PostgreSQL answers PostgREST, whose join is `<parent>_<embed>_<depth>`.
        raise undefined_column(f"{rel.name}_{t.relation}_{depth}", t.field.name)
    return PlanOrder(
        ColumnRef(_key_column(t.field.name, keys[t.field.name]), t.field.json_path), t.direction, t.nulls, embed
    )


def _row_keys(embed: EmbedPlan) -> dict[str, OutputColumn | None]:
    """The keys of an embed's row, each with the output that gives it (None for a column `*` stands for).

    A nested spread lifts its keys into the row; a to-one spread's aggregates are
    left to its parent and give it their input under their field name (EMB-AGG).
    """
    keys: dict[str, OutputColumn | None] = {}
    for out in embed.output:
        if out.embed is not None:
            if out.embed.spread and out.embed.relationship.to_one:
                keys.update(_row_keys(out.embed))
            elif out.embed.spread:
                keys.update(dict.fromkeys(_row_keys(out.embed), out))  # arrays: jsonb, as an embed is
            elif not out.embed.hidden:
                keys[out.name] = out
        elif out.aggregate is not None and embed.spread and embed.relationship.to_one:
            keys[out.field_name] = None
        elif out.ref is None and out.aggregate is None:
            keys.update((c.name, OutputColumn(ColumnRef(c), c.name)) for c in embed.relation.columns)
        else:
            keys[out.name] = out
    return keys


def _key_column(key: str, out: OutputColumn | None) -> Column:
    """The column KEY stands for in an embed's row: its own type when it shows a column as it is."""
    ref = out.ref if out is not None else None
    if (
        out is not None
        and ref is not None
        and ref.column is not None
        and not ref.json_path
        and out.cast is None
        and out.aggregate is None
    ):
        return ref.column if ref.column.name == key else replace(ref.column, name=key)
    # An embed is jsonb; anything else is read as it is (a JSON path then goes through to_jsonb).
    base = "jsonb" if out is not None and out.embed is not None else ""
    return Column(key, 0, "", "", "", base, True, None)
