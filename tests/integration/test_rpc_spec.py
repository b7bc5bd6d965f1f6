"""PostgREST's own spec cases for raw-body and bit/char arguments, tsvector domains, JSON keys and column privileges.

Ported from PostgREST's test/spec/Feature/Query/RpcSpec.hs ("single unnamed param",
"ambiguous overloaded functions", "a proc with bit and char parameters", the fts filters
on function results), QuerySpec.hs and AndOrParamsSpec.hs (full-text search on tsvector
domains, text and json columns), JsonOperatorSpec.hs (every case), and the "bit and
char columns" and "limited privileges" cases of InsertSpec.hs, UpdateSpec.hs and
DeleteSpec.hs, one test per case, in the specs' order. The tests marked "beyond the
spec" pin what PostgREST's sources imply where its spec is silent: Plan.hs (findProc,
callPlan, mutatePlan's returnings, inferColsEmbedNeeds), SchemaCache.hs (funcsSqlQuery:
which functions are callable, and `bit`/`character` parameters as their varying
types), ApiRequest/Payload.hs (getPayload), ApiRequest/QueryParams.hs (pJsonPath,
pQuotedValue) and Query/SqlFragment.hs (pgFmtJsonPath, the fts operators).

The objects are tests/fixtures/rpc_spec.sql (PostgREST's fixture objects in schema
rpc_spec), loaded into a database of this module's own. As PostgREST's spec does, the
app runs with `db-tx-end = rollback-allow-override`, so no test's writes outlive it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from werkzeug.test import Client, TestResponse

from tests.conftest import FIXTURES, JSON, Server, assert_error, client_factory, own_database

# PostgREST's test/spec/fixtures/image.png.
IMAGE_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAABUAAAASCAYAAAC0EpUuAAAABHNCSVQICAgIfAhkiAAAAPtJREFUOI3tlL1Lw3AURW/rpknAVezQWHF20U38E4qC"
    "BYWAS+fiKgVxEDdHQVAXB7s4K866KFgQSqF+UJ1EocrPwUia4+LaxGim4pnvO/Dug5cBUMpk0xb2pTTQ/cGiCo4l27bkuPPaaXz8RYqeT1ZUXPNV"
    "rb/KmI7q6yO6vnpS2HMkBnOxwczoNNXzN8K48DfRUnNMOe+yVHsg+KEQIHL9sNPSrV1SZS6ngfieknSanEhpdnhcBVPT1tGjukmscf28X24ym5ti"
    "9SytQwEQ8nJaYXKsyO7NJ+DT3PZY3ruj+3spQED70GPCGcKyBrHdBfZbfs90Bv6/VMp8AXi6rhjX2CMxAAAAAElFTkSuQmCC"
)
FORM = "application/x-www-form-urlencoded"
OCTET = "application/octet-stream"
# A sentence of data.sql and its `to_tsvector('simple', ...)`.
IMPOSSIBLE = "It's kind of fun to do the impossible"
IMPOSSIBLE_SIMPLE = "'do':7 'fun':5 'impossible':9 'it':1 'kind':3 'of':4 's':2 'the':8 'to':6"
AMUSANT = "C'est un peu amusant de faire l'impossible"
AMUSANT_SIMPLE = "'amusant':5 'c':1 'de':6 'est':2 'faire':7 'impossible':9 'l':8 'peu':4 'un':3"
POSSIBLE = "But also fun to do what is possible"
RATS = "Fat cats ate rats"
SPASS = "Es ist eine Art Spaß, das Unmögliche zu machen"


# Fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spec_db(pg_server: Server) -> Iterator[str]:
    """A database of this module's own with tests/fixtures/rpc_spec.sql; dropped after it."""
    with own_database(pg_server, "pgwsgi_rpc_spec", FIXTURES / "rpc_spec.sql") as name:
        yield name


@pytest.fixture(scope="module")
def client(pg_server: Server, spec_db: str) -> Iterator[Client]:
    """PostgREST's spec configuration: the anonymous role, and every write rolled back."""
    with client_factory(
        pg_server, spec_db, db_schemas=("rpc_spec",), db_anon_role="pgwsgi_anon", db_tx_end="rollback-allow-override"
    ) as factory:
        yield factory()


@pytest.fixture(scope="module")
def pg_version(pg_server: Server, spec_db: str) -> int:
    """The server's version number (PostgreSQL 19 words some errors differently)."""
    with psycopg.connect(pg_server.dsn(spec_db)) as conn:
        row = conn.execute("SHOW server_version_num").fetchone()
        assert row is not None
        return int(row[0])


# Helpers -------------------------------------------------------------------------------------


def post(
    client: Client, url: str, body: Any = None, ctype: str | None = "application/json", **headers: str
) -> TestResponse:
    """A POST of BODY (JSON-encoded unless str or bytes) with Content-Type CTYPE (None: no header)."""
    if body is not None and not isinstance(body, str | bytes):
        body = json.dumps(body)
    sent = {k.replace("_", "-"): v for k, v in headers.items()}
    if ctype is not None:
        sent["Content-Type"] = ctype
    return client.post(url, data=body if body is not None else b"", headers=sent)


def get(client: Client, url: str, **headers: str) -> TestResponse:
    """A GET with HEADERS (underscores for dashes)."""
    return client.get(url, headers={k.replace("_", "-"): v for k, v in headers.items()})


def assert_json(r: TestResponse, expected: Any, status: int = 200) -> None:
    """A JSON answer with this status and body, and a Content-Length that counts it."""
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.headers["Content-Type"] == JSON
    assert r.headers["Content-Length"] == str(len(r.get_data()))
    assert r.get_json() == expected


def assert_raw(r: TestResponse, content_type: str, body: bytes) -> None:
    """A 200 with exactly this Content-Type and body."""
    assert r.status_code == 200, r.get_data()
    assert r.headers.getlist("Content-Type") == [content_type]
    assert r.get_data() == body
    assert r.headers["Content-Length"] == str(len(body))


def assert_length(r: TestResponse, length: int) -> None:
    assert r.headers["Content-Length"] == str(length)
    assert len(r.get_data()) == length


def not_found(fn: str, message_args: str, details: str, hint: str | None = None) -> dict[str, Any]:
    """The PGRST202 body for rpc_spec.FN."""
    return {
        "code": "PGRST202",
        "message": f"Could not find the function rpc_spec.{fn}{message_args} in the schema cache",
        "details": f"Searched for the function rpc_spec.{fn}{details}, but no matches were found in the schema cache.",
        "hint": hint,
    }


def assert_body(r: TestResponse, status: int, body: dict[str, Any]) -> None:
    assert_error(r, status, body["code"], body["message"], body["details"], body["hint"])


def fts(client: Client, url: str, key: str, expected: list[str]) -> None:
    """A full-text search whose rows are the one KEY, with these values in this order."""
    assert_json(get(client, url), [{key: v} for v in expected])


def assert_no_content(r: TestResponse, applied: str | None = None) -> None:
    """204: no body, no Content-Type, no Content-Length; Preference-Applied as given."""
    assert r.status_code == 204, r.get_data(as_text=True)
    assert r.get_data() == b""
    assert "Content-Type" not in r.headers
    assert "Content-Length" not in r.headers
    assert r.headers.get("Preference-Applied") == applied


def assert_denied(r: TestResponse, what: str) -> None:
    """42501 for the anonymous role: 401, with PostgreSQL's message."""
    assert_error(r, 401, "42501", f"permission denied for {what}")
    assert r.headers["WWW-Authenticate"] == "Bearer"


# RpcSpec: single unnamed param ---------------------------------------------------------------


def test_can_insert_json_directly_with_unnamed_parameter(client: Client) -> None:
    assert_json(post(client, "/rpc/unnamed_json_param", {"A": 1, "B": 2, "C": 3}), {"A": 1, "B": 2, "C": 3})


def test_rejects_json_body_when_single_param_has_a_name(client: Client) -> None:
    r = post(client, "/rpc/named_json_param", {"A": 1, "B": 2, "C": 3})
    details = " with parameters A, B, C or with a single unnamed json/jsonb parameter"
    assert_body(r, 404, not_found("named_json_param", "(A, B, C)", details))


def test_can_insert_text_directly(client: Client) -> None:
    r = post(client, "/rpc/unnamed_text_param", "unnamed text arg", "text/plain", Accept="text/plain")
    assert_raw(r, "text/plain; charset=utf-8", b"unnamed text arg")


def test_can_insert_xml_directly(client: Client) -> None:
    xml = b"<note><from>John</from><to>Jane</to><message>Remember me</message></note>"
    r = post(client, "/rpc/unnamed_xml_param", xml, "text/xml", Accept="text/xml")
    assert_raw(r, "text/xml; charset=utf-8", xml)


def test_can_insert_bytea_directly(client: Client) -> None:
    r = post(client, "/rpc/unnamed_bytea_param", IMAGE_PNG, OCTET, Accept=OCTET)
    assert r.status_code == 200
    assert r.get_data() == IMAGE_PNG


def test_will_err_when_no_function_with_single_unnamed_json_parameter_exists(client: Client) -> None:
    # unnamed_int_param is not in PostgREST's schema cache at all (an unnamed int cannot be
    # called), so the hint is the closest function name, not a parameter list.
    r = post(client, "/rpc/unnamed_int_param", {"x": 1, "y": 2})
    details = " with parameters x, y or with a single unnamed json/jsonb parameter"
    hint = "Perhaps you meant to call the function rpc_spec.unnamed_text_param"
    assert_body(r, 404, not_found("unnamed_int_param", "(x, y)", details, hint))


@pytest.mark.parametrize(
    ("ctype", "kind", "body"),
    [("text/plain", "text", b"a simple text"), ("text/xml", "xml", b"a simple text"), (OCTET, "bytea", IMAGE_PNG)],
)
def test_will_err_when_no_function_with_single_unnamed_raw_parameter_exists(
    client: Client, ctype: str, kind: str, body: bytes
) -> None:
    r = post(client, "/rpc/unnamed_int_param", body, ctype)
    assert_body(r, 404, not_found("unnamed_int_param", "", f" with a single unnamed {kind} parameter"))


def test_resolves_when_a_single_unnamed_json_parameter_exists_and_other_overloads_are_found(client: Client) -> None:
    assert_json(post(client, "/rpc/overloaded_unnamed_param", {}), 1)
    assert_json(post(client, "/rpc/overloaded_unnamed_param", {"x": 1, "y": 2}), 3)


def test_falls_back_to_the_single_unnamed_parameter_function_when_other_overloads_are_not_found(
    client: Client,
) -> None:
    assert_json(post(client, "/rpc/overloaded_unnamed_param", {"A": 1, "B": 2, "C": 3}), {"A": 1, "B": 2, "C": 3})
    r = post(client, "/rpc/overloaded_unnamed_param", "unnamed text arg", "text/plain", Accept="text/plain")
    assert_raw(r, "text/plain; charset=utf-8", b"unnamed text arg")
    r = post(client, "/rpc/overloaded_unnamed_param", IMAGE_PNG, OCTET, Accept=OCTET)
    assert r.status_code == 200
    assert r.get_data() == IMAGE_PNG


def test_get_with_content_type_calls_the_function_without_parameters(client: Client) -> None:
    assert_json(get(client, "/rpc/overloaded_unnamed_param", Content_Type="text/plain"), 1)
    assert_json(get(client, "/rpc/overloaded_unnamed_param", Content_Type=OCTET), 1)


def test_fails_to_fall_back_with_an_unsupported_content_type(client: Client) -> None:
    # A CSV body's header names the arguments (getPayload), as a JSON object's keys would.
    r = post(client, "/rpc/overloaded_unnamed_param", "a,b\n1,2\n4,6\n100,200", "text/csv")
    hint = "Perhaps you meant to call the function rpc_spec.overloaded_unnamed_param(x, y)"
    assert_body(r, 404, not_found("overloaded_unnamed_param", "(a, b)", " with parameters a, b", hint))


def test_fails_with_multiple_choices_between_unnamed_json_and_jsonb_fallbacks(client: Client) -> None:
    r = post(client, "/rpc/overloaded_unnamed_json_jsonb_param", {"A": 1, "B": 2, "C": 3})
    assert_error(
        r,
        300,
        "PGRST203",
        "Could not choose the best candidate function between: rpc_spec.overloaded_unnamed_json_jsonb_param( => json), "
        "rpc_spec.overloaded_unnamed_json_jsonb_param( => jsonb)",
        hint="Try renaming the parameters or the function itself in the database so function overloading can be resolved",
    )


def test_fails_on_unnamed_xml_param_when_posting_invalid_xml(client: Client) -> None:
    r = post(client, "/rpc/unnamed_xml_param", "<", "text/xml", Accept="text/xml")
    assert_error(r, 400, "2200N", "invalid XML content", "line 1: StartTag: invalid element name\n<\n ^")
    assert_length(r, 118)


# RpcSpec: ambiguous overloaded functions with the same parameter names -------------------------


def test_ambiguous_overloads_with_same_argument_names_are_300(client: Client) -> None:
    r = get(client, "/rpc/overloaded_same_args?arg=value")
    message = (
        "Could not choose the best candidate function between: rpc_spec.overloaded_same_args(arg => integer), "
        "rpc_spec.overloaded_same_args(arg => xml), rpc_spec.overloaded_same_args(arg => text, num => integer)"
    )
    hint = "Try renaming the parameters or the function itself in the database so function overloading can be resolved"
    assert_error(r, 300, "PGRST203", message, hint=hint)
    # PostgREST's 353 bytes, with "rpc_spec." for "test." three times.
    assert_length(r, 353 + 3 * 4)


# Beyond the spec: which functions are callable, and how bodies name arguments -------------------


def test_a_function_with_several_unnamed_parameters_is_not_in_the_schema_cache(client: Client) -> None:
    # funcsSqlQuery's `callable`: only a single unnamed json/jsonb/text/xml/bytea parameter counts.
    r = get(client, "/rpc/two_unnamed")
    assert r.status_code == 404
    body = r.get_json()
    assert body["code"] == "PGRST202"
    assert body["message"] == "Could not find the function rpc_spec.two_unnamed without parameters in the schema cache"
    # The name is unknown: the hint can only be another function's name, never a parameter list.
    assert body["hint"] is None or "(" not in body["hint"]


def test_a_raw_body_calls_a_function_whose_parameters_all_have_defaults(client: Client) -> None:
    # A raw body names no argument, which every parameter with a default fits (findProc).
    assert_json(post(client, "/rpc/all_defaults", "ignored", "text/plain"), 3)
    assert_json(post(client, "/rpc/all_defaults", b"\x00\x01", OCTET), 3)


def test_the_unnamed_json_fallback_gets_a_whole_array(client: Client) -> None:
    body = [{"A": 1}, {"A": 2}]
    assert_json(post(client, "/rpc/unnamed_json_param", body), body)


def test_the_unnamed_json_fallback_gets_an_empty_array_for_a_scalar(client: Client) -> None:
    # A JSON scalar is no payload: PostgREST's getPayload makes it `[]` (payloadAttributes).
    assert_json(post(client, "/rpc/unnamed_json_param", "5"), [])
    assert_json(post(client, "/rpc/unnamed_json_param", "[]"), [])


def test_an_array_body_must_hold_objects_with_the_same_keys(client: Client) -> None:
    r = post(client, "/rpc/unnamed_json_param", [{"A": 1}, {"B": 2}])
    assert_error(r, 400, "PGRST102", "All object keys must match")
    r = post(client, "/rpc/unnamed_json_param", [1, 2])
    assert_error(r, 400, "PGRST102", "All object keys must match")


def test_an_array_body_calls_with_its_first_object(client: Client) -> None:
    assert_json(post(client, "/rpc/overloaded_unnamed_param", [{"x": 1, "y": 2}, {"x": 10, "y": 20}]), 3)


def test_only_an_empty_body_means_no_arguments(client: Client) -> None:
    assert_json(post(client, "/rpc/overloaded_unnamed_param", b""), 1)
    assert_error(post(client, "/rpc/overloaded_unnamed_param", b"  "), 400, "PGRST102", "Empty or invalid json")


def test_columns_names_the_arguments_of_a_json_body(client: Client) -> None:
    # `?columns=` are the argument keys (getPayload): one the body lacks is passed as NULL.
    assert_json(post(client, "/rpc/all_defaults?columns=a,b", {"a": 5, "junk": 1}), None)
    assert_json(post(client, "/rpc/all_defaults?columns=a", {"a": 5, "b": 100}), 7)


def test_a_csv_body_calls_with_its_first_line(client: Client) -> None:
    assert_json(post(client, "/rpc/overloaded_unnamed_param", "x,y\n1,2\n4,6", "text/csv"), 3)


# RpcSpec: a proc with bit and char parameters ---------------------------------------------------


def test_modifies_the_param_type_from_character_to_character_varying(client: Client) -> None:
    r = get(client, "/rpc/char_param_select?char_=abcdefg&char_arr={abc,abcdefg}")
    assert_json(r, [{"char_": "abcdefg", "char_arr": ["abc", "abcdefg"]}])
    r = post(client, "/rpc/char_param_insert", {"char_": "abcdefg", "char_arr": "{abc,abcdefg}"})
    assert_error(r, 400, "22001", "value too long for type character(5)")
    assert_length(r, 92)


def test_modifies_the_param_type_from_bit_to_bit_varying(client: Client) -> None:
    r = get(client, "/rpc/bit_param_select?bit_=101010&bit_arr={101,101010}")
    assert_json(r, [{"bit_": "101010", "bit_arr": ["101", "101010"]}])
    r = post(client, "/rpc/bit_param_insert", {"bit_": "101010", "bit_arr": "{101,101010}"})
    assert_error(r, 400, "22026", "bit string length 6 does not match type bit(5)")
    assert_length(r, 102)


def test_bit_and_char_parameters_keep_their_length_from_every_kind_of_body(client: Client) -> None:
    # Beyond the spec: JSON and form bodies go through the same varying types (callPlan).
    expected = [{"char_": "abcdefg", "char_arr": ["abc", "abcdefg"]}]
    assert_json(post(client, "/rpc/char_param_select", {"char_": "abcdefg", "char_arr": "{abc,abcdefg}"}), expected)
    assert_json(post(client, "/rpc/char_param_select", "char_=abcdefg&char_arr={abc,abcdefg}", FORM), expected)
    expected_bits = [{"bit_": "101010", "bit_arr": ["101", "101010"]}]
    assert_json(get(client, "/rpc/bit_param_echo?bit_=101010&bit_arr={101,101010}"), expected_bits)
    assert_json(post(client, "/rpc/bit_param_echo", {"bit_": "101010", "bit_arr": "{101,101010}"}), expected_bits)


# InsertSpec and UpdateSpec: bit and char columns with length -------------------------------------


def test_should_insert_to_a_bit_column_with_length(client: Client) -> None:
    r = post(client, "/bitchar_with_length?select=bit", {"bit": "10101"}, Prefer="return=representation")
    assert_json(r, [{"bit": "10101"}], 201)


def test_should_insert_to_a_char_column_with_length(client: Client) -> None:
    r = post(client, "/bitchar_with_length?select=char", {"char": "abcde"}, Prefer="return=representation")
    assert_json(r, [{"char": "abcde"}], 201)


def test_should_update_a_bit_column_with_length(client: Client) -> None:
    r = client.patch(
        "/bitchar_with_length?select=bit,char&char=eq.aaaaa",
        json={"bit": "11100"},
        headers={"Prefer": "return=representation"},
    )
    assert_json(r, [{"bit": "11100", "char": "aaaaa"}])
    assert r.headers["Preference-Applied"] == "return=representation"


def test_should_update_a_char_column_with_length(client: Client) -> None:
    r = client.patch(
        "/bitchar_with_length?select=bit,char&bit=eq.00000",
        json={"char": "zzzyy"},
        headers={"Prefer": "return=representation"},
    )
    assert_json(r, [{"bit": "00000", "char": "zzzyy"}])
    assert r.headers["Preference-Applied"] == "return=representation"


# QuerySpec: full-text search on tsvector columns, tsvector domains and computed fields -----------


def test_fts_on_a_tsvector_column(client: Client) -> None:
    fts(client, "/tsearch?text_search_vector=fts.impossible", "text_search_vector", ["'fun':5 'imposs':9 'kind':3"])
    fts(
        client,
        "/tsearch?text_search_vector=not.plfts.The%20Fat%20Rats",
        "text_search_vector",
        [
            "'fun':5 'imposs':9 'kind':3",
            "'also':2 'fun':3 'possibl':8",
            "'amus':5 'fair':7 'impossibl':9 'peu':4",
            "'art':4 'spass':5 'unmog':7",
        ],
    )


def test_fts_works_with_tsvector_computed_fields(client: Client) -> None:
    url = "/tsearch_to_tsvector?select=text_search_vector&text_search_vector=fts(simple).of"
    fts(client, url, "text_search_vector", [IMPOSSIBLE_SIMPLE])


def test_fts_works_when_the_column_type_is_a_tsvector_domain(client: Client) -> None:
    url = "/tsearch_to_tsvector?select=text_search_domain&text_search_domain=fts(simple).of"
    fts(client, url, "text_search_domain", [IMPOSSIBLE_SIMPLE])


def test_fts_works_when_the_column_type_is_a_recursive_tsvector_domain(client: Client) -> None:
    url = "/tsearch_to_tsvector?select=text_search_rec_domain&text_search_rec_domain=fts(simple).of"
    fts(client, url, "text_search_rec_domain", [IMPOSSIBLE_SIMPLE])


def test_fts_on_text_and_json_columns_with_to_tsquery(client: Client) -> None:
    fts(
        client,
        "/tsearch_to_tsvector?select=text_search&text_search=fts.impossible",
        "text_search",
        [IMPOSSIBLE, AMUSANT],
    )
    r = get(client, "/tsearch_to_tsvector?select=jsonb_search&jsonb_search=fts.impossible")
    assert_json(r, [{"jsonb_search": {"text_search": IMPOSSIBLE}}, {"jsonb_search": {"text_search": AMUSANT}}])


def test_fts_on_text_and_json_columns_with_lexeme_operators(client: Client) -> None:
    url = "/tsearch_to_tsvector?select=text_search&text_search="
    fts(client, url + "fts.fun%26possible", "text_search", [POSSIBLE])
    fts(client, url + "fts.impossible%7Cpossible", "text_search", [IMPOSSIBLE, POSSIBLE, AMUSANT])
    fts(client, url + "fts.fun%26!possible", "text_search", [IMPOSSIBLE])


def test_fts_on_text_and_json_columns_with_other_parsers(client: Client) -> None:
    url = "/tsearch_to_tsvector?select=text_search&text_search="
    fts(client, url + "plfts.The%20Fat%20Rats", "text_search", [RATS])
    fts(client, url + "wfts.fun%20and%20-possible", "text_search", [IMPOSSIBLE])
    fts(client, url + "phfts.The%20Fat%20Cats", "text_search", [RATS])
    r = get(client, "/tsearch_to_tsvector?select=jsonb_search&jsonb_search=wfts.The%20Fat%20Rats")
    assert_json(r, [{"jsonb_search": {"text_search": RATS}}])


def test_fts_on_text_and_json_columns_uses_the_dictionary_for_to_tsvector(client: Client) -> None:
    url = "/tsearch_to_tsvector?select=text_search&text_search="
    fts(client, url + "fts(french).amusant", "text_search", [AMUSANT])
    fts(client, url + "plfts(french).amusant%20impossible", "text_search", [AMUSANT])
    fts(client, url + "phfts(german).Art%20Spass", "text_search", [SPASS])
    r = get(client, "/tsearch_to_tsvector?select=jsonb_search&jsonb_search=wfts(french).amusant%20impossible")
    assert_json(r, [{"jsonb_search": {"text_search": AMUSANT}}])


def test_fts_on_text_columns_negated_and_in_logic_trees(client: Client) -> None:
    url = "/tsearch_to_tsvector?select=text_search&text_search="
    fts(client, url + "not.fts(english).impossible%7Cfat%7Cfun", "text_search", [SPASS])
    fts(client, url + "not.phfts(english).The%20Fat%20Cats", "text_search", [IMPOSSIBLE, POSSIBLE, AMUSANT, SPASS])
    url = (
        "/tsearch_to_tsvector?select=text_search&or=(text_search.phfts(german).Art%20Spass, "
        "text_search.phfts(french).amusant, text_search.fts(english).impossible)"
    )
    fts(client, url, "text_search", [IMPOSSIBLE, AMUSANT, SPASS])


def test_fts_on_text_columns_in_an_and_tree(client: Client) -> None:
    # AndOrParamsSpec "can handle fts on text and json columns".
    url = (
        "/tsearch_to_tsvector?and=(text_search.not.plfts(german).Art%20Spass, "
        "text_search.not.plfts(french).amusant%20impossible, text_search.not.fts(english).impossible)&select=text_search"
    )
    fts(client, url, "text_search", [POSSIBLE, RATS])


def test_fts_on_recursive_tsvector_domains_in_logic_trees(client: Client) -> None:
    # Beyond the spec: the domain's base type decides wherever the filter is.
    url = (
        "/tsearch_to_tsvector?select=text_search&or=(text_search_rec_domain.fts(simple).amusant,"
        "text_search_domain.wfts(simple).fat%20cats)"
    )
    fts(client, url, "text_search", [RATS, AMUSANT])
    url = "/tsearch_to_tsvector?select=text_search&text_search_rec_domain=not.plfts(simple).impossible"
    fts(client, url, "text_search", [POSSIBLE, RATS, SPASS])


# RpcSpec: fts filters on a function's result -----------------------------------------------------


def test_rpc_fts_on_tsvector_columns(client: Client) -> None:
    fts(
        client,
        "/rpc/get_tsearch?text_search_vector=fts(english).impossible",
        "text_search_vector",
        ["'fun':5 'imposs':9 'kind':3"],
    )
    fts(
        client,
        "/rpc/get_tsearch?text_search_vector=not.fts(english).fun%7Crat",
        "text_search_vector",
        ["'amus':5 'fair':7 'impossibl':9 'peu':4", "'art':4 'spass':5 'unmog':7"],
    )
    fts(
        client,
        "/rpc/get_tsearch?text_search_vector=phfts(english).impossible",
        "text_search_vector",
        ["'fun':5 'imposs':9 'kind':3"],
    )


def test_rpc_fts_on_text_and_json_columns(client: Client) -> None:
    url = "/rpc/get_tsearch_to_tsvector?select=text_search&text_search="
    fts(client, url + "fts(english).impossible", "text_search", [IMPOSSIBLE, AMUSANT])
    fts(client, url + "plfts.impossible", "text_search", [IMPOSSIBLE, AMUSANT])
    fts(client, url + "not.fts(english).fun%7Crat", "text_search", [AMUSANT, SPASS])
    fts(client, url + "wfts.impossible", "text_search", [IMPOSSIBLE, AMUSANT])


def test_rpc_fts_when_the_column_type_is_a_tsvector_domain(client: Client) -> None:
    url = "/rpc/get_tsearch_to_tsvector?select=text_search_domain&text_search_domain=fts(simple).impossible"
    fts(client, url, "text_search_domain", [IMPOSSIBLE_SIMPLE, AMUSANT_SIMPLE])


def test_rpc_fts_when_the_column_type_is_a_recursive_tsvector_domain(client: Client) -> None:
    url = "/rpc/get_tsearch_to_tsvector?select=text_search_rec_domain&text_search_rec_domain=fts(simple).impossible"
    fts(client, url, "text_search_rec_domain", [IMPOSSIBLE_SIMPLE, AMUSANT_SIMPLE])


def test_fts_on_recursive_domains_of_composite_types_and_computed_fields(client: Client) -> None:
    # Beyond the spec: a composite type's attribute and a computed field are not table columns
    # for PostgREST (unknown fields), so they never get to_tsvector (Plan.hs resolveTypeOrUnknown).
    r = get(client, "/rpc/get_tsearch_rows?select=id&doc=fts(simple).impossible")
    assert_json(r, [{"id": 1}, {"id": 4}])
    r = get(client, "/tsearch_to_tsvector?select=text_search&rec_domain_vector=fts(simple).amusant")
    assert_json(r, [{"text_search": AMUSANT}])


# JsonOperatorSpec: shaping the response with select ---------------------------------------------


def test_obtains_a_json_subfield_one_level_with_casting(client: Client) -> None:
    assert_json(get(client, "/complex_items?id=eq.1&select=settings->>foo::json"), [{"foo": {"int": 1, "bar": "baz"}}])


def test_renames_json_subfield_one_level_with_casting(client: Client) -> None:
    r = get(client, "/complex_items?id=eq.1&select=myFoo:settings->>foo::json")
    assert_json(r, [{"myFoo": {"int": 1, "bar": "baz"}}])


def test_fails_on_bad_casting(client: Client) -> None:
    r = get(client, "/complex_items?select=settings->foo->>bar::integer")
    assert_error(r, 400, "22P02", 'invalid input syntax for type integer: "baz"')


def test_obtains_a_json_subfield_two_levels(client: Client) -> None:
    assert_json(get(client, "/complex_items?id=eq.1&select=settings->foo->>bar"), [{"bar": "baz"}])


def test_renames_json_subfield_two_levels(client: Client) -> None:
    assert_json(get(client, "/complex_items?id=eq.1&select=myBar:settings->foo->>bar"), [{"myBar": "baz"}])


def test_obtains_a_json_subfield_two_levels_with_casting(client: Client) -> None:
    assert_json(get(client, "/complex_items?id=eq.1&select=settings->foo->>int::integer"), [{"int": 1}])


def test_renames_json_subfield_two_levels_with_casting(client: Client) -> None:
    assert_json(get(client, "/complex_items?id=eq.1&select=myInt:settings->foo->>int::integer"), [{"myInt": 1}])


def test_accepts_non_reserved_special_characters_in_the_key_name(client: Client) -> None:
    r = get(client, "/json_arr?id=eq.10&select=data->!@%23$%^%26*_d->>!@%23$%^%26*_e::integer")
    assert_json(r, [{"!@#$%^&*_e": 3}])


def test_fails_when_there_is_a_reserved_special_character_in_the_key_name(client: Client) -> None:
    r = get(client, "/json_arr?id=eq.10&select=data->(!@%23$%^%26*_d->>!@%23$%^%26*_e::integer")
    assert_error(
        r,
        400,
        "PGRST100",
        '"failed to parse select parameter (data->(!@#$%^&*_d->>!@#$%^&*_e::integer)" (line 1, column 7)',
        'unexpected "(" expecting "-", digit or any non reserved character different from: .,>()',
    )


def test_fails_when_a_double_arrow_is_followed_with_a_single_arrow(client: Client, pg_version: int) -> None:
    for url, operand in (("/json_arr?select=data->>c->1", "integer"), ("/json_arr?select=data->>c->b", "unknown")):
        r = get(client, url)
        message = f"operator does not exist: text -> {operand}"
        if pg_version < 190000:
            hint = "No operator matches the given name and argument types. You might need to add explicit type casts."
            assert_error(r, 404, "42883", message, None, hint)
        else:
            details = "No operator of that name accepts the given argument types."
            assert_error(r, 404, "42883", message, details, "You might need to add explicit type casts.")


def test_can_get_array_of_ints_and_alias_cast_it(client: Client) -> None:
    assert_json(get(client, "/json_arr?select=data->>0::int&id=in.(1,2)"), [{"data": 1}, {"data": 4}])
    r = get(client, "/json_arr?select=idx0:data->>0::int,idx1:data->>1::int&id=in.(1,2)")
    assert_json(r, [{"idx0": 1, "idx1": 2}, {"idx0": 4, "idx1": 5}])


def test_can_get_nested_array_of_ints(client: Client) -> None:
    assert_json(get(client, "/json_arr?select=data->0->>1::int&id=in.(3,4)"), [{"data": 8}, {"data": 7}])
    assert_json(get(client, "/json_arr?select=data->0->0->>1::int&id=in.(3,4)"), [{"data": None}, {"data": 6}])


def test_can_get_array_of_objects(client: Client) -> None:
    assert_json(get(client, "/json_arr?select=data->0->>a&id=in.(5,6)"), [{"a": "A"}, {"a": "[1,2,3]"}])
    assert_json(get(client, "/json_arr?select=data->0->a->>2&id=in.(5,6)"), [{"a": None}, {"a": "3"}])


def test_can_get_array_in_object_keys(client: Client) -> None:
    r = get(client, "/json_arr?select=data->c->>0::json&id=in.(7,8)")
    assert_json(r, [{"c": 1}, {"c": {"d": [4, 5, 6, 7, 8]}}])
    assert_json(get(client, "/json_arr?select=data->c->0->d->>4::int&id=in.(7,8)"), [{"d": None}, {"d": 8}])


def test_only_treats_well_formed_numbers_as_indexes(client: Client) -> None:
    r = get(client, "/json_arr?select=data->0->0xy1->1->23-xy-45->1->xy-6->>0::int&id=eq.9")
    assert_json(r, [{"xy-6": 3}])


def test_finishing_json_path_with_single_arrow_works_when_finishing_with_a_key(client: Client) -> None:
    r = get(client, "/json_arr?select=data->c&id=in.(7,8)")
    assert_json(r, [{"c": [1, 2, 3]}, {"c": [{"d": [4, 5, 6, 7, 8]}]}])
    assert_json(get(client, "/json_arr?select=data->0->a&id=in.(5,6)"), [{"a": "A"}, {"a": [1, 2, 3]}])


def test_finishing_json_path_with_single_arrow_works_when_finishing_with_an_index(client: Client) -> None:
    assert_json(get(client, "/json_arr?select=data->0->a&id=in.(5,6)"), [{"a": "A"}, {"a": [1, 2, 3]}])
    assert_json(get(client, "/json_arr?select=data->c->0->d&id=eq.8"), [{"d": [4, 5, 6, 7, 8]}])


def test_obtains_a_composite_type_field(client: Client) -> None:
    assert_json(get(client, "/fav_numbers?select=num->i"), [{"i": 0.5}, {"i": 0.6}])
    assert_json(get(client, "/fav_numbers?select=num->>i"), [{"i": "0.5"}, {"i": "0.6"}])


def test_obtains_an_array_item(client: Client) -> None:
    r = get(client, "/arrays?select=a:numbers->0,b:numbers->1,c:numbers_mult->0->0,d:numbers_mult->1->2")
    assert_json(r, [{"a": 1, "b": 2, "c": 1, "d": 6}, {"a": 11, "b": 12, "c": 11, "d": 16}])
    r = get(client, "/arrays?select=a:numbers->>0,b:numbers->>1,c:numbers_mult->0->>0,d:numbers_mult->1->>2")
    assert_json(r, [{"a": "1", "b": "2", "c": "1", "d": "6"}, {"a": "11", "b": "12", "c": "11", "d": "16"}])


# JsonOperatorSpec: filtering ----------------------------------------------------------------------


def test_can_filter_by_properties_inside_json_column(client: Client) -> None:
    assert_json(get(client, "/json_table?data->foo->>bar=eq.baz"), [{"data": {"id": 1, "foo": {"bar": "baz"}}}])
    assert_json(get(client, "/json_table?data->foo->>bar=eq.fake"), [])


def test_can_filter_by_properties_inside_json_column_using_not(client: Client) -> None:
    assert_json(get(client, "/json_table?data->foo->>bar=not.eq.baz"), [])


def test_can_filter_by_properties_inside_json_column_using_double_arrow(client: Client) -> None:
    assert_json(get(client, "/json_table?data->>id=eq.1"), [{"data": {"id": 1, "foo": {"bar": "baz"}}}])


def test_can_be_filtered_with_and_or(client: Client) -> None:
    r = get(client, "/grandchild_entities?or=(jsonb_col->a->>b.eq.foo, jsonb_col->>b.eq.bar)&select=id")
    assert_json(r, [{"id": 4}, {"id": 5}])


def test_can_filter_when_the_key_name_has_non_reserved_special_characters(client: Client) -> None:
    r = get(client, "/json_arr?select=data->!@%23$%^%26*_d&data->!@%23$%^%26*_d->>!@%23$%^%26*_e=eq.3")
    assert_json(r, [{"!@#$%^&*_d": {"!@#$%^&*_e": 3}}])


def test_can_filter_by_array_indexes(client: Client) -> None:
    assert_json(get(client, "/json_arr?select=data&data->>0=eq.1"), [{"data": [1, 2, 3]}])
    assert_json(get(client, "/json_arr?select=data&data->1->>2=eq.13"), [{"data": [[9, 8, 7], [11, 12, 13]]}])
    assert_json(get(client, "/json_arr?select=data&data->1->>b=eq.B"), [{"data": [{"a": "A"}, {"b": "B"}]}])
    r = get(client, "/json_arr?select=data&data->1->b->>1=eq.5")
    assert_json(r, [{"data": [{"a": [1, 2, 3]}, {"b": [4, 5]}]}])


def test_can_filter_jsonb(client: Client) -> None:
    assert_json(get(client, '/jsonb_test?data=eq.{"e":1}'), [{"id": 4, "data": {"e": 1}}])
    assert_json(get(client, '/jsonb_test?data->a=eq.{"b":2}'), [{"id": 1, "data": {"a": {"b": 2}}}])
    assert_json(get(client, "/jsonb_test?data->c=eq.[1,2,3]"), [{"id": 2, "data": {"c": [1, 2, 3]}}])
    assert_json(get(client, '/jsonb_test?data->0=eq.{"d":"test"}'), [{"id": 3, "data": [{"d": "test"}]}])


def test_can_filter_composite_type_field(client: Client) -> None:
    assert_json(get(client, "/fav_numbers?num->>i=gt.0.5"), [{"num": {"r": 0.6, "i": 0.6}, "person": "B"}])


def test_can_filter_array_item(client: Client) -> None:
    assert_json(get(client, "/arrays?select=id&numbers->0=eq.1"), [{"id": 0}])
    assert_json(get(client, "/arrays?select=id&numbers->>0=eq.11"), [{"id": 1}])
    assert_json(get(client, "/arrays?select=id&numbers_mult->1->1=eq.5"), [{"id": 0}])
    assert_json(get(client, "/arrays?select=id&numbers_mult->2->>2=eq.19"), [{"id": 1}])


# JsonOperatorSpec: ordering ------------------------------------------------------------------------


def test_orders_by_a_json_column_property_asc(client: Client) -> None:
    r = get(client, "/json_table?order=data->>id.asc")
    assert_json(r, [{"data": {"id": 0}}, {"data": {"id": 1, "foo": {"bar": "baz"}}}, {"data": {"id": 3}}])


def test_orders_by_a_json_column_with_two_level_property_nulls_first(client: Client) -> None:
    r = get(client, "/json_table?order=data->foo->>bar.nullsfirst")
    assert_json(r, [{"data": {"id": 3}}, {"data": {"id": 0}}, {"data": {"id": 1, "foo": {"bar": "baz"}}}])


def test_orders_by_composite_type_field(client: Client) -> None:
    a, b = {"num": {"r": 0.5, "i": 0.5}, "person": "A"}, {"num": {"r": 0.6, "i": 0.6}, "person": "B"}
    assert_json(get(client, "/fav_numbers?order=num->i.asc"), [a, b])
    assert_json(get(client, "/fav_numbers?order=num->>i.desc"), [b, a])


def test_orders_by_array_item(client: Client) -> None:
    assert_json(get(client, "/arrays?select=id&order=numbers->0.desc"), [{"id": 1}, {"id": 0}])
    assert_json(get(client, "/arrays?select=id&order=numbers->1.asc"), [{"id": 0}, {"id": 1}])
    assert_json(get(client, "/arrays?select=id&order=numbers_mult->0->0.desc"), [{"id": 1}, {"id": 0}])
    assert_json(get(client, "/arrays?select=id&order=numbers_mult->2->2.asc"), [{"id": 0}, {"id": 1}])


# JsonOperatorSpec: patching, negative indexes, errors, functions ----------------------------------


def test_can_set_a_json_column_to_escaped_value(client: Client) -> None:
    r = client.patch(
        "/json_table?data->>id=eq.3", json={"data": {"id": ' "escaped'}}, headers={"Prefer": "return=representation"}
    )
    assert_json(r, [{"data": {"id": ' "escaped'}}])


def test_can_select_with_negative_indexes(client: Client) -> None:
    assert_json(get(client, "/json_arr?select=data->>-1::int&id=in.(1,2)"), [{"data": 3}, {"data": 6}])
    assert_json(get(client, "/json_arr?select=data->0->>-2::int&id=in.(3,4)"), [{"data": 8}, {"data": 7}])
    assert_json(get(client, "/json_arr?select=data->-2->>a&id=in.(5,6)"), [{"a": "A"}, {"a": "[1,2,3]"}])


def test_can_filter_with_negative_indexes(client: Client) -> None:
    assert_json(get(client, "/json_arr?select=data&data->>-3=eq.1"), [{"data": [1, 2, 3]}])
    assert_json(get(client, "/json_arr?select=data&data->-1->>-3=eq.11"), [{"data": [[9, 8, 7], [11, 12, 13]]}])
    assert_json(get(client, "/json_arr?select=data&data->-1->>b=eq.B"), [{"data": [{"a": "A"}, {"b": "B"}]}])
    r = get(client, "/json_arr?select=data&data->-1->b->>-1=eq.5")
    assert_json(r, [{"data": [{"a": [1, 2, 3]}, {"b": [4, 5]}]}])


def test_gives_a_meaningful_error_on_bad_syntax(client: Client) -> None:
    r = get(client, "/json_arr?select=data->>--34")
    assert_error(
        r,
        400,
        "PGRST100",
        '"failed to parse select parameter (data->>--34)" (line 1, column 9)',
        'unexpected "-" expecting digit',
    )


def test_works_when_an_rpc_returns_a_dynamic_table_with_a_composite_type(client: Client) -> None:
    r = get(client, "/rpc/returns_complex?select=val->r&val->i=gt.0.5&order=val->>i.desc")
    assert_json(r, [{"r": 0.3}, {"r": 0.2}])


# Beyond the spec: JSON keys that need quoting (pJsonPath, pQuotedValue) ----------------------------


def _key(client: Client, path: str) -> Any:
    """The one row of json_arr 11 selected with PATH (sent percent-encoded)."""
    r = get(client, f"/json_arr?id=eq.11&select={quote(path, safe='')}")
    assert r.status_code == 200, r.get_data(as_text=True)
    [row] = r.get_json()
    return row


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("data->key with spaces", {"key with spaces": 1}),
        ('data->"key with spaces"', {"key with spaces": 1}),
        ("data->>key with spaces", {"key with spaces": "1"}),
        ("data->a-b", {"a-b": 2}),
        ("data->'a-b'", {"'a-b'": 3}),  # single quotes are no quotes: they are part of the key
        ('data->"a.b"', {"a.b": 4}),
        ('data->"a,b"', {"a,b": 5}),
        ('data->"a(b)"', {"a(b)": 6}),
        ('data->"a:b"', {"a:b": 7}),
        ('data->"a>b"', {"a>b": 8}),
        ('data->"0"', {"0": 9}),  # a quoted number is a key, not an index
        ("data->0", {"data": None}),
        ('data->" pad "', {" pad ": 10}),
        ("data-> pad ", {"pad": None}),  # an unquoted key is trimmed
        ('data->"x\\"y"', {'x"y': 11}),  # a backslash escapes the next character
        ('k:data->>"a,b"::int', {"k": 5}),
    ],
)
def test_json_keys_with_special_characters_in_select(client: Client, path: str, expected: dict[str, Any]) -> None:
    assert _key(client, path) == expected


def test_json_keys_with_special_characters_in_filters(client: Client) -> None:
    for key, value in (
        ('data->>"a.b"', "4"),
        ("data->>key with spaces", "1"),
        ('data->>"a,b"', "5"),
        ("data->>'a-b'", "3"),
    ):
        r = get(client, f"/json_arr?select=id&{quote(key, safe='')}=eq.{value}")
        assert_json(r, [{"id": 11}])
    tree = quote('(data->>"a,b".eq.5)', safe="")
    r = get(client, f"/json_arr?select=id&or={tree}")
    assert_json(r, [{"id": 11}])


def test_json_keys_with_special_characters_in_order(client: Client) -> None:
    term = quote('data->>"a.b"', safe="")
    for direction, expected in (("asc", [11, 10]), ("desc", [10, 11])):
        r = get(client, f"/json_arr?select=id&id=in.(10,11)&order={term}.{direction}")
        assert_json(r, [{"id": i} for i in expected])


# InsertSpec: table with limited privileges ---------------------------------------------------------


def test_succeeds_inserting_if_correct_select_is_applied(client: Client) -> None:
    r = post(
        client,
        "/limited_article_stars?select=article_id,user_id",
        {"article_id": 2, "user_id": 1},
        Prefer="return=representation",
    )
    assert_json(r, [{"article_id": 2, "user_id": 1}], 201)


def test_fails_inserting_if_more_columns_are_selected(client: Client) -> None:
    r = post(
        client,
        "/limited_article_stars?select=article_id,user_id,created_at",
        {"article_id": 2, "user_id": 2},
        Prefer="return=representation",
    )
    assert_denied(r, "view limited_article_stars")


def test_fails_inserting_if_select_is_not_specified(client: Client) -> None:
    r = post(client, "/limited_article_stars", {"article_id": 3, "user_id": 1}, Prefer="return=representation")
    assert_denied(r, "view limited_article_stars")


def test_can_insert_in_a_table_with_no_select_and_return_minimal(client: Client) -> None:
    r = post(client, "/insertonly", {"v": "some value"}, Prefer="return=minimal")
    assert r.status_code == 201, r.get_data(as_text=True)
    assert "Content-Type" not in r.headers
    assert r.headers["Content-Length"] == "0"
    assert r.headers["Preference-Applied"] == "return=minimal"


# UpdateSpec: table with limited privileges ---------------------------------------------------------


def test_succeeds_updating_row_and_gives_a_204_when_using_return_minimal(client: Client) -> None:
    r = client.patch("/app_users?id=eq.1", json={"password": "passxyz"}, headers={"Prefer": "return=minimal"})
    assert_no_content(r, "return=minimal")


def test_can_update_without_return_minimal_and_no_explicit_select(client: Client) -> None:
    assert_no_content(client.patch("/app_users?id=eq.1", json={"password": "passabc"}))


# DeleteSpec: table with limited privileges ---------------------------------------------------------


def test_fails_deleting_the_row_when_return_representation_and_selecting_all_the_columns(client: Client) -> None:
    r = client.delete("/app_users?id=eq.1", headers={"Prefer": "return=representation"})
    assert_denied(r, "table app_users")


def test_succeeds_deleting_the_row_when_selecting_only_the_privileged_columns(client: Client) -> None:
    r = client.delete(
        "/app_users?id=eq.1&select=id,email", json={"password": "passxyz"}, headers={"Prefer": "return=representation"}
    )
    assert_json(r, [{"id": 1, "email": "test@123.com"}])
    assert r.headers["Content-Range"] == "*/*"


def test_succeeds_deleting_the_row_with_no_explicit_select_when_using_return_minimal(client: Client) -> None:
    assert_no_content(client.delete("/app_users?id=eq.2", headers={"Prefer": "return=minimal"}), "return=minimal")


def test_succeeds_deleting_the_row_with_no_explicit_select_by_default(client: Client) -> None:
    assert_no_content(client.delete("/app_users?id=eq.3"))


# Beyond the spec: what RETURNING reads (mutatePlan's returnings, inferColsEmbedNeeds) ---------------


def test_update_returns_only_the_selected_columns(client: Client) -> None:
    r = client.patch(
        "/limited_article_stars?article_id=eq.1&user_id=eq.1&select=user_id",
        json={"user_id": 9},
        headers={"Prefer": "return=representation"},
    )
    assert_json(r, [{"user_id": 9}])
    r = client.patch(
        "/limited_article_stars?article_id=eq.1&user_id=eq.1",
        json={"user_id": 9},
        headers={"Prefer": "return=representation"},
    )
    assert_denied(r, "view limited_article_stars")


def test_insert_returns_the_selected_columns_and_the_primary_key(client: Client) -> None:
    body = {"id": 4, "email": "new@123.com", "password": "p"}
    r = post(client, "/app_users?select=email", body, Prefer="return=representation")
    assert_json(r, [{"email": "new@123.com"}], 201)
    # The key is read back too, so a role that may not read it cannot have the representation.
    r = post(client, "/hidden_key?select=name", {"id": 1, "name": "a"}, Prefer="return=representation")
    assert_denied(r, "table hidden_key")
    r = post(client, "/hidden_key", {"id": 1, "name": "a"})
    assert r.status_code == 201, r.get_data(as_text=True)


def test_returning_reads_the_columns_embeds_and_order_need(client: Client) -> None:
    body = {"id": 5, "email": "five@123.com", "password": "p"}
    r = post(client, "/app_users?select=email,user_notes(note)&order=id.desc", body, Prefer="return=representation")
    assert_json(r, [{"email": "five@123.com", "user_notes": []}], 201)
    r = post(client, "/app_users?select=id,email->>x", body, Prefer="return=representation")
    assert_json(r, [{"id": 5, "x": None}], 201)


def test_an_empty_patch_reads_only_the_selected_columns(client: Client) -> None:
    r = client.patch("/app_users?id=eq.1&select=id,email", json={}, headers={"Prefer": "return=representation"})
    assert_json(r, [])
    assert_no_content(client.patch("/app_users?id=eq.1", json={}))
