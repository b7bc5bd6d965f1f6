"""The contract of the `plan` stage: requests with every name resolved against the catalog."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pgwsgi.api.model import JsonStep, OpExpr, Payload
from pgwsgi.catalog.model import Column, Function, MediaHandler, Parameter, QName, Relation, Relationship
from pgwsgi.openapi import ApiDescription

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


@dataclass(frozen=True, kw_only=True)
class ReadNode:
    """One level of a read tree: rows of a relation, shaped (select), filtered, ordered and paged.

    The root of a read (ReadPlan) and each embedded resource (EmbedPlan) are
    ReadNodes, so the SQL builder is one recursive function over this type.
    """

    relation: Relation
    output: tuple[OutputColumn, ...]
    where: tuple[PlanCondition, ...]
    order: tuple[PlanOrder, ...]
    limit: int | None
    offset: int


@dataclass(frozen=True, kw_only=True)
class EmbedPlan(ReadNode):
    """An embedded resource: the related rows of one parent row (§6)."""

    relationship: Relationship
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


# "custom": a media type handler of the database answers (M-HANDLER-*); "geojson": PostGIS's GeoJSON.
Media = Literal["json", "object", "object-stripped", "array-stripped", "csv", "geojson", "custom"]

ExplainFormat = Literal["text", "json"]
ExplainOption = Literal["analyze", "verbose", "settings", "buffers", "wal"]


@dataclass(frozen=True)
class Explain:
    """`Accept: application/vnd.pgrst.plan`: the main statement is EXPLAINed instead of answered (M-PLAN).

    The plan's `media` stays the media type the explained query would produce (`for=`).
    """

    format: ExplainFormat
    options: tuple[ExplainOption, ...]  # in PostgREST's order: analyze, verbose, settings, buffers, wal

    @property
    def analyze(self) -> bool:
        """Whether the statement really runs (EXPLAIN ANALYZE)."""
        return "analyze" in self.options


@dataclass(frozen=True, kw_only=True)
class ReadPlan(ReadNode):
    """A GET/HEAD on a table or view: the root node, how to count and which media type to answer."""

    count: Literal["exact", "planned", "estimated"] | None
    media: Media
    content_type: str
    max_rows: int | None = None
    legacy_names: tuple[tuple[str, str], ...] = ()  # embeds addressed by relation name despite an alias
    explain: Explain | None = None  # the plan media type (content_type is then the plan's)
    handler: MediaHandler | None = None  # the media type handler when media is "custom"


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


Kind = Literal["insert", "update", "delete", "put"]


@dataclass(frozen=True)
class MutatePlan:
    """A write, with every name resolved."""

    kind: Kind
    relation: Relation
    payload: Payload | None
    columns: tuple[Column, ...]  # the columns written, in body-key order
    parsers: tuple[QName | None, ...]  # json -> domain cast function per column (M-DOMAIN-REP)
    where: tuple[PlanCondition, ...]  # PATCH/DELETE: rows affected; PUT: the body row that must match
    conflict: tuple[str, ...] | None  # ON CONFLICT target
    resolution: Literal["merge-duplicates", "ignore-duplicates"] | None
    missing_default: bool
    representation: bool  # return=representation
    location_keys: tuple[str, ...]  # primary key, in column order, when a Location header is due
    output: tuple[OutputColumn, ...]  # the representation's select list
    order: tuple[PlanOrder, ...]
    media: Media
    content_type: str
    max_affected: int | None  # enforced only with handling=strict
    count: bool  # Prefer: count=exact|estimated, for Content-Range
    explain: Explain | None = None  # the plan media type (content_type is then the plan's)
    handler: MediaHandler | None = None  # the media type handler when media is "custom"


Shape = Literal["scalar", "setof-scalar", "composite", "setof-composite", "void"]


@dataclass(frozen=True)
class CallPlan:
    """A function call and the read of its result."""

    function: Function
    # GET, HEAD and form bodies: (parameter, text values); JSON bodies: the JSON text.
    text_args: tuple[tuple[Parameter, tuple[str, ...]], ...]
    json_body: bytes | bytearray | None
    json_params: tuple[Parameter, ...]
    shape: Shape
    read: ReadPlan  # select/filters/order/paging over the result, and the media type
    read_only: bool
    max_affected: int | None = None  # with handling=strict only
    raw_arg: tuple[Parameter, bytes] | None = None  # R-SINGLE-UNNAMED: the whole body as the one argument
    json_array: bool = False  # the JSON arguments are the first object of an array (or of CSV rows)


@dataclass(frozen=True)
class RelationInfo:
    """OPTIONS on a relation: answered from the catalog snapshot, no transaction."""

    relation: Relation


@dataclass(frozen=True)
class FunctionInfo:
    """OPTIONS on /rpc/<name>: the function as called without arguments."""

    function: Function


OpenApiVersion = Literal["2.0", "3.1"]


@dataclass(frozen=True)
class RootPlan:
    """GET or HEAD on the root: one OpenAPI document of one schema (plan/root.py)."""

    description: ApiDescription  # every object of the schema, before privileges are applied
    version: OpenApiVersion
    content_type: str
    follow_privileges: bool  # keep only what the transaction reports the role may use


@dataclass(frozen=True)
class RootInfo:
    """OPTIONS on the root: answered without a transaction."""


@dataclass(frozen=True)
class TxPlan:
    """How the request's one transaction runs."""

    read_only: bool
    commit: bool  # db-tx-end, overridden by Prefer: tx where allowed


ActionPlan = ReadPlan | MutatePlan | CallPlan | RelationInfo | FunctionInfo | RootPlan | RootInfo


@dataclass(frozen=True)
class Plan:
    """The plan stage's answer: what to run, how to run its transaction, what to do with the result."""

    action: ActionPlan
    tx: TxPlan | None  # None: answered from the catalog snapshot alone
    sign_token: bool = False  # a `*jwt_claims` result is answered as a signed token (auth signs it)

    @property
    def function(self) -> Function | None:
        """The function a call runs: its isolation level and settings apply to the transaction."""
        return self.action.function if isinstance(self.action, CallPlan) else None

    @property
    def explain(self) -> Explain | None:
        """The EXPLAIN asked for by the plan media type, if any: the answer is then the execution plan."""
        action = self.action
        if isinstance(action, ReadPlan | MutatePlan):
            return action.explain
        if isinstance(action, CallPlan):
            return action.read.explain
        return None
