"""ApiRequest + CatalogSnapshot -> ReadPlan for GET/HEAD on tables and views."""

from __future__ import annotations

from pgwsgi.api.model import ApiRequest, Condition, Field, Filter, Preferences, SelectField, SelectRelation
from pgwsgi.api.ranges import cap, limit_offset
from pgwsgi.catalog.model import CatalogSnapshot, QName, Relation
from pgwsgi.config import Config
from pgwsgi.errors import ApiError, not_found_table
from pgwsgi.plan.model import (
    ColumnRef,
    OutputColumn,
    PlanCondition,
    PlanFilter,
    PlanLogic,
    PlanOrder,
    ReadPlan,
    TypeName,
)
from pgwsgi.plan.negotiate import negotiate

JSON: QName = ("pg_catalog", "json")
TEXT: QName = ("pg_catalog", "text")


def find_relation(req: ApiRequest, snapshot: CatalogSnapshot) -> Relation:
    """The relation the request names, or 404 PGRST205."""
    rel = snapshot.relation(req.schema, req.name)
    if rel is None:
        raise not_found_table(req.schema, req.name, snapshot.suggest_relation(req.schema, req.name))
    return rel


def build_read(req: ApiRequest, snapshot: CatalogSnapshot, config: Config, for_write: bool = False) -> ReadPlan:
    """Resolve a read: columns, filters, order, the page and the media type.

    FOR_WRITE: the representation of a write, where limit and offset do not apply
    (Q-LIMIT-MUTATION) and db-max-rows does not cap (V-MAX-ROWS).
    """
    return plan_read_of(req, find_relation(req, snapshot), snapshot, config, for_write)


def plan_read_of(
    req: ApiRequest, rel: Relation, snapshot: CatalogSnapshot, config: Config, for_write: bool = False
) -> ReadPlan:
    """The read of REL as REQ asks for it (also the result of a function call)."""
    q = req.query
    for path, _ in (*q.filters, *q.logic, *q.order, *q.limits, *q.offsets):
        if path:
            raise _not_embedded(path[0])
    media, content_type = negotiate(req.accept)
    reject_invalid_preferences(req.preferences)
    target = TEXT if media == "csv" else JSON
    output = _expand_star(tuple(_output(item, rel, snapshot, target) for item in q.select), rel, snapshot, target)
    where = tuple(_condition(c, rel, snapshot) for c in (*q.root_filters(), *q.root_logic()))
    order = tuple(
        PlanOrder(_ref(t.field, rel, snapshot), t.direction, t.nulls)
        for t in q.root_order()
        if _no_related_order(t.relation)
    )
    limit, offset = (None, 0) if for_write else page(req, config)
    return ReadPlan(
        rel, output, where, order, limit, offset, req.preferences.count, media, content_type, config.db_max_rows
    )


def reject_invalid_preferences(p: Preferences) -> None:
    """PGRST122: with handling=strict any unknown Prefer token is an error (H-PREFER-HANDLING)."""
    if p.invalid and p.handling == "strict":
        raise ApiError(
            400,
            "PGRST122",
            "Invalid preferences given with handling=strict",
            "Invalid preferences: " + ", ".join(p.invalid),
        )


def page(req: ApiRequest, config: Config) -> tuple[int | None, int]:
    """LIMIT and OFFSET: the requested range capped at db-max-rows (Q-RANGE-COMBINE)."""
    return limit_offset(cap(req.top_range, config.db_max_rows))


def _expand_star(
    output: tuple[OutputColumn, ...], rel: Relation, snapshot: CatalogSnapshot, target: QName
) -> tuple[OutputColumn, ...]:
    """`*` as explicit columns when a column has a domain representation (M-DOMAIN-REP)."""
    formatters = {c.name: snapshot.representation(c.nominal_type, target) for c in rel.columns}
    if not any(formatters.values()) or all(o.ref is not None for o in output):
        return output
    expanded: list[OutputColumn] = []
    for o in output:
        if o.ref is None:
            expanded.extend(OutputColumn(ColumnRef(c), c.name, None, formatters[c.name]) for c in rel.columns)
        else:
            expanded.append(o)
    return tuple(expanded)


def _output(
    item: SelectField | SelectRelation, rel: Relation, snapshot: CatalogSnapshot, target: QName
) -> OutputColumn:
    if isinstance(item, SelectRelation):
        # Embedding arrives with the relationship work; until then no relationship is known.
        raise ApiError(
            400,
            "PGRST200",
            f"Could not find a relationship between '{rel.name}' and '{item.name}' in the schema cache",
            f"Searched for a foreign key relationship between '{rel.name}' and '{item.name}' in the "
            f"schema '{rel.schema}', but no matches were found.",
        )
    if item.aggregate is not None:
        raise ApiError(400, "PGRST123", "Use of aggregate functions is not allowed")
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
        raise ApiError(400, "42704", f'type "{name}" does not exist')
    return found


def _ref(field: Field, rel: Relation, snapshot: CatalogSnapshot) -> ColumnRef:
    col = rel.column(field.name)
    if col is None:
        computed = snapshot.computed_field(rel, field.name)
        if computed is not None:
            return ColumnRef(None, field.json_path, computed)
        raise ApiError(400, "42703", f"column {rel.name}.{field.name} does not exist")
    parser = None if field.json_path else snapshot.representation(TEXT, col.nominal_type)
    return ColumnRef(col, field.json_path, None, parser)


def _condition(cond: Condition, rel: Relation, snapshot: CatalogSnapshot) -> PlanCondition:
    if isinstance(cond, Filter):
        return PlanFilter(_ref(cond.field, rel, snapshot), cond.expr, cond.negated)
    return PlanLogic(cond.operator, tuple(_condition(c, rel, snapshot) for c in cond.children), cond.negated)


def _no_related_order(relation: str | None) -> bool:
    if relation is not None:
        raise _not_embedded(relation)
    return True


def _not_embedded(name: str) -> ApiError:
    return ApiError(
        400,
        "PGRST108",
        f"'{name}' is not an embedded resource in this request",
        hint=f"Verify that '{name}' is included in the 'select' query parameter.",
    )
