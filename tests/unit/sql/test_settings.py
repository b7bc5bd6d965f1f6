"""sql/settings.py: the one statement that sets the role and the request GUCs, and db-pre-request."""

from __future__ import annotations

import dataclasses

from psycopg import sql

from pgwsgi.auth import Identity
from pgwsgi.config import Config
from pgwsgi.sql.settings import hoisted, pre_request_call, request_settings, settings_for, settings_sql
from tests.unit.snapshot import CONFIG, SLOW, function, request

ANON = Identity("anon", {}, True)


def render(composed: sql.Composable) -> str:
    """Render without a connection: identifiers are quoted the same way."""
    return composed.as_string(None)


def pairs(params: list[str]) -> tuple[list[str], list[str]]:
    """The names and the values of a settings statement's parameters (name, value, name, value, ...)."""
    return params[0::2], params[1::2]


# -- moved from tests/unit/test_sql.py -------------------------------------------------------------


def test_settings_are_one_statement_with_a_name_and_a_value_parameter_per_setting() -> None:
    config = Config(db_extra_search_path=("public", 'odd"name'), app_settings=(("app.settings.k", "v"),))
    ident = Identity("web_user", {"sub": "alice", "role": "ignored"}, False)
    stmt, params = request_settings(
        config,
        ident,
        schema="api",
        method="GET",
        path="/t",
        headers=(("X-A", "1"), ("Cookie", "c=1")),
        cookies=(("c", "1"),),
    )
    assert render(stmt) == "SELECT " + ", ".join(["pg_catalog.set_config(%s, %s, true)"] * 8)
    names, values = pairs(params)
    assert names == [
        "search_path",
        "role",
        "request.jwt.claims",
        "request.method",
        "request.path",
        "request.headers",
        "request.cookies",
        "app.settings.k",
    ]
    assert values == [
        '"api", "public", "odd""name"',
        "web_user",
        '{"sub":"alice","role":"web_user"}',
        "GET",
        "/t",
        '{"x-a":"1"}',
        '{"c":"1"}',
        "v",
    ]


def test_legacy_gucs_skip_names_postgres_cannot_hold() -> None:
    config = Config(db_use_legacy_gucs=True)
    ident = Identity("u", {"sub": "a", "n": 1, "bad-name": "x"}, False)
    names, values = pairs(
        request_settings(
            config,
            ident,
            schema="s",
            method="GET",
            path="/",
            headers=(("User-Agent", "curl"), ("Xtest", "v")),
            cookies=(),
        )[1]
    )
    legacy = dict(zip(names, values, strict=True))
    assert legacy["request.jwt.claim.sub"] == "a"
    assert legacy["request.jwt.claim.n"] == "1"
    assert legacy["request.header.xtest"] == "v"
    assert "request.jwt.claim.bad-name" not in legacy and "request.header.user-agent" not in legacy


# -- new ------------------------------------------------------------------------------------------------


def test_the_statement_text_depends_only_on_the_number_of_settings() -> None:
    stmt, _ = request_settings(CONFIG, ANON, schema="api", method="GET", path="/", headers=(), cookies=())
    other, _ = request_settings(
        CONFIG,
        Identity("u", {"sub": "x"}, False),
        schema="s",
        method="POST",
        path="/x",
        headers=(("A", "b"),),
        cookies=(),
    )
    assert render(stmt) == render(other) == render(settings_sql(7))
    assert settings_sql(7) is settings_sql(7)


def test_settings_for_a_request_take_its_schema_path_headers_cookies_and_timezone() -> None:
    req = request(
        "/items?id=eq.1", headers={"Prefer": "timezone=America/Sao_Paulo", "X-Test": "1", "Cookie": "a=1; b=2"}
    )
    names, values = pairs(settings_for(CONFIG, ANON, req)[1])
    assert dict(zip(names, values, strict=True)) == {
        "search_path": '"api", "public"',
        "role": "anon",
        "request.jwt.claims": '{"role":"anon"}',
        "request.method": "GET",
        "request.path": "/items",
        "request.headers": '{"host":"localhost","prefer":"timezone=America/Sao_Paulo","x-test":"1"}',
        "request.cookies": '{"a":"1","b":"2"}',
        "timezone": "America/Sao_Paulo",
    }
    assert names[-1] == "timezone"


def test_json_gucs_keep_non_ascii_text_as_it_is() -> None:
    ident = Identity("u", {"name": "Zoë"}, False)
    names, values = pairs(
        request_settings(CONFIG, ident, schema="api", method="GET", path="/", headers=(("X-Name", "Zoë"),), cookies=())[
            1
        ]
    )
    settings = dict(zip(names, values, strict=True))
    assert settings["request.jwt.claims"] == '{"name":"Zoë","role":"u"}'
    assert settings["request.headers"] == '{"x-name":"Zoë"}'


def test_a_called_functions_hoistable_settings_follow_the_request_ones() -> None:
    req = request("/rpc/slow")
    names, values = pairs(settings_for(CONFIG, ANON, req, SLOW)[1])
    assert (names[-1], values[-1]) == ("statement_timeout", "5s")
    assert "search_path" not in names[7:]


def test_hoisted_settings_are_those_db_hoisted_tx_settings_matches() -> None:
    assert hoisted(CONFIG, SLOW) == (("statement_timeout", "5s"),)
    only_path = dataclasses.replace(CONFIG, db_hoisted_tx_settings=("^search_path=",))
    assert hoisted(only_path, SLOW) == (("search_path", "x"),)
    assert hoisted(dataclasses.replace(CONFIG, db_hoisted_tx_settings=()), SLOW) == ()
    assert hoisted(CONFIG, function("plain")) == ()


def test_app_settings_come_after_the_request_settings() -> None:
    config = Config(app_settings=(("app.settings.a", "1"), ("app.settings.b", "2")))
    names, values = pairs(request_settings(config, ANON, schema="s", method="GET", path="/", headers=(), cookies=())[1])
    assert names[-2:] == ["app.settings.a", "app.settings.b"]
    assert values[-2:] == ["1", "2"]


def test_legacy_gucs_include_cookies_and_json_claims() -> None:
    config = Config(db_use_legacy_gucs=True)
    ident = Identity("u", {"sub": "a", "obj": {"k": [1]}}, False)
    names, values = pairs(
        request_settings(
            config, ident, schema="s", method="GET", path="/", headers=(), cookies=(("sid", "x"), ("bad-name", "y"))
        )[1]
    )
    legacy = dict(zip(names, values, strict=True))
    assert legacy["request.jwt.claim.obj"] == '{"k":[1]}'
    assert legacy["request.jwt.claim.role"] == "u"
    assert legacy["request.cookie.sid"] == "x"
    assert "request.cookie.bad-name" not in legacy


def test_pre_request_is_a_call_of_the_named_function() -> None:
    qualified = pre_request_call("test.pre_request")
    unqualified = pre_request_call("pre_request")
    assert qualified is not None and unqualified is not None
    assert render(qualified) == 'SELECT "test"."pre_request"()'
    assert render(unqualified) == 'SELECT "pre_request"()'


def test_no_pre_request_without_a_name() -> None:
    assert pre_request_call(None) is None
    assert pre_request_call("") is None
