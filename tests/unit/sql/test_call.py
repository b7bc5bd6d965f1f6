"""sql/call.py: a CallPlan as one statement: the call in a CTE, then the read of its result."""

from __future__ import annotations

import pytest
from psycopg import sql

from pgwsgi.plan.model import CallPlan
from pgwsgi.sql.call import compose_call
from pgwsgi.sql.jsontext import JsonText
from tests.unit.snapshot import function, param, planned, snapshot

GUCS = (
    "nullif(current_setting('response.headers', true), '') AS response_headers, "
    "nullif(current_setting('response.status', true), '') AS response_status"
)
ONE_VALUE = "coalesce((json_agg(_pgrst_t.pgrst_scalar) -> 0)::text, 'null')"


def render(composed: sql.Composable) -> str:
    """Render without a connection: identifiers are quoted the same way."""
    return composed.as_string(None)


def statement(source: str, inner: str, body: str = ONE_VALUE, total: str = "NULL::bigint", page: str = "1") -> str:
    """The text compose_call wraps around the call SOURCE and the read INNER of its result."""
    return (
        f"WITH pgrst_source AS ({source}) SELECT {total} AS total, {page} AS page_total, {body} AS body, {GUCS} "
        f"FROM ({inner}) _pgrst_t"
    )


def scalar_call(call: str, prefix: str = "FROM ") -> str:
    return f"SELECT pgrst_call.pgrst_scalar {prefix}(SELECT {call} AS pgrst_scalar) pgrst_call"


def compose(
    url: str, method: str = "GET", body: str | None = None, content_type: str | None = None, **headers: str
) -> tuple[str, list[object]]:
    """The statement's text, and its parameters with a JSON body as ("json", bytes)."""
    _, plan = planned(url, method, body=body, content_type=content_type, headers=headers)
    assert isinstance(plan.action, CallPlan)
    stmt, params = compose_call(plan.action)
    return render(stmt), [("json", bytes(p.data)) if isinstance(p, JsonText) else p for p in params]


def test_get_arguments_are_typed_parameters_in_named_notation() -> None:
    assert compose("/rpc/add?a=1&b=2") == (
        statement(
            scalar_call('"api"."add"("a" := %s::integer, "b" := %s::integer)'),
            'SELECT "add".pgrst_scalar FROM pgrst_source AS "add"',
        ),
        ["1", "2"],
    )


def test_a_json_body_is_one_parameter_expanded_by_json_to_record() -> None:
    assert compose("/rpc/add", "POST", '{"a": 1, "b": 2}') == (
        statement(
            scalar_call(
                '"api"."add"("a" := pgrst_body."a", "b" := pgrst_body."b")',
                "FROM (SELECT %s AS json_data) pgrst_payload, LATERAL json_to_record(pgrst_payload.json_data) AS "
                'pgrst_body("a" integer, "b" integer), LATERAL ',
            ),
            'SELECT "add".pgrst_scalar FROM pgrst_source AS "add"',
        ),
        [("json", b'{"a": 1, "b": 2}')],
    )


def test_a_repeated_variadic_argument_is_one_array_parameter() -> None:
    text, params = compose("/rpc/sum_all?nums=1&nums=2")
    assert '"api"."sum_all"(VARIADIC "nums" := %s::integer[])' in text
    assert params == [["1", "2"]]


def test_a_variadic_json_argument_is_passed_variadic() -> None:
    text, _ = compose("/rpc/sum_all", "POST", '{"nums": [1, 2]}')
    assert 'pgrst_body("nums" integer[]), LATERAL (SELECT "api"."sum_all"(VARIADIC "nums" := pgrst_body."nums")' in text


def test_a_single_unnamed_json_parameter_takes_the_body_positionally() -> None:
    text, params = compose("/rpc/echo_json", "POST", '[{"x": 1}]')
    source = scalar_call('"api"."echo_json"(%s::json)')
    assert text.startswith(f"WITH pgrst_source AS ({source}) ")
    assert params == [("json", b'[{"x": 1}]')]


def test_a_text_body_is_bound_as_text() -> None:
    text, params = compose("/rpc/echo_text", "POST", "héllo", "text/plain")
    assert '"api"."echo_text"(%s::text)' in text
    assert params == ["héllo"]


def test_a_bytea_body_is_bound_as_bytes() -> None:
    blob = function("blob", param("", "bytea"), returns="integer")
    catalog = snapshot(functions=(blob,))
    _, plan = planned("/rpc/blob", "POST", body=b"\x00\xff", content_type="application/octet-stream", catalog=catalog)
    assert isinstance(plan.action, CallPlan)
    stmt, params = compose_call(plan.action)
    assert '"api"."blob"(%s::bytea)' in render(stmt)
    assert params == [b"\x00\xff"]


VARYING = [
    ("character", "character varying"),
    ("bit", "bit varying"),
    ("character[]", "character varying[]"),
    ("bit[]", "bit varying[]"),
]


@pytest.mark.parametrize(("declared", "cast"), VARYING)
def test_character_and_bit_arguments_are_cast_to_their_varying_types(declared: str, cast: str) -> None:
    fn = function("pad", param("c", declared), returns="text")
    _, plan = planned("/rpc/pad?c=abc", catalog=snapshot(functions=(fn,)))
    stmt, _ = compose_call(plan.action)  # type: ignore[arg-type]
    assert f'"api"."pad"("c" := %s::{cast})' in render(stmt)


@pytest.mark.parametrize(("declared", "cast"), VARYING)
def test_character_and_bit_json_arguments_are_read_as_their_varying_types(declared: str, cast: str) -> None:
    fn = function("pad", param("c", declared), returns="text")
    _, plan = planned("/rpc/pad", "POST", body='{"c": "abc"}', catalog=snapshot(functions=(fn,)))
    stmt, _ = compose_call(plan.action)  # type: ignore[arg-type]
    assert f'AS pgrst_body("c" {cast}), LATERAL' in render(stmt)


def test_an_array_body_passes_the_arguments_of_its_first_object() -> None:
    text, params = compose("/rpc/add", "POST", ' [{"a": 1}, {"a": 2}]')
    assert (
        "FROM (SELECT %s AS json_data) pgrst_payload, LATERAL (SELECT * FROM json_to_recordset(pgrst_payload.json_data) "
        'AS _("a" integer) LIMIT 1) pgrst_body, LATERAL (SELECT "api"."add"("a" := pgrst_body."a")'
    ) in text
    assert params == [("json", b' [{"a": 1}, {"a": 2}]')]


def test_a_void_function_is_still_read_so_that_it_runs() -> None:
    assert compose("/rpc/reset", "POST", "{}") == (
        statement(scalar_call('"api"."reset"()'), 'SELECT "reset".pgrst_scalar FROM pgrst_source AS "reset"'),
        [],
    )


def test_a_set_of_scalars_is_an_array_counted_and_paged() -> None:
    assert compose("/rpc/ids?n=3&limit=2&offset=1", Prefer="count=exact") == (
        statement(
            scalar_call('"api"."ids"("n" := %s::integer)'),
            'SELECT "ids".pgrst_scalar FROM pgrst_source AS "ids" LIMIT %s OFFSET %s',
            "coalesce(json_agg(_pgrst_t.pgrst_scalar)::text, '[]')",
            '(SELECT pg_catalog.count(*) FROM pgrst_source AS "ids")',
            "pg_catalog.count(_pgrst_t)",
        ),
        ["3", 2, 1],
    )


def test_a_set_of_scalars_asked_as_one_object_is_the_value_itself() -> None:
    text, _ = compose("/rpc/ids?n=3", Accept="application/vnd.pgrst.object+json")
    assert f"{ONE_VALUE} AS body" in text


def test_a_composite_result_is_one_object_and_counts_as_one() -> None:
    assert compose("/rpc/first_client?select=name", Prefer="count=exact") == (
        statement(
            'SELECT pgrst_call.* FROM "api"."first_client"() AS pgrst_call',
            'SELECT "clients"."name" AS "name" FROM pgrst_source AS "clients"',
            "coalesce((json_agg(_pgrst_t) -> 0)::text, 'null')",
            "1::bigint",
        ),
        [],
    )


def test_a_table_result_is_filtered_embedded_ordered_and_paged_with_parameters_in_text_order() -> None:
    url = "/rpc/projects_of?client=1&select=id,clients(name)&id=gt.2&order=id&limit=1"
    assert compose(url, Prefer="count=exact") == (
        statement(
            'SELECT pgrst_call.* FROM "api"."projects_of"("client" := %s::integer) AS pgrst_call',
            'SELECT "projects"."id" AS "id", (SELECT jsonb_agg("pgrst_1_rows") -> 0 FROM (SELECT "clients_1"."name" '
            'AS "name" FROM "api"."clients" AS "clients_1" WHERE "clients_1"."id" = "projects"."client_id") '
            '"pgrst_1_rows") AS "clients" FROM pgrst_source AS "projects" WHERE ("projects"."id" > %s) ORDER BY '
            '"projects"."id" LIMIT %s',
            "coalesce(json_agg(_pgrst_t)::text, '[]')",
            '(SELECT pg_catalog.count(*) FROM pgrst_source AS "projects" WHERE ("projects"."id" > %s))',
            "pg_catalog.count(_pgrst_t)",
        ),
        ["1", "2", "2", 1],
    )


def test_a_record_result_as_csv() -> None:
    text, params = compose("/rpc/pairs_out?x=eq.1", Accept="text/csv")
    assert text.startswith(
        'WITH pgrst_source AS (SELECT pgrst_call.* FROM "api"."pairs_out"() AS pgrst_call) SELECT NULL::bigint AS '
        "total, pg_catalog.count(_pgrst_t) AS page_total, coalesce((SELECT string_agg(k, ',')"
    )
    assert text.endswith(
        'FROM (SELECT "pairs_out".* FROM pgrst_source AS "pairs_out" WHERE ("pairs_out"."x" = %s)) _pgrst_t'
    )
    assert params == ["1"]


def test_head_builds_the_same_statement() -> None:
    _, get = planned("/rpc/ids?n=1")
    _, head = planned("/rpc/ids?n=1", "HEAD")
    assert render(compose_call(head.action, head=True)[0]) == render(compose_call(get.action)[0])  # type: ignore[arg-type]
