"""PostgREST's Swagger mapping rules and the document's address, without a database."""

from __future__ import annotations

import pytest

from pgwsgi.openapi import Server, server_of
from pgwsgi.openapi.swagger import _default, swagger_format, swagger_type


@pytest.mark.parametrize(
    ("uri", "server"),
    [
        ("https://example.com:8443/basePath", Server("https", "example.com", 8443, "/basePath")),
        ("http://Example.org", Server("http", "Example.org", 80, "/")),
        ("HTTPS://example.org/", Server("https", "example.org", 443, "/")),
        ("http://[::1]:9000/api/v1", Server("http", "[::1]", 9000, "/api/v1")),
    ],
)
def test_proxy_uri_names_the_address(uri: str, server: Server) -> None:
    assert server_of(uri, "127.0.0.1", 3000) == server


@pytest.mark.parametrize(
    ("host", "shown"), [("!4", "0.0.0.0"), ("*", "0.0.0.0"), ("*6", "0.0.0.0"), ("db.lan", "db.lan")]
)
def test_without_proxy_the_server_host_and_port(host: str, shown: str) -> None:
    assert server_of(None, host, 3000) == Server("http", shown, 3000, "/")


@pytest.mark.parametrize(
    ("pg_type", "kind", "fmt"),
    [
        ("integer", "integer", "int32"),
        ("smallint", "integer", "int32"),
        ("bigint", "integer", "int64"),
        ("numeric", "number", "numeric"),
        ("double precision", "number", "double precision"),
        ("boolean", "boolean", "boolean"),
        ("character varying", "string", "character varying"),
        ("timestamp with time zone", "string", "timestamp with time zone"),
        ("text[]", "array", "text[]"),
        ("json", None, "json"),
        ("jsonb", None, "jsonb"),
        ("test.color", "string", "test.color"),
    ],
)
def test_types_and_formats_as_postgrest_maps_them(pg_type: str, kind: str | None, fmt: str) -> None:
    assert (swagger_type(pg_type), swagger_format(pg_type)) == (kind, fmt)


@pytest.mark.parametrize(
    ("pg_type", "default", "shown"),
    [
        ("text", "'hello'::text", "hello"),
        ("character varying", "'x'::character varying", "x"),
        ("timestamp with time zone", "now()", "now()"),
        ("integer", "42", 42),
        ("boolean", "true", True),
        ("numeric", "1.5", 1.5),
        ("integer", "nextval('t_id_seq'::regclass)", None),
        ("jsonb", "'{}'::jsonb", None),
        ("double precision", "NaN", None),
        ("text", "'say \"hi\"'::text", None),
        ("text", None, None),
    ],
)
def test_defaults_as_postgrest_parses_them(pg_type: str, default: str | None, shown: object) -> None:
    # A default that is not JSON once PostgREST has quoted it is left out of the document.
    assert _default(pg_type, default) == shown
