"""The contract of the `plan` stage: requests with every name resolved against the catalog."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pgwsgi.api.model import JsonStep, OpExpr
from pgwsgi.catalog.model import Column, Relation

TypeName = tuple[str, str]  # (schema, typname), checked against the catalog


@dataclass(frozen=True)
class ColumnRef:
    """A column of the plan's relation, with an optional JSON path."""

    column: Column
    json_path: tuple[JsonStep, ...] = ()


@dataclass(frozen=True)
class OutputColumn:
    """One key of the output object; `ref` None means `*` (every column)."""

    ref: ColumnRef | None
    name: str
    cast: TypeName | None = None


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


PlanCondition = PlanFilter | PlanLogic


@dataclass(frozen=True)
class PlanOrder:
    """One ORDER BY term."""

    ref: ColumnRef
    direction: Literal["asc", "desc"] | None
    nulls: Literal["first", "last"] | None


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
