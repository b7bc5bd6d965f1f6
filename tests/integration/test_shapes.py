"""Request shapes (pgwsgi/http/shapes.py): a cache hit must answer exactly as the full pipeline does.

A differential test. Each case is a pair of requests of the same shape: the
first (`teach`) goes through an app with an empty shape cache and teaches it
the shape; the second (`probe`) has other slot values or another body and goes
through the SAME app, where it is a cache hit. The probe is then sent to an app
whose cache is empty (the full pipeline: parse, plan, compose), and the two
answers must be identical: status, every header, body bytes; for writes, the
rows left behind too. Write cases restore their tables before every request, so
both runs of the probe start from the same rows and get the same ids.

For speed the apps are built once per module: "an empty cache" is a new
`Shapes` object in place of the app's own, which is what a new App starts with
(a new App costs a catalog load, ~150 ms). `test_the_client_fixtures_agree`
does the same with the `client` and `make_client()` fixtures literally.

The objects are those of tests/fixtures/*.sql, plus tests/fixtures/shapes.sql
(schema shp: a uuid key, a timestamp, emails), loaded and dropped by this module.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.test import Client, TestResponse

from pgwsgi import create_app
from pgwsgi.http.app import App
from pgwsgi.http.shapes import Shapes
from tests.conftest import FIXTURES, Server, bearer, load_sql, make_config

SINGULAR = "application/vnd.pgrst.object+json"
ALICE = bearer(role="pgwsgi_user", sub="alice")
BOB = bearer(role="pgwsgi_user", sub="bob")
ANN_ID = "00000000-0000-4000-8000-000000000001"
BOB_ID = "00000000-0000-4000-8000-000000000002"
DEE_ID = "6f1c2d4e-9a7b-4c3d-8e2f-1a2b3c4d5e6f"
SHP = {"Accept-Profile": "shp"}
SHP_WRITE = {"Content-Profile": "shp"}
# The written tables, read back after a write (created_at is now(): left out).
WRITTEN = (
    "test.w_items",
    "test.w_pairs",
    "test.w_uniq",
    "test.w_rls",
    "test.w_guarded",
    "other.w_things",
    "shp.accounts",
)

Answer = tuple[int, list[tuple[str, str]], bytes]


# Requests and cases -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Req:
    """One HTTP request, as the werkzeug test client sends it."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    raw_query: str | None = None  # QUERY_STRING as the server hands it over, bytes a URL cannot carry


def req(
    method: str, url: str, headers: dict[str, str] | None = None, body: Any = None, ctype: str | None = None
) -> Req:
    """A request; BODY is JSON-encoded unless it is bytes (then CTYPE, default JSON, names it)."""
    hdrs = dict(headers or {})
    data: bytes | None = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs.setdefault("Content-Type", ctype or "application/json")
    return Req(method, url, tuple(hdrs.items()), data)


def get(url: str, headers: dict[str, str] | None = None) -> Req:
    return req("GET", url, headers)


def head(url: str, headers: dict[str, str] | None = None) -> Req:
    return req("HEAD", url, headers)


def post(url: str, body: Any, headers: dict[str, str] | None = None, ctype: str | None = None) -> Req:
    return req("POST", url, headers, body, ctype)


def patch(url: str, body: Any, headers: dict[str, str] | None = None) -> Req:
    return req("PATCH", url, headers, body)


def delete(url: str, headers: dict[str, str] | None = None) -> Req:
    return req("DELETE", url, headers)


@dataclasses.dataclass(frozen=True)
class Case:
    """A pair of requests of one shape; HIT: the probe must be a cache hit (True), must not (False), either (None)."""

    teach: Req
    probe: Req
    hit: bool | None = True


def case(name: str, teach: Req, probe: Req, hit: bool | None = True) -> Any:
    return pytest.param(Case(teach, probe, hit), id=name)


def reads(
    name: str, url: str, first: str, second: str, headers: dict[str, str] | None = None, hit: bool | None = True
) -> Any:
    """A GET pair: URL's `{}` filled with FIRST's values, then SECOND's (values separated by `|`)."""
    return case(name, get(url.format(*_args(first)), headers), get(url.format(*_args(second)), headers), hit)


def _args(values: str) -> list[str]:
    return values.split("|")


# The broad list ------------------------------------------------------------------------

PEOPLE = "/g_people?select=id,first_name,last_name,age,active,score"

READS = [
    # Each operator on an integer column.
    reads("int-eq", PEOPLE + "&id=eq.{}", "1", "2"),
    reads("int-eq-no-row", PEOPLE + "&id=eq.{}", "1", "999"),
    reads("int-neq", PEOPLE + "&id=neq.{}&order=id", "1", "7"),
    reads("int-gt", PEOPLE + "&age=gt.{}&order=id", "30", "36"),
    reads("int-gte", PEOPLE + "&age=gte.{}&order=id", "25", "39"),
    reads("int-lt", PEOPLE + "&id=lt.{}&order=id", "3", "19"),
    reads("int-lte", PEOPLE + "&id=lte.{}&order=id", "1", "0"),
    reads("int-negative", PEOPLE + "&id=gt.{}&order=id&limit=2", "18", "-5"),
    # Text, boolean, numeric (a `.` in the value), keyword-like text values.
    reads("text-eq", PEOPLE + "&last_name=eq.{}&order=id", "Smith", "Brown"),
    reads("text-neq", PEOPLE + "&last_name=neq.{}&order=id", "Smith", "Jones"),
    reads("text-gt", PEOPLE + "&first_name=gt.{}&order=id", "M", "Ray"),
    reads("text-lte", PEOPLE + "&first_name=lte.{}&order=id", "Bob", "Fay"),
    reads("text-keyword-values", PEOPLE + "&last_name=eq.{}&order=id", "Smith", "null"),
    reads("text-keyword-values-2", PEOPLE + "&first_name=neq.{}&last_name=eq.{}&order=id", "not|Jones", "true|Brown"),
    reads("bool-eq", PEOPLE + "&active=eq.{}&order=id", "true", "false"),
    reads("bool-neq", PEOPLE + "&active=neq.{}&order=id", "true", "false"),
    reads("bool-eq-invalid", PEOPLE + "&active=eq.{}&order=id", "true", "maybe"),
    reads("numeric-dot", PEOPLE + "&score=gte.{}&order=id", "12.5", "2.25"),
    reads("numeric-lt-dot", PEOPLE + "&score=lt.{}&order=id", "3.75", "1.3"),
    # Dates and timestamps: `-`, `:` and `.` in values.
    reads("date-gte", "/items?select=id,created&created=gte.{}&order=id", "2024-01-14", "2024-01-03"),
    reads("date-lt", "/items?select=id,created&created=lt.{}&order=id", "2024-01-03", "2023-12-31"),
    reads("timestamptz-lt", "/g_events?at=lt.{}&order=id", "2024-03-01T00:00:00", "2024-08-01T00:00:00Z"),
    reads("timestamptz-gte", "/g_events?at=gte.{}&order=id", "2024-01-15T12:00:00", "2024-07-15T12:00:00.5"),
    reads(
        "timestamptz-gte-timezone",
        "/g_events?at=gte.{}&order=id",
        "2024-01-01",
        "2024-07-15T12:00:00",
        {"Prefer": "timezone=America/Sao_Paulo"},
    ),
    reads("timestamp-eq", "/accounts?email=neq.x&joined=eq.{}", "2024-01-01T09:30:00", "2024-03-31T23:59:59.5", SHP),
    reads("timestamp-gt", "/accounts?joined=gt.{}&order=joined", "2024-01-01T09:30:00", "2024-02-15T18:00:00", SHP),
    reads("timestamp-invalid", "/accounts?joined=gt.{}&order=joined", "2024-01-01T09:30:00", "2024-13-45", SHP),
    # uuid, emails: `@`, `-`, `.`, `_`.
    reads("uuid-eq", "/accounts?id=eq.{}", ANN_ID, DEE_ID, SHP),
    reads("uuid-neq", "/accounts?select=email&id=neq.{}&order=email", ANN_ID, BOB_ID, SHP),
    reads("uuid-gte", "/accounts?select=email&id=gte.{}&order=id", ANN_ID, DEE_ID, SHP),
    reads("uuid-invalid", "/accounts?id=eq.{}", ANN_ID, "not-a-uuid", SHP),
    reads("email-eq", "/accounts?select=id,email,active&email=eq.{}", "ann@example.com", "dee_e@mail.example", SHP),
    reads("email-lt", "/accounts?select=email&email=lt.{}&order=email", "bob@example.org", "cid.x@example.com", SHP),
    reads("email-bool-int", "/accounts?select=email&active=eq.{}&visits=gte.{}", "true|1", "false|0", SHP),
    reads("numeric-negative", "/accounts?select=email&balance=lt.{}", "0", "-4.2", SHP),
    # Two filters with equal values, then different ones; one column twice.
    reads("two-equal-values", "/e_projects?id=eq.{}&client_id=eq.{}", "1|1", "3|2"),
    reads("two-equal-values-lte", "/g_people?select=id&id=lte.{}&age=lte.{}&order=id", "21|21", "5|24"),
    reads("two-equal-then-swapped", "/g_people?select=id&id=gte.{}&age=lte.{}&order=id", "2|2", "30|3"),
    reads("same-column-twice", "/g_people?select=id&id=gt.{}&id=lt.{}&order=id", "2|5", "10|13"),
    reads("same-column-same-op", "/g_people?select=id&id=neq.{}&id=neq.{}&order=id", "1|2", "4|3"),
    reads("three-slots", "/g_people?select=id&id=gt.{}&age=lt.{}&last_name=eq.{}&order=id", "1|40|Smith", "0|33|Jones"),
    # Embeds, order, limit, offset, aliases, casts, computed fields, logic trees.
    reads("embed-m2o-o2m", "/e_projects?select=id,name,e_clients(name),e_tasks(id,name)&id=eq.{}", "1", "3"),
    reads(
        "embed-filter-not-slotted",
        "/e_clients?select=id,e_projects(id,name)&e_projects.id=gt.1&id=eq.{}",
        "1",
        "2",
    ),
    reads("embed-inner", "/e_clients?select=id,e_projects!inner(id)&id=lte.{}&order=id", "3", "1"),
    reads("embed-m2m", "/e_users?select=name,e_tasks(name)&id=eq.{}", "1", "3"),
    reads("embed-computed", "/e_clients?select=id,big_projects(name)&id=eq.{}", "1", "2"),
    reads("order-limit-offset", "/g_people?select=id,age&age=gt.{}&order=age.desc,id&limit=3&offset=1", "22", "35"),
    reads("limit-zero", "/g_people?select=id&age=gt.{}&limit=0", "22", "35"),
    reads("alias-cast", "/items?select=ident:id,price::text,n:data->>n&id=eq.{}", "2", "5"),
    reads("json-path-filter-and-slot", "/items?select=id&data->>label=eq.L7&id=gte.{}", "1", "8"),
    reads("computed-field", "/items?select=id,label&label=neq.{}&order=id&limit=3", "x", "item_1"),
    reads("logic-tree-and-slot", "/g_people?select=id&or=(id.eq.1,id.eq.2,id.eq.9)&age=gt.{}&order=id", "20", "21"),
    reads("not-eq-not-slotted", "/g_people?select=id&id=not.eq.1&age=lt.{}&order=id", "25", "30"),
    reads("slot-and-in-on-one-column", "/g_people?select=id&id=gte.{}&id=in.(2,3,9)&order=id", "3", "1"),
    reads("teach-with-a-db-error", PEOPLE + "&id=eq.{}", "abc", "2"),
    reads("teach-with-no-row", PEOPLE + "&id=eq.{}&order=id", "999", "3"),
    reads("in-list-and-slot", "/g_people?select=id&id=in.(1,2,3,4)&age=neq.{}&order=id", "22", "21"),
    reads("view", "/cheap_items?id=gt.{}&order=id", "2", "4"),
    reads("domain-representation", "/paints?select=id,name,color&color=eq.{}", "00FF00", "0000FF"),
    reads("weird-names", "/Weird%20Names?Id=eq.{}", "1", "2"),
    reads("non-ascii-table", "/g_%C3%BCn%C3%AF?id=eq.{}", "1", "2"),
    reads(
        "space-table-select", "/g%20space%20table?select=id,first%20name,dash-col,%C3%BCn%C3%AFcode&id=eq.{}", "1", "2"
    ),
    reads("array-column-output", "/g_things?select=id,ints,tags,j,pt,label&id=eq.{}", "1", "3"),
    reads("jsonb-output", "/items?select=id,tags,data&id=eq.{}", "1", "15"),
    # Range header, counts, media types, HEAD, profiles.
    reads("range-header", "/g_people?select=id&active=eq.{}&order=id", "true", "false", {"Range": "1-3"}),
    reads(
        "range-count-206",
        "/g_people?select=id&id=gt.{}&order=id",
        "1",
        "15",
        {"Range": "0-2", "Prefer": "count=exact"},
        None,
    ),
    reads(
        "range-count-416",
        "/g_people?select=id&id=gt.{}&order=id",
        "1",
        "18",
        {"Range": "5-9", "Prefer": "count=exact"},
        None,
    ),
    reads("count-exact", "/g_people?select=id&id=gt.{}&limit=2", "3", "15", {"Prefer": "count=exact"}, None),
    reads("count-planned", "/g_people?select=id&id=gt.{}", "3", "15", {"Prefer": "count=planned"}, None),
    reads("count-estimated", "/g_people?select=id&id=gt.{}", "3", "15", {"Prefer": "count=estimated"}, None),
    reads("singular-one-row", "/g_people?select=id,first_name&id=eq.{}", "1", "2", {"Accept": SINGULAR}),
    reads("singular-no-row-406", "/g_people?select=id,first_name&id=eq.{}", "1", "999", {"Accept": SINGULAR}),
    reads("singular-many-rows-406", "/g_people?select=id&id=lte.{}", "1", "5", {"Accept": SINGULAR}),
    reads(
        "singular-nulls-stripped",
        "/g_people?select=id,age,active&id=eq.{}",
        "1",
        "35",
        {"Accept": SINGULAR + ";nulls=stripped"},
    ),
    reads(
        "nulls-stripped-array",
        "/g_people?select=id,age,active&id=gte.{}",
        "19",
        "14",
        {"Accept": "application/json;nulls=stripped"},
    ),
    reads("csv", "/g_csv?id=eq.{}", "1", "3", {"Accept": "text/csv"}),
    reads("csv-many", "/g_csv?select=id,name,note&id=gte.{}&order=id", "3", "1", {"Accept": "text/csv"}),
    reads("csv-empty", "/g_csv?id=gt.{}", "1", "100", {"Accept": "text/csv"}),
    reads("accept-profile-other", "/things?id=eq.{}", "1", "2", {"Accept-Profile": "other"}),
    reads("accept-profile-test", "/items?select=id&id=eq.{}", "1", "2", {"Accept-Profile": "test"}),
    reads("strict-prefer", "/g_people?select=id&id=eq.{}", "1", "2", {"Prefer": "handling=strict, count=exact"}, None),
    reads("lenient-prefer-invalid", "/g_people?select=id&id=eq.{}", "1", "2", {"Prefer": "handling=lenient, foo=bar"}),
    case("head-range", head("/g_people?id=gt.5", {"Range": "0-1"}), head("/g_people?id=gt.18", {"Range": "0-1"})),
    case("head", head("/g_people?id=lt.5"), head("/g_people?id=lt.10")),
    case(
        "head-count",
        head("/g_people?id=lt.5", {"Prefer": "count=exact"}),
        head("/g_people?id=lt.10", {"Prefer": "count=exact"}),
        None,
    ),
    case(
        "head-singular-406",
        head("/g_people?id=eq.1", {"Accept": SINGULAR}),
        head("/g_people?id=gt.1", {"Accept": SINGULAR}),
        False,
    ),
    case(
        "head-singular-406-same-op",
        head("/g_people?id=lte.1", {"Accept": SINGULAR}),
        head("/g_people?id=lte.3", {"Accept": SINGULAR}),
    ),
    # Errors on the probe: PostgreSQL refuses the value; a bad column (never learnt).
    reads("int-not-a-number", PEOPLE + "&id=eq.{}", "1", "abc"),
    reads("int-out-of-range", PEOPLE + "&id=eq.{}", "1", "99999999999999999999"),
    reads("date-invalid", "/items?select=id&created=gte.{}", "2024-01-14", "2024-02-30"),
    reads("unknown-column", "/g_people?nope=eq.{}", "1", "2", hit=False),
    reads("unknown-column-beside-a-good-one", "/g_people?id=eq.{}&nope=eq.{}", "1|1", "2|3", hit=False),
    reads("unknown-table", "/nope?id=eq.{}", "1", "2", hit=False),
    reads("anonymous-forbidden", "/secrets?id=eq.{}", "1", "2"),  # learnt: the database refused, not the plan
    # What is not a slot: percent-encoded values, a key without `=`, `+` (a space).
    reads(
        "percent-encoded-value", "/g_people?select=id&last_name=eq.{}&id=gt.0&order=id", "Jo%6Ees", "Sm%69th", hit=None
    ),
    reads("percent-encoded-beside-slot", "/g_people?select=id&last_name=eq.Jo%6Ees&id=gt.{}&order=id", "0", "10"),
    reads("key-without-equals", "/g_people?select=id&id=eq.{}&flag", "1", "2", hit=None),
    reads("key-without-equals-2", "/g_people?flag&select=id&id=eq.{}", "1", "2", hit=None),
    reads("plus-is-a-space", "/g_people?select=id&first_name=eq.{}", "Ann", "Ann+Jones", hit=None),
    reads("empty-part", "/g_people?select=id&&id=eq.{}", "1", "2", hit=None),
    # Slot values that spell the cache's own sentinels (Zq<n>pgwsgiSlotQz).
    reads(
        "value-spelling-a-sentinel",
        "/g_people?select=id,first_name&first_name=eq.{}&last_name=eq.{}",
        "Ann|Jones",
        "Zq1pgwsgiSlotQz|Jones",
    ),
    reads(
        "value-spelling-sentinel-0",
        "/g_people?select=id&first_name=neq.{}&last_name=neq.{}",
        "a|b",
        "x|Zq0pgwsgiSlotQz",
    ),
    # A raw NUL byte in the query string (gunicorn refuses it; other WSGI servers may hand it over).
    case(
        "raw-nul-value-after-a-slot",
        get("/items?select=id&id=eq.1"),
        dataclasses.replace(get("/items"), raw_query="select=id&id=eq.\x00"),
        None,
    ),
    case(
        "raw-nul-value-teaches-then-a-good-request",
        dataclasses.replace(get("/items"), raw_query="select=id&id=eq.\x00"),
        get("/items?select=id&id=eq.2"),
        None,
    ),
    # Values that PostgreSQL reads as special: infinity, NaN.
    reads("numeric-nan", PEOPLE + "&score=lt.{}&order=id&limit=2", "5", "NaN"),
    reads("timestamp-infinity", "/g_events?at=lt.{}&order=id", "2024-03-01", "infinity"),
    # The request's headers and the role reach the database on a hit (pre-request, GUCs, RLS).
    case(
        "headers-reach-the-guc",
        get("/whoami?select=role,claims,method,path,header&role=neq.x", {"X-Test": "one"}),
        get("/whoami?select=role,claims,method,path,header&role=neq.y", {"X-Test": "two"}),
    ),
    case(
        "cookies-reach-the-guc",
        get("/whoami?select=cookies&role=neq.x", {"Cookie": "a=1"}),
        get("/whoami?select=cookies&role=neq.y", {"Cookie": "b=2; c=3"}),
    ),
    case(
        "anonymous-then-jwt",
        get("/whoami?select=role,claims&role=neq.x"),
        get("/whoami?select=role,claims&role=neq.y", ALICE),
    ),
    case(
        "jwt-then-anonymous",
        get("/whoami?select=role,claims&role=neq.x", ALICE),
        get("/whoami?select=role,claims&role=neq.y"),
    ),
    case(
        "rls-alice-then-bob",
        get("/owned?select=id,owner,note&id=gt.0&order=id", ALICE),
        get("/owned?select=id,owner,note&id=gt.1&order=id", BOB),
    ),
    case(
        "rls-alice-then-anonymous", get("/owned?select=id,owner&id=gt.0", ALICE), get("/owned?select=id,owner&id=gt.1")
    ),
    case(
        "rls-alice-then-admin",
        get("/owned?select=id,owner&id=gte.1&order=id", ALICE),
        get("/owned?select=id,owner&id=gte.2&order=id", bearer(role="pgwsgi_admin")),
    ),
    case(
        "banned-role-pre-request",
        get("/items?select=id&id=eq.1"),
        get("/items?select=id&id=eq.2", bearer(role="pgwsgi_banned")),
    ),
    case(
        "pre-request-sets-headers",
        get("/items?select=id&id=eq.1"),
        get("/items?select=id&id=eq.2", {"X-Set-Headers": "yes", "X-Set-Status": "203"}),
    ),
    case(
        "pre-request-raises",
        get("/items?select=id&id=eq.1"),
        get("/items?select=id&id=eq.2", {"X-Raise": "pgrst"}),
    ),
]

# Functions: GET arguments are not slots (their values are part of the shape); POST JSON bodies are.
CALLS = [
    case("rpc-get-args", get("/rpc/r_add?a=1&b=2"), get("/rpc/r_add?a=30&b=12"), hit=None),
    case("rpc-get-identical", get("/rpc/r_series?n=3"), get("/rpc/r_series?n=3")),
    case(
        "rpc-get-filter-on-result",
        get("/rpc/r_items_under?max=10&id=gt.1"),
        get("/rpc/r_items_under?max=10&id=gt.3"),
        hit=None,
    ),
    case("rpc-get-eq-argument", get("/rpc/r_greet?name=eq.1"), get("/rpc/r_greet?name=eq.2"), hit=None),
    case("rpc-get-bad-arg", get("/rpc/r_add?a=1&b=2"), get("/rpc/r_add?a=x&b=2"), hit=None),
    case("rpc-head", head("/rpc/r_series?n=3"), head("/rpc/r_series?n=5"), hit=None),
    case("rpc-post-same-keys", post("/rpc/r_add", {"a": 1, "b": 2}), post("/rpc/r_add", {"a": 10, "b": -3})),
    case(
        "rpc-post-same-keys-other-order",
        post("/rpc/r_add", {"b": 2, "a": 1}),
        post("/rpc/r_add", {"a": 10, "b": -3}),
        hit=None,
    ),
    case("rpc-post-bad-value", post("/rpc/r_add", {"a": 1, "b": 2}), post("/rpc/r_add", {"a": "x", "b": 2})),
    case("rpc-post-null-value", post("/rpc/r_add", {"a": 1, "b": 2}), post("/rpc/r_add", {"a": None, "b": 2})),
    case(
        "rpc-post-default-omitted",
        post("/rpc/r_greet", {"name": "x"}),
        post("/rpc/r_greet", {"name": "y", "greeting": "Hi"}),
        hit=False,
    ),
    case(
        "rpc-post-default-given",
        post("/rpc/r_greet", {"name": "x", "greeting": "Yo"}),
        post("/rpc/r_greet", {"name": "y", "greeting": "Hi"}),
    ),
    case("rpc-post-overloads", post("/rpc/r_over", {"a": 1}), post("/rpc/r_over", {"b": "q"}), hit=False),
    case("rpc-post-overload-same-keys", post("/rpc/r_over", {"a": 1}), post("/rpc/r_over", {"a": 7})),
    case(
        "rpc-post-set-result",
        post("/rpc/r_items_under?select=id,name&order=id", {"max": 10}),
        post("/rpc/r_items_under?select=id,name&order=id", {"max": 6}),
    ),
    case(
        "rpc-post-set-result-filtered",
        post("/rpc/r_items_under?select=id&id=gt.1", {"max": 10}),
        post("/rpc/r_items_under?select=id&id=gt.2", {"max": 30}),
        hit=None,
    ),
    case(
        "rpc-post-composite",
        post("/rpc/r_item", {"id": 1}, {"Accept": SINGULAR}),
        post("/rpc/r_item", {"id": 9}, {"Accept": SINGULAR}),
    ),
    case("rpc-post-variadic", post("/rpc/r_variadic", {"v": ["a", "b"]}), post("/rpc/r_variadic", {"v": ["c"]})),
    case("rpc-post-variadic-scalar", post("/rpc/r_variadic", {"v": ["a", "b"]}), post("/rpc/r_variadic", {"v": "c"})),
    case(
        "rpc-post-volatile-rollback",
        post("/rpc/r_note_add", {"note": "x"}, {"Prefer": "tx=rollback"}),
        post("/rpc/r_note_add", {"note": "y"}, {"Prefer": "tx=rollback"}),
    ),
    case("rpc-post-raw-json", post("/rpc/r_raw_json", {"k": 1}), post("/rpc/r_raw_json", {"k": 2}), hit=None),
    case(
        "rpc-post-array-body", post("/rpc/r_add", [{"a": 1, "b": 2}]), post("/rpc/r_add", [{"a": 3, "b": 4}]), hit=None
    ),
    case("rpc-post-empty-object", post("/rpc/r_noargs", {}), post("/rpc/r_noargs", {}), hit=None),
    case(
        "rpc-post-form",
        post("/rpc/r_add", b"a=1&b=2", ctype="application/x-www-form-urlencoded"),
        post("/rpc/r_add", b"a=5&b=6", ctype="application/x-www-form-urlencoded"),
        hit=None,
    ),
    case(
        "rpc-post-nul-escape",
        post("/rpc/r_greet", {"name": "x", "greeting": "Yo"}),
        post("/rpc/r_greet", {"name": "a\u0000b", "greeting": "Hi"}),
    ),
    case(
        "rpc-post-invalid-json-same-length",
        post("/rpc/r_add", b'{"a": 1, "b": 2}'),
        post("/rpc/r_add", b'{"a": 1, "b": 2'),
        hit=None,
    ),
    case(
        "rpc-login-wrong-password",
        post("/rpc/login", {"email": "a@x.example", "pass": "nope"}),
        post("/rpc/login", {"email": "b@x.example", "pass": "bad"}),
    ),
]

REPRESENTATION = {"Prefer": "return=representation"}
ITEM_COLUMNS = "select=id,name,qty,price,total,ticket,note"
# created_at defaults to now(), which an error's "Failing row contains (...)" would show.
NOON = "2024-06-01T12:00:00Z"

WRITES = [
    case(
        "post-representation",
        post(f"/w_items?{ITEM_COLUMNS}", {"name": "a", "qty": 2, "price": 1.5}, REPRESENTATION),
        post(f"/w_items?{ITEM_COLUMNS}", {"name": "b", "qty": 5, "price": "2.25"}, REPRESENTATION),
    ),
    case(
        "post-minimal",
        post("/w_items", {"name": "a", "qty": 2}, {"Prefer": "return=minimal"}),
        post("/w_items", {"name": "b", "qty": 9}, {"Prefer": "return=minimal"}),
    ),
    case("post-default", post("/w_items", {"name": "a", "qty": 2}), post("/w_items", {"name": "b", "qty": 9})),
    case(
        "post-headers-only-location",
        post("/w_items", {"id": 10, "name": "a"}, {"Prefer": "return=headers-only"}),
        post("/w_items", {"id": 11, "name": "b"}, {"Prefer": "return=headers-only"}),
    ),
    case(
        "post-headers-only-generated-id",
        post("/w_items", {"name": "a"}, {"Prefer": "return=headers-only"}),
        post("/w_items", {"name": "b"}, {"Prefer": "return=headers-only"}),
    ),
    case(
        "post-headers-only-composite-key",
        post("/w_pairs", {"k1": 7, "k2": "x", "val": "v"}, {"Prefer": "return=headers-only"}),
        post("/w_pairs", {"k1": 8, "k2": "y@z.example", "val": "w"}, {"Prefer": "return=headers-only"}),
    ),
    case(
        "post-headers-only-uuid-key",
        post(
            "/accounts",
            {
                "id": "10000000-0000-4000-8000-000000000000",
                "email": "n@x.example",
                "joined": "2024-05-05T05:05:05",
                "active": True,
            },
            {**SHP_WRITE, "Prefer": "return=headers-only"},
        ),
        post(
            "/accounts",
            {
                "id": "20000000-0000-4000-8000-000000000000",
                "email": "m@y.example",
                "joined": "2025-05-05",
                "active": False,
            },
            {**SHP_WRITE, "Prefer": "return=headers-only"},
        ),
    ),
    case(
        "post-bulk",
        post(f"/w_items?{ITEM_COLUMNS}", [{"name": "a", "qty": 1}, {"name": "b", "qty": 2}], REPRESENTATION),
        post(f"/w_items?{ITEM_COLUMNS}", [{"name": "c", "qty": 3}], REPRESENTATION),
    ),
    case(
        "post-bulk-empty",
        post(f"/w_items?{ITEM_COLUMNS}", [{"name": "a", "qty": 1}], REPRESENTATION),
        post(f"/w_items?{ITEM_COLUMNS}", [], REPRESENTATION),
        hit=False,
    ),
    case(
        "post-check-violation",
        post(f"/w_items?{ITEM_COLUMNS}", {"name": "a", "qty": 2, "created_at": NOON}, REPRESENTATION),
        post(f"/w_items?{ITEM_COLUMNS}", {"name": "b", "qty": -1, "created_at": NOON}, REPRESENTATION),
    ),
    case(
        "post-not-null-violation",
        post(f"/w_items?{ITEM_COLUMNS}", {"name": "a", "qty": 2, "created_at": NOON}, REPRESENTATION),
        post(f"/w_items?{ITEM_COLUMNS}", {"name": None, "qty": 2, "created_at": NOON}, REPRESENTATION),
    ),
    case(
        "post-duplicate-key",
        post(f"/w_items?{ITEM_COLUMNS}", {"id": 50, "name": "a"}, REPRESENTATION),
        post(f"/w_items?{ITEM_COLUMNS}", {"id": 1, "name": "b"}, REPRESENTATION),
    ),
    case(
        "post-bad-type",
        post(f"/w_items?{ITEM_COLUMNS}", {"name": "a", "qty": 2}, REPRESENTATION),
        post(f"/w_items?{ITEM_COLUMNS}", {"name": "b", "qty": "many"}, REPRESENTATION),
    ),
    case(
        "post-nul-escape",
        post(f"/w_items?{ITEM_COLUMNS}", {"name": "a"}, REPRESENTATION),
        post(f"/w_items?{ITEM_COLUMNS}", {"name": "a\u0000b"}, REPRESENTATION),
    ),
    case(
        "post-unicode-and-quotes",
        post(f"/w_items?{ITEM_COLUMNS}", {"name": "a", "note": "n"}, REPRESENTATION),
        post(f"/w_items?{ITEM_COLUMNS}", {"name": "ü'\"\\ $1 %s", "note": "%%"}, REPRESENTATION),
    ),
    case(
        "post-singular",
        post("/w_items?select=id,name", {"name": "a"}, {"Prefer": "return=representation", "Accept": SINGULAR}),
        post(
            "/w_items?select=id,name",
            [{"name": "b"}, {"name": "c"}],
            {"Prefer": "return=representation", "Accept": SINGULAR},
        ),
        hit=False,
    ),
    case(
        "post-singular-bulk",
        post("/w_items?select=id,name", [{"name": "a"}], {"Prefer": "return=representation", "Accept": SINGULAR}),
        post(
            "/w_items?select=id,name",
            [{"name": "b"}, {"name": "c"}],
            {"Prefer": "return=representation", "Accept": SINGULAR},
        ),
    ),
    case(
        "post-upsert-merge",
        post(
            "/w_uniq?on_conflict=code&select=code,val",
            {"code": "C", "val": "x"},
            {"Prefer": "resolution=merge-duplicates, return=representation"},
        ),
        post(
            "/w_uniq?on_conflict=code&select=code,val",
            {"code": "A", "val": "y"},
            {"Prefer": "resolution=merge-duplicates, return=representation"},
        ),
    ),
    case(
        "post-upsert-ignore",
        post(
            "/w_uniq?on_conflict=code&select=code,val",
            {"code": "A", "val": "x"},
            {"Prefer": "resolution=ignore-duplicates, return=representation"},
        ),
        post(
            "/w_uniq?on_conflict=code&select=code,val",
            {"code": "D", "val": "y"},
            {"Prefer": "resolution=ignore-duplicates, return=representation"},
        ),
    ),
    case(
        "post-columns",
        post(f"/w_items?columns=name,qty&{ITEM_COLUMNS}", {"name": "a", "qty": 1, "extra": 1}, REPRESENTATION),
        post(f"/w_items?columns=name,qty&{ITEM_COLUMNS}", {"name": "b", "qty": 4, "extra": 2}, REPRESENTATION),
    ),
    case(
        "post-missing-default",
        post(
            f"/w_items?columns=name,qty,note&{ITEM_COLUMNS}",
            [{"name": "a"}],
            {"Prefer": "return=representation, missing=default"},
        ),
        post(
            f"/w_items?columns=name,qty,note&{ITEM_COLUMNS}",
            [{"name": "b", "qty": 3}],
            {"Prefer": "return=representation, missing=default"},
        ),
        hit=None,
    ),
    case(
        "post-tx-rollback",
        post(f"/w_items?{ITEM_COLUMNS}", {"name": "a"}, {"Prefer": "return=representation, tx=rollback"}),
        post(f"/w_items?{ITEM_COLUMNS}", {"name": "b"}, {"Prefer": "return=representation, tx=rollback"}),
    ),
    case(
        "post-content-profile",
        post("/w_things", {"id": 5, "label": "x"}, {"Content-Profile": "other", "Prefer": "return=representation"}),
        post("/w_things", {"id": 6, "label": "y"}, {"Content-Profile": "other", "Prefer": "return=representation"}),
    ),
    case(
        "post-trigger-pgrst-error",
        post("/w_guarded", {"id": 5, "label": "kettle"}),
        post("/w_guarded", {"id": 6, "label": "teapot"}),
    ),
    case(
        "post-rls-alice-then-bob",
        post("/w_rls?select=id,owner,body", {"body": "x"}, {**ALICE, "Prefer": "return=representation"}),
        post("/w_rls?select=id,owner,body", {"body": "y"}, {**BOB, "Prefer": "return=representation"}),
    ),
    case(
        "post-rls-alice-then-anonymous",
        post("/w_rls?select=id,owner,body", {"body": "x"}, {**ALICE, "Prefer": "return=representation"}),
        post("/w_rls?select=id,owner,body", {"body": "y"}, {"Prefer": "return=representation"}),
    ),
    case(
        "post-rls-check-violation",
        post("/w_rls?select=id,owner,body", {"body": "x"}, {**ALICE, "Prefer": "return=representation"}),
        post(
            "/w_rls?select=id,owner,body", {"body": "y", "owner": "bob"}, {**ALICE, "Prefer": "return=representation"}
        ),
        hit=False,
    ),
    case(
        "post-form-body",
        post(
            "/w_items?select=id,name",
            b"name=a&qty=1",
            {"Prefer": "return=representation"},
            "application/x-www-form-urlencoded",
        ),
        post(
            "/w_items?select=id,name",
            b"name=b&qty=2",
            {"Prefer": "return=representation"},
            "application/x-www-form-urlencoded",
        ),
        hit=None,
    ),
    case(
        "post-csv-body",
        post("/w_items?select=id,name", b"name,qty\na,1", {"Prefer": "return=representation"}, "text/csv"),
        post("/w_items?select=id,name", b"name,qty\nb,2\nc,3", {"Prefer": "return=representation"}, "text/csv"),
        hit=None,
    ),
    case(
        "post-invalid-json",
        post("/w_items", {"name": "a"}),
        post("/w_items", b'{"name": "b"'),
        hit=None,
    ),
    case(
        "post-keys-in-another-order",
        post(f"/w_items?{ITEM_COLUMNS}", {"qty": 2, "name": "a", "note": "x"}, REPRESENTATION),
        post(f"/w_items?{ITEM_COLUMNS}", {"note": "y", "name": "b", "qty": 3}, REPRESENTATION),
        hit=None,
    ),
    case(
        "post-charset-content-type",
        post(f"/w_items?{ITEM_COLUMNS}", b'{"name": "a"}', REPRESENTATION, "application/json; charset=utf-8"),
        post(f"/w_items?{ITEM_COLUMNS}", b'{"name": "b\\u00fc"}', REPRESENTATION, "application/json; charset=utf-8"),
    ),
    case(
        "post-bulk-keys-differ",
        post(f"/w_items?{ITEM_COLUMNS}", [{"name": "a"}, {"name": "b"}], REPRESENTATION),
        post(f"/w_items?{ITEM_COLUMNS}", [{"name": "a"}, {"name": "b", "qty": 1}], REPRESENTATION),
        hit=False,
    ),
    case(
        "post-csv-representation",
        post("/w_items?select=id,name,qty", {"name": "a"}, {**REPRESENTATION, "Accept": "text/csv"}),
        post("/w_items?select=id,name,qty", {"name": 'b,"c"\n'}, {**REPRESENTATION, "Accept": "text/csv"}),
    ),
    case(
        "post-large-body",
        post("/w_items?select=id", [{"name": f"n{i}", "note": "x" * 60} for i in range(900)], REPRESENTATION),
        post("/w_items?select=id", [{"name": f"m{i}", "note": "y" * 60} for i in range(901)], REPRESENTATION),
        hit=None,
    ),
    case(
        "patch-keys-in-another-order",
        patch("/w_items?id=eq.1&select=id,qty,note", {"qty": 7, "note": "a"}, REPRESENTATION),
        patch("/w_items?id=eq.2&select=id,qty,note", {"note": "b", "qty": 8}, REPRESENTATION),
        hit=None,
    ),
    case(
        "patch-filter-and-body",
        patch("/w_items?id=eq.1&select=id,name,qty,total", {"qty": 7}, REPRESENTATION),
        patch("/w_items?id=eq.2&select=id,name,qty,total", {"qty": 8}, REPRESENTATION),
    ),
    case(
        "patch-no-row",
        patch("/w_items?id=eq.1&select=id,qty", {"qty": 7}, REPRESENTATION),
        patch("/w_items?id=eq.99&select=id,qty", {"qty": 8}, REPRESENTATION),
    ),
    case(
        "patch-many-rows",
        patch("/w_items?qty=gte.5&select=id,qty", {"note": "x"}, REPRESENTATION),
        patch("/w_items?qty=gte.0&select=id,qty,note", {"note": "y"}, REPRESENTATION),
        hit=False,
    ),
    case(
        "patch-many-rows-same-select",
        patch("/w_items?qty=gte.5&select=id,qty,note&order=id", {"note": "x"}, REPRESENTATION),
        patch("/w_items?qty=gte.0&select=id,qty,note&order=id", {"note": "y"}, REPRESENTATION),
    ),
    case(
        "patch-minimal",
        patch("/w_items?id=eq.1", {"qty": 7, "note": "a"}),
        patch("/w_items?id=eq.3", {"qty": 8, "note": "b"}),
    ),
    case(
        "patch-text-filter",
        patch("/w_items?name=eq.apple", {"qty": 7}, REPRESENTATION),
        patch("/w_items?name=eq.cherry", {"qty": 8}, REPRESENTATION),
    ),
    case(
        "patch-check-violation",
        patch("/w_items?id=eq.1&select=id,qty", {"qty": 7}, REPRESENTATION),
        patch("/w_items?id=eq.2&select=id,qty", {"qty": -8}, REPRESENTATION),
    ),
    case(
        "patch-singular-406",
        patch("/w_items?id=lte.1&select=id,qty", {"qty": 7}, {**REPRESENTATION, "Accept": SINGULAR}),
        patch("/w_items?id=lte.3&select=id,qty", {"qty": 8}, {**REPRESENTATION, "Accept": SINGULAR}),
    ),
    case(
        "patch-max-affected",
        patch("/w_items?id=lte.1", {"qty": 7}, {"Prefer": "handling=strict, max-affected=1"}),
        patch("/w_items?id=lte.3", {"qty": 8}, {"Prefer": "handling=strict, max-affected=1"}),
    ),
    case(
        "patch-uuid-filter",
        patch("/accounts?id=eq." + ANN_ID, {"visits": 4}, {**SHP_WRITE, **REPRESENTATION}),
        patch("/accounts?id=eq." + DEE_ID, {"visits": 5}, {**SHP_WRITE, **REPRESENTATION}),
    ),
    case(
        "patch-email-filter",
        patch(
            "/accounts?email=eq.ann@example.com&select=email,active", {"active": False}, {**SHP_WRITE, **REPRESENTATION}
        ),
        patch(
            "/accounts?email=eq.bob@example.org&select=email,active", {"active": True}, {**SHP_WRITE, **REPRESENTATION}
        ),
    ),
    case(
        "patch-rls-alice-then-bob",
        patch("/w_rls?id=gt.0&select=id,owner,body", {"body": "x"}, {**ALICE, **REPRESENTATION}),
        patch("/w_rls?id=gt.0&select=id,owner,body", {"body": "y"}, {**BOB, **REPRESENTATION}),
    ),
    case(
        "delete-filter",
        delete("/w_items?id=eq.1&select=id,name", REPRESENTATION),
        delete("/w_items?id=eq.2&select=id,name", REPRESENTATION),
    ),
    case("delete-minimal", delete("/w_items?id=eq.1"), delete("/w_items?id=eq.3")),
    case("delete-no-row", delete("/w_items?id=eq.1", REPRESENTATION), delete("/w_items?id=eq.42", REPRESENTATION)),
    case(
        "delete-fk-violation",
        delete("/w_parent?id=eq.2", REPRESENTATION),
        delete("/w_parent?id=eq.1", REPRESENTATION),
    ),
    case(
        "delete-count",
        delete("/w_items?id=gte.3", {"Prefer": "count=exact"}),
        delete("/w_items?id=gte.1", {"Prefer": "count=exact"}),
        hit=None,
    ),
    case(
        "delete-rls-alice-then-bob",
        delete("/w_rls?id=gte.1&select=id,owner", {**ALICE, **REPRESENTATION}),
        delete("/w_rls?id=gte.1&select=id,owner", {**BOB, **REPRESENTATION}),
    ),
    case(
        "delete-text-slot-with-at",
        delete("/w_pairs?k2=eq.a&select=k1,k2", REPRESENTATION),
        delete("/w_pairs?k2=eq.b@c&select=k1,k2", REPRESENTATION),
    ),
]


# Fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shp_schema(pg_server: Server, test_db: str) -> Iterator[None]:
    """Schema shp (tests/fixtures/shapes.sql) in the session's database, for this module only."""
    load_sql(pg_server, test_db, FIXTURES / "shapes.sql")
    yield
    with psycopg.connect(pg_server.dsn(test_db), autocommit=True) as conn:
        conn.execute("SELECT test.w_reset()")
        conn.execute("DROP SCHEMA IF EXISTS shp CASCADE")


@pytest.fixture(scope="module")
def apps(pg_server: Server, test_db: str, shp_schema: None) -> Iterator[tuple[App, App]]:
    """Two apps of one configuration: the learner (pairs go through it) and the reference (never caches)."""
    config = make_config(
        pg_server,
        test_db,
        db_schemas=("test", "other", "shp"),
        db_pre_request="test.pre_request",
        db_tx_end="commit-allow-override",
    )
    learner, reference = create_app(config), create_app(config)
    yield learner, reference
    learner.close()
    reference.close()


@pytest.fixture(scope="module")
def superuser(pg_server: Server, test_db: str, shp_schema: None) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(pg_server.dsn(test_db), autocommit=True) as conn:
        yield conn


def reset(conn: psycopg.Connection[Any]) -> None:
    """The seed rows and sequences of every table a write case touches (tests/fixtures/shapes.sql)."""
    conn.execute("SELECT shp.reset_writes()")


def written(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """What the write tables hold (created_at aside)."""
    out: dict[str, Any] = {}
    for table in WRITTEN:
        row = conn.execute(
            f"SELECT coalesce(json_agg(j ORDER BY j::text), '[]') FROM (SELECT to_jsonb(t) - 'created_at' AS j FROM {table} t) s"
        ).fetchone()
        out[table] = row[0] if row else None
    return out


def send(app: App, r: Req) -> TestResponse:
    environ = {} if r.raw_query is None else {"QUERY_STRING": r.raw_query}
    client = Client(app, use_cookies=False)
    return client.open(r.url, method=r.method, headers=list(r.headers), data=r.body, environ_overrides=environ)


def answer(resp: TestResponse) -> Answer:
    """Everything a client sees: status, all headers (sorted), body bytes."""
    return resp.status_code, sorted(resp.headers.items()), resp.get_data()


def empty_cache(app: App) -> Shapes:
    """Give APP the empty shape cache a new App starts with."""
    app.shapes = Shapes(app.config, app.scan_keys)
    return app.shapes


def differential(apps: tuple[App, App], superuser: psycopg.Connection[Any], c: Case) -> tuple[Answer, Answer, int, Any]:
    """The probe answered on a cache hit and by the full pipeline; the hits it made; the teach answer."""
    learner, reference = apps
    writes = any(r.method not in ("GET", "HEAD") and not r.url.startswith("/rpc/") for r in (c.teach, c.probe))
    shapes = empty_cache(learner)
    if writes:
        reset(superuser)
    taught = answer(send(learner, c.teach))
    if writes:
        reset(superuser)
    before = shapes.hits
    on_hit = answer(send(learner, c.probe))
    hits = shapes.hits - before
    rows_on_hit = written(superuser) if writes else None
    if writes:
        reset(superuser)
    empty_cache(reference)
    fresh = answer(send(reference, c.probe))
    rows_fresh = written(superuser) if writes else None
    assert rows_on_hit == rows_fresh, f"the rows left by the probe differ: hit {rows_on_hit} != fresh {rows_fresh}"
    return on_hit, fresh, hits, taught


# The differential tests -------------------------------------------------------------------


def assert_hit_as_full_pipeline(apps: tuple[App, App], superuser: psycopg.Connection[Any], c: Case) -> None:
    """C's probe answers on a hit as a fresh app does, and hits the cache where C says it should."""
    on_hit, fresh, hits, taught = differential(apps, superuser, c)
    assert on_hit == fresh
    if c.hit is not None:
        assert hits == int(c.hit), f"expected {'a hit' if c.hit else 'no hit'}; teach answered {taught[0]}"


@pytest.mark.parametrize("c", READS)
def test_read_hit_answers_as_the_full_pipeline(
    apps: tuple[App, App], superuser: psycopg.Connection[Any], c: Case
) -> None:
    assert_hit_as_full_pipeline(apps, superuser, c)


@pytest.mark.parametrize("c", CALLS)
def test_call_hit_answers_as_the_full_pipeline(
    apps: tuple[App, App], superuser: psycopg.Connection[Any], c: Case
) -> None:
    assert_hit_as_full_pipeline(apps, superuser, c)


@pytest.mark.parametrize("c", WRITES)
def test_write_hit_answers_as_the_full_pipeline(
    apps: tuple[App, App], superuser: psycopg.Connection[Any], c: Case
) -> None:
    assert_hit_as_full_pipeline(apps, superuser, c)


def test_the_probes_differ_from_their_teachers(apps: tuple[App, App], superuser: psycopg.Connection[Any]) -> None:
    """The pairs are meaningful: most probes answer something else than their teach request."""
    learner, _ = apps
    cases = [p.values[0] for p in READS + CALLS + WRITES]
    differing = 0
    for c in cases:
        assert isinstance(c, Case)
        reset(superuser)
        taught = answer(send(learner, c.teach))
        reset(superuser)
        differing += answer(send(learner, c.probe)) != taught
    reset(superuser)
    assert differing > len(cases) * 3 // 4, differing


# Another configuration: max rows, aggregates, legacy GUCs, minimal errors, a trace header, rollback by default.

CONFIGURED = [
    reads("max-rows", "/g_people?select=id&id=gt.{}&order=id", "1", "15"),
    reads("max-rows-count", "/g_people?select=id&id=gt.{}&order=id", "1", "18", {"Prefer": "count=exact"}, None),
    reads("aggregates", "/g_people?select=last_name,count(),age.max()&age=gt.{}&order=last_name", "22", "35"),
    reads("aggregates-embedded", "/e_clients?select=name,e_projects(count())&id=lte.{}&order=id", "3", "1"),
    reads("minimal-error", PEOPLE + "&id=eq.{}", "1", "abc"),
    case(
        "legacy-gucs",
        get("/whoami?select=role,legacy_sub,legacy_header&role=neq.x", {"X-Test": "one", "XTest": "a"}),
        get("/whoami?select=role,legacy_sub,legacy_header&role=neq.y", {**ALICE, "X-Test": "two", "XTest": "b"}),
    ),
    case(
        "trace-header",
        get("/items?select=id&id=eq.1", {"X-Request-Id": "r1"}),
        get("/items?select=id&id=eq.2", {"X-Request-Id": "r2"}),
    ),
    case(
        "rollback-by-default",
        post(f"/w_items?{ITEM_COLUMNS}", {"name": "a"}, REPRESENTATION),
        post(f"/w_items?{ITEM_COLUMNS}", {"name": "b"}, REPRESENTATION),
    ),
    case(
        "commit-by-preference",
        post(f"/w_items?{ITEM_COLUMNS}", {"name": "a"}, {"Prefer": "return=representation, tx=commit"}),
        post(f"/w_items?{ITEM_COLUMNS}", {"name": "b"}, {"Prefer": "return=representation, tx=commit"}),
    ),
]


@pytest.fixture(scope="module")
def configured_apps(pg_server: Server, test_db: str, shp_schema: None) -> Iterator[tuple[App, App]]:
    config = make_config(
        pg_server,
        test_db,
        db_max_rows=3,
        db_aggregates_enabled=True,
        db_use_legacy_gucs=True,
        client_error_verbosity="minimal",
        server_trace_header="X-Request-Id",
        db_tx_end="rollback-allow-override",
    )
    learner, reference = create_app(config), create_app(config)
    yield learner, reference
    learner.close()
    reference.close()


@pytest.mark.parametrize("c", CONFIGURED)
def test_hits_answer_as_the_full_pipeline_in_another_configuration(
    configured_apps: tuple[App, App], superuser: psycopg.Connection[Any], c: Case
) -> None:
    on_hit, fresh, hits, taught = differential(configured_apps, superuser, c)
    assert on_hit == fresh
    if c.hit is not None:
        assert hits == int(c.hit), f"expected {'a hit' if c.hit else 'no hit'}; teach answered {taught[0]}"


# The same through the conftest fixtures, one new App each -------------------------------


def test_the_client_fixtures_agree(client: Client, make_client: Callable[..., Client]) -> None:
    app = client.application
    assert isinstance(app, App)
    pairs = [
        ("/items?select=id,name,price&id=eq.1", "/items?select=id,name,price&id=eq.2", True),
        (
            "/g_people?select=id&age=gt.22&order=id&limit=3&offset=1",
            "/g_people?select=id&age=gt.35&order=id&limit=3&offset=1",
            True,
        ),
        (
            "/e_projects?select=id,e_clients(name)&id=eq.1&client_id=eq.1",
            "/e_projects?select=id,e_clients(name)&id=eq.3&client_id=eq.2",
            True,
        ),
        ("/items?id=eq.1", "/items?id=eq.abc", True),
    ]
    for teach, probe, hit in pairs:
        assert client.get(teach).status_code == 200
        before = app.shapes.hits
        on_hit = answer(client.get(probe))
        assert app.shapes.hits == before + int(hit), probe
        assert on_hit == answer(make_client().get(probe)), probe


def test_the_client_fixtures_agree_on_a_write(
    client: Client, make_client: Callable[..., Client], superuser: psycopg.Connection[Any]
) -> None:
    app = client.application
    assert isinstance(app, App)
    reset(superuser)
    url = "/w_items?select=id,name,qty"
    headers = {"Prefer": "return=representation", "Content-Type": "application/json"}
    assert client.post(url, data=json.dumps({"name": "a", "qty": 1}), headers=headers).status_code == 201
    reset(superuser)
    before = app.shapes.hits
    on_hit = answer(client.post(url, data=json.dumps({"name": "b", "qty": 2}), headers=headers))
    assert app.shapes.hits == before + 1
    assert on_hit[2] == b'[{"id":4,"name":"b","qty":2}]'
    reset(superuser)
    assert on_hit == answer(make_client().post(url, data=json.dumps({"name": "b", "qty": 2}), headers=headers))
    reset(superuser)


# The cache itself ------------------------------------------------------------------------


def test_an_evicted_shape_is_learnt_again(apps: tuple[App, App]) -> None:
    learner, reference = apps
    learner.shapes = shapes = Shapes(learner.config, learner.scan_keys, size=1)
    send(learner, get("/items?select=id&id=eq.1"))
    send(learner, get("/g_people?select=id&id=eq.1"))  # drops the /items shape
    first = answer(send(learner, get("/items?select=id&id=eq.2")))
    assert shapes.hits == 0
    second = answer(send(learner, get("/items?select=id&id=eq.3")))
    assert shapes.hits == 1
    empty_cache(reference)
    assert first == answer(send(reference, get("/items?select=id&id=eq.2")))
    empty_cache(reference)
    assert second == answer(send(reference, get("/items?select=id&id=eq.3")))


def test_a_new_catalog_snapshot_forgets_the_shapes(apps: tuple[App, App]) -> None:
    learner, _ = apps
    shapes = empty_cache(learner)
    send(learner, get("/items?select=id&id=eq.1"))
    send(learner, get("/items?select=id&id=eq.2"))
    assert shapes.hits == 1
    learner.catalog.reload()
    r = send(learner, get("/items?select=id&id=eq.3"))
    assert (r.status_code, r.get_data()) == (200, b'[{"id":3}]')
    assert shapes.hits == 1
    send(learner, get("/items?select=id&id=eq.4"))
    assert shapes.hits == 2


def test_many_values_through_one_shape(apps: tuple[App, App]) -> None:
    """Every id of g_people through one learnt shape, against the full pipeline."""
    learner, reference = apps
    shapes = empty_cache(learner)
    url = "/g_people?select=id,first_name,age&id=gte.{0}&age=lte.{1}&order=id&limit=2"
    for i in range(-1, 23):
        mine = answer(send(learner, get(url.format(i, 20 + i))))
        empty_cache(reference)
        assert mine == answer(send(reference, get(url.format(i, 20 + i)))), i
    assert shapes.hits == 23


# Random slot values through learnt shapes ----------------------------------------------------

FUZZED = [
    ("/g_people?select=id,first_name,age&first_name=gte.{}&age=lt.{}&order=id&limit=3", {}),
    ("/g_people?select=id&last_name=neq.{}&active=eq.{}&score=lte.{}&order=id", {"Prefer": "count=exact"}),
    ("/accounts?select=email,joined&email=gt.{}&joined=lte.{}&id=neq.{}&order=email", SHP),
    ("/g_events?at=gte.{}&id=neq.{}&order=id", {"Accept": "text/csv"}),
    ("/e_projects?select=id,e_clients(name)&name=neq.{}&id=gte.{}&order=id", {"Accept": SINGULAR}),
]
_SLOT_VALUE = st.from_regex(r"[A-Za-z0-9_.:@-]{1,24}", fullmatch=True) | st.sampled_from(
    [
        "1",
        "0",
        "-1",
        "true",
        "false",
        "null",
        "2024-01-15",
        "2024-01-15T12:00:00",
        "ann@example.com",
        "Smith",
        "NaN",
        "infinity",
        "1e3",
        ".",
        "-",
        "Zq0pgwsgiSlotQz",
    ]
)


@pytest.mark.parametrize("template", range(len(FUZZED)))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_random_values_through_a_learnt_shape(apps: tuple[App, App], template: int, data: st.DataObject) -> None:
    learner, reference = apps
    url, headers = FUZZED[template]
    n = url.count("{}")
    shapes = learner.shapes
    values = [data.draw(_SLOT_VALUE) for _ in range(n)]
    before = shapes.hits
    mine = answer(send(learner, get(url.format(*values), headers)))
    empty_cache(reference)
    assert mine == answer(send(reference, get(url.format(*values), headers))), values
    assert shapes.hits <= before + 1
