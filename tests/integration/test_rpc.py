"""Functions as endpoints (/rpc/<name>), as PostgREST v16 answers them (inventory §5, §9).

The functions live in tests/fixtures/rpc.sql (schema test, names r_*). Expected
statuses, headers and bodies follow PostgREST's own specs and code:
test/spec/Feature/Query/RpcSpec.hs, SingularSpec.hs, OptionsSpec.hs and
src/library/PostgREST/{Plan.hs (findProc, callReadPlan), Error.hs (NoRpc,
AmbiguousRpc, pgErrorStatus), Response.hs (CallReadPlan, RoutineInfoPlan),
ApiRequest.hs (getAction), ApiRequest/QueryParams.hs, ApiRequest/Payload.hs}.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from werkzeug.test import Client

from tests.conftest import Server, assert_error, bearer

JSON = "application/json; charset=utf-8"
SINGULAR = "application/vnd.pgrst.object+json"
SINGULAR_CT = "application/vnd.pgrst.object+json; charset=utf-8"
FORM = "application/x-www-form-urlencoded"


# Fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def count_rows(pg_server: Server, test_db: str) -> Iterator[Any]:
    """How many rows a table of ours holds, read by the superuser."""
    conn = psycopg.connect(pg_server.dsn(test_db), autocommit=True)

    def count(table: str, where: str = "true", params: Any = None) -> int:
        return conn.execute(f"SELECT count(*) FROM test.{table} WHERE {where}", params).fetchone()[0]

    yield count
    conn.close()


# Helpers -----------------------------------------------------------------------------------


def post(client: Client, url: str, body: Any = None, *, ctype: str = "application/json", **headers: str):  # noqa: ANN201
    """POST with BODY JSON-encoded unless it is already str/bytes."""
    if body is not None and not isinstance(body, (str, bytes)):
        body = json.dumps(body)
    return client.post(url, data=body if body is not None else b"", headers={"Content-Type": ctype, **headers})


def form(client: Client, url: str, body: str, **headers: str):  # noqa: ANN201
    return post(client, url, body, ctype=FORM, **headers)


def assert_json(r: Any, status: int = 200) -> Any:
    """A JSON success with its Content-Type and exact Content-Length; returns the decoded body."""
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.headers["Content-Type"] == JSON
    data = r.get_data()
    assert r.headers["Content-Length"] == str(len(data))
    return json.loads(data)


def assert_no_content(r: Any) -> None:
    """204 (R-RET-VOID): no body, no Content-Type, no Content-Length."""
    assert r.status_code == 204, r.get_data(as_text=True)
    assert r.get_data() == b""
    assert "Content-Type" not in r.headers
    assert "Content-Length" not in r.headers


def not_found_details(fn: str, args: list[str], suffix: str = "") -> str:
    """PGRST202 details for arguments ARGS (sorted, as PostgREST prints them)."""
    if not args:
        return f"Searched for the function test.{fn} without parameters{suffix}, but no matches were found in the schema cache."
    noun = "parameters" if len(args) > 1 else "parameter"
    return (
        f"Searched for the function test.{fn} with {noun} {', '.join(args)}{suffix}, "
        "but no matches were found in the schema cache."
    )


READ_ONLY_INSERT = "cannot execute INSERT in a read-only transaction"


# R-ARGS-GET, R-ARGS-POST-JSON, R-ARGS-POST-FORM, R-RET-SCALAR ------------------------------


def test_get_scalar_with_query_args(client: Client) -> None:
    r = client.get("/rpc/r_add?a=1&b=2")
    assert assert_json(r) == 3
    assert r.get_data() == b"3"
    assert r.headers["Content-Range"] == "0-0/*"


def test_post_json_object_args(client: Client) -> None:
    r = post(client, "/rpc/r_add", {"a": 4, "b": 5})
    assert assert_json(r) == 9
    assert r.headers["Content-Range"] == "0-0/*"


def test_post_form_args(client: Client) -> None:
    r = form(client, "/rpc/r_add", "a=1&b=2")
    assert assert_json(r) == 3


def test_post_json_array_uses_only_the_first_object(client: Client) -> None:
    r = post(client, "/rpc/r_add", [{"a": 1, "b": 2}, {"a": 4, "b": 6}, {"a": 100, "b": 200}])
    assert assert_json(r) == 3


def test_post_columns_restricts_the_keys_used(client: Client) -> None:
    r = post(client, "/rpc/r_add?columns=a,b", {"a": 1, "b": 2, "junk": "x", "other": 13})
    assert assert_json(r) == 3


def test_text_result_is_a_json_string_with_unicode(client: Client) -> None:
    r = post(client, "/rpc/r_greet", {"name": "￥"})
    assert assert_json(r) == "Hello, ￥"


def test_null_scalar_result_is_json_null(client: Client) -> None:
    r = post(client, "/rpc/r_add", {"a": None, "b": 1})
    assert assert_json(r) is None
    assert r.get_data() == b"null"


def test_function_without_parameters_by_get_and_by_post_with_empty_body(client: Client) -> None:
    assert assert_json(client.get("/rpc/r_noargs")) == "no args"
    assert assert_json(post(client, "/rpc/r_noargs", b"")) == "no args"
    assert assert_json(post(client, "/rpc/r_noargs", {})) == "no args"


def test_post_invalid_json_is_pgrst102(client: Client) -> None:
    r = post(client, "/rpc/r_add", "sdfsdf")
    assert_error(r, 400, "PGRST102", "Empty or invalid json")


def test_post_bare_query_param_is_a_filter_parse_error(client: Client) -> None:
    """R-ARGS-FILTER-POST: on POST every query parameter must be a filter (or reserved)."""
    r = post(client, "/rpc/r_add?a=1", {"b": 2})
    assert_error(
        r,
        400,
        "PGRST100",
        '"failed to parse filter (1)" (line 1, column 1)',
        'unexpected "1" expecting "not" or operator (eq, gt, ...)',
    )


def test_get_repeated_non_variadic_param_last_value_wins(client: Client) -> None:
    assert assert_json(client.get("/rpc/r_greet?name=ignored&name=Ann")) == "Hello, Ann"


def test_get_value_with_a_committed_operator_prefix_must_parse_as_a_filter(client: Client) -> None:
    """`in.`/`is.` commit the parser to a filter: a value that fails there is an error, not an argument."""
    for value in ("in.valid", "is.maybe"):
        r = client.get(f"/rpc/r_greet?name={value}")
        assert r.status_code == 400, value
        assert r.get_json()["code"] == "PGRST100"


def test_argument_that_cannot_be_cast_is_a_postgres_error(client: Client) -> None:
    r = client.get("/rpc/r_add?a=x&b=1")
    assert_error(r, 400, "22P02", 'invalid input syntax for type integer: "x"')


# R-DEFAULTS ----------------------------------------------------------------------------------


def test_parameters_with_defaults_may_be_omitted(client: Client) -> None:
    assert assert_json(client.get("/rpc/r_greet?name=Ann")) == "Hello, Ann"
    assert assert_json(client.get("/rpc/r_greet?name=Ann&greeting=Hi")) == "Hi, Ann"
    assert assert_json(post(client, "/rpc/r_greet", {"name": "Bo"})) == "Hello, Bo"
    assert assert_json(form(client, "/rpc/r_greet", "greeting=Hey&name=Cy")) == "Hey, Cy"


# Filters, select, order, limit, Range on set results (R-RET-SETOF-COMPOSITE) ----------------------


def test_get_mixes_arguments_and_filters_on_a_setof_result(client: Client) -> None:
    r = client.get("/rpc/r_items_under?max=10&id=gt.2&select=id&order=id.desc")
    assert assert_json(r) == [{"id": 4}, {"id": 3}]
    assert r.headers["Content-Range"] == "0-1/*"


def test_post_query_filters_apply_to_the_result(client: Client) -> None:
    r = post(client, "/rpc/r_items_under?id=gt.2&select=id&order=id", {"max": 10})
    assert assert_json(r) == [{"id": 3}, {"id": 4}]


def test_filters_may_reference_unselected_columns(client: Client) -> None:
    r = client.get("/rpc/r_items_under?max=100&select=name&price=lt.5")
    assert assert_json(r) == [{"name": "four"}]
    r = client.get("/rpc/r_items_under?max=100&select=id&or=(name.eq.one,name.eq.five)&order=id")
    assert assert_json(r) == [{"id": 1}, {"id": 5}]


def test_setof_composite_is_an_array_of_objects(client: Client) -> None:
    r = client.get("/rpc/r_items_under?max=10")
    assert assert_json(r) == [
        {"id": 1, "name": "one", "price": 5},
        {"id": 2, "name": "two", "price": 8},
        {"id": 3, "name": "three", "price": 9},
        {"id": 4, "name": "four", "price": 3},
    ]
    assert r.headers["Content-Range"] == "0-3/*"


def test_empty_set_is_an_empty_array(client: Client) -> None:
    r = client.get("/rpc/r_items_under?max=0")
    assert assert_json(r) == []
    assert r.headers["Content-Range"] == "*/*"
    assert assert_json(post(client, "/rpc/r_items_under", {"max": 0})) == []


def test_limit_and_offset_on_a_setof_result(client: Client) -> None:
    r = client.get("/rpc/r_items_under?max=10&select=id&order=id&limit=2&offset=1")
    assert assert_json(r) == [{"id": 2}, {"id": 3}]
    assert r.headers["Content-Range"] == "1-2/*"
    r = post(client, "/rpc/r_items_under?select=id&order=id&limit=2&offset=1", {"max": 10})
    assert assert_json(r) == [{"id": 2}, {"id": 3}]
    assert r.headers["Content-Range"] == "1-2/*"


def test_range_header_on_get(client: Client) -> None:
    r = client.get("/rpc/r_items_under?max=10&select=id&order=id", headers={"Range": "1-1"})
    assert assert_json(r) == [{"id": 2}]
    assert r.headers["Content-Range"] == "1-1/*"


def test_range_header_is_ignored_on_post(client: Client) -> None:
    r = post(client, "/rpc/r_items_under?select=id&order=id", {"max": 10}, Range="1-1")
    assert assert_json(r) == [{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}]
    assert r.headers["Content-Range"] == "0-3/*"


def test_returns_table_is_an_array_of_objects(client: Client) -> None:
    assert assert_json(client.get("/rpc/r_pairs")) == [{"k": 1, "v": "x1"}, {"k": 2, "v": "x2"}, {"k": 3, "v": "x3"}]
    r = client.get("/rpc/r_pairs?select=v&k=gt.1&order=k.desc")
    assert assert_json(r) == [{"v": "x3"}, {"v": "x2"}]


# R-RET-SETOF-SCALAR, R-RET-COMPOSITE, R-RET-VOID -----------------------------------------------


def test_setof_scalar_is_a_json_array_of_values(client: Client) -> None:
    r = client.get("/rpc/r_series?n=3")
    assert assert_json(r) == [1, 2, 3]
    assert r.headers["Content-Range"] == "0-2/*"
    assert assert_json(post(client, "/rpc/r_series", {"n": 2})) == [1, 2]


def test_composite_is_a_json_object(client: Client) -> None:
    r = client.get("/rpc/r_item?id=2")
    assert assert_json(r) == {"id": 2, "name": "two", "price": 8}
    assert r.headers["Content-Range"] == "0-0/*"
    assert assert_json(post(client, "/rpc/r_item", {"id": 3})) == {"id": 3, "name": "three", "price": 9}


def test_select_on_a_composite_result(client: Client) -> None:
    assert assert_json(client.get("/rpc/r_item?id=2&select=name")) == {"name": "two"}
    assert assert_json(post(client, "/rpc/r_item?select=id,price", {"id": 4})) == {"id": 4, "price": 3}


def test_void_is_204_without_body_or_content_type(client: Client) -> None:
    assert_no_content(client.get("/rpc/r_void"))
    assert_no_content(post(client, "/rpc/r_void", {}))


# R-HEAD ------------------------------------------------------------------------------------------


def test_head_has_headers_but_no_body(client: Client) -> None:
    r = client.head("/rpc/r_items_under?max=10")
    assert r.status_code == 200
    assert r.get_data() == b""
    assert r.headers["Content-Type"] == JSON
    assert r.headers["Content-Range"] == "0-3/*"
    assert "Content-Length" not in r.headers


def test_head_executes_the_function(client: Client) -> None:
    r = client.head("/rpc/r_boom")
    assert r.status_code == 400
    assert r.headers["Proxy-Status"] == "PostgREST; error=P0001"


# R-PGRST202 --------------------------------------------------------------------------------------


def test_unknown_function_is_404_pgrst202(client: Client) -> None:
    r = client.get("/rpc/r_does_not_exist")
    assert_error(
        r,
        404,
        "PGRST202",
        "Could not find the function test.r_does_not_exist without parameters in the schema cache",
        not_found_details("r_does_not_exist", []),
    )


def test_unknown_function_hints_the_closest_name(client: Client) -> None:
    r = client.get("/rpc/r_noarg")
    assert_error(
        r,
        404,
        "PGRST202",
        "Could not find the function test.r_noarg without parameters in the schema cache",
        not_found_details("r_noarg", []),
        "Perhaps you meant to call the function test.r_noargs",
    )


def test_unknown_argument_is_404_not_ignored(client: Client) -> None:
    r = client.get("/rpc/r_add?a=1&b=2&c=3")
    assert_error(
        r,
        404,
        "PGRST202",
        "Could not find the function test.r_add(a, b, c) in the schema cache",
        not_found_details("r_add", ["a", "b", "c"]),
        "Perhaps you meant to call the function test.r_add(a, b)",
    )


def test_missing_required_argument_is_404(client: Client) -> None:
    r = client.get("/rpc/r_add?a=1")
    assert_error(
        r,
        404,
        "PGRST202",
        "Could not find the function test.r_add(a) in the schema cache",
        not_found_details("r_add", ["a"]),
        "Perhaps you meant to call the function test.r_add(a, b)",
    )
    # No hint: the fuzzy search finds nothing close to "()".
    r = client.get("/rpc/r_add")
    assert_error(
        r,
        404,
        "PGRST202",
        "Could not find the function test.r_add without parameters in the schema cache",
        not_found_details("r_add", []),
    )


def test_argument_keys_are_listed_sorted(client: Client) -> None:
    r = client.get("/rpc/r_add?c=3&b=2&a=1")
    assert r.status_code == 404
    assert r.get_json()["message"] == "Could not find the function test.r_add(a, b, c) in the schema cache"


def test_value_that_parses_as_a_filter_is_not_an_argument(client: Client) -> None:
    """`a=eq.1` is a filter on the result, so only `b` is an argument: no function matches."""
    r = client.get("/rpc/r_add?a=eq.1&b=2")
    assert_error(
        r,
        404,
        "PGRST202",
        "Could not find the function test.r_add(b) in the schema cache",
        not_found_details("r_add", ["b"]),
        "Perhaps you meant to call the function test.r_add(a, b)",
    )


def test_post_json_unknown_argument_mentions_the_unnamed_json_fallback(client: Client) -> None:
    r = post(client, "/rpc/r_add", {"a": 1, "c": 2})
    assert_error(
        r,
        404,
        "PGRST202",
        "Could not find the function test.r_add(a, c) in the schema cache",
        not_found_details("r_add", ["a", "c"], " or with a single unnamed json/jsonb parameter"),
        "Perhaps you meant to call the function test.r_add(a, b)",
    )


def test_post_form_unknown_argument_has_plain_details(client: Client) -> None:
    r = form(client, "/rpc/r_add", "a=1&c=2")
    assert_error(
        r,
        404,
        "PGRST202",
        "Could not find the function test.r_add(a, c) in the schema cache",
        not_found_details("r_add", ["a", "c"]),
        "Perhaps you meant to call the function test.r_add(a, b)",
    )


# R-RESOLVE, R-PGRST203 ----------------------------------------------------------------------------

AMBIGUOUS_HINT = (
    "Try renaming the parameters or the function itself in the database so function overloading can be resolved"
)


def test_overloads_are_chosen_by_argument_names(client: Client) -> None:
    assert assert_json(client.get("/rpc/r_over?a=5")) == "a=5"
    assert assert_json(client.get("/rpc/r_over?b=y")) == "b=y"
    assert assert_json(post(client, "/rpc/r_over", {"b": "z"})) == "b=z"
    assert assert_json(form(client, "/rpc/r_over", "a=7")) == "a=7"


def test_overloads_matching_the_same_arguments_are_300_pgrst203(client: Client) -> None:
    r = client.get("/rpc/r_over")
    assert_error(
        r,
        300,
        "PGRST203",
        "Could not choose the best candidate function between: test.r_over(a => integer), test.r_over(b => text)",
        None,
        AMBIGUOUS_HINT,
    )
    assert post(client, "/rpc/r_over", {}).status_code == 300


def test_overloads_differing_only_by_type_are_300_pgrst203(client: Client) -> None:
    r = client.get("/rpc/r_same?arg=1")
    assert_error(
        r,
        300,
        "PGRST203",
        "Could not choose the best candidate function between: test.r_same(arg => integer), test.r_same(arg => text)",
        None,
        AMBIGUOUS_HINT,
    )


# R-METHODS ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_other_methods_are_405_pgrst101(client: Client, method: str) -> None:
    r = client.open("/rpc/r_add?a=1&b=2", method=method, data=b"{}", headers={"Content-Type": "application/json"})
    assert_error(r, 405, "PGRST101", f"Cannot use the {method} method on RPC")


def test_method_is_checked_before_the_function_is_looked_up(client: Client) -> None:
    r = client.delete("/rpc/r_does_not_exist")
    assert_error(r, 405, "PGRST101", "Cannot use the DELETE method on RPC")


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/rpc/r_noargs", "OPTIONS,GET,HEAD,POST"),  # STABLE
        ("/rpc/r_pairs", "OPTIONS,GET,HEAD,POST"),  # IMMUTABLE
        ("/rpc/r_tick", "OPTIONS,POST"),  # VOLATILE
    ],
)
def test_options_allow_by_volatility(client: Client, path: str, allow: str) -> None:
    r = client.options(path)
    assert r.status_code == 200
    assert r.headers["Allow"] == allow
    assert r.headers["Content-Length"] == "0"
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.get_data() == b""


def test_options_resolves_the_function_without_query_arguments(client: Client) -> None:
    """OPTIONS is not a GET-style invocation: no query parameter is an argument (ApiRequest.actIsInvokeSafe)."""
    r = client.options("/rpc/r_add")
    assert_error(
        r,
        404,
        "PGRST202",
        "Could not find the function test.r_add without parameters in the schema cache",
        not_found_details("r_add", []),
    )
    r = client.options("/rpc/r_add?a=1&b=2")
    assert_error(
        r,
        400,
        "PGRST100",
        '"failed to parse filter (1)" (line 1, column 1)',
        'unexpected "1" expecting "not" or operator (eq, gt, ...)',
    )


# R-TXMODE ------------------------------------------------------------------------------------------------


def test_transaction_is_read_only_for_get_and_for_post_of_stable(client: Client) -> None:
    assert assert_json(client.get("/rpc/r_tx_mode")) == "on"
    assert assert_json(post(client, "/rpc/r_tx_mode", {})) == "on"
    assert assert_json(client.get("/rpc/r_tx_mode_volatile")) == "on"
    assert assert_json(post(client, "/rpc/r_tx_mode_volatile", {})) == "off"


def test_post_volatile_function_writes(client: Client, count_rows: Any) -> None:
    r = post(client, "/rpc/r_note_add", {"note": "posted by json"})
    assert_no_content(r)
    assert count_rows("r_notes", "note = %s", ["posted by json"]) == 1
    assert_no_content(form(client, "/rpc/r_note_add", "note=posted+by+form"))
    assert count_rows("r_notes", "note = %s", ["posted by form"]) == 1


def test_get_volatile_function_that_writes_is_405_25006(client: Client, count_rows: Any) -> None:
    r = client.get("/rpc/r_note_add?note=by+get")
    assert_error(r, 405, "25006", READ_ONLY_INSERT)
    r = client.head("/rpc/r_note_add?note=by+get")
    assert r.status_code == 405
    assert r.get_data() == b""
    assert count_rows("r_notes", "note = %s", ["by get"]) == 0


def test_post_stable_function_runs_read_only(client: Client, count_rows: Any) -> None:
    r = post(client, "/rpc/r_stable_writer", {"note": "stable write"})
    assert_error(r, 405, "25006", READ_ONLY_INSERT)
    assert count_rows("r_notes", "note = %s", ["stable write"]) == 0


def test_error_in_function_rolls_back_its_writes(client: Client, count_rows: Any) -> None:
    r = post(client, "/rpc/r_note_then_boom", {"note": "rolled back"})
    assert_error(r, 400, "P0001", "after the insert")
    assert count_rows("r_notes", "note = %s", ["rolled back"]) == 0


# T-SINGULAR on functions ---------------------------------------------------------------------------------


def test_singular_on_a_setof_result_with_one_row(client: Client) -> None:
    r = client.get("/rpc/r_items_under?max=10&id=eq.2", headers={"Accept": SINGULAR})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == SINGULAR_CT
    assert r.get_json() == {"id": 2, "name": "two", "price": 8}
    r = post(client, "/rpc/r_items_under?id=eq.4&select=name", {"max": 10}, Accept=SINGULAR)
    assert r.status_code == 200
    assert r.get_json() == {"name": "four"}


def test_singular_on_a_setof_result_with_many_rows_is_406(client: Client) -> None:
    r = client.get("/rpc/r_items_under?max=10", headers={"Accept": SINGULAR})
    assert_error(r, 406, "PGRST116", "Cannot coerce the result to a single JSON object", "The result contains 4 rows")
    r = post(client, "/rpc/r_items_under", {"max": 0}, Accept=SINGULAR)
    assert_error(r, 406, "PGRST116", "Cannot coerce the result to a single JSON object", "The result contains 0 rows")


def test_singular_on_scalar_and_composite_results(client: Client) -> None:
    r = client.get("/rpc/r_add?a=1&b=2", headers={"Accept": SINGULAR})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == SINGULAR_CT
    assert r.get_data() == b"3"
    r = client.get("/rpc/r_item?id=1", headers={"Accept": SINGULAR})
    assert r.status_code == 200
    assert r.get_json() == {"id": 1, "name": "one", "price": 5}


def test_singular_failure_rolls_back_a_volatile_function(client: Client, count_rows: Any) -> None:
    before = count_rows("r_calls")
    r = post(client, "/rpc/r_tick", {}, Accept=SINGULAR)
    assert_error(r, 406, "PGRST116", "Cannot coerce the result to a single JSON object", "The result contains 3 rows")
    assert count_rows("r_calls") == before


# R-COUNT, R-EXEC-ONCE ----------------------------------------------------------------------------------------


def test_exact_count_on_a_setof_result(client: Client) -> None:
    r = client.get("/rpc/r_items_under?max=10&select=id", headers={"Prefer": "count=exact"})
    assert r.status_code == 200
    assert r.headers["Content-Range"] == "0-3/4"
    assert r.headers["Preference-Applied"] == "count=exact"
    r = client.get("/rpc/r_items_under?max=10&select=id&order=id&limit=2", headers={"Prefer": "count=exact"})
    assert r.status_code == 206
    assert r.get_json() == [{"id": 1}, {"id": 2}]
    assert r.headers["Content-Range"] == "0-1/4"
    r = post(client, "/rpc/r_items_under?select=id&order=id&limit=1&offset=1", {"max": 10}, Prefer="count=exact")
    assert r.status_code == 206
    assert r.get_json() == [{"id": 2}]
    assert r.headers["Content-Range"] == "1-1/4"


def test_exact_count_on_head(client: Client) -> None:
    r = client.head("/rpc/r_items_under?max=10", headers={"Prefer": "count=exact"})
    assert r.status_code == 200
    assert r.get_data() == b""
    assert r.headers["Content-Range"] == "0-3/4"


def test_exact_count_of_single_results_is_one(client: Client) -> None:
    r = client.get("/rpc/r_add?a=3&b=4", headers={"Prefer": "count=exact"})
    assert r.status_code == 200
    assert r.get_data() == b"7"
    assert r.headers["Content-Range"] == "0-0/1"
    r = client.get("/rpc/r_item?id=1", headers={"Prefer": "count=exact"})
    assert r.status_code == 200
    assert r.headers["Content-Range"] == "0-0/1"


def test_volatile_setof_function_runs_once_with_exact_count_and_limit(client: Client, count_rows: Any) -> None:
    before = count_rows("r_calls")
    r = post(client, "/rpc/r_tick?select=id&limit=1", {}, Prefer="count=exact")
    assert r.status_code == 206
    assert r.get_json() == [{"id": 1}]
    assert r.headers["Content-Range"] == "0-0/3"
    assert count_rows("r_calls") == before + 1


def test_volatile_function_runs_once_per_post(client: Client, count_rows: Any) -> None:
    before = count_rows("r_calls")
    r = post(client, "/rpc/r_tick", {})
    assert assert_json(r) == [
        {"id": 1, "name": "one", "price": 5},
        {"id": 2, "name": "two", "price": 8},
        {"id": 3, "name": "three", "price": 9},
    ]
    assert count_rows("r_calls") == before + 1
    post(client, "/rpc/r_tick", b"")
    assert count_rows("r_calls") == before + 2


# R-VARIADIC ------------------------------------------------------------------------------------------------


def test_variadic_by_repeated_get_params(client: Client) -> None:
    assert assert_json(client.get("/rpc/r_variadic?v=hi&v=there")) == ["hi", "there"]
    assert assert_json(client.get("/rpc/r_variadic?v=hi")) == ["hi"]
    assert assert_json(client.get("/rpc/r_variadic")) == []


def test_variadic_by_json_array(client: Client) -> None:
    assert assert_json(post(client, "/rpc/r_variadic", {"v": ["hi", "hello", "there"]})) == ["hi", "hello", "there"]


def test_variadic_by_repeated_form_fields(client: Client) -> None:
    assert assert_json(form(client, "/rpc/r_variadic", "v=hi&v=there")) == ["hi", "there"]
    assert assert_json(form(client, "/rpc/r_variadic", "v=hi")) == ["hi"]
    assert assert_json(form(client, "/rpc/r_variadic", "")) == []


# Errors raised inside functions (§9) --------------------------------------------------------------------------


def test_raise_exception_is_400_with_detail_and_hint(client: Client) -> None:
    assert_error(client.get("/rpc/r_boom"), 400, "P0001", "boom", "d", "h")
    assert_error(post(client, "/rpc/r_boom", {}), 400, "P0001", "boom", "d", "h")


def test_raise_ptnnn_sets_the_status_and_reason_phrase(client: Client) -> None:
    r = client.get("/rpc/r_pay")
    assert r.status == "402 Pay up"
    assert_error(r, 402, "PT402", "Pay up", "Quota exceeded", "Upgrade your plan")


def test_raise_pt_with_non_numeric_status_is_500(client: Client) -> None:
    assert_error(client.get("/rpc/r_bad_pt"), 500, "PT40A", "Wrong")


def test_raise_pgrst_sets_status_headers_and_body(client: Client) -> None:
    r = client.get("/rpc/r_teapot")
    assert r.status_code == 418
    assert r.status == "418 I'm a teapot"
    assert r.headers["X-A"] == "b"
    assert_error(r, 418, "123", "m")


def test_raise_pgrst_with_status_text(client: Client) -> None:
    r = post(client, "/rpc/r_pgrst_status_text", {})
    assert r.status == "404 My Not Found"
    assert r.headers["X-Header"] == "str"
    assert_error(r, 404, "ABC", "Gone fishing", "back soon", "try later")


def test_raise_pgrst_with_invalid_message_json_is_pgrst121(client: Client) -> None:
    assert_error(
        client.get("/rpc/r_pgrst_bad_message"),
        500,
        "PGRST121",
        "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error",
        "Invalid JSON value for MESSAGE: 'INVALID'",
        "MESSAGE must be a JSON object with obligatory keys: 'code', 'message' and optional keys: 'details', 'hint'.",
    )


def test_raise_pgrst_without_detail_is_pgrst121(client: Client) -> None:
    assert_error(
        client.get("/rpc/r_pgrst_no_detail"),
        500,
        "PGRST121",
        "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error",
        "DETAIL is missing in the RAISE statement",
        "DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'.",
    )


def test_raised_sqlstate_maps_like_any_postgres_error(client: Client) -> None:
    assert_error(client.get("/rpc/r_duplicate"), 409, "23505", "duplicate thing")
    assert_error(client.get("/rpc/r_assert"), 500, "P0004", "nope")


def test_anonymous_without_execute_privilege_is_401(client: Client) -> None:
    r = client.get("/rpc/r_secret")
    assert_error(r, 401, "42501", "permission denied for function r_secret")
    assert r.headers["WWW-Authenticate"] == "Bearer"


def test_authenticated_role_without_execute_privilege_is_403(client: Client) -> None:
    r = client.get("/rpc/r_secret", headers=bearer(role="pgwsgi_user"))
    assert_error(r, 403, "42501", "permission denied for function r_secret")
    assert "WWW-Authenticate" not in r.headers
    r = post(client, "/rpc/r_secret", {}, **bearer(role="pgwsgi_admin"))
    assert assert_json(r) == 42
