"""plan/model.py: the plan contract's own behaviour (column types, aggregate detection)."""

from __future__ import annotations

from pgwsgi.api.model import JsonStep
from pgwsgi.plan.model import LEGACY_COUNT, ColumnRef, EmbedPlan, OutputColumn, groups_rows, has_aggregates
from tests.unit.snapshot import CLIENTS, ITEMS, LABEL, PROJECTS, column, relationship

TO_ONE = relationship("projects", "clients", "many-to-one", "projects_client_id_fkey", ("client_id",), ("id",))
TO_MANY = relationship("clients", "projects", "one-to-many", "projects_client_id_fkey", ("id",), ("client_id",))
COUNT = OutputColumn(None, "count", aggregate="count", field_name="count")
NAME = OutputColumn(ColumnRef(ITEMS.by_name["name"]), "name")


def embed(output: tuple[OutputColumn, ...], *, to_one: bool = True, spread: bool = True) -> OutputColumn:
    plan = EmbedPlan(
        relation=CLIENTS if to_one else PROJECTS,
        output=output,
        where=(),
        order=(),
        limit=None,
        offset=0,
        relationship=TO_ONE if to_one else TO_MANY,
        inner=False,
        hidden=False,
        spread=spread,
    )
    return OutputColumn(None, "e", embed=plan)


def test_a_column_refs_base_type_is_the_columns_after_domains() -> None:
    assert ColumnRef(ITEMS.by_name["data"]).base_type == "jsonb"
    assert ColumnRef(column("c", "color", domain=("api", "color"), base_type="int4")).base_type == "int4"


def test_a_computed_fields_base_type_is_its_return_type() -> None:
    assert ColumnRef(None, (), LABEL).base_type == "text"


def test_json_columns_are_json_with_or_without_a_path() -> None:
    assert ColumnRef(ITEMS.by_name["data"]).is_json
    assert ColumnRef(ITEMS.by_name["data"], (JsonStep("->", "a"),)).is_json
    assert ColumnRef(column("j", "json")).is_json
    assert not ColumnRef(ITEMS.by_name["name"]).is_json
    assert ColumnRef(None).base_type == "" and not ColumnRef(None).is_json


def test_the_legacy_count_column_is_a_bigint() -> None:
    assert (LEGACY_COUNT.name, LEGACY_COUNT.type_name, LEGACY_COUNT.nullable) == ("count", "int8", False)


def test_a_level_with_an_aggregate_has_aggregates() -> None:
    assert has_aggregates((NAME, COUNT))
    assert not has_aggregates((NAME, OutputColumn(None, "*")))


def test_aggregates_in_a_to_one_spread_are_hoisted_into_the_parent() -> None:
    assert has_aggregates((NAME, embed((COUNT,))))
    assert has_aggregates((embed((embed((COUNT,)),)),))


def test_aggregates_in_other_embeds_stay_there() -> None:
    assert not has_aggregates((NAME, embed((COUNT,), spread=False)))
    assert not has_aggregates((NAME, embed((COUNT,), to_one=False)))


def test_groups_rows_counts_the_legacy_count_too() -> None:
    assert groups_rows((OutputColumn(ColumnRef(LEGACY_COUNT), "count"),))
    assert groups_rows((COUNT,))
    assert not groups_rows((NAME,))
