"""Function SET clauses, OUT parameters, character arguments and max-affected on /rpc."""

from __future__ import annotations

from werkzeug.test import Client


def test_function_isolation_level_is_the_transactions(client: Client) -> None:
    assert client.get("/rpc/r_isolation").get_json() == "serializable"


def test_hoisted_settings_apply_to_the_whole_transaction(client: Client) -> None:
    assert client.get("/rpc/r_timeout").get_json() == "7s"


def test_single_out_parameter_gives_an_object(client: Client) -> None:
    r = client.get("/rpc/r_out?a=21")
    assert (r.status_code, r.get_json()) == (200, {"doubled": 42})


def test_character_argument_is_not_truncated(client: Client) -> None:
    assert client.get("/rpc/r_char?c=abc").get_json() == "abc"


def test_max_affected_on_a_set_returning_function(client: Client) -> None:
    strict = {"Prefer": "handling=strict, max-affected=2"}
    assert client.get("/rpc/r_count_to?n=2", headers=strict).status_code == 200
    r = client.get("/rpc/r_count_to?n=3", headers=strict)
    assert r.status_code == 400
    assert r.get_json() == {
        "code": "PGRST124",
        "message": "Query result exceeds max-affected preference constraint",
        "details": "The query affects 3 rows",
        "hint": None,
    }
    assert client.get("/rpc/r_count_to?n=3", headers={"Prefer": "max-affected=2"}).status_code == 200


def test_max_affected_needs_a_set_returning_function(client: Client) -> None:
    r = client.get("/rpc/r_out?a=1", headers={"Prefer": "handling=strict, max-affected=1"})
    assert r.status_code == 400
    assert r.get_json()["code"] == "PGRST128"
    assert r.get_json()["message"] == (
        "Function must return SETOF or TABLE when max-affected preference is used with handling=strict"
    )


def test_single_unnamed_json_parameter_takes_the_whole_body(client: Client) -> None:
    r = client.post("/rpc/r_raw_json", json={"a": [1, 2]})
    assert (r.status_code, r.get_json()) == (200, {"got": {"a": [1, 2]}})


def test_single_unnamed_text_and_bytea_parameters(client: Client) -> None:
    r = client.post("/rpc/r_raw_text", data="hello", headers={"Content-Type": "text/plain"})
    assert (r.status_code, r.get_json()) == (200, "HELLO")
    r = client.post("/rpc/r_raw_bytes", data=b"\x00\x01\x02", headers={"Content-Type": "application/octet-stream"})
    assert (r.status_code, r.get_json()) == (200, 3)


def test_raw_body_without_a_matching_function_is_pgrst202(client: Client) -> None:
    r = client.post("/rpc/r_add", data="x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 404
    assert r.get_json() == {
        "code": "PGRST202",
        "message": "Could not find the function test.r_add in the schema cache",
        "details": "Searched for the function test.r_add with a single unnamed text parameter, but no matches were "
        "found in the schema cache.",
        "hint": None,
    }


def test_variadic_arguments_by_repetition_and_json_array(client: Client) -> None:
    r = client.get("/rpc/r_sum_all?v=1&v=2&v=3")
    assert (r.status_code, r.get_json()) == (200, 6)
    r = client.post("/rpc/r_sum_all", json={"v": [4, 5]})
    assert (r.status_code, r.get_json()) == (200, 9)


def test_bare_record_result_is_answered_whole(client: Client) -> None:
    r = client.get("/rpc/r_record")
    # PostgreSQL names the record's fields after the function's select list.
    assert (r.status_code, r.get_json()) == (200, {"?column?": 1, "text": "one"})
