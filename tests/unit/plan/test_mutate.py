"""plan/mutate.py: POST, PATCH, PUT and DELETE resolved against the catalog (§4)."""

from __future__ import annotations

import pytest

from pgwsgi.api.model import OpExpr, Payload
from pgwsgi.plan.model import ColumnRef, MutatePlan, OutputColumn, PlanFilter, PlanOrder
from tests.unit.snapshot import ITEMS, PAINTS, PAIRS, planned, refused

PUT_FILTERS = (405, "PGRST105", "Filters must include all and only primary key columns with 'eq' operators", None, None)


def mutation(url: str, method: str = "POST", body: str | None = "{}", **headers: str) -> MutatePlan:
    _, plan = planned(url, method, body=body, headers=headers)
    assert isinstance(plan.action, MutatePlan)
    return plan.action


def names(plan: MutatePlan) -> list[str]:
    return [c.name for c in plan.columns]


def id_eq(value: str) -> PlanFilter:
    col = ITEMS.column("id")
    assert col is not None
    return PlanFilter(ColumnRef(col), OpExpr("eq", value))


def test_a_post_writes_the_body_keys_in_body_order() -> None:
    plan = mutation("/items", body='{"name": "a", "id": 1}')
    assert plan == MutatePlan(
        kind="insert",
        relation=ITEMS,
        payload=Payload(b'{"name": "a", "id": 1}', True, ("name", "id")),
        columns=(ITEMS.by_name["name"], ITEMS.by_name["id"]),
        parsers=(None, None),
        where=(),
        conflict=None,
        resolution=None,
        missing_default=False,
        representation=False,
        location_keys=(),
        output=(OutputColumn(None, "*"),),
        order=(),
        media="json",
        content_type="application/json; charset=utf-8",
        max_affected=None,
        count=False,
    )


def test_a_bulk_post_writes_the_keys_of_the_first_object() -> None:
    plan = mutation("/items", body='[{"id": 1, "name": "a"}, {"name": "b", "id": 2}]')
    assert names(plan) == ["id", "name"]
    assert plan.payload is not None and plan.payload.is_object is False


def test_an_unknown_body_key_is_pgrst204() -> None:
    assert refused("/items", "POST", body='{"name": "a", "colour": 1}') == (
        400,
        "PGRST204",
        "Could not find the 'colour' column of 'items' in the schema cache",
        None,
        None,
    )


def test_columns_chooses_the_columns_written_whatever_the_body_has() -> None:
    assert names(mutation("/items?columns=id,name", body='{"name": "a", "other": 1}')) == ["id", "name"]


def test_an_unknown_name_in_columns_is_pgrst204() -> None:
    assert refused("/items?columns=id,helicopter", "POST", body='{"id": 1}')[:3] == (
        400,
        "PGRST204",
        "Could not find the 'helicopter' column of 'items' in the schema cache",
    )


def test_a_write_to_an_unknown_table_is_pgrst205() -> None:
    assert refused("/itemz", "POST", body="{}")[:2] == (404, "PGRST205")


def test_a_domain_column_is_parsed_from_json_by_its_cast() -> None:
    plan = mutation("/paints", body='{"id": 1, "color": "#FF0000"}')
    assert plan.relation == PAINTS
    assert plan.parsers == (None, ("api", "color_from_json"))


def test_merge_duplicates_upserts_on_the_primary_key() -> None:
    plan = mutation("/items", body='{"id": 1}', Prefer="resolution=merge-duplicates")
    assert (plan.conflict, plan.resolution) == (("id",), "merge-duplicates")


def test_on_conflict_names_the_conflict_target() -> None:
    plan = mutation("/items?on_conflict=name", body='{"id": 1}', Prefer="resolution=ignore-duplicates")
    assert (plan.conflict, plan.resolution) == (("name",), "ignore-duplicates")


def test_an_unknown_on_conflict_column_is_pgrst204() -> None:
    assert refused(
        "/items?on_conflict=nope", "POST", body='{"id": 1}', headers={"Prefer": "resolution=merge-duplicates"}
    )[:3] == (400, "PGRST204", "Could not find the 'nope' column of 'items' in the schema cache")


def test_resolution_without_a_primary_key_or_on_conflict_is_a_plain_insert() -> None:
    plan = mutation("/logs", body='{"msg": "x"}', Prefer="resolution=merge-duplicates")
    assert (plan.conflict, plan.resolution) == (None, None)


def test_on_conflict_without_resolution_has_no_effect() -> None:
    plan = mutation("/items?on_conflict=name", body='{"id": 1}')
    assert (plan.conflict, plan.resolution) == (None, None)


def test_headers_only_asks_for_the_primary_key_in_column_order() -> None:
    assert mutation("/items", body='{"id": 1}', Prefer="return=headers-only").location_keys == ("id",)
    assert mutation("/pairs", body='{"k2": "x", "k1": 1}', Prefer="return=headers-only").location_keys == ("k1", "k2")


def test_no_location_without_a_primary_key_or_headers_only() -> None:
    assert mutation("/logs", body='{"msg": "x"}', Prefer="return=headers-only").location_keys == ()
    assert mutation("/items", body='{"id": 1}', Prefer="return=representation").location_keys == ()


def test_preferences_set_missing_default_representation_and_count() -> None:
    plan = mutation("/items", body='{"id": 1}', Prefer="missing=default, return=representation, count=exact")
    assert (plan.missing_default, plan.representation, plan.count) == (True, True, True)
    assert mutation("/items", body='{"id": 1}', Prefer="count=planned").count is False


def test_the_representation_is_shaped_like_a_read() -> None:
    plan = mutation(
        "/items?select=id&order=id.desc", body='{"id": 1}', Prefer="return=representation", Accept="text/csv"
    )
    assert plan.output == (OutputColumn(ColumnRef(ITEMS.by_name["id"]), "id"),)
    assert plan.order == (PlanOrder(ColumnRef(ITEMS.by_name["id"]), "desc", None),)
    assert (plan.media, plan.content_type) == ("csv", "text/csv; charset=utf-8")


def test_patch_updates_the_rows_its_filters_select() -> None:
    plan = mutation("/items?id=eq.1", "PATCH", body='{"name": "b"}')
    assert (plan.kind, names(plan), plan.where) == ("update", ["name"], (id_eq("1"),))


def test_patch_ignores_resolution() -> None:
    plan = mutation("/items?id=eq.1", "PATCH", body='{"name": "b"}', Prefer="resolution=merge-duplicates")
    assert (plan.conflict, plan.resolution) == (None, None)


def test_delete_writes_no_columns_and_ignores_the_body() -> None:
    plan = mutation("/items?id=eq.1", "DELETE", body='{"x": 1}')
    assert (plan.kind, plan.columns, plan.where) == ("delete", (), (id_eq("1"),))


def test_max_affected_applies_to_patch_and_delete_with_strict_handling_only() -> None:
    strict = "handling=strict, max-affected=2"
    assert mutation("/items?id=eq.1", "PATCH", body='{"name": "b"}', Prefer=strict).max_affected == 2
    assert mutation("/items?id=eq.1", "DELETE", body=None, Prefer=strict).max_affected == 2
    assert mutation("/items", body='{"id": 1}', Prefer=strict).max_affected is None
    lenient = "handling=lenient, max-affected=2"
    assert mutation("/items?id=eq.1", "DELETE", body=None, Prefer=lenient).max_affected is None


def test_put_upserts_the_body_row_matching_the_primary_key_filters() -> None:
    plan = mutation("/items?id=eq.1", "PUT", body='{"id": 1, "name": "b"}')
    assert (plan.kind, names(plan), plan.where) == ("put", ["id", "name"], (id_eq("1"),))
    assert (plan.conflict, plan.resolution) == (("id",), "merge-duplicates")


def test_put_on_a_composite_primary_key_needs_every_key_column() -> None:
    plan = mutation("/pairs?k1=eq.1&k2=eq.x", "PUT", body='{"k1": 1, "k2": "x", "v": "y"}')
    assert (plan.relation, plan.conflict) == (PAIRS, ("k1", "k2"))
    assert refused("/pairs?k1=eq.1", "PUT", body='{"k1": 1, "k2": "x"}') == PUT_FILTERS


@pytest.mark.parametrize(
    "url",
    [
        "/items",
        "/items?id=gt.1",
        "/items?id=not.eq.1",
        "/items?name=eq.1",
        "/items?id=eq.1&name=eq.b",
        "/items?id=eq.1&or=(id.eq.1)",
        "/items?id=eq(any).{1}",
        "/logs?msg=eq.1",
    ],
)
def test_put_filters_must_be_exactly_the_primary_key_with_eq_pgrst105(url: str) -> None:
    assert refused(url, "PUT", body='{"id": 1, "name": "b"}') == PUT_FILTERS


@pytest.mark.parametrize("paging", ["limit=1", "offset=1"])
def test_put_with_limit_or_offset_is_pgrst114(paging: str) -> None:
    assert refused(f"/items?id=eq.1&{paging}", "PUT", body='{"id": 1}') == (
        400,
        "PGRST114",
        "limit/offset querystring parameters are not allowed for PUT",
        None,
        None,
    )
