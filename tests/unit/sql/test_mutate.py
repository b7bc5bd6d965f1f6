"""sql/mutate.py: a MutatePlan as one statement: the write in a CTE, then the numbers and body the response needs."""

from __future__ import annotations

from psycopg import sql

from pgwsgi.plan.model import MutatePlan
from pgwsgi.sql.jsontext import JsonText
from pgwsgi.sql.mutate import compose_mutation
from tests.unit.snapshot import planned

GUCS = (
    "nullif(current_setting('response.headers', true), '') AS response_headers, "
    "nullif(current_setting('response.status', true), '') AS response_status"
)
INSERTED = "nullif(current_setting('pgrst.inserted', true), '')::int"
COUNT_INSERT = (
    "pg_catalog.set_config('pgrst.inserted', (coalesce(nullif(current_setting('pgrst.inserted', true), '')::int, 0)"
    " + 1)::text, true) <> '0'"
)
COUNT_UPDATE = (
    "pg_catalog.set_config('pgrst.inserted', (coalesce(nullif(current_setting('pgrst.inserted', true), '')::int, 0)"
    " - 1)::text, true) <> '-1'"
)
PAYLOAD = "FROM (SELECT %s AS json_data) pgrst_payload, "
ITEM_BODY = (
    'LATERAL (SELECT "id", "name" FROM json_to_record(pgrst_payload.json_data) AS _("id" "pg_catalog"."int4", '
    '"name" "pg_catalog"."text")) pgrst_body'
)
INSERT_ITEM = f'INSERT INTO "api"."items" ("id", "name") SELECT pgrst_body."id", pgrst_body."name" {PAYLOAD}{ITEM_BODY}'


def render(composed: sql.Composable) -> str:
    """Render without a connection: identifiers are quoted the same way."""
    return composed.as_string(None)


def statement(
    mutation: str, inner: str = "SELECT 1 FROM pgrst_source", location: str = "NULL::text", body: str = "NULL::text"
) -> str:
    """The text compose_mutation wraps around MUTATION and the select INNER over its rows."""
    return (
        f"WITH pgrst_source AS ({mutation}) SELECT NULL::bigint AS total, pg_catalog.count(_pgrst_t) AS page_total, "
        f"{location} AS location, {body} AS body, {GUCS}, {INSERTED} AS inserted FROM ({inner}) _pgrst_t"
    )


def compose(url: str, method: str = "POST", body: str | None = "{}", **headers: str) -> tuple[str, list[object]]:
    """The statement's text, and its parameters with the JSON body as ("json", bytes)."""
    _, plan = planned(url, method, body=body, headers=headers)
    assert isinstance(plan.action, MutatePlan)
    stmt, params = compose_mutation(plan.action)
    shown = [("json", bytes(p.data)) if isinstance(p, JsonText) else p for p in params]
    return render(stmt), shown


def test_a_post_inserts_the_typed_body_columns_in_one_statement() -> None:
    assert compose("/items", body='{"id": 1, "name": "a"}') == (
        statement(f"{INSERT_ITEM} RETURNING 1"),
        [("json", b'{"id": 1, "name": "a"}')],
    )


def test_the_body_is_bound_as_it_is_never_copied() -> None:
    _, plan = planned("/items", "POST", body='[{"id": 1}]')
    assert isinstance(plan.action, MutatePlan) and plan.action.payload is not None
    _, params = compose_mutation(plan.action)
    assert isinstance(params[0], JsonText)
    assert params[0].data is plan.action.payload.json


def test_an_array_body_is_expanded_by_json_to_recordset() -> None:
    text, _ = compose("/items", body='[{"id": 1, "name": "a"}]')
    assert "json_to_recordset(pgrst_payload.json_data)" in text
    assert "json_to_record(" not in text


def test_a_representation_selects_from_the_written_rows() -> None:
    text, _ = compose(
        "/items?select=id,name&order=id.desc", body='{"id": 1, "name": "a"}', Prefer="return=representation"
    )
    assert text == statement(
        f'{INSERT_ITEM} RETURNING "items"."id", "items"."name"',
        'SELECT "items"."id" AS "id", "items"."name" AS "name" FROM pgrst_source AS "items" ORDER BY "items"."id" DESC',
        body="coalesce(json_agg(_pgrst_t)::text, '[]')",
    )


def test_a_representation_of_everything_returns_the_whole_row() -> None:
    text, _ = compose("/items", body='{"id": 1, "name": "a"}', Prefer="return=representation")
    assert f'{INSERT_ITEM} RETURNING "items".*' in text
    text, _ = compose("/items?select=id,label", body='{"id": 1, "name": "a"}', Prefer="return=representation")
    assert f'{INSERT_ITEM} RETURNING "items".*' in text  # a computed field takes the whole row


def test_a_representation_returns_the_key_and_the_columns_embeds_join_on() -> None:
    text, _ = compose("/projects?select=name,clients(name)", body='{"name": "p"}', Prefer="return=representation")
    assert 'RETURNING "projects"."name", "projects"."client_id", "projects"."id") SELECT' in text
    text, _ = compose("/items?select=data->>k&order=price", body='{"id": 1}', Prefer="return=representation")
    assert 'RETURNING "items"."data", "items"."price", "items"."id") SELECT' in text


def test_an_empty_patch_with_a_representation_reads_the_returned_columns() -> None:
    text, _ = compose("/items?id=eq.1&select=name", "PATCH", Prefer="return=representation")
    assert text.startswith('WITH pgrst_source AS (SELECT "items"."name", "items"."id" FROM "api"."items" AS "items" ')


def test_headers_only_builds_the_location_from_the_primary_key() -> None:
    text, _ = compose("/pairs", body='{"k1": 1, "k2": "x"}', Prefer="return=headers-only")
    assert text == statement(
        'INSERT INTO "api"."pairs" ("k1", "k2") SELECT pgrst_body."k1", pgrst_body."k2" '
        f"{PAYLOAD}"
        'LATERAL (SELECT "k1", "k2" FROM json_to_record(pgrst_payload.json_data) AS _("k1" "pg_catalog"."int4", '
        '"k2" "pg_catalog"."text")) pgrst_body RETURNING "pairs".*',
        'SELECT json_build_object(\'k1\', "pairs"."k1"::text, \'k2\', "pairs"."k2"::text) AS pgrst_location '
        'FROM pgrst_source AS "pairs"',
        location="CASE WHEN pg_catalog.count(_pgrst_t) = 1 THEN min(_pgrst_t.pgrst_location::text) END",
    )


def test_merge_duplicates_counts_inserted_against_updated_rows() -> None:
    text, _ = compose("/items", body='{"id": 1, "name": "a"}', Prefer="resolution=merge-duplicates")
    assert text == statement(
        f'{INSERT_ITEM} WHERE {COUNT_INSERT} ON CONFLICT ("id") DO UPDATE SET "id" = EXCLUDED."id", '
        f'"name" = EXCLUDED."name" WHERE {COUNT_UPDATE} RETURNING 1'
    )


def test_ignore_duplicates_does_nothing_on_conflict() -> None:
    text, _ = compose("/items?on_conflict=name", body='{"id": 1, "name": "a"}', Prefer="resolution=ignore-duplicates")
    assert text == statement(f'{INSERT_ITEM} ON CONFLICT ("name") DO NOTHING RETURNING 1')


def test_an_empty_object_inserts_one_row_of_defaults() -> None:
    assert compose("/items", body="{}") == (
        statement(
            f'INSERT INTO "api"."items" SELECT {PAYLOAD}LATERAL (SELECT FROM (VALUES (1)) _) pgrst_body RETURNING 1'
        ),
        [("json", b"{}")],
    )


def test_an_empty_array_inserts_nothing() -> None:
    text, _ = compose("/items", body="[]")
    assert text == statement(
        f'INSERT INTO "api"."items" SELECT {PAYLOAD}LATERAL (SELECT FROM json_array_elements(pgrst_payload.json_data) _) '
        "pgrst_body RETURNING 1"
    )


def test_merging_an_empty_object_does_nothing_on_conflict() -> None:
    text, _ = compose("/items", body="{}", Prefer="resolution=merge-duplicates")
    assert 'ON CONFLICT ("id") DO NOTHING RETURNING 1' in text


def test_missing_default_fills_absent_keys_from_the_column_defaults() -> None:
    text, _ = compose("/items?columns=id,tags", body='{"id": 1}', Prefer="missing=default")
    assert text == statement(
        'INSERT INTO "api"."items" ("id", "tags") SELECT pgrst_body."id", pgrst_body."tags" '
        f"{PAYLOAD}LATERAL (SELECT jsonb_build_object('tags', '{{}}'::text[]) || pgrst_payload.json_data::jsonb AS val) "
        'pgrst_json_defs, LATERAL (SELECT "id", "tags" FROM jsonb_to_record(pgrst_json_defs.val) AS '
        '_("id" "pg_catalog"."int4", "tags" "pg_catalog"."_text")) pgrst_body RETURNING 1'
    )


def test_missing_default_on_an_array_adds_the_defaults_to_each_element() -> None:
    text, _ = compose("/items?columns=id,tags", body='[{"id": 1}]', Prefer="missing=default")
    assert (
        "LATERAL (SELECT jsonb_agg(jsonb_build_object('tags', '{}'::text[]) || elem) AS val "
        "FROM jsonb_array_elements(pgrst_payload.json_data::jsonb) elem) pgrst_json_defs, "
        'LATERAL (SELECT "id", "tags" FROM jsonb_to_recordset(pgrst_json_defs.val)'
    ) in text


def test_missing_default_without_defaults_keeps_plain_json() -> None:
    text, _ = compose("/items", body='{"id": 1, "name": "a"}', Prefer="missing=default")
    assert text == statement(f"{INSERT_ITEM} RETURNING 1")


def test_a_domain_column_is_read_as_json_and_parsed_by_its_cast() -> None:
    text, _ = compose("/paints", body='{"id": 1, "color": "#FF0000"}')
    assert (
        'LATERAL (SELECT "id", "api"."color_from_json"("color") AS "color" FROM json_to_record(pgrst_payload.json_data) '
        'AS _("id" "pg_catalog"."int4", "color" "pg_catalog"."json")) pgrst_body'
    ) in text


def test_patch_updates_from_the_body_where_the_filters_match() -> None:
    assert compose("/items?id=eq.1", "PATCH", body='{"name": "b"}') == (
        statement(
            f'UPDATE "api"."items" SET "name" = pgrst_body."name" {PAYLOAD}LATERAL (SELECT "name" FROM '
            'json_to_record(pgrst_payload.json_data) AS _("name" "pg_catalog"."text")) pgrst_body '
            'WHERE ("items"."id" = %s) RETURNING 1'
        ),
        [("json", b'{"name": "b"}'), "1"],
    )


def test_patch_with_an_empty_object_updates_nothing() -> None:
    assert compose("/items?id=eq.1", "PATCH", body="{}") == (
        statement('SELECT NULL FROM "api"."items" AS "items" WHERE false'),
        [],
    )


def test_delete_removes_the_filtered_rows() -> None:
    assert compose("/items?id=eq.1", "DELETE", body=None) == (
        statement('DELETE FROM "api"."items" WHERE ("items"."id" = %s) RETURNING 1'),
        ["1"],
    )


def test_delete_with_representation_returns_the_deleted_rows() -> None:
    text, _ = compose("/items?id=eq.1", "DELETE", body=None, Prefer="return=representation")
    assert text == statement(
        'DELETE FROM "api"."items" WHERE ("items"."id" = %s) RETURNING "items".*',
        'SELECT "items".* FROM pgrst_source AS "items"',
        body="coalesce(json_agg(_pgrst_t)::text, '[]')",
    )


def test_put_upserts_only_the_body_row_matching_the_url() -> None:
    assert compose("/items?id=eq.1", "PUT", body='{"id": 1, "name": "b"}') == (
        statement(
            f'{INSERT_ITEM} WHERE ("pgrst_body"."id" = %s) AND {COUNT_INSERT} ON CONFLICT ("id") DO UPDATE SET '
            f'"id" = EXCLUDED."id", "name" = EXCLUDED."name" WHERE {COUNT_UPDATE} RETURNING 1'
        ),
        [("json", b'{"id": 1, "name": "b"}'), "1"],
    )
