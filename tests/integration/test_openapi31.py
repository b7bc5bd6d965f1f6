"""OpenAPI 3.1 at the root of the demo database (deploy/demo), and schemathesis holding the server to it.

The demo is loaded into a database of its own, with its own roles (schema.sql creates
authenticator, web_anon, web_user and web_admin) and the settings of deploy/demo/pgwsgi.conf.
The fuzzing part generates requests from the 3.1 document the role itself is given and checks
every answer against that document: no 5xx, a documented status and Content-Type, and a body
valid against the documented schema.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from jose import jwt
from openapi_spec_validator import OpenAPIV2SpecValidator, OpenAPIV31SpecValidator, validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client

from tests.conftest import ROOT, Server, client_factory, database

DEMO = ROOT / "deploy" / "demo"
OAS31 = "application/vnd.oai.openapi+json;version=3.1"
OAS31_TYPE = "application/vnd.oai.openapi+json;version=3.1; charset=utf-8"
# The demo's own secret, as deploy/demo/pgwsgi.conf gives it.
SECRET = re.findall(r'^jwt-secret\s*=\s*"([^"]*)"', (DEMO / "pgwsgi.conf").read_text(), re.M)[0]
ROLES = {
    "anonymous": {},
    "alice": {"role": "web_user", "sub": "alice"},
    "admin": {"role": "web_admin", "sub": "admin"},
}
NOTES = {"/notes": {"get", "post", "put", "patch", "delete"}}
USERS = {"/users": {"get", "post", "put", "patch", "delete"}}
# What each role's document lists: the demo grants web_anon nothing on api.users.
VISIBLE = {"anonymous": {"/": {"get"}, **NOTES}, "alice": {"/": {"get"}, **NOTES, **USERS}}
VISIBLE["admin"] = VISIBLE["alice"]


def auth(who: str) -> dict[str, str]:
    """The Authorization header of WHO (none for the anonymous)."""
    claims = ROLES[who]
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET)}"} if claims else {}


@pytest.fixture(scope="module")
def demo_db(pg_server: Server) -> Iterator[str]:
    """A database with deploy/demo/schema.sql loaded, for this module."""
    with database(pg_server, f"pgwsgi_oas31_{os.getpid()}", DEMO / "schema.sql") as name:
        yield name


@pytest.fixture(scope="module")
def demo(pg_server: Server, demo_db: str) -> Iterator[Callable[..., Any]]:
    """A factory of WSGI apps over the demo, configured as deploy/demo/pgwsgi.conf, with overrides.

    One app per distinct configuration (the apps of client_factory's clients).
    """
    with client_factory(
        pg_server,
        demo_db,
        db_uri=pg_server.dsn(demo_db, "authenticator"),
        db_schemas=("api",),
        db_anon_role="web_anon",
        jwt_secret=SECRET,
        db_max_rows=1000,
    ) as make_client:
        yield lambda **overrides: make_client(**overrides).application


def root(app: Any, accept: str | None = OAS31, who: str = "anonymous") -> Any:
    """GET / as WHO, with ACCEPT."""
    headers = {**auth(who), **({"Accept": accept} if accept else {})}
    return Client(app).get("/", headers=headers)


@pytest.mark.parametrize(
    "accept",
    [
        OAS31,
        "application/vnd.oai.openapi+json",
        "application/vnd.oai.openapi+json;version=3.1.0",
        f"text/html, {OAS31};q=0.9",
    ],
)
def test_the_31_media_type_gets_the_31_document(demo: Callable[..., Any], accept: str) -> None:
    r = root(demo(), accept)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.headers["Content-Type"] == OAS31_TYPE
    doc = r.get_json()
    assert doc["openapi"] == "3.1.0"
    validate(doc, cls=OpenAPIV31SpecValidator)


def test_openapi_version_31_answers_plain_requests_with_31(demo: Callable[..., Any]) -> None:
    app = demo(openapi_version="3.1")
    for accept in (None, "application/json", "application/openapi+json", "*/*"):
        r = root(app, accept)
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "application/openapi+json; charset=utf-8"
        assert r.get_json()["openapi"] == "3.1.0"


def test_both_documents_validate(demo: Callable[..., Any]) -> None:
    app = demo()
    swagger = root(app, None, "alice").get_json()
    assert swagger["swagger"] == "2.0"
    validate(swagger, cls=OpenAPIV2SpecValidator)
    validate(root(app, OAS31, "alice").get_json(), cls=OpenAPIV31SpecValidator)


@pytest.mark.parametrize("who", list(ROLES))
def test_each_role_sees_what_it_may_use(demo: Callable[..., Any], who: str) -> None:
    doc = root(demo(), OAS31, who).get_json()
    assert {path: set(item) for path, item in doc["paths"].items()} == VISIBLE[who]
    assert ("users" in doc["components"]["schemas"]) is (who != "anonymous")


def test_ignore_privileges_shows_everything_to_anyone(demo: Callable[..., Any]) -> None:
    doc = root(demo(openapi_mode="ignore-privileges"), OAS31).get_json()
    assert {path: set(item) for path, item in doc["paths"].items()} == VISIBLE["admin"]


def test_server_and_info(demo: Callable[..., Any]) -> None:
    doc = root(demo(server_host="127.0.0.1", server_port=3000), OAS31).get_json()
    assert doc["servers"] == [{"url": "http://127.0.0.1:3000"}]
    assert doc["info"] == {
        "title": "PostgREST API",
        "description": "This is a dynamic API generated by PostgREST",
        "version": "16.1",
    }
    proxied = root(demo(openapi_server_proxy_uri="https://api.example.com/demo/"), OAS31).get_json()
    assert proxied["servers"] == [{"url": "https://api.example.com/demo"}]


def test_the_demo_columns(demo: Callable[..., Any]) -> None:
    notes = root(demo(), OAS31, "alice").get_json()["components"]["schemas"]["notes"]
    # View columns are nullable as far as the catalog knows (PostgREST's view of them too).
    assert notes["properties"]["id"]["type"] == ["integer", "null"]
    assert notes["properties"]["id"]["format"] == "int64"
    assert notes["properties"]["created_at"] == {"type": ["string", "null"], "format": "date-time"}
    assert notes["properties"]["owner"]["description"] == "Foreign key to `users.sub`."


# -- schemathesis ----------------------------------------------------------------------------------------

# Per operation and role: 28 runs of 60 requests take about 15 s.
MAX_EXAMPLES = 60
# Headers the generated requests get on top of their own: schemathesis never sends Accept, and the
# document's Prefer header is a free string, so representations and every media type are chosen here.
VARIANTS: list[dict[str, str]] = [
    {},
    {},
    {"Prefer": "return=representation"},
    {"Prefer": "return=representation", "Accept": "application/vnd.pgrst.object+json"},
    {"Prefer": "return=representation, count=exact", "Accept": "application/vnd.pgrst.object+json;nulls=stripped"},
    {"Prefer": "return=representation", "Accept": "application/vnd.pgrst.array+json;nulls=stripped"},
    {"Prefer": "count=exact", "Accept": "text/csv"},
    {"Prefer": "count=exact"},
]
OPERATIONS = [
    (who, f"{method.upper()} {path}")
    for who in ROLES
    for path, methods in VISIBLE[who].items()
    for method in ("get", "post", "put", "patch", "delete")
    if method in methods
]


def bodiless_ok(check: Callable[..., Any]) -> Callable[..., Any]:
    """CHECK, except on answers with neither a body nor a Content-Type.

    A write's 201/200/204 without `return=representation` has no body and, as in PostgREST, no
    Content-Type. OpenAPI's `content` lists the payloads a response may carry, so the document
    is true of them; schemathesis, though, wants a Content-Type whenever `content` is documented.
    """

    def wrapped(ctx: Any, response: Any, case: Any) -> Any:
        if not response.content and "content-type" not in {k.lower() for k in response.headers}:
            return None
        return check(ctx, response, case)

    wrapped.__name__ = check.__name__
    return wrapped


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    bodiless_ok(content_type_conformance),
    bodiless_ok(response_schema_conformance),
]


@pytest.fixture(scope="module")
def schemas(demo: Callable[..., Any]) -> Callable[[str], Any]:
    """Each role's 3.1 document, loaded into schemathesis over one app."""
    app = demo()
    loaded: dict[str, Any] = {}

    def schema_for(who: str) -> Any:
        if who not in loaded:
            r = root(app, OAS31, who)
            assert r.status_code == 200
            schema = schemathesis.openapi.from_dict(r.get_json())
            schema.app = app
            loaded[who] = schema
        return loaded[who]

    return schema_for


OBJECT = "application/vnd.pgrst.object+json"
STRIPPED = "application/vnd.pgrst.array+json;nulls=stripped"
REPRESENT = {"Prefer": "return=representation"}


@pytest.mark.parametrize(
    ("method", "url", "headers", "body", "status"),
    [
        ("GET", "/notes", {"Prefer": "count=exact", "Range": "0-0"}, None, 206),
        ("GET", "/notes?id=eq.1", {"Accept": f"{OBJECT};nulls=stripped"}, None, 200),
        ("GET", "/notes", {"Accept": "text/csv"}, None, 200),
        ("GET", "/users", {"Accept": STRIPPED}, None, 200),
        # Past the counted rows: the error object, under the media type the read negotiated.
        ("GET", "/notes?offset=100", {"Prefer": "count=exact", "Accept": STRIPPED}, None, 416),
        ("POST", "/notes?select=id,title", REPRESENT, {"title": "a"}, 201),
        ("POST", "/notes", {**REPRESENT, "Accept": OBJECT}, [{"title": "b", "body": "c"}], 201),
        ("POST", "/notes", {}, {"title": "no body back"}, 201),
        ("PATCH", "/notes?id=eq.1", REPRESENT, {"title": "Shopping"}, 200),
        ("PATCH", "/notes?id=eq.1", {}, {"is_public": False}, 204),
        ("DELETE", "/notes?id=eq.2", REPRESENT, None, 200),
        ("PUT", "/notes?id=eq.1", {}, {"id": 1, "title": "x"}, 400),  # id is GENERATED ALWAYS
        ("POST", "/notes", {}, {"title": "forged", "owner": "bob"}, 403),
        ("GET", "/", {"Accept": OAS31}, None, 200),
    ],
)
def test_answers_conform_to_the_document(
    schemas: Callable[[str], Any], method: str, url: str, headers: dict[str, str], body: Any, status: int
) -> None:
    schema = schemas("alice")
    label = f"{method} {url.partition('?')[0]}"
    operation = schema.find_operation_by_label(label)
    r = Client(schema.app).open(url, method=method, headers={**auth("alice"), **headers}, json=body)
    assert r.status_code == status, r.get_data(as_text=True)
    assert str(status) in operation.responses.status_codes
    if r.get_data():
        operation.validate_response(r)  # raises on an undocumented media type or a body off its schema
    else:
        assert "Content-Type" not in r.headers


@pytest.mark.parametrize(("who", "label"), OPERATIONS)
def test_schemathesis_finds_the_server_true_to_the_document(
    schemas: Callable[[str], Any], who: str, label: str
) -> None:
    operation = schemas(who).find_operation_by_label(label)
    assert operation is not None, f"{label} is not in the document of {who}"
    failures: dict[str, str] = {}
    answered: list[int] = []

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(), variant=st.sampled_from(VARIANTS))
    def run(case: Any, variant: dict[str, str]) -> None:
        try:
            answered.append(case.call_and_validate(headers={**auth(who), **variant}, checks=CHECKS).status_code)
        except BaseException as exc:  # schemathesis reports through exception groups
            text = str(exc)
            # One report per kind of failure (schemathesis' own summary line), with its reproduction.
            failures.setdefault(re.sub(r"\s+", " ", text.split("Reproduce with")[0])[:300], text)

    run()
    assert not failures, "\n\n".join(failures.values())
    # Reads get past the parsing to the database (writes may all be refused to this role).
    assert answered and (not label.startswith("GET") or any(200 <= s < 300 for s in answered)), answered
