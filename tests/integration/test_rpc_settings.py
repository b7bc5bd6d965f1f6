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
