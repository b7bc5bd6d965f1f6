"""plan/call.py: /rpc/<name> resolved to one overload, its arguments, and the read of its result (§5)."""

from __future__ import annotations

import pytest

from pgwsgi.errors import ApiError
from pgwsgi.plan.call import resolve_function, returns_jwt_claims
from pgwsgi.plan.model import CallPlan
from tests.unit.snapshot import (
    ADD,
    CATALOG,
    CLIENTS,
    ECHO_JSON,
    ECHO_TEXT,
    FIRST_CLIENT,
    IDS,
    LOGIN,
    NOARGS,
    OVER_A,
    OVER_B,
    PROJECTS,
    SUM_ALL,
    function,
    param,
    planned,
    refused,
    request,
    snapshot,
)

A, B = ADD.parameters
NOT_FOUND = "but no matches were found in the schema cache."
AMBIGUOUS_HINT = (
    "Try renaming the parameters or the function itself in the database so function overloading can be resolved"
)


def call(
    url: str, method: str = "GET", body: str | None = None, content_type: str | None = None, **headers: str
) -> CallPlan:
    _, plan = planned(url, method, body=body, content_type=content_type, headers=headers)
    assert isinstance(plan.action, CallPlan)
    return plan.action


def test_get_arguments_are_text_values_of_the_named_parameters() -> None:
    plan = call("/rpc/add?a=1&b=2")
    assert (plan.function, plan.text_args, plan.json_body, plan.json_params) == (
        ADD,
        ((A, ("1",)), (B, ("2",))),
        None,
        (),
    )
    assert (plan.shape, plan.read_only, plan.raw_arg, plan.max_affected) == ("scalar", True, None, None)


def test_an_optional_parameter_may_be_left_out() -> None:
    assert call("/rpc/add?a=1").text_args == ((A, ("1",)),)


def test_a_repeated_argument_keeps_its_last_value() -> None:
    assert call("/rpc/add?a=1&a=2").text_args == ((A, ("2",)),)


def test_a_repeated_variadic_argument_keeps_every_value() -> None:
    plan = call("/rpc/sum_all?nums=1&nums=2")
    assert plan.text_args == ((SUM_ALL.parameters[0], ("1", "2")),)


def test_a_post_json_object_is_bound_whole_with_its_keys_as_parameters() -> None:
    plan = call("/rpc/add", "POST", '{"a": 1, "b": 2}')
    assert (plan.text_args, bytes(plan.json_body or b""), plan.json_params) == ((), b'{"a": 1, "b": 2}', (A, B))


def test_a_post_json_array_calls_with_its_first_object() -> None:
    # The array is bound whole; SQL reads its first object (json_to_recordset ... LIMIT 1).
    plan = call("/rpc/add", "POST", '[{"a": 1}, {"a": 5}]')
    assert (bytes(plan.json_body or b""), plan.json_params) == (b'[{"a": 1}, {"a": 5}]', (A,))


def test_a_post_json_array_of_objects_with_other_keys_is_pgrst102() -> None:
    assert refused("/rpc/add", "POST", body='[{"a": 1}, {"b": 5}]')[:3] == (
        400,
        "PGRST102",
        "All object keys must match",
    )
    assert refused("/rpc/add", "POST", body="[1, 2]")[:3] == (400, "PGRST102", "All object keys must match")


def test_columns_limits_the_json_keys_passed() -> None:
    assert call("/rpc/add?columns=a", "POST", '{"a": 1, "b": 2}').json_params == (A,)


def test_an_invalid_json_body_is_pgrst102() -> None:
    assert refused("/rpc/add", "POST", body="{nope") == (400, "PGRST102", "Empty or invalid json", None, None)


def test_a_form_body_gives_text_arguments() -> None:
    plan = call("/rpc/add", "POST", "a=1&b=2", "application/x-www-form-urlencoded")
    assert (plan.text_args, plan.json_body) == (((A, ("1",)), (B, ("2",))), None)


def test_a_function_with_a_single_unnamed_json_parameter_takes_the_whole_body() -> None:
    plan = call("/rpc/echo_json", "POST", '[{"x": 1}, {"x": 2}]')
    body = b'[{"x": 1}, {"x": 2}]'
    assert (plan.function, plan.raw_arg, plan.json_body) == (ECHO_JSON, (ECHO_JSON.parameters[0], body), None)


def test_a_json_scalar_is_an_empty_array_to_the_single_unnamed_json_parameter() -> None:
    # PostgREST's payloadAttributes: a body that is neither an object nor an array of them is `[]`.
    assert call("/rpc/echo_json", "POST", "5").raw_arg == (ECHO_JSON.parameters[0], b"[]")


def test_a_text_body_goes_to_the_single_unnamed_text_parameter() -> None:
    plan = call("/rpc/echo_text", "POST", "hello", "text/plain")
    assert (plan.function, plan.raw_arg) == (ECHO_TEXT, (ECHO_TEXT.parameters[0], b"hello"))


def test_a_raw_body_without_a_matching_function_lists_no_parameters() -> None:
    assert refused("/rpc/add", "POST", body="hello", content_type="text/plain") == (
        404,
        "PGRST202",
        "Could not find the function api.add in the schema cache",
        f"Searched for the function api.add with a single unnamed text parameter, {NOT_FOUND}",
        None,
    )


def test_an_unknown_function_is_pgrst202_without_parameters() -> None:
    assert refused("/rpc/nope") == (
        404,
        "PGRST202",
        "Could not find the function api.nope without parameters in the schema cache",
        f"Searched for the function api.nope without parameters, {NOT_FOUND}",
        None,
    )


def test_an_unknown_function_hints_the_closest_name() -> None:
    assert refused("/rpc/noarg")[4] == "Perhaps you meant to call the function api.noargs"


def test_unknown_arguments_are_listed_sorted_with_the_closest_parameter_list() -> None:
    assert refused("/rpc/add?c=3&b=2&a=1") == (
        404,
        "PGRST202",
        "Could not find the function api.add(a, b, c) in the schema cache",
        f"Searched for the function api.add with parameters a, b, c, {NOT_FOUND}",
        "Perhaps you meant to call the function api.add(a, b)",
    )


def test_a_missing_required_argument_is_pgrst202() -> None:
    assert refused("/rpc/add?b=2") == (
        404,
        "PGRST202",
        "Could not find the function api.add(b) in the schema cache",
        f"Searched for the function api.add with parameter b, {NOT_FOUND}",
        "Perhaps you meant to call the function api.add(a, b)",
    )


def test_a_value_that_parses_as_a_filter_is_not_an_argument() -> None:
    assert refused("/rpc/add?a=eq.1&b=2")[2] == "Could not find the function api.add(b) in the schema cache"


def test_post_json_mentions_the_single_unnamed_json_fallback() -> None:
    assert refused("/rpc/add", "POST", body='{"a": 1, "c": 2}')[3] == (
        "Searched for the function api.add with parameters a, c or with a single unnamed json/jsonb parameter, "
        + NOT_FOUND
    )
    assert refused("/rpc/add", "POST", body="")[2:] == (
        "Could not find the function api.add without parameters in the schema cache",
        "Searched for the function api.add without parameters or with a single unnamed json/jsonb parameter, "
        + NOT_FOUND,
        None,
    )


def test_post_form_has_plain_details() -> None:
    assert refused("/rpc/add", "POST", body="a=1&c=2", content_type="application/x-www-form-urlencoded")[3] == (
        f"Searched for the function api.add with parameters a, c, {NOT_FOUND}"
    )


def test_overloads_are_chosen_by_argument_names() -> None:
    assert call("/rpc/over?a=5").function == OVER_A
    assert call("/rpc/over?b=y").function == OVER_B
    assert call("/rpc/over", "POST", '{"b": "z"}').function == OVER_B


def test_overloads_matching_the_same_arguments_are_300_pgrst203() -> None:
    assert refused("/rpc/over") == (
        300,
        "PGRST203",
        "Could not choose the best candidate function between: api.over(a => integer), api.over(b => text)",
        None,
        AMBIGUOUS_HINT,
    )


def test_overloads_differing_only_by_type_are_pgrst203() -> None:
    assert refused("/rpc/same?arg=1")[:3] == (
        300,
        "PGRST203",
        "Could not choose the best candidate function between: api.same(arg => integer), api.same(arg => text)",
    )


def test_resolve_function_skips_overloads_with_unnamed_parameters() -> None:
    req = request("/rpc/echo_json")
    with pytest.raises(ApiError) as info:
        resolve_function(req, CATALOG, (ECHO_JSON,), ())
    assert info.value.code == "PGRST202"
    assert resolve_function(request("/rpc/noargs"), CATALOG, (NOARGS,), ()) == NOARGS


# Functions PostgREST's schema cache leaves out (funcsSqlQuery's `callable`).
TWO_UNNAMED = function("two_unnamed", param(""), param(""))
UNNAMED_INT = function("unnamed_int", param(""))
UNNAMED_TEXT = function("unnamed_text", param("", "text"), returns="text")
DEFAULTS = function("defaults", param("a", required=False), param("b", required=False))
UNNAMED = snapshot(functions=(TWO_UNNAMED, UNNAMED_INT, UNNAMED_TEXT, DEFAULTS))


def test_functions_with_unnamed_parameters_that_no_body_can_fill_are_not_found() -> None:
    assert refused("/rpc/two_unnamed", catalog=UNNAMED)[:3] == (
        404,
        "PGRST202",
        "Could not find the function api.two_unnamed without parameters in the schema cache",
    )
    # Not even as a hint: the name of one with a callable overload is offered instead.
    assert refused("/rpc/unnamed_int", "POST", body='{"x": 1}', catalog=UNNAMED)[4] == (
        "Perhaps you meant to call the function api.unnamed_text"
    )


def test_a_raw_body_calls_a_function_whose_parameters_all_have_defaults() -> None:
    _, plan = planned("/rpc/defaults", "POST", body="x", content_type="text/plain", catalog=UNNAMED)
    assert isinstance(plan.action, CallPlan)
    assert (plan.action.function, plan.action.text_args, plan.action.raw_arg) == (DEFAULTS, (), None)


def test_columns_are_the_argument_names_of_a_json_body() -> None:
    plan = call("/rpc/add?columns=a,b", "POST", '{"a": 1}')
    assert (bytes(plan.json_body or b""), plan.json_params) == (b'{"a": 1}', (A, B))


def test_a_csv_body_names_the_arguments_in_its_header() -> None:
    plan = call("/rpc/add", "POST", "a,b\n1,2\n3,4", "text/csv")
    assert (plan.json_body, plan.json_params) == (b'[{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]', (A, B))


def test_the_array_media_types_are_json_bodies() -> None:
    plan = call("/rpc/add", "POST", '{"a": 1}', "application/vnd.pgrst.array+json")
    assert plan.json_params == (A,)


def test_other_content_types_are_pgrst102() -> None:
    assert refused("/rpc/add", "POST", body="<a/>", content_type="application/xml")[:3] == (
        400,
        "PGRST102",
        "Content-Type not acceptable: application/xml",
    )


@pytest.mark.parametrize(
    ("url", "shape", "relation"),
    [
        ("/rpc/add?a=1", "scalar", "add"),
        ("/rpc/ids?n=3", "setof-scalar", "ids"),
        ("/rpc/first_client", "composite", "clients"),
        ("/rpc/projects_of?client=1", "setof-composite", "projects"),
        ("/rpc/reset", "void", "reset"),
        ("/rpc/pairs_out", "setof-composite", "pairs_out"),
    ],
)
def test_the_result_shape_and_the_relation_it_is_read_as(url: str, shape: str, relation: str) -> None:
    plan = call(url)
    assert (plan.shape, plan.read.relation.name) == (shape, relation)


def test_a_stand_alone_composite_type_is_read_through_its_columns() -> None:
    plan = call("/rpc/login?email=a&pass=b", Accept="text/csv")
    assert (plan.shape, plan.read.relation.name, plan.read.relation.kind) == ("composite", "jwt_claims", "c")


def test_a_table_result_is_read_through_the_table_and_its_relationships() -> None:
    plan = call("/rpc/projects_of?client=1&select=id,clients(name)&id=gt.1")
    assert plan.read.relation == PROJECTS
    embed = plan.read.output[1].embed
    assert embed is not None and embed.relation == CLIENTS
    assert len(plan.read.where) == 1


def test_out_parameters_are_the_columns_of_a_record_result() -> None:
    plan = call("/rpc/pairs_out?select=x")
    rel = plan.read.relation
    assert (rel.schema, rel.name, rel.kind) == ("api", "pairs_out", "f")
    assert [(c.name, c.position, c.type) for c in rel.columns] == [("x", 1, "integer"), ("y", 2, "text")]


def test_select_on_a_result_checks_the_columns_42703() -> None:
    assert refused("/rpc/projects_of?client=1&select=id,nope") == (
        400,
        "42703",
        "column projects.nope does not exist",
        None,
        None,
    )


@pytest.mark.parametrize(
    ("url", "method", "body", "read_only"),
    [
        ("/rpc/reset", "GET", None, True),
        ("/rpc/reset", "POST", "{}", False),
        ("/rpc/add", "POST", '{"a": 1}', True),
        ("/rpc/noargs", "POST", "{}", True),
    ],
)
def test_only_post_to_a_volatile_function_writes(url: str, method: str, body: str | None, read_only: bool) -> None:
    assert call(url, method, body).read_only is read_only


def test_max_affected_with_strict_handling_is_kept_for_set_returning_functions() -> None:
    assert call("/rpc/ids?n=1", Prefer="handling=strict, max-affected=1").max_affected == 1
    assert call("/rpc/ids?n=1", Prefer="max-affected=1").max_affected is None


def test_max_affected_with_strict_handling_on_a_single_result_is_pgrst128() -> None:
    assert refused("/rpc/noargs", headers={"Prefer": "handling=strict, max-affected=1"}) == (
        400,
        "PGRST128",
        "Function must return SETOF or TABLE when max-affected preference is used with handling=strict",
        None,
        None,
    )


def test_rpc_refuses_other_methods_with_pgrst101() -> None:
    assert refused("/rpc/add", "PUT", body="{}") == (405, "PGRST101", "Cannot use the PUT method on RPC", None, None)


def test_returns_jwt_claims_only_for_one_jwt_claims_composite() -> None:
    assert returns_jwt_claims(LOGIN) is True
    assert returns_jwt_claims(IDS) is False
    setof = function("logins", returns="jwt_claims", returns_schema="api", composite=True, returns_set=True)
    assert returns_jwt_claims(setof) is False
    assert returns_jwt_claims(function("x", param("a"), returns="my_jwt_claims", composite=True)) is True
    assert FIRST_CLIENT.return_type == "clients" and returns_jwt_claims(FIRST_CLIENT) is False
