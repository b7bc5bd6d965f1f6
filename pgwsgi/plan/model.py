"""The contract of the `plan` stage: requests with every name resolved against the catalog."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pgwsgi.api.model import JsonStep, OpExpr
from pgwsgi.catalog.model import Column, Function, QName, Relation

TypeName = tuple[str, str]  # (schema, typname), checked against the catalog

# Q-SELECT-COUNT-LEGACY: a relation without a `count` column still answers `select=count`,
# because PostgreSQL reads `tbl.count` as the functional notation of count(tbl).
LEGACY_COUNT = Column("count", 0, "bigint", "pg_catalog", "int8", "int8", False, None)


@dataclass(frozen=True)
class ColumnRef:
    """A column of the plan's relation, or one of its computed fields, with an optional JSON path."""

    column: Column | None
    json_path: tuple[JsonStep, ...] = ()
    computed: Function | None = None  # set instead of column for a computed field
    parser: QName | None = None  # text -> domain cast function applied to filter values

    @property
    def base_type(self) -> str:
        """Type name after unwrapping domains, e.g. jsonb or tsvector."""
        if self.computed is not None:
            return self.computed.return_base_type
        return self.column.base_type if self.column is not None else ""

    @property
    def is_json(self) -> bool:
        """True for json/jsonb values."""
        return self.base_type in ("json", "jsonb")


@dataclass(frozen=True)
class OutputColumn:
    """One key of the output object; `ref` None means `*` (every column), or an embed when `embed` is set."""

    ref: ColumnRef | None
    name: str
    cast: TypeName | None = None
    formatter: QName | None = None  # domain -> json (or text for CSV) cast function
    embed: EmbedPlan | None = None
    aggregate: str | None = None  # sum, avg, max, min, count (Q-SELECT-AGG); `ref` None with count = count(*)
    aggregate_cast: TypeName | None = None
    # An aggregate's input key when a to-one spread hoists it to the parent level (EMB-AGG):
    # the alias, else the column's name, as PostgREST names it.
    field_name: str = ""


@dataclass(frozen=True)
class EmbedPlan:
    """An embedded resource: the related rows of one parent row, shaped like a read (§6)."""

    relationship: Any  # catalog.relationships.Relationship
    relation: Relation
    output: tuple[OutputColumn, ...]
    where: tuple[PlanCondition, ...]
    order: tuple[PlanOrder, ...]
    limit: int | None
    offset: int
    inner: bool  # `!inner`: parents without related rows are dropped (EMB-INNER)
    hidden: bool  # `rel()`: selects nothing, no key in the output (EMB-EMPTY)
    spread: bool = False  # `...rel()`: its keys are lifted into the parent (EMB-SPREAD-ONE, EMB-SPREAD-MANY)


@dataclass(frozen=True)
class PlanFilter:
    """A filter on a resolved column."""

    ref: ColumnRef
    expr: OpExpr
    negated: bool = False


@dataclass(frozen=True)
class PlanLogic:
    """An and/or tree of resolved filters."""

    operator: Literal["and", "or"]
    children: tuple[PlanCondition, ...]
    negated: bool = False


@dataclass(frozen=True)
class PlanEmbedExists:
    """`rel=is.null` / `rel=not.is.null` on an embed: parents without / with related rows (EMB-NULL-FILTER)."""

    embed: EmbedPlan
    exists: bool


PlanCondition = PlanFilter | PlanLogic | PlanEmbedExists


@dataclass(frozen=True)
class PlanOrder:
    """One ORDER BY term."""

    ref: ColumnRef
    direction: Literal["asc", "desc"] | None
    nulls: Literal["first", "last"] | None
    embed: EmbedPlan | None = None  # `order=rel(col)`: REF is a column of this to-one embed (Q-ORDER-RELATED)


Media = Literal["json", "object", "object-stripped", "array-stripped", "csv"]


@dataclass(frozen=True)
class ReadPlan:
    """A GET/HEAD on a table or view."""

    relation: Relation
    output: tuple[OutputColumn, ...]
    where: tuple[PlanCondition, ...]
    order: tuple[PlanOrder, ...]
    limit: int | None
    offset: int
    count: Literal["exact", "planned", "estimated"] | None
    media: Media
    content_type: str
    max_rows: int | None = None
    legacy_names: tuple[tuple[str, str], ...] = ()  # embeds addressed by relation name despite an alias


def has_aggregates(output: tuple[OutputColumn, ...]) -> bool:
    """Whether a level aggregates: its own aggregates, or those its to-one spreads hoist into it (EMB-AGG)."""
    return any(
        o.aggregate is not None
        or (o.embed is not None and o.embed.spread and o.embed.relationship.to_one and has_aggregates(o.embed.output))
        for o in output
    )


def groups_rows(output: tuple[OutputColumn, ...]) -> bool:
    """Whether a level's rows are fewer than the rows it reads: aggregates, or the legacy `count`."""
    return has_aggregates(output) or any(o.ref is not None and o.ref.column is LEGACY_COUNT for o in output)
