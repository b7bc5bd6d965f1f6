"""What an OpenAPI document is built from, and where clients reach the API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit

from pgwsgi.catalog.model import Function, QName, Relation, Relationship


@dataclass(frozen=True)
class Server:
    """The scheme, host, port and base path a document names as the API's address."""

    scheme: str
    host: str
    port: int
    base_path: str


@dataclass(frozen=True)
class ApiDescription:
    """The objects of one exposed schema that a document describes."""

    schema: str
    description: str | None  # the schema's COMMENT: first line title, the rest description
    relations: tuple[Relation, ...]
    functions: tuple[Function, ...]
    relationships: Mapping[QName, tuple[Relationship, ...]]
    views: frozenset[QName]  # relations that are views: a column's foreign key note prefers tables
    server: Server
    security: bool  # openapi-security-active: describe the bearer JWT
    extra_schemas: tuple[str, ...] = ()  # db-extra-search-path: type names shown unqualified
    # Domains answered through a cast function to json (M-DOMAIN-REP): their JSON is that function's.
    represented: frozenset[QName] = frozenset()

    def unqualified(self, pg_type: str) -> str:
        """PG_TYPE as the request's search_path names it: without this schema's (or an extra one's) prefix."""
        for schema in (self.schema, *self.extra_schemas):
            prefix = f"{schema}."
            if pg_type.startswith(prefix):
                return pg_type[len(prefix) :]
        return pg_type

    @cached_property
    def row_types(self) -> frozenset[QName]:
        """The relations' row types: a column of one of them refers to that relation's schema."""
        return frozenset((r.schema, r.name) for r in self.relations)


def split_comment(text: str | None) -> tuple[str | None, str | None]:
    """A COMMENT as (first line, the rest without its leading newlines): PostgREST's title/summary and description."""
    if text is None:
        return None, None
    first, newline, rest = text.partition("\n")
    return first, (newline + rest).lstrip("\n")


# PostgREST's special host names (warp's "any address" forms) print as 0.0.0.0.
_SPECIAL_HOSTS = {"*", "*4", "!4", "*6", "!6"}


def server_of(proxy_uri: str | None, host: str, port: int) -> Server:
    """Where the document says the API is: openapi-server-proxy-uri, else server-host and server-port.

    As PostgREST: a proxy URI without a port means 80 for http and 443 for https,
    and an empty path is "/". The URI was checked when the configuration loaded.
    """
    if proxy_uri:
        parts = urlsplit(proxy_uri)
        scheme = parts.scheme.lower()
        # The host as written (urlsplit's hostname would lower-case it), brackets of IPv6 kept.
        authority = parts.netloc.rpartition("@")[2]
        end = authority.find("]") + 1 if authority.startswith("[") else len(authority.partition(":")[0])
        host_name, port_text = authority[:end], authority[end + 1 :]
        default = 443 if scheme == "https" else 80
        return Server(scheme, host_name, int(port_text) if port_text.isdigit() else default, parts.path or "/")
    return Server("http", "0.0.0.0" if host in _SPECIAL_HOSTS else host, port, "/")
