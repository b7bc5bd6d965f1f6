"""Several exposed schemas chosen per request by Accept-Profile/Content-Profile (S-PROFILE, M-PROFILE-HDR).

Ported from PostgREST's test/spec/Feature/Query/MultipleSchemaSpec.hs: all 31 cases, one test
each, in the spec's order and under its headings. The configuration is the spec's:
db-schemas v1, v2 and SPECIAL "@/\\#~_- (MultipleSchemaSpec.hs), so v1 is the default and the
third schema's name has uppercase letters, a space, a double quote, a slash and a backslash. Like
PostgREST's baseCfg (db-tx-end rollback-allow-override, SpecHelper.hs), every request's
transaction is rolled back, so each case sees the fixture's data as loaded: that is why two
cases may both insert v1.children id 0, and why the patches and the delete find child 1.

hspec-wai's `shouldRespondWith` compares a JSON body as JSON and only the headers a case
lists; here every case asserts its status, its JSON body, its Content-Type and whether
Content-Profile is sent (successes carry it, since several schemas are configured; errors
never do). The OpenAPI cases compare, as the spec does, the Swagger 2.0 `definitions` entry
of a table.

The objects are tests/fixtures/schemas_spec.sql (PostgREST's v1, v2 and "SPECIAL ..." objects),
loaded into a database of this module's own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from pgwsgi.config import Config
from pgwsgi.config.load import load_config
from tests.conftest import FIXTURES, JSON, Server, assert_error, client_factory, own_database

# The Haskell literal "SPECIAL \"@/\\#~_-", i.e. the characters SPECIAL "@/\#~_-
SPECIAL = 'SPECIAL "@/\\#~_-'
SCHEMAS = ("v1", "v2", SPECIAL)
EXPOSED_HINT = 'Only the following schemas are exposed: v1, v2, SPECIAL "@/\\#~_-'

# Swagger 2.0's definition of each parents table, and of v2.another_table (the spec's aesonQQ).
PK_INT = {"description": "Note:\nThis is a Primary Key.<pk/>", "format": "int32", "type": "integer"}
TEXT = {"format": "text", "type": "string"}
PARENTS_DEFINITION = {"type": "object", "properties": {"id": PK_INT, "name": TEXT}, "required": ["id"]}
ANOTHER_TABLE_DEFINITION = {"type": "object", "properties": {"id": PK_INT, "another_value": TEXT}, "required": ["id"]}


# Fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schemas_db(pg_server: Server) -> Iterator[str]:
    """A database of this module's own with tests/fixtures/schemas_spec.sql; dropped after it."""
    with own_database(pg_server, "pgwsgi_schemas", FIXTURES / "schemas_spec.sql") as name:
        yield name


@pytest.fixture(scope="module")
def client(pg_server: Server, schemas_db: str) -> Iterator[Client]:
    """A client of an app configured as the spec: three schemas, every transaction rolled back."""
    with client_factory(
        pg_server, schemas_db, db_schemas=SCHEMAS, db_anon_role="pgwsgi_anon", db_tx_end="rollback-allow-override"
    ) as factory:
        yield factory()


# Helpers -----------------------------------------------------------------------------


def request(client: Client, method: str, url: str, body: Any = None, **headers: str) -> TestResponse:
    """METHOD on URL with HEADERS (underscores for dashes) and BODY sent as JSON when given."""
    sent = {k.replace("_", "-"): v for k, v in headers.items()}
    if body is None:
        return client.open(url, method=method, headers=sent)
    sent["Content-Type"] = "application/json"
    return client.open(url, method=method, headers=sent, data=json.dumps(body))


def assert_json(r: TestResponse, status: int, body: Any, profile: str) -> None:
    """Exactly STATUS, a JSON body equal to BODY, and `Content-Profile: PROFILE`."""
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.headers.getlist("Content-Type") == [JSON]
    assert r.get_json() == body
    assert r.headers.getlist("Content-Profile") == [profile]


def assert_media(r: TestResponse, content_type: str, body: bytes, profile: str) -> None:
    """A handler's answer: 200, exactly this Content-Type, the raw BODY, and `Content-Profile: PROFILE`."""
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.headers.getlist("Content-Type") == [content_type]
    assert r.get_data() == body
    assert r.headers.getlist("Content-Profile") == [profile]


def assert_invalid_schema(r: TestResponse) -> None:
    """406 PGRST106 for the schema `unknown`, listing the exposed ones as configured; no Content-Profile."""
    assert_error(r, 406, "PGRST106", "Invalid schema: unknown", hint=EXPOSED_HINT)
    assert "Content-Profile" not in r.headers


def root_definitions(r: TestResponse, profile: str) -> dict[str, Any]:
    """The Swagger 2.0 `definitions` of a root answer for PROFILE (RootSpec's document, per schema)."""
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.headers["Content-Type"] == "application/openapi+json; charset=utf-8"
    assert r.headers.getlist("Content-Profile") == [profile]
    document = r.get_json()
    assert document["swagger"] == "2.0"
    definitions: dict[str, Any] = document["definitions"]
    return definitions


# Reading tables on different schemas -------------------------------------------------


def test_reads_a_table_from_the_default_schema_v1_if_no_schema_is_selected(client: Client) -> None:
    r = request(client, "GET", "/parents")
    assert_json(r, 200, [{"id": 1, "name": "parent v1-1"}, {"id": 2, "name": "parent v1-2"}], "v1")


def test_reads_a_table_from_the_default_schema_v1_passed_explicitly(client: Client) -> None:
    r = request(client, "GET", "/parents", Accept_Profile="v1")
    assert_json(r, 200, [{"id": 1, "name": "parent v1-1"}, {"id": 2, "name": "parent v1-2"}], "v1")


def test_reads_a_table_from_schema_v2(client: Client) -> None:
    r = request(client, "GET", "/parents", Accept_Profile="v2")
    assert_json(r, 200, [{"id": 3, "name": "parent v2-3"}, {"id": 4, "name": "parent v2-4"}], "v2")


def test_reads_another_table_from_schema_v2(client: Client) -> None:
    r = request(client, "GET", "/another_table", Accept_Profile="v2")
    assert_json(r, 200, [{"id": 5, "another_value": "value 5"}, {"id": 6, "another_value": "value 6"}], "v2")


def test_does_not_find_another_table_in_schema_v1(client: Client) -> None:
    r = request(client, "GET", "/another_table", Accept_Profile="v1")
    assert_error(r, 404, "PGRST205", "Could not find the table 'v1.another_table' in the schema cache")
    assert "Content-Profile" not in r.headers


def test_fails_to_read_a_table_from_an_unknown_schema(client: Client) -> None:
    assert_invalid_schema(request(client, "GET", "/parents", Accept_Profile="unknown"))


def test_reads_a_table_from_a_schema_with_uppercase_and_special_characters(client: Client) -> None:
    r = request(client, "GET", "/names?select=id,name", Accept_Profile=SPECIAL)
    assert_json(r, 200, [{"id": 1, "name": "John"}, {"id": 2, "name": "Mary"}, {"id": 3, "name": "José"}], SPECIAL)


def test_embeds_through_a_foreign_key_in_a_schema_with_special_characters(client: Client) -> None:
    r = request(client, "GET", "/names?select=name,languages(name)&id=in.(1,3)", Accept_Profile=SPECIAL)
    expected = [{"name": "John", "languages": {"name": "English"}}, {"name": "José", "languages": {"name": "Spanish"}}]
    assert_json(r, 200, expected, SPECIAL)


def test_embeds_a_computed_relationship_in_a_schema_with_special_characters(client: Client) -> None:
    r = request(client, "GET", "/names?select=name,computed_languages(name)&id=in.(1,3)", Accept_Profile=SPECIAL)
    expected = [
        {"name": "John", "computed_languages": {"name": "English"}},
        {"name": "José", "computed_languages": {"name": "Spanish"}},
    ]
    assert_json(r, 200, expected, SPECIAL)


# Inserting tables on different schemas -----------------------------------------------


def test_inserts_on_the_default_schema_and_returns_it(client: Client) -> None:
    body = {"id": 0, "name": "child v1-1", "parent_id": 1}
    r = request(client, "POST", "/children", body, Prefer="return=representation")
    assert_json(r, 201, [body], "v1")


def test_inserts_on_the_v1_schema_and_returns_its_parent(client: Client) -> None:
    body = {"id": 0, "name": "child v1-2", "parent_id": 2}
    r = request(
        client, "POST", "/children?select=id,parent(*)", body, Prefer="return=representation", Content_Profile="v1"
    )
    assert_json(r, 201, [{"id": 0, "parent": {"id": 2, "name": "parent v1-2"}}], "v1")


def test_inserts_on_the_v2_schema_and_returns_its_parent(client: Client) -> None:
    body = {"id": 0, "name": "child v2-3", "parent_id": 3}
    r = request(
        client, "POST", "/children?select=id,parent(*)", body, Prefer="return=representation", Content_Profile="v2"
    )
    assert_json(r, 201, [{"id": 0, "parent": {"id": 3, "name": "parent v2-3"}}], "v2")


def test_fails_to_insert_on_an_unknown_schema(client: Client) -> None:
    r = request(client, "POST", "/children", {"name": "child 4", "parent_id": 4}, Content_Profile="unknown")
    assert_invalid_schema(r)


def test_table_handler_with_a_domain_on_another_schema(client: Client) -> None:
    # v2.plain_agg returns multi_private."text/plain", a domain outside the exposed schemas.
    r = request(client, "GET", "/another_table", Accept_Profile="v2", Accept="text/plain")
    assert_media(r, "text/plain; charset=utf-8", b"plain", "v2")


def test_table_handler_with_a_domain_on_an_exposed_schema(client: Client) -> None:
    r = request(client, "GET", "/another_table", Accept_Profile="v2", Accept="text/special")
    assert_media(r, "text/special", b"special", "v2")


# Calling procs on different schemas --------------------------------------------------


def test_calls_the_default_schema_function(client: Client) -> None:
    r = request(client, "GET", "/rpc/get_parents_below?id=6")
    assert_json(r, 200, [{"id": 1, "name": "parent v1-1"}, {"id": 2, "name": "parent v1-2"}], "v1")


def test_calls_the_v1_schema_function_and_embeds(client: Client) -> None:
    r = request(client, "GET", "/rpc/get_parents_below?id=6&select=id,name,children(id,name)", Accept_Profile="v1")
    expected = [
        {"id": 1, "name": "parent v1-1", "children": [{"id": 1, "name": "child v1-1"}]},
        {"id": 2, "name": "parent v1-2", "children": [{"id": 2, "name": "child v1-2"}]},
    ]
    assert_json(r, 200, expected, "v1")


def test_calls_the_v2_schema_function_and_embeds(client: Client) -> None:
    r = request(client, "GET", "/rpc/get_parents_below?id=6&select=id,name,children(id,name)", Accept_Profile="v2")
    expected = [
        {"id": 3, "name": "parent v2-3", "children": [{"id": 1, "name": "child v2-3"}]},
        {"id": 4, "name": "parent v2-4", "children": []},
    ]
    assert_json(r, 200, expected, "v2")


def test_calls_the_v2_schema_function_with_post_by_content_profile(client: Client) -> None:
    r = request(client, "POST", "/rpc/get_parents_below?select=id,name", {"id": "6"}, Content_Profile="v2")
    assert_json(r, 200, [{"id": 3, "name": "parent v2-3"}, {"id": 4, "name": "parent v2-4"}], "v2")


def test_function_handler_with_a_domain_on_another_schema(client: Client) -> None:
    r = request(client, "GET", "/rpc/get_plain_text", Accept_Profile="v2", Accept="text/plain")
    assert_media(r, "text/plain; charset=utf-8", b"plain", "v2")


def test_function_handler_with_a_domain_on_an_exposed_schema(client: Client) -> None:
    r = request(client, "GET", "/rpc/get_special_text", Accept_Profile="v2", Accept="text/special")
    assert_media(r, "text/special", b"special", "v2")


# Modifying tables on different schemas -----------------------------------------------


def test_patches_on_the_v1_schema_and_returns_its_parent(client: Client) -> None:
    r = request(
        client,
        "PATCH",
        "/children?select=name,parent(name)&id=eq.1",
        {"name": "child v1-1 updated"},
        Content_Profile="v1",
        Prefer="return=representation",
    )
    assert_json(r, 200, [{"name": "child v1-1 updated", "parent": {"name": "parent v1-1"}}], "v1")


def test_patches_on_the_v2_schema_and_returns_its_parent(client: Client) -> None:
    r = request(
        client,
        "PATCH",
        "/children?select=name,parent(name)&id=eq.1",
        {"name": "child v2-1 updated"},
        Content_Profile="v2",
        Prefer="return=representation",
    )
    assert_json(r, 200, [{"name": "child v2-1 updated", "parent": {"name": "parent v2-3"}}], "v2")


def test_deletes_on_the_v2_schema(client: Client) -> None:
    r = request(client, "DELETE", "/children?id=eq.1", Content_Profile="v2", Prefer="return=representation")
    assert_json(r, 200, [{"id": 1, "name": "child v2-3", "parent_id": 3}], "v2")


def test_puts_on_the_v2_schema(client: Client) -> None:
    body = [{"id": 111, "name": "child v2-111", "parent_id": None}]
    r = request(client, "PUT", "/children?id=eq.111", body, Content_Profile="v2", Prefer="return=representation")
    assert_json(r, 201, body, "v2")


# OpenAPI output ----------------------------------------------------------------------


def test_openapi_reads_a_definition_from_the_default_schema_v1_if_no_schema_is_selected(client: Client) -> None:
    definitions = root_definitions(request(client, "GET", "/"), "v1")
    assert definitions["parents"] == PARENTS_DEFINITION


def test_openapi_reads_a_definition_from_the_default_schema_v1_passed_explicitly(client: Client) -> None:
    definitions = root_definitions(request(client, "GET", "/", Accept_Profile="v1"), "v1")
    assert definitions["parents"] == PARENTS_DEFINITION


def test_openapi_reads_a_definition_from_schema_v2(client: Client) -> None:
    definitions = root_definitions(request(client, "GET", "/", Accept_Profile="v2"), "v2")
    assert definitions["parents"] == PARENTS_DEFINITION


def test_openapi_reads_another_table_definition_from_schema_v2(client: Client) -> None:
    definitions = root_definitions(request(client, "GET", "/", Accept_Profile="v2"), "v2")
    assert definitions["another_table"] == ANOTHER_TABLE_DEFINITION


def test_openapi_does_not_find_another_table_definition_in_schema_v1(client: Client) -> None:
    definitions = root_definitions(request(client, "GET", "/", Accept_Profile="v1"), "v1")
    assert "another_table" not in definitions


def test_openapi_fails_to_read_definitions_from_an_unknown_schema(client: Client) -> None:
    assert_invalid_schema(request(client, "GET", "/", Accept_Profile="unknown"))


# Beyond the spec: the configuration it runs with -------------------------------------


def test_the_specs_db_schemas_parse_as_postgrest_parses_them(tmp_path: Path) -> None:
    # Main.hs sets the list directly; a config file or PGRST_DB_SCHEMAS spells it as one string,
    # which PostgREST (Config.hs, splitOnCommas) splits on commas and strips, quotes included.
    config_file = tmp_path / "postgrest.conf"
    config_file.write_text('db-schemas = "v1, v2, SPECIAL \\"@/\\\\#~_-"\n')
    from_file: Config = load_config(str(config_file), env={})
    from_env: Config = load_config(None, env={"PGRST_DB_SCHEMAS": 'v1, v2, SPECIAL "@/\\#~_-'})
    assert from_file.db_schemas == from_env.db_schemas == SCHEMAS
