"""The OpenAPI root `GET /`: PostgREST's Swagger 2.0 document, as PostgREST v16 answers it.

The objects live in tests/fixtures/openapi.sql (schemas oas, oas_two, oas_one), in a
database of this module's own. Expected statuses, headers and bodies follow
PostgREST's specs test/spec/Feature/OpenApi/{OpenApiSpec, DisabledOpenApiSpec,
IgnorePrivOpenApiSpec, ProxySpec, RootSpec, SecurityOpenApiSpec}.hs and
Feature/Query/MultipleSchemaSpec.hs, and its code: Response/OpenAPI.hs (the
document, encoded by swagger2, which leaves out Nothing, empty lists and empty
maps), SchemaCache.hs (tablesSqlQuery), Query/SqlFragment.hs (accessibleTables,
accessibleFuncs), MainTx.hs (follow- and ignore-privileges), Response.hs,
ApiRequest.hs (getResource, getSchema, getAction) and Plan.hs (inspectPlan).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV2SpecValidator, validate
from werkzeug.test import Client

from tests.conftest import FIXTURES, Server, assert_error, bearer, client_factory, own_database

OPENAPI = "application/openapi+json; charset=utf-8"
JSON = "application/json; charset=utf-8"
VARY = "Accept, Prefer, Range"
SERVER = "postgrest/16.1"

# host and port are fixed so that the default "!4" (PostgREST prints 0.0.0.0) stays out of the way.
BASE: dict[str, Any] = {"db_schemas": ("oas", "oas_two"), "server_host": "127.0.0.1", "server_port": 3000}

USER = bearer(role="pgwsgi_user")
ADMIN = bearer(role="pgwsgi_admin")

MakeClient = Callable[..., Client]
Doc = dict[str, Any]


# Fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def oas_db(pg_server: Server) -> Iterator[str]:
    """A database with tests/fixtures/openapi.sql loaded, for this module only."""
    with own_database(pg_server, "pgwsgi_openapi", FIXTURES / "openapi.sql") as name:
        yield name


@pytest.fixture(scope="module")
def oas_client(pg_server: Server, oas_db: str) -> Iterator[MakeClient]:
    """Clients of apps on oas_db with BASE and keyword overrides of Config; one app per distinct configuration."""
    with client_factory(pg_server, oas_db, **BASE) as factory:
        yield factory


@pytest.fixture(scope="module")
def api(oas_client: MakeClient) -> Client:
    """The usual configuration: schemas oas and oas_two, follow-privileges."""
    return oas_client()


def get_doc(client: Client, headers: dict[str, str] | None = None) -> Doc:
    """The document GET / answers with, which must be a 200 OpenAPI response."""
    r = client.get("/", headers=headers or {})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.headers["Content-Type"] == OPENAPI
    doc: Doc = json.loads(r.get_data())
    return doc


@pytest.fixture(scope="module")
def doc(api: Client) -> Doc:
    """The anonymous document of schema oas (follow-privileges)."""
    return get_doc(api)


def headers_of(r: Any) -> list[tuple[str, str]]:
    return sorted(r.headers.items())


# Expected pieces, from Response/OpenAPI.hs -------------------------------------------------

RPC_PRODUCES = [
    "application/json",
    "application/vnd.pgrst.object+json;nulls=stripped",
    "application/vnd.pgrst.object+json",
]
ALL_MEDIA = [*RPC_PRODUCES, "text/csv"]
PK = "Note:\nThis is a Primary Key.<pk/>"
OK = {"200": {"description": "OK"}}


def fk(table: str, column: str) -> str:
    return f"This is a Foreign Key to `{table}.{column}`.<fk table='{table}' column='{column}'/>"


def _prefer(enum: list[str] | None) -> dict[str, Any]:
    param: dict[str, Any] = {"name": "Prefer", "description": "Preference", "required": False, "in": "header"}
    param["type"] = "string"
    if enum:
        param["enum"] = enum
    return param


def _plain(name: str, description: str, where: str = "query") -> dict[str, Any]:
    return {"name": name, "description": description, "required": False, "in": where, "type": "string"}


RETURN = ["return=representation", "return=minimal", "return=none"]
FIXED_PARAMETERS: dict[str, Any] = {
    # makePreferParam ["params"] has no values: no "enum" key at all (OpenApiSpec "does not include empty enum").
    "preferParams": _prefer(None),
    "preferReturn": _prefer(RETURN),
    "preferCount": _prefer(["count=none"]),
    "preferPost": _prefer([*RETURN, "resolution=ignore-duplicates", "resolution=merge-duplicates"]),
    "select": _plain("select", "Filtering Columns"),
    "on_conflict": _plain("on_conflict", "On Conflict"),
    "order": _plain("order", "Ordering"),
    "range": _plain("Range", "Limiting and Pagination", "header"),
    "rangeUnit": {**_plain("Range-Unit", "Limiting and Pagination", "header"), "default": "items"},
    "offset": _plain("offset", "Limiting and Pagination"),
    "limit": _plain("limit", "Limiting and Pagination"),
}

ROOT_PATH = {
    "get": {
        "tags": ["Introspection"],
        "summary": "OpenAPI description (this document)",
        "produces": ["application/openapi+json", "application/json"],
        "responses": OK,
    }
}

INFO_DEFAULT = {
    "version": "16.1",
    "title": "PostgREST API",
    "description": "This is a dynamic API generated by PostgREST",
}
EXTERNAL_DOCS = {"description": "PostgREST Documentation", "url": "https://postgrest.org/en/v16/references/api.html"}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/parameters/{name}"}


def table_path(
    name: str, columns: list[str], *, summary: str | None = None, description: str | None = None, writable: bool = True
) -> dict[str, Any]:
    """makePathItem: GET always; POST, PATCH and DELETE when the relation is insertable, updatable or deletable."""
    head: dict[str, Any] = {"tags": [name]}
    if summary is not None:
        head["summary"] = summary
    if description is not None:
        head["description"] = description
    filters = [ref(f"rowFilter.{name}.{c}") for c in columns]
    item: dict[str, Any] = {
        "get": {
            **head,
            "parameters": [
                *filters,
                *map(ref, ["select", "order", "range", "rangeUnit", "offset", "limit", "preferCount"]),
            ],
            "responses": {
                "200": {
                    "description": "OK",
                    "schema": {"type": "array", "items": {"$ref": f"#/definitions/{name}"}},
                },
                "206": {"description": "Partial Content"},
            },
        }
    }
    if writable:
        item["post"] = {
            **head,
            "parameters": [ref(f"body.{name}"), ref("select"), ref("preferPost")],
            "responses": {"201": {"description": "Created"}},
        }
        item["patch"] = {
            **head,
            "parameters": [*filters, ref(f"body.{name}"), ref("preferReturn")],
            "responses": {"204": {"description": "No Content"}},
        }
        item["delete"] = {
            **head,
            "parameters": [*filters, ref("preferReturn")],
            "responses": {"204": {"description": "No Content"}},
        }
    return item


def rpc_op(name: str, parameters: list[dict[str, Any]], summary: str | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"tags": [f"(rpc) {name}"], "produces": RPC_PRODUCES, "responses": OK}
    if summary is not None:
        op["summary"] = summary
    if parameters:  # an empty parameter list is left out
        op["parameters"] = parameters
    return op


def args(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """makeProcPostParams: the body schema, then the Prefer reference."""
    return [{"name": "args", "required": True, "in": "body", "schema": schema}, ref("preferParams")]


# Objects of schema oas, by what follow-privileges shows (accessibleTables, accessibleFuncs).
ANON_TABLES = {
    "o_parents",
    "o_parents_view",
    "o_children",
    "o_details",
    "o_view_child",
    "o_report",
    "o_mat",
    "o_part",
    "o_types",
    "o_defaults",
    "o_colpriv",
}
USER_TABLES = ANON_TABLES - {"o_colpriv"} | {"o_secret"}
ALL_TABLES = ANON_TABLES | {"o_secret", "o_hidden"}
PUBLIC_FUNCTIONS = {"o_add", "o_reset", "o_varied", "o_sum", "o_inout", "o_out", "o_root"}
ALL_FUNCTIONS = PUBLIC_FUNCTIONS | {"o_privileged"}


def paths_for(tables: set[str], functions: set[str]) -> set[str]:
    return {"/"} | {f"/{t}" for t in tables} | {f"/rpc/{f}" for f in functions}


# Status, headers and media types ------------------------------------------------------------


def test_get_root_answers_the_openapi_document(api: Client) -> None:
    r = api.get("/")
    body = r.get_data()
    assert r.status_code == 200
    # Two exposed schemas: the default one counts as negotiated, so Content-Profile is sent.
    assert headers_of(r) == sorted(
        [
            ("Content-Type", OPENAPI),
            ("Content-Length", str(len(body))),
            ("Content-Profile", "oas"),
            ("Vary", VARY),
            ("Server", SERVER),
        ]
    )
    assert json.loads(body)["swagger"] == "2.0"


@pytest.mark.parametrize(
    "accept",
    [
        "application/openapi+json",
        "application/json",
        "*/*",
        "text/csv, application/openapi+json;q=0.5",
        # Decoded as application/json by PostgREST (MediaType.decodeMediaType).
        "application/vnd.pgrst.array+json",
    ],
)
def test_accepted_media_types_all_get_the_openapi_content_type(api: Client, accept: str) -> None:
    r = api.get("/", headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == OPENAPI
    assert json.loads(r.get_data()) == get_doc(api)


@pytest.mark.parametrize(
    "accept", ["text/csv", "application/vnd.pgrst.object+json", "application/*", "application/geo+json"]
)
def test_other_media_types_are_406(api: Client, accept: str) -> None:
    r = api.get("/", headers={"Accept": accept})
    assert_error(r, 406, "PGRST107", f"None of these media types are available: {accept}")


def test_openapi_media_type_on_a_table_is_406(api: Client) -> None:
    r = api.get("/o_parents", headers={"Accept": "application/openapi+json"})
    assert_error(r, 406, "PGRST107", "None of these media types are available: application/openapi+json")


def test_head_has_the_headers_but_no_body_and_no_content_length(api: Client) -> None:
    r = api.head("/", headers={"Accept": "application/openapi+json"})
    assert r.status_code == 200
    assert r.get_data() == b""
    assert headers_of(r) == sorted(
        [("Content-Type", OPENAPI), ("Content-Profile", "oas"), ("Vary", VARY), ("Server", SERVER)]
    )


def test_options_lists_the_root_methods(api: Client) -> None:
    r = api.options("/")
    assert r.status_code == 200
    assert r.get_data() == b""
    assert headers_of(r) == sorted(
        [
            ("Content-Length", "0"),
            ("Access-Control-Allow-Origin", "*"),
            ("Allow", "OPTIONS,GET,HEAD"),
            ("Vary", VARY),
            ("Server", SERVER),
        ]
    )


def test_query_string_does_not_change_the_document(api: Client) -> None:
    r = api.get("/?select=id,name&order=id&limit=1&id=eq.1")
    assert (r.status_code, json.loads(r.get_data())) == (200, get_doc(api))


def test_db_pre_request_runs_but_its_response_settings_do_not_apply(oas_client: MakeClient) -> None:
    client = oas_client(db_pre_request="public.o_pre")
    r = client.get("/")
    assert r.status_code == 200
    assert headers_of(r) == sorted(
        [
            ("Content-Type", OPENAPI),
            ("Content-Length", str(len(r.get_data()))),
            ("Content-Profile", "oas"),
            ("Vary", VARY),
            ("Server", SERVER),
        ]
    )
    # The same pre-request does set them on a read, so it did run above.
    r = client.get("/o_parents")
    assert (r.status_code, r.headers["X-From-Pre"]) == (418, "1")
    r = client.get("/", headers={"X-Block": "yes"})
    assert_error(r, 400, "P0001", "blocked by pre-request")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_other_methods_on_the_root_are_405(api: Client, method: str) -> None:
    r = api.open("/", method=method, json={})
    assert_error(r, 405, "PGRST117", f"Unsupported HTTP method: {method}")


# Schemas and profiles ------------------------------------------------------------------------


def test_accept_profile_chooses_the_schema_described(api: Client) -> None:
    r = api.get("/", headers={"Accept-Profile": "oas_two"})
    assert r.status_code == 200
    assert r.headers["Content-Profile"] == "oas_two"
    doc = json.loads(r.get_data())
    assert set(doc["definitions"]) == {"t2_notes"}
    assert set(doc["paths"]) == {"/", "/t2_notes", "/rpc/t2_ping", "/rpc/o_root"}


def test_head_with_accept_profile(api: Client) -> None:
    r = api.head("/", headers={"Accept-Profile": "oas_two"})
    assert (r.status_code, r.get_data()) == (200, b"")
    assert headers_of(r) == sorted(
        [("Content-Type", OPENAPI), ("Content-Profile", "oas_two"), ("Vary", VARY), ("Server", SERVER)]
    )


def test_unknown_profile_is_406(api: Client) -> None:
    r = api.get("/", headers={"Accept-Profile": "nope"})
    assert_error(
        r, 406, "PGRST106", "Invalid schema: nope", hint="Only the following schemas are exposed: oas, oas_two"
    )


def test_one_schema_sends_content_profile_only_when_asked(oas_client: MakeClient) -> None:
    client = oas_client(db_schemas=("oas",))
    r = client.get("/")
    assert r.status_code == 200
    assert "Content-Profile" not in r.headers
    r = client.get("/", headers={"Accept-Profile": "oas"})
    assert (r.status_code, r.headers["Content-Profile"]) == (200, "oas")


# The whole document ------------------------------------------------------------------------


def test_whole_document_of_a_small_schema(api: Client) -> None:
    r = api.get("/", headers={"Accept-Profile": "oas_two"})
    assert r.status_code == 200
    assert json.loads(r.get_data()) == {
        "swagger": "2.0",
        # oas_two has no COMMENT: the default title and description.
        "info": INFO_DEFAULT,
        "externalDocs": EXTERNAL_DOCS,
        "host": "127.0.0.1:3000",
        "basePath": "/",
        "schemes": ["http"],
        "consumes": ALL_MEDIA,
        "produces": ALL_MEDIA,
        "definitions": {
            "t2_notes": {
                "type": "object",
                "properties": {
                    # A serial's nextval(...) default is not JSON: no "default".
                    "id": {"description": PK, "format": "int32", "type": "integer"},
                    "body": {"format": "text", "type": "string"},
                },
                "required": ["id", "body"],
            }
        },
        "parameters": {
            **FIXED_PARAMETERS,
            "body.t2_notes": {
                "name": "t2_notes",
                "description": "t2_notes",
                "required": False,
                "in": "body",
                "schema": {"$ref": "#/definitions/t2_notes"},
            },
            "rowFilter.t2_notes.id": {"name": "id", "required": False, "in": "query", "type": "string"},
            "rowFilter.t2_notes.body": {"name": "body", "required": False, "in": "query", "type": "string"},
        },
        "paths": {
            "/": ROOT_PATH,
            "/t2_notes": table_path("t2_notes", ["id", "body"]),
            "/rpc/t2_ping": {
                "get": rpc_op("t2_ping", [], summary="Ping"),
                "post": rpc_op("t2_ping", args({"type": "object", "description": "Ping"}), summary="Ping"),
            },
            "/rpc/o_root": {"get": rpc_op("o_root", []), "post": rpc_op("o_root", args({"type": "object"}))},
        },
    }


def test_whole_document_of_an_empty_schema_with_a_one_line_comment(oas_client: MakeClient) -> None:
    r = oas_client(db_schemas=("oas_one",)).get("/")
    assert r.status_code == 200
    assert headers_of(r) == sorted(
        [("Content-Type", OPENAPI), ("Content-Length", str(len(r.get_data()))), ("Vary", VARY), ("Server", SERVER)]
    )
    assert json.loads(r.get_data()) == {
        "swagger": "2.0",
        # A comment without a newline: all of it is the title, and the description is empty, not the default.
        "info": {"version": "16.1", "title": "Only a title", "description": ""},
        "externalDocs": EXTERNAL_DOCS,
        "host": "127.0.0.1:3000",
        "basePath": "/",
        "schemes": ["http"],
        "consumes": ALL_MEDIA,
        "produces": ALL_MEDIA,
        # No relation: no "definitions" key at all.
        "parameters": FIXED_PARAMETERS,
        "paths": {"/": ROOT_PATH},
    }


def test_top_level_of_the_default_schema(doc: Doc) -> None:
    assert set(doc) == {
        "swagger",
        "info",
        "externalDocs",
        "host",
        "basePath",
        "schemes",
        "consumes",
        "produces",
        "definitions",
        "parameters",
        "paths",
    }
    assert doc["swagger"] == "2.0"
    # The schema's COMMENT: first line the title, the rest (leading newlines dropped) the description.
    assert doc["info"] == {
        "version": "16.1",
        "title": "My API title",
        "description": "My API description\nthat spans\nmultiple lines",
    }
    assert doc["externalDocs"] == EXTERNAL_DOCS
    assert (doc["host"], doc["basePath"], doc["schemes"]) == ("127.0.0.1:3000", "/", ["http"])
    assert doc["produces"] == ALL_MEDIA
    assert doc["consumes"] == ALL_MEDIA
    assert doc["paths"]["/"] == ROOT_PATH


def test_server_host_and_port_make_the_host(oas_client: MakeClient) -> None:
    doc = get_doc(oas_client(server_host="localhost", server_port=8080))
    assert (doc["host"], doc["basePath"], doc["schemes"]) == ("localhost:8080", "/", ["http"])


@pytest.mark.parametrize(
    ("uri", "host", "base_path", "scheme"),
    [
        # ProxySpec's URI: the port defaults by scheme and is always printed.
        ("https://postgrest.com/openapi.json", "postgrest.com:443", "/openapi.json", "https"),
        ("http://example.org", "example.org:80", "/", "http"),
        ("https://example.org:8443/api/v1", "example.org:8443", "/api/v1", "https"),
        ("http://example.org:3001/", "example.org:3001", "/", "http"),
    ],
)
def test_server_proxy_uri_replaces_host_base_path_and_scheme(
    oas_client: MakeClient, uri: str, host: str, base_path: str, scheme: str
) -> None:
    doc = get_doc(oas_client(openapi_server_proxy_uri=uri))
    assert (doc["host"], doc["basePath"], doc["schemes"]) == (host, base_path, [scheme])
    validate(doc, cls=OpenAPIV2SpecValidator)


def test_no_security_unless_active(doc: Doc) -> None:
    assert "security" not in doc
    assert "securityDefinitions" not in doc


def test_security_active_describes_the_jwt(oas_client: MakeClient) -> None:
    doc = get_doc(oas_client(openapi_security_active=True))
    assert doc["security"] == [{"JWT": []}]
    assert doc["securityDefinitions"] == {
        "JWT": {
            "description": 'Add the token prepending "Bearer " (without quotes) to it',
            "in": "header",
            "name": "Authorization",
            "type": "apiKey",
        }
    }
    validate(doc, cls=OpenAPIV2SpecValidator)


@pytest.mark.parametrize(
    ("overrides", "headers"),
    [
        ({}, {}),
        ({}, {"Accept-Profile": "oas_two"}),
        ({}, USER),
        ({"openapi_mode": "ignore-privileges"}, {}),
        ({"db_schemas": ("oas_one",)}, {}),
    ],
    ids=["anon", "oas_two", "user", "ignore-privileges", "empty-schema"],
)
def test_the_document_is_valid_swagger_2(
    oas_client: MakeClient, overrides: dict[str, Any], headers: dict[str, str]
) -> None:
    validate(get_doc(oas_client(**overrides), headers), cls=OpenAPIV2SpecValidator)


# openapi-mode --------------------------------------------------------------------------------


def test_disabled_mode_is_404(oas_client: MakeClient) -> None:
    client = oas_client(openapi_mode="disabled")
    r = client.get("/", headers={"Accept": "application/openapi+json"})
    assert_error(r, 404, "PGRST126", "Root endpoint metadata is disabled")
    assert r.headers["Content-Length"] == "93"
    # The path is refused before the profile, the media type or the method is looked at.
    for r in [
        client.get("/", headers={"Accept-Profile": "nope"}),
        client.get("/", headers={"Accept": "text/csv"}),
        client.post("/", json={}),
        client.options("/"),
    ]:
        assert_error(r, 404, "PGRST126", "Root endpoint metadata is disabled")
    assert client.get("/o_parents").status_code == 200


def test_disabled_mode_wins_over_db_root_spec(oas_client: MakeClient) -> None:
    r = oas_client(openapi_mode="disabled", db_root_spec="o_root").get("/")
    assert_error(r, 404, "PGRST126", "Root endpoint metadata is disabled")


def test_follow_privileges_shows_what_anonymous_may_use(doc: Doc) -> None:
    assert set(doc["paths"]) == paths_for(ANON_TABLES, PUBLIC_FUNCTIONS)
    assert set(doc["definitions"]) == ANON_TABLES


def test_follow_privileges_shows_what_a_jwt_role_may_use(api: Client) -> None:
    doc = get_doc(api, USER)
    assert set(doc["paths"]) == paths_for(USER_TABLES, ALL_FUNCTIONS)
    assert set(doc["definitions"]) == USER_TABLES
    assert doc["paths"]["/o_secret"]["post"]["tags"] == ["o_secret"]
    assert doc["paths"]["/rpc/o_privileged"]["post"]["tags"] == ["(rpc) o_privileged"]


def test_follow_privileges_shows_owned_tables(api: Client) -> None:
    doc = get_doc(api, ADMIN)
    assert set(doc["paths"]) == paths_for({"o_hidden"}, PUBLIC_FUNCTIONS)


def test_a_column_privilege_lists_the_table_with_all_its_columns(doc: Doc) -> None:
    assert doc["definitions"]["o_colpriv"] == {
        "type": "object",
        "properties": {
            "id": {"description": PK, "format": "int32", "type": "integer"},
            "hidden": {"format": "text", "type": "string"},
        },
        "required": ["id"],
    }


@pytest.mark.parametrize("headers", [{}, USER, ADMIN], ids=["anon", "user", "admin"])
def test_ignore_privileges_shows_everything_in_the_schema(oas_client: MakeClient, headers: dict[str, str]) -> None:
    doc = get_doc(oas_client(openapi_mode="ignore-privileges"), headers)
    assert set(doc["paths"]) == paths_for(ALL_TABLES, ALL_FUNCTIONS)
    assert set(doc["definitions"]) == ALL_TABLES
    assert doc["paths"]["/o_secret"]["post"]["tags"] == ["o_secret"]
    assert doc["paths"]["/rpc/o_privileged"]["post"]["tags"] == ["(rpc) o_privileged"]
    assert doc["paths"]["/o_children"]["get"]["summary"] == "o_children summary"
    assert doc["paths"]["/o_children"]["get"]["description"] == "o_children description\nthat spans\nmultiple lines"


def test_ignore_privileges_shows_another_schema_only_when_asked(oas_client: MakeClient) -> None:
    client = oas_client(openapi_mode="ignore-privileges")
    doc = get_doc(client)
    assert "/t2_notes" not in doc["paths"]
    assert "/rpc/t2_ping" not in doc["paths"]
    r = client.get("/", headers={"Accept-Profile": "oas_two"})
    assert (r.status_code, r.headers["Content-Profile"]) == (200, "oas_two")
    assert set(json.loads(r.get_data())["paths"]) == {"/", "/t2_notes", "/rpc/t2_ping", "/rpc/o_root"}


def test_functions_that_cannot_be_called_are_never_listed(api: Client, oas_client: MakeClient) -> None:
    for doc in [get_doc(api), get_doc(oas_client(openapi_mode="ignore-privileges"))]:
        for name in ["o_trigger_fn", "o_proc", "o_unnamed"]:
            assert f"/rpc/{name}" not in doc["paths"]


def test_partitions_are_not_listed(api: Client, oas_client: MakeClient) -> None:
    for doc in [get_doc(api), get_doc(oas_client(openapi_mode="ignore-privileges"))]:
        assert "/o_part" in doc["paths"]
        assert "/o_part_a" not in doc["paths"]
        assert "o_part_a" not in doc["definitions"]


# db-root-spec --------------------------------------------------------------------------------


ROOT_SPEC_BODY = {
    "swagger": "2.0",
    "info": {"title": "PostgREST API", "description": "This is a dynamic API generated by PostgREST"},
}


@pytest.mark.parametrize("headers", [{}, {"Accept": "application/json"}], ids=["no-accept", "json"])
def test_db_root_spec_answers_get_root_as_a_call(oas_client: MakeClient, headers: dict[str, str]) -> None:
    client = oas_client(db_root_spec="o_root")
    r = client.get("/", headers=headers)
    body = r.get_data()
    assert r.status_code == 200
    assert json.loads(body) == ROOT_SPEC_BODY
    assert headers_of(r) == sorted(
        [
            ("Content-Type", JSON),
            ("Content-Length", str(len(body))),
            ("Content-Profile", "oas"),
            ("Content-Range", "0-0/*"),
            ("Vary", VARY),
            ("Server", SERVER),
        ]
    )
    called = client.get("/rpc/o_root", headers=headers)
    assert (called.status_code, headers_of(called), called.get_data()) == (200, headers_of(r), body)


def test_db_root_spec_without_a_media_handler_refuses_openapi_json(oas_client: MakeClient) -> None:
    # RootSpec's root() returns the domain "application/openapi+json" (a media type handler);
    # a plain json function produces no such media type, so PostgREST answers 406.
    r = oas_client(db_root_spec="o_root").get("/", headers={"Accept": "application/openapi+json"})
    assert_error(r, 406, "PGRST107", "None of these media types are available: application/openapi+json")


def test_db_root_spec_is_looked_up_in_the_requested_schema(oas_client: MakeClient) -> None:
    r = oas_client(db_root_spec="o_root").get("/", headers={"Accept-Profile": "oas_two"})
    assert r.status_code == 200
    assert r.headers["Content-Profile"] == "oas_two"
    assert json.loads(r.get_data()) == {"from": "oas_two"}


def test_db_root_spec_takes_the_methods_of_a_function(oas_client: MakeClient) -> None:
    client = oas_client(db_root_spec="o_root")
    r = client.post("/", json={})
    assert (r.status_code, json.loads(r.get_data())) == (200, ROOT_SPEC_BODY)
    r = client.head("/")
    assert (r.status_code, r.get_data(), r.headers["Content-Type"]) == (200, b"", JSON)
    r = client.options("/")
    assert (r.status_code, r.headers["Allow"], r.get_data()) == (200, "OPTIONS,GET,HEAD,POST", b"")


# Definitions ---------------------------------------------------------------------------------


def test_definition_of_a_table_with_comments_and_keys(doc: Doc) -> None:
    assert doc["definitions"]["o_children"] == {
        "type": "object",
        "description": "o_children summary\n\no_children description\nthat spans\nmultiple lines",
        "properties": {
            "id": {"description": f"child id comment\n\n{PK}", "format": "int32", "type": "integer"},
            "name": {"description": "child name comment", "format": "text", "type": "string"},
            # A view over o_parents exists too: the note names the table.
            "parent_id": {"description": f"Note:\n{fk('o_parents', 'id')}", "format": "int32", "type": "integer"},
            # A foreign key to a UNIQUE column, not the primary key.
            "parent_code": {"description": f"Note:\n{fk('o_parents', 'code')}", "format": "text", "type": "string"},
            # Columns of a two-column foreign key get no note.
            "pair_id": {"format": "int32", "type": "integer"},
            "pair_code": {"format": "text", "type": "string"},
        },
        "required": ["id"],
    }


def test_definition_of_a_table_with_a_one_line_comment(doc: Doc) -> None:
    assert doc["definitions"]["o_parents"] == {
        "type": "object",
        "description": "Parent rows",
        "properties": {
            "id": {"description": PK, "format": "int32", "type": "integer"},
            "code": {"format": "text", "type": "string"},
            "name": {"format": "character varying", "type": "string", "maxLength": 40},
        },
        "required": ["id", "code"],
    }


def test_primary_key_that_is_a_foreign_key_gets_both_notes(doc: Doc) -> None:
    assert doc["definitions"]["o_details"] == {
        "type": "object",
        "properties": {
            "id": {
                "description": f"detail id comment\n\n{PK}\n{fk('o_parents', 'id')}",
                "format": "int32",
                "type": "integer",
            },
            "extra": {"format": "jsonb"},
        },
        "required": ["id"],
    }


def test_definition_of_an_updatable_view(doc: Doc) -> None:
    # View columns are nullable, so no "required"; the key and the foreign key come from the base table.
    assert doc["definitions"]["o_view_child"] == {
        "type": "object",
        "description": "Children through a view",
        "properties": {
            "id": {"description": PK, "format": "int32", "type": "integer"},
            "name": {"description": "view name comment", "format": "text", "type": "string"},
            "parent_id": {"description": f"Note:\n{fk('o_parents', 'id')}", "format": "int32", "type": "integer"},
        },
    }


def test_definition_of_a_view_without_keys(doc: Doc) -> None:
    assert doc["definitions"]["o_report"] == {
        "type": "object",
        "properties": {"n": {"format": "int32", "type": "integer"}, "label": {"format": "text", "type": "string"}},
    }


def test_definition_of_a_partitioned_table(doc: Doc) -> None:
    assert doc["definitions"]["o_part"] == {
        "type": "object",
        "properties": {
            "kind": {"description": PK, "format": "text", "type": "string"},
            "id": {"description": PK, "format": "int32", "type": "integer"},
        },
        "required": ["kind", "id"],
    }


def test_postgres_types_to_swagger_types(doc: Doc) -> None:
    def array(fmt: str, item: str | None) -> dict[str, Any]:
        return {"format": fmt, "type": "array", "items": {"type": item} if item else {}}

    assert doc["definitions"]["o_types"] == {
        "type": "object",
        "properties": {
            "a_varchar": {"format": "character varying", "type": "string"},
            "a_varchar20": {"format": "character varying", "type": "string", "maxLength": 20},
            "a_char": {"format": "character", "type": "string", "maxLength": 1},
            "a_text": {"format": "text", "type": "string"},
            "a_boolean": {"format": "boolean", "type": "boolean"},
            "a_smallint": {"format": "int32", "type": "integer"},
            "a_integer": {"format": "int32", "type": "integer"},
            "a_bigint": {"format": "int64", "type": "integer"},
            "a_numeric": {"format": "numeric", "type": "number"},
            # Built-in types are named without their modifiers.
            "a_numeric_10_2": {"format": "numeric", "type": "number"},
            "a_real": {"format": "real", "type": "number"},
            "a_double": {"format": "double precision", "type": "number"},
            # json and jsonb can be any JSON value: no "type".
            "a_json": {"format": "json"},
            "a_jsonb": {"format": "jsonb"},
            "a_text_arr": array("text[]", "string"),
            "a_int_arr": array("integer[]", "integer"),
            "a_bool_arr": array("boolean[]", "boolean"),
            "a_char_arr": array("character[]", "string"),
            "a_varchar_arr": array("character varying[]", "string"),
            "a_bigint_arr": array("bigint[]", "integer"),
            "a_numeric_arr": array("numeric[]", "number"),
            "a_json_arr": array("json[]", None),
            "a_jsonb_arr": array("jsonb[]", None),
            "a_date": {"format": "date", "type": "string"},
            "a_timestamptz": {"format": "timestamp with time zone", "type": "string"},
            "a_uuid": {"format": "uuid", "type": "string"},
            "a_money": {"format": "money", "type": "string"},
            # An enum keeps its schema-qualified name, and lists its labels in order.
            "a_mood": {"format": "oas.mood", "type": "string", "enum": ["sad", "ok", "happy"]},
            "a_mood_arr": array("oas.mood[]", "string"),
            # A domain over varchar(10) NOT NULL DEFAULT 'n/a': the built-in type, its length, its default.
            "a_short": {"format": "character varying", "type": "string", "maxLength": 10, "default": "n/a"},
            "a_int_not_null": {"format": "int32", "type": "integer"},
        },
        "required": ["a_short", "a_int_not_null"],
    }


def test_column_defaults(doc: Doc) -> None:
    # parseDefault: string types drop their "::type" cast and quotes; the result must then parse as
    # JSON, or there is no "default" (nextval(...), '-1'::integer, an array, a string with a '"').
    assert doc["definitions"]["o_defaults"] == {
        "type": "object",
        "properties": {
            "id": {"format": "int32", "type": "integer"},
            "a_text": {"format": "text", "type": "string", "default": "default"},
            "a_quoted": {"format": "text", "type": "string"},
            "a_boolean": {"format": "boolean", "type": "boolean", "default": False},
            "a_integer": {"format": "int32", "type": "integer", "default": 42},
            "a_negative": {"format": "int32", "type": "integer"},
            "a_numeric": {"format": "numeric", "type": "number", "default": 42.2},
            "a_date": {"format": "date", "type": "string", "default": "1900-01-01"},
            "a_time": {"format": "time without time zone", "type": "string", "default": "13:00:00"},
            "a_varchar": {"format": "character varying", "type": "string", "maxLength": 8, "default": "abc"},
            "a_mood": {"format": "oas.mood", "type": "string", "enum": ["sad", "ok", "happy"], "default": "ok"},
            "a_now": {"format": "timestamp with time zone", "type": "string", "default": "now()"},
            "a_arr": {"format": "text[]", "type": "array", "items": {"type": "string"}},
        },
        "required": ["id"],
    }


# Path items ----------------------------------------------------------------------------------


CHILD_COLUMNS = ["id", "name", "parent_id", "parent_code", "pair_id", "pair_code"]


def test_path_item_of_a_table_with_a_two_line_comment(doc: Doc) -> None:
    filters = [{"$ref": f"#/parameters/rowFilter.o_children.{c}"} for c in CHILD_COLUMNS]
    head = {
        "tags": ["o_children"],
        "summary": "o_children summary",
        "description": "o_children description\nthat spans\nmultiple lines",
    }
    assert doc["paths"]["/o_children"] == {
        "get": {
            **head,
            "parameters": [
                *filters,
                {"$ref": "#/parameters/select"},
                {"$ref": "#/parameters/order"},
                {"$ref": "#/parameters/range"},
                {"$ref": "#/parameters/rangeUnit"},
                {"$ref": "#/parameters/offset"},
                {"$ref": "#/parameters/limit"},
                {"$ref": "#/parameters/preferCount"},
            ],
            "responses": {
                "200": {
                    "description": "OK",
                    "schema": {"type": "array", "items": {"$ref": "#/definitions/o_children"}},
                },
                "206": {"description": "Partial Content"},
            },
        },
        "post": {
            **head,
            "parameters": [
                {"$ref": "#/parameters/body.o_children"},
                {"$ref": "#/parameters/select"},
                {"$ref": "#/parameters/preferPost"},
            ],
            "responses": {"201": {"description": "Created"}},
        },
        "patch": {
            **head,
            "parameters": [*filters, {"$ref": "#/parameters/body.o_children"}, {"$ref": "#/parameters/preferReturn"}],
            "responses": {"204": {"description": "No Content"}},
        },
        "delete": {
            **head,
            "parameters": [*filters, {"$ref": "#/parameters/preferReturn"}],
            "responses": {"204": {"description": "No Content"}},
        },
    }


def test_path_item_of_a_table_with_a_one_line_comment_has_no_description(doc: Doc) -> None:
    assert doc["paths"]["/o_parents"] == table_path("o_parents", ["id", "code", "name"], summary="Parent rows")


def test_path_item_of_a_table_without_comment(doc: Doc) -> None:
    assert doc["paths"]["/o_details"] == table_path("o_details", ["id", "extra"])


def test_path_item_of_an_updatable_view_has_every_method(doc: Doc) -> None:
    assert doc["paths"]["/o_view_child"] == table_path(
        "o_view_child", ["id", "name", "parent_id"], summary="Children through a view"
    )


def test_path_item_of_a_view_that_cannot_be_written_has_get_only(doc: Doc) -> None:
    assert doc["paths"]["/o_report"] == table_path("o_report", ["n", "label"], writable=False)


def test_path_item_of_a_materialized_view(doc: Doc) -> None:
    # Summary and description split at the first newline, even a single one.
    assert doc["paths"]["/o_mat"] == table_path(
        "o_mat", ["id", "name"], summary="o_mat summary", description="o_mat description", writable=False
    )


def test_path_item_of_a_partitioned_table(doc: Doc) -> None:
    assert doc["paths"]["/o_part"] == table_path("o_part", ["kind", "id"])


# The parameters map --------------------------------------------------------------------------


def test_fixed_parameters(doc: Doc) -> None:
    for name, expected in FIXED_PARAMETERS.items():
        assert doc["parameters"][name] == expected, name


def test_body_and_row_filter_parameters(doc: Doc) -> None:
    params = doc["parameters"]
    assert params["body.o_children"] == {
        "name": "o_children",
        "description": "o_children",
        "required": False,
        "in": "body",
        "schema": {"$ref": "#/definitions/o_children"},
    }
    # A row filter's description is the column's COMMENT alone, without the key notes.
    assert params["rowFilter.o_children.id"] == {
        "name": "id",
        "description": "child id comment",
        "required": False,
        "in": "query",
        "type": "string",
    }
    assert params["rowFilter.o_children.parent_id"] == {
        "name": "parent_id",
        "required": False,
        "in": "query",
        "type": "string",
    }
    assert params["rowFilter.o_view_child.name"] == {
        "name": "name",
        "description": "view name comment",
        "required": False,
        "in": "query",
        "type": "string",
    }


def test_parameters_are_the_fixed_ones_and_one_body_and_row_filters_per_relation(doc: Doc) -> None:
    expected = set(FIXED_PARAMETERS)
    for table, definition in doc["definitions"].items():
        expected.add(f"body.{table}")
        expected.update(f"rowFilter.{table}.{column}" for column in definition["properties"])
    assert set(doc["parameters"]) == expected
    assert "rowFilter.o_types.a_mood" in expected


# Functions -----------------------------------------------------------------------------------


def test_stable_function_has_get_and_post(doc: Doc) -> None:
    summary = "Adds two integers"
    int_param = {"in": "query", "type": "integer", "format": "int32"}
    assert doc["paths"]["/rpc/o_add"] == {
        "get": {
            **rpc_op(
                "o_add", [{"name": "a", "required": True, **int_param}, {"name": "b", "required": False, **int_param}]
            ),
            "summary": summary,
            "description": "Returns their sum.",
        },
        "post": {
            **rpc_op(
                "o_add",
                args(
                    {
                        "type": "object",
                        # The body schema carries the whole COMMENT.
                        "description": "Adds two integers\n\nReturns their sum.",
                        "properties": {
                            "a": {"format": "int32", "type": "integer"},
                            "b": {"format": "int32", "type": "integer"},
                        },
                        "required": ["a"],
                    }
                ),
            ),
            "summary": summary,
            "description": "Returns their sum.",
        },
    }


def test_volatile_function_has_post_only(doc: Doc) -> None:
    assert doc["paths"]["/rpc/o_reset"] == {"post": rpc_op("o_reset", args({"type": "object"}))}
    assert doc["paths"]["/rpc/o_inout"] == {
        "post": rpc_op(
            "o_inout",
            args(
                {
                    "type": "object",
                    "properties": {
                        "num": {"format": "int32", "type": "integer"},
                        "str": {"format": "text", "type": "string"},
                        "b": {"format": "boolean", "type": "boolean"},
                    },
                    # INOUT parameters without a default are required.
                    "required": ["num", "str"],
                }
            ),
        )
    }


def test_out_parameters_are_not_arguments(doc: Doc) -> None:
    assert doc["paths"]["/rpc/o_out"] == {
        "get": rpc_op("o_out", []),
        "post": rpc_op("o_out", args({"type": "object"})),
    }


def test_get_parameters_of_varied_arguments(doc: Doc) -> None:
    def param(name: str, fmt: str, typ: str, required: bool = True) -> dict[str, Any]:
        return {"name": name, "required": required, "in": "query", "format": fmt, "type": typ}

    op = doc["paths"]["/rpc/o_varied"]["get"]
    assert (op["summary"], op["description"]) == ("An RPC function", "Just a test for RPC function arguments")
    assert op["parameters"] == [
        param("d", "double precision", "number"),
        param("v", "character varying", "string"),
        param("b", "boolean", "boolean"),
        param("dt", "date", "string"),
        param("m", "money", "string"),
        # The argument's type as regtype prints it with the request's search_path (oas, public).
        param("e", "mood", "string"),
        # Arrays and json are strings in a query string.
        param("t_arr", "text[]", "string"),
        param("i_arr", "integer[]", "string"),
        param("c_arr", "character[]", "string"),
        param("j", "json", "string", required=False),
        param("jb", "jsonb", "string", required=False),
        param("i", "int32", "integer", required=False),
    ]


def test_post_body_schema_of_varied_arguments(doc: Doc) -> None:
    op = doc["paths"]["/rpc/o_varied"]["post"]
    assert (op["summary"], op["description"]) == ("An RPC function", "Just a test for RPC function arguments")
    assert op["parameters"][1] == {"$ref": "#/parameters/preferParams"}
    assert op["parameters"][0] == {
        "name": "args",
        "required": True,
        "in": "body",
        "schema": {
            "type": "object",
            "description": "An RPC function\n\nJust a test for RPC function arguments",
            "properties": {
                "d": {"format": "double precision", "type": "number"},
                "v": {"format": "character varying", "type": "string"},
                "b": {"format": "boolean", "type": "boolean"},
                "dt": {"format": "date", "type": "string"},
                "m": {"format": "money", "type": "string"},
                "e": {"format": "mood", "type": "string"},
                "t_arr": {"format": "text[]", "type": "array", "items": {"type": "string"}},
                "i_arr": {"format": "integer[]", "type": "array", "items": {"type": "integer"}},
                "c_arr": {"format": "character[]", "type": "array", "items": {"type": "string"}},
                "j": {"format": "json"},
                "jb": {"format": "jsonb"},
                "i": {"format": "int32", "type": "integer"},
            },
            "required": ["d", "v", "b", "dt", "m", "e", "t_arr", "i_arr", "c_arr"],
        },
    }


def test_variadic_argument_is_a_multi_collection(doc: Doc) -> None:
    assert doc["paths"]["/rpc/o_sum"] == {
        "get": rpc_op(
            "o_sum",
            [
                {
                    "name": "v",
                    "required": True,
                    "in": "query",
                    "type": "array",
                    "collectionFormat": "multi",
                    "items": {"type": "integer", "format": "int32"},
                }
            ],
        ),
        "post": rpc_op(
            "o_sum",
            args(
                {
                    "type": "object",
                    "properties": {"v": {"format": "integer[]", "type": "array", "items": {"type": "integer"}}},
                    "required": ["v"],
                }
            ),
        ),
    }
