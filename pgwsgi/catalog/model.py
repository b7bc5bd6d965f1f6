"""The catalog snapshot: what the database exposes, frozen at load time.

A request holds the snapshot it started with; a reload builds a new one and
swaps it in whole, so nothing here is ever mutated after construction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from pgwsgi.catalog.fuzzy import FuzzySet

QName = tuple[str, str]  # (schema, name)


@dataclass(frozen=True)
class Column:
    """A column of a table or view."""

    name: str
    position: int
    type: str  # format_type(), e.g. "character varying(20)"
    type_schema: str
    type_name: str  # pg_type.typname of the column type, e.g. "varchar"
    base_type: str  # typname after unwrapping domains, e.g. "jsonb"
    nullable: bool
    default: str | None
    is_array: bool = False
    # What the OpenAPI document shows (pgwsgi/openapi): PostgREST's data_type, the
    # column's COMMENT, character_maximum_length and an enum's labels.
    data_type: str = ""
    description: str | None = None
    max_length: int | None = None
    enum: tuple[str, ...] = ()

    @property
    def is_json(self) -> bool:
        """True for json/jsonb (and domains over them)."""
        return self.base_type in ("json", "jsonb")

    @property
    def nominal_type(self) -> QName:
        """The column's declared type, a domain where it is one."""
        return (self.type_schema, self.type_name)


@dataclass(frozen=True)
class Relation:
    """A table, view, materialized view, foreign or partitioned table."""

    schema: str
    name: str
    kind: str  # r, v, m, f, p
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    insertable: bool
    updatable: bool
    deletable: bool
    description: str | None = None
    by_name: Mapping[str, Column] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", MappingProxyType({c.name: c for c in self.columns}))

    def column(self, name: str) -> Column | None:
        """The column called NAME, or None."""
        return self.by_name.get(name)


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key constraint between two relations."""

    name: str
    schema: str
    table: str
    columns: tuple[str, ...]
    ref_schema: str
    ref_table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True)
class Parameter:
    """A function parameter."""

    name: str
    type: str
    required: bool
    variadic: bool = False


@dataclass(frozen=True)
class Function:
    """A function callable as /rpc/<name>."""

    schema: str
    name: str
    parameters: tuple[Parameter, ...]
    return_type_schema: str
    return_type: str
    returns_set: bool
    returns_composite: bool
    volatility: str  # i, s, v
    description: str | None = None
    row_arg: tuple[str, str] | None = None  # the relation whose row is the only argument
    return_base_type: str = ""  # return type after unwrapping domains
    outputs: tuple[Parameter, ...] = ()  # OUT, INOUT and TABLE parameters: the columns of a record result
    isolation_level: str | None = None  # from `SET default_transaction_isolation`
    settings: tuple[tuple[str, str], ...] = ()  # every `SET name = value` clause
    estimated_rows: float = 0  # `ROWS n`: a set-returning function declared `ROWS 1` is to-one (EMB-COMPUTED)
    oid: int = 0  # pg_proc.oid: which overloads a role may execute (the OpenAPI root)

    @property
    def is_computed_field(self) -> bool:
        """A function of one table row returning one value: usable as a column (Q-SELECT-COMPUTED)."""
        return self.row_arg is not None and not self.returns_set


Cardinality = Literal["many-to-one", "one-to-many", "one-to-one", "many-to-many"]


@dataclass(frozen=True)
class Junction:
    """The table between the two sides of a many-to-many relationship."""

    relation: QName
    origin_constraint: str
    origin_columns: tuple[str, ...]  # junction columns referencing the origin
    target_constraint: str
    target_columns: tuple[str, ...]  # junction columns referencing the target


@dataclass(frozen=True)
class Relationship:
    """How rows of ORIGIN relate to rows of TARGET."""

    origin: QName
    target: QName
    cardinality: Cardinality
    constraint: str  # the foreign key's name (the junction's name for many-to-many, the function's if computed)
    origin_columns: tuple[str, ...]
    target_columns: tuple[str, ...]
    junction: Junction | None = None
    function: QName | None = None  # a computed relationship: this function of the origin row (EMB-COMPUTED)
    inverse: bool = False  # seen from the referenced side of its foreign key (PostgREST's isParent)

    @property
    def to_one(self) -> bool:
        """The embed is one object (or null) rather than an array."""
        return self.cardinality in ("many-to-one", "one-to-one")

    @property
    def is_self(self) -> bool:
        """Origin and target are the same relation."""
        return self.origin == self.target


@dataclass(frozen=True)
class MediaHandler:
    """What answers a custom media type (M-HANDLER-*): an aggregate, or a function's media-type domain."""

    function: QName  # the aggregate; for a function returning the domain, the domain (applied as a cast)
    target: QName | None  # the relation (or function) it answers for; None: any (an anyelement aggregate)
    media_type: str  # the Content-Type it answers with: the domain's name, `*/*` as application/octet-stream
    base_type: str  # the domain's base type: a bytea body is sent as its bytes
    aggregate: bool


@dataclass(frozen=True)
class RoleSettings:
    """What `ALTER ROLE ... SET` gave a role the authenticator may become: applied to each of its requests."""

    settings: tuple[tuple[str, str], ...]  # name, value: set_config'd before the role is set
    isolation: str | None = None  # default_transaction_isolation: the transaction's level (a function's wins)


NO_ROLE_SETTINGS = RoleSettings(())


# (target, media type) -> its handler; target None for handlers of any relation.
MediaHandlers = Mapping[tuple[QName | None, str], MediaHandler]


@dataclass(frozen=True)
class CatalogSnapshot:
    """Everything pgwsgi knows about the database, immutable."""

    relations: Mapping[tuple[str, str], Relation]
    functions: Mapping[tuple[str, str], tuple[Function, ...]]
    # type names usable in casts: accepted spelling -> (schema, typname)
    types: Mapping[str, tuple[str, str]]
    pg_version: int
    loaded_at: float
    # relation -> computed field name -> function
    computed_fields: Mapping[tuple[str, str], Mapping[str, Function]] = field(default_factory=dict)
    # (source type, target type) -> cast function, each as (schema, name): M-DOMAIN-REP
    representations: Mapping[tuple[QName, QName], QName] = field(default_factory=dict)
    # stand-alone composite types (CREATE TYPE ... AS), as column-only relations
    composite_types: Mapping[QName, Relation] = field(default_factory=dict)
    # origin relation -> its relationships (catalog/relationships.py)
    relationships: Mapping[QName, tuple[Relationship, ...]] = field(default_factory=dict)
    # custom media type handlers (MediaHandler)
    media_handlers: MediaHandlers = field(default_factory=dict)
    # role -> its ALTER ROLE ... SET settings (RoleSettings)
    role_settings: Mapping[str, RoleSettings] = field(default_factory=dict)
    # why the authenticator sees every row (a superuser, BYPASSRLS), or None
    privileged_authenticator: str | None = None
    # schema -> fuzzy index of its relation names, built on the first PGRST205 that needs it
    _name_index: dict[str, FuzzySet | None] = field(default_factory=dict, compare=False, repr=False)
    # (relation, output type) -> each column's representation function, computed once per pair
    _formatters: dict[tuple[QName, QName], Mapping[str, QName | None]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def relation(self, schema: str, name: str) -> Relation | None:
        """The relation SCHEMA.NAME, or None."""
        return self.relations.get((schema, name))

    def suggest_relation(self, schema: str, name: str) -> str | None:
        """The closest relation name in SCHEMA, as PostgREST's PGRST205 hint gives it."""
        if schema not in self._name_index:
            names = sorted(n for (s, n) in self.relations if s == schema)
            # PostgREST indexes only schemas of fewer than 500 relations, to bound memory.
            self._name_index[schema] = FuzzySet(names) if len(names) < 500 else None
        index = self._name_index[schema]
        return index.get_one(name, 0.75) if index is not None else None

    def computed_field(self, rel: Relation, name: str) -> Function | None:
        """The computed field NAME of REL, or None."""
        return self.computed_fields.get((rel.schema, rel.name), {}).get(name)

    def representation(self, source: QName, target: QName) -> QName | None:
        """The function of an implicit cast from SOURCE to TARGET type, or None."""
        return self.representations.get((source, target))

    def column_formatters(self, rel: Relation, target: QName) -> Mapping[str, QName | None]:
        """Column name -> the function that formats it as TARGET (json or text), or None (M-DOMAIN-REP)."""
        key = ((rel.schema, rel.name), target)
        found = self._formatters.get(key)
        if found is None:
            found = {c.name: self.representation(c.nominal_type, target) for c in rel.columns}
            self._formatters[key] = found
        return found

    def relation_count(self) -> int:
        """How many relations the snapshot holds."""
        return len(self.relations)
