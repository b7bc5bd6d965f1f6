"""Headers around the API: CORS, the trace header, Server-Timing, Server and Vary, as PostgREST sends them."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from werkzeug.test import Client

from pgwsgi.http import cors
from pgwsgi.http.timing import NO_TIMING, StageTimer
from tests.conftest import bearer, expired

JSON = "application/json; charset=utf-8"
SERVER = "postgrest/16.1"
ALLOW_METHODS = "GET, POST, PATCH, PUT, DELETE, OPTIONS, HEAD"
EXPOSE = (
    "Content-Encoding, Content-Location, Content-Range, Content-Type, Date, Location, Server, Transfer-Encoding, "
    "Range-Unit"
)
TIMING = re.compile(
    r"jwt;dur=\d+\.\d, parse;dur=\d+\.\d, plan;dur=\d+\.\d, transaction;dur=\d+\.\d, response;dur=\d+\.\d"
)
PREFLIGHT = {"Origin": "http://a.example", "Access-Control-Request-Method": "POST"}

MakeClient = Callable[..., Client]


def access_control(r) -> dict[str, str]:  # noqa: ANN001 - werkzeug TestResponse
    return {k: v for k, v in r.headers.items() if k.lower().startswith("access-control-")}


# CORS (O-CORS-*)


def test_preflight_is_answered_permissively_when_no_origins_are_configured(client: Client) -> None:
    r = client.options("/items", headers={**PREFLIGHT, "Access-Control-Request-Headers": "Foo,Bar", "Accept": "*/*"})
    assert r.status_code == 200
    assert r.data == b""
    assert list(r.headers.items()) == [
        ("Content-Length", "0"),
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Allow-Methods", ALLOW_METHODS),
        ("Access-Control-Allow-Headers", "Authorization, Foo, Bar, Accept, Accept-Language, Content-Language"),
        ("Access-Control-Max-Age", "86400"),
        ("Server", SERVER),
    ]


def test_preflight_without_requested_headers_has_no_allow_headers(client: Client) -> None:
    r = client.options("/items", headers=PREFLIGHT)
    assert access_control(r) == {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": ALLOW_METHODS,
        "Access-Control-Max-Age": "86400",
    }


def test_preflight_is_answered_before_auth_path_and_method_checks(client: Client) -> None:
    for path, headers in [
        ("/items", expired(role="pgwsgi_user")),
        ("/items", {"Authorization": "Bearer not-a-token"}),
        ("/no_such_table", {}),
        ("/a/b/c", {}),
        ("/rpc/whatever", {}),
    ]:
        r = client.options(path, headers={**PREFLIGHT, **headers})
        assert (r.status_code, r.data) == (200, b""), path
        assert r.headers["Access-Control-Allow-Methods"] == ALLOW_METHODS
        assert "Proxy-Status" not in r.headers


def test_allowed_origin_is_echoed_with_credentials(make_client: MakeClient) -> None:
    client = make_client(server_cors_allowed_origins=("http://a.example", "http://b.example"))
    r = client.options("/items", headers={**PREFLIGHT, "Access-Control-Request-Headers": "Content-Type"})
    assert r.status_code == 200
    assert access_control(r) == {
        "Access-Control-Allow-Origin": "http://a.example",
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": ALLOW_METHODS,
        "Access-Control-Allow-Headers": "Authorization, Content-Type, Accept, Accept-Language, Content-Language",
        "Access-Control-Max-Age": "86400",
    }
    r = client.get("/items?id=eq.1", headers={"Origin": "http://b.example"})
    assert r.status_code == 200
    assert access_control(r) == {
        "Access-Control-Allow-Origin": "http://b.example",
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Expose-Headers": EXPOSE,
    }
    assert "Vary" in r.headers and "Origin" not in r.headers["Vary"]


def test_other_origins_get_no_cors_headers_and_reach_the_app(make_client: MakeClient) -> None:
    client = make_client(server_cors_allowed_origins=("http://a.example",))
    r = client.get("/items?id=eq.1", headers={"Origin": "http://evil.example"})
    assert r.status_code == 200
    assert access_control(r) == {}
    # Origins are compared exactly.
    assert access_control(client.get("/items", headers={"Origin": "http://A.example"})) == {}
    # Not answered as a preflight: the application answers the OPTIONS request itself.
    r = client.options("/items", headers={**PREFLIGHT, "Origin": "http://evil.example"})
    assert r.headers["Allow"].startswith("OPTIONS,GET,HEAD")
    assert "Access-Control-Allow-Methods" not in r.headers
    r = client.options("/items", headers={**PREFLIGHT, "Origin": "http://evil.example", **expired(role="x")})
    assert (r.status_code, r.get_json()["code"]) == (401, "PGRST303")


def test_simple_request_headers_are_on_errors_too(make_client: MakeClient) -> None:
    client = make_client(db_pre_request="test.pre_request")
    origin = {"Origin": "http://a.example"}
    for r in [
        client.get("/no_such_table", headers=origin),
        client.get("/items", headers={**origin, **expired(role="pgwsgi_user")}),
        client.head("/items?id=noop.1", headers=origin),
        client.get("/items", headers={**origin, "x-raise": "pgrst"}),
    ]:
        assert r.status_code >= 400
        assert access_control(r) == {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": EXPOSE}


def test_options_with_origin_but_no_requested_method_is_left_to_the_app(client: Client) -> None:
    r = client.options("/items", headers={"Origin": "http://a.example", "Accept": "text/csv, */*; q=0.01"})
    assert r.status_code == 200
    assert r.headers["Allow"].startswith("OPTIONS,GET,HEAD")
    assert "Access-Control-Allow-Methods" not in r.headers
    assert "Access-Control-Expose-Headers" not in r.headers


@pytest.mark.parametrize(
    "headers",
    [
        {"Access-Control-Request-Method": "get"},  # methods are compared exactly
        {"Access-Control-Request-Method": "TRACE"},
        {"Access-Control-Request-Headers": "Foo Bar"},  # wai-cors reads "Foo", which is not allowed
    ],
)
def test_unsupported_preflight_is_left_to_the_app(client: Client, headers: dict[str, str]) -> None:
    r = client.options("/items", headers={**PREFLIGHT, **headers})
    assert r.headers["Allow"].startswith("OPTIONS,GET,HEAD")
    assert "Access-Control-Allow-Methods" not in r.headers


def test_websocket_upgrade_requests_are_not_cors_requests(client: Client) -> None:
    r = client.get("/items?id=eq.1", headers={"Origin": "http://a.example", "Upgrade": "WebSocket"})
    assert access_control(r) == {}


@pytest.mark.parametrize(
    ("requested", "allowed"),
    [
        ("Foo,Bar", ["Authorization", "Foo", "Bar", "Accept", "Accept-Language", "Content-Language"]),
        (" x-a ,  X-B ", ["Authorization", "x-a", "X-B", "Accept", "Accept-Language", "Content-Language"]),
        # Requested simple headers keep their place and spelling; duplicates are kept.
        ("accept,authorization", ["Authorization", "accept", "authorization", "Accept-Language", "Content-Language"]),
        ("", ["Authorization", "Accept", "Accept-Language", "Content-Language"]),
        ("Foo,", ["Authorization", "Foo", "", "Accept", "Accept-Language", "Content-Language"]),
        ("Foo:1", None),
        ("Foo Bar", None),
    ],
)
def test_allow_headers_composition(requested: str, allowed: list[str] | None) -> None:
    assert cors.allow_headers(requested) == allowed


def test_requested_header_names_are_read_like_wai_cors() -> None:
    assert cors.parse_header_names("  Foo ,Bar") == ["Foo", "Bar"]
    assert cors.parse_header_names("Foo, Bar") == ["Foo"]
    assert cors.parse_header_names(",Foo") == []
    assert cors.parse_header_names("Foo:1") == ["Foo"]


def test_cors_decision_is_pure() -> None:
    assert cors.decide("GET", {}, None) is None
    assert cors.decide("GET", {"Origin": ""}, None) == cors.Cors(
        False, (("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", cors.EXPOSE_HEADERS))
    )
    assert cors.decide("OPTIONS", {"Origin": "o", "Access-Control-Request-Method": "HEAD"}, ("o",)) == cors.Cors(
        True,
        (
            ("Access-Control-Allow-Origin", "o"),
            ("Access-Control-Allow-Credentials", "true"),
            ("Access-Control-Allow-Methods", ALLOW_METHODS),
            ("Access-Control-Max-Age", "86400"),
        ),
    )
    # An empty list of origins allows any, like an unset one.
    assert cors.decide("GET", {"Origin": "o"}, ()) == cors.decide("GET", {"Origin": "o"}, None)


# Trace header (O-TRACE, AMB-TRACE-EMPTY)


def test_trace_header_is_echoed_on_every_response(make_client: MakeClient) -> None:
    client = make_client(server_trace_header="X-Request-Id")
    responses = [
        client.get("/items?id=eq.1", headers={"x-request-id": "1"}),
        client.head("/items", headers={"X-Request-Id": "2"}),
        client.options("/items", headers={"X-Request-Id": "3"}),
        client.get("/no_such_table", headers={"X-Request-Id": "4"}),
        client.get("/items", headers={"X-Request-Id": "5", **expired(role="pgwsgi_user")}),
        client.options("/items", headers={**PREFLIGHT, "X-Request-Id": "6"}),
    ]
    assert [r.headers.getlist("X-Request-Id") for r in responses] == [["1"], ["2"], ["3"], ["4"], ["5"], ["6"]]
    assert [r.status_code for r in responses] == [200, 200, 200, 404, 401, 200]


def test_trace_header_is_empty_when_the_request_lacks_it(make_client: MakeClient) -> None:
    client = make_client(server_trace_header="CF-Ray")
    r = client.get("/items?id=eq.1")
    assert ("CF-Ray", "") in list(r.headers.items())
    assert client.get("/nope").headers.getlist("CF-Ray") == [""]


def test_no_trace_header_unless_configured(client: Client) -> None:
    assert "X-Request-Id" not in client.get("/items?id=eq.1", headers={"X-Request-Id": "1"}).headers


# Server-Timing (O-SERVER-TIMING)


def test_server_timing_on_successful_responses(make_client: MakeClient) -> None:
    client = make_client(server_timing_enabled=True, db_pre_request="test.pre_request")
    for r in [
        client.get("/items?id=eq.1"),
        client.head("/items"),
        client.get("/items?id=eq.1", headers=bearer(role="pgwsgi_user")),
        client.get("/items?id=eq.1", headers={"x-set-headers": "yes"}),
    ]:
        assert r.status_code == 200
        assert TIMING.fullmatch(r.headers["Server-Timing"]), r.headers["Server-Timing"]
        assert len(r.headers.getlist("Server-Timing")) == 1
    # OPTIONS runs no transaction: PostgREST lists jwt, parse and response only
    # (tests/integration/test_server_timing_root.py).
    assert client.options("/items").headers["Server-Timing"].startswith("jwt;dur=")


def test_server_timing_is_not_on_errors_or_preflights(make_client: MakeClient) -> None:
    client = make_client(server_timing_enabled=True)
    for r in [
        client.get("/no_such_table"),
        client.get("/items", headers=expired(role="pgwsgi_user")),
        client.get("/items", headers={"Accept": "application/vnd.pgrst.object+json"}),
        client.options("/items", headers=PREFLIGHT),
    ]:
        assert "Server-Timing" not in r.headers


def test_no_server_timing_when_disabled(client: Client) -> None:
    assert "Server-Timing" not in client.get("/items?id=eq.1").headers


def test_server_timing_value_is_milliseconds_with_one_decimal() -> None:
    timer = StageTimer()
    timer.laps[:] = [("jwt", 0.04), ("parse", 0.5), ("plan", 12.345), ("transaction", 1234.56), ("response", 0)]
    assert timer.header() == "jwt;dur=0.0, parse;dur=0.5, plan;dur=12.3, transaction;dur=1234.6, response;dur=0.0"
    timer = StageTimer()
    timer.lap("jwt")
    assert re.fullmatch(r"jwt;dur=\d+\.\d", timer.header() or "")
    NO_TIMING.lap("jwt")
    assert NO_TIMING.header() is None


# Server (H-SERVER), Vary (H-VARY) and what errors carry (E-HEADERS)


def test_server_header_on_every_response(make_client: MakeClient) -> None:
    client = make_client(server_cors_allowed_origins=("http://a.example",))
    for r in [
        client.get("/items?id=eq.1"),
        client.get("/nope"),
        client.open("/items", method="TRACE"),
        client.options("/items", headers=PREFLIGHT),
        client.options("/items"),
    ]:
        assert r.headers.getlist("Server") == [SERVER]


def test_vary_on_successful_responses_only(make_client: MakeClient) -> None:
    client = make_client(server_timing_enabled=True)
    assert client.get("/items?id=eq.1").headers.getlist("Vary") == ["Accept, Prefer, Range"]
    assert client.options("/items").headers.getlist("Vary") == ["Accept, Prefer, Range"]
    assert "Vary" not in client.options("/items", headers=PREFLIGHT).headers


@pytest.mark.parametrize(
    ("url", "headers", "status"),
    [
        ("/no_such_table", {}, 404),
        ("/items?id=noop.1", {}, 400),
        ("/items", {"Accept": "application/vnd.pgrst.object+json"}, 406),
        ("/items", {"x-raise": "pgrst"}, 402),
        ("/things", {"Accept-Profile": "other", "Accept": "application/vnd.pgrst.object+json"}, 200),
        ("/items", {"Accept-Profile": "nope"}, 406),
    ],
)
def test_errors_carry_no_vary_timing_or_profile(
    make_client: MakeClient, url: str, headers: dict[str, str], status: int
) -> None:
    r = make_client(server_timing_enabled=True, db_pre_request="test.pre_request").get(url, headers=headers)
    assert r.status_code == status
    if status == 200:  # the control: a successful response has them all
        assert {"Vary", "Server-Timing", "Content-Profile"} <= set(r.headers.keys())
        return
    assert r.headers["Content-Type"] == JSON
    assert r.headers["Proxy-Status"].startswith("PostgREST; error=")
    assert not {"Vary", "Server-Timing", "Content-Profile"} & set(r.headers.keys())
