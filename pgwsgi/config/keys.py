"""PostgREST's configuration keys, each described once in `KEYS`: name, aliases, kind, default, doc.

Parsing, precedence, the in-database allow-list, `dump_config` and
`example_config` (config/load.py) are all derived from this table.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pgwsgi.config.conninfo import conninfo_problem, split_conninfos
from pgwsgi.config.fileformat import Value, as_bool, as_int, as_text, quote
from pgwsgi.config.model import Config, ConfigError

DEFAULTS = {f.name: f.default for f in dataclasses.fields(Config)}


@dataclass(frozen=True)
class Key:
    """One configuration key. `kind` is str, int, bool, list, list0 (a list where "" means empty), enum, mode
    or conninfos (connection strings, split on the commas that start a new one: config/conninfo.py)."""

    name: str
    kind: str
    doc: str
    aliases: tuple[str, ...] = ()
    reloadable: bool = True
    in_db: bool = False
    choices: tuple[str, ...] = ()
    check: Callable[[Key, Any], str | None] | None = None
    alias_first: bool = False
    secret: bool = False
    example: str | None = None

    @property
    def field(self) -> str:
        return self.name.replace("-", "_")

    @property
    def default(self) -> object:
        return DEFAULTS[self.field]

    @property
    def lookup_order(self) -> tuple[str, ...]:
        return (*self.aliases, self.name) if self.alias_first else (self.name, *self.aliases)

    @property
    def in_db_name(self) -> str | None:
        return "pgrst." + self.field if self.in_db else None


def env_name(key: str) -> str:
    """The environment variable for a key: `db-uri` -> `PGRST_DB_URI`."""
    return "PGRST_" + key.upper().replace("-", "_").replace(".", "_")


def _check_schemas(key: Key, schemas: tuple[str, ...]) -> str | None:
    for forbidden in ("pg_catalog", "information_schema"):
        if forbidden in schemas:
            return f"db-schemas does not allow schema: '{forbidden}'"
    return None


_URI_CHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?\[\]]|%[0-9A-Fa-f]{2})"
_URI = re.compile(rf"[A-Za-z][A-Za-z0-9+.\-]*:{_URI_CHAR}*(?:#{_URI_CHAR}*)?")


def _check_aud(key: Key, aud: str) -> str | None:
    # RFC 7519: a StringOrURI containing ':' must be a URI.
    if ":" in aud and not _URI.fullmatch(aud):
        return "jwt-aud should be a string or a valid URI"
    return None


def _check_proxy_uri(key: Key, uri: str) -> str | None:
    # PostgREST's rules: absolute http(s) URI, no query, fragment or user info, a host, port 1-65535.
    bad = f"Invalid value for {key.name}: malformed proxy uri, a correct example: https://example.com:8443/basePath"
    m = re.fullmatch(r"(?i)https?://([^/?#]*)(/[^?#]*)?", uri)
    if not m or not re.fullmatch(rf"{_URI_CHAR}*", uri.split("//", 1)[1]) or "@" in m.group(1):
        return bad
    authority = m.group(1)
    host, sep, port = ("", "", "") if authority.endswith("]") else authority.rpartition(":")
    if not sep:
        host = authority
    if not host or (sep and not (port.isdigit() and 0 < int(port) < 65536)):
        return bad
    return None


def _check_role_claim_key(key: Key, path: str) -> str | None:
    # A syntactic sniff only; the JSONPath module parses it for real.
    if not path.startswith(("$", ".", "[")):
        return f'Invalid value for {key.name}: "{path}" must be a JSONPath starting with "$" (or the older ".key")'
    return None


# RFC 6265's cookie-name (an RFC 2616 token): what a browser can send back as `name=value`.
_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _check_cookie_name(key: Key, name: str) -> str | None:
    if not _COOKIE_NAME.fullmatch(name):
        return f'Invalid value for {key.name}: "{name}" is not a cookie name (letters, digits and !#$%&\'*+-.^_`|~)'
    return None


def _check_refetch_interval(key: Key, seconds: int) -> str | None:
    # 0 would let every token with an unknown kid make the server fetch the JWKS again.
    return None if seconds >= 1 else f"Invalid value for {key.name}: {seconds} is not at least 1 (second)"


def _check_port(key: Key, port: int) -> str | None:
    return None if 0 <= port <= 65535 else f"Invalid value for {key.name}: {port} is not between 0 and 65535"


def _check_conninfos(key: Key, entries: tuple[str, ...]) -> str | None:
    for n, entry in enumerate(entries, 1):
        problem = conninfo_problem(entry)
        if problem is not None:
            # Which entry, never its text: it may hold a password.
            return f"Invalid value for {key.name}: entry {n} of {len(entries)}: {problem}"
    return None


_SOCKET_MODE = "Unix socket permissions, in octal (600 to 777)"

# PostgREST's keys plus pgwsgi's db-use-legacy-gucs. Reloadability follows the code
# (AMB-RELOADABLE): db-tx-end, openapi-server-proxy-uri and server-cors-allowed-origins
# are read per request, so they are reloadable. pgrst.jwt_cache_max_entries is absent
# from PostgREST's in-db allow-list (AMB-JWT-CACHE-INDB), so it is not in_db here. pgwsgi's own
# keys (jwt-cookie-name, jwt-sign-claims, ...) are not on that list either: file and environment only.
# fmt: off
KEYS: tuple[Key, ...] = (
    Key("admin-server-host", "str", "Host of the admin server (defaults to server-host)", reloadable=False),
    Key("admin-server-port", "int", "Port of the admin server (health checks); off when unset", reloadable=False,
        check=_check_port, example="3001"),
    Key("admin-server-unix-socket", "str", "Unix socket for the admin server; wins over its port", reloadable=False,
        example='"/tmp/pgwsgi-admin.sock"'),
    Key("admin-server-unix-socket-mode", "mode", _SOCKET_MODE, reloadable=False),
    Key("client-error-verbosity", "enum", "Error detail in responses: verbose or minimal", in_db=True,
        choices=("verbose", "minimal")),
    Key("db-aggregates-enabled", "bool", "Allow aggregate functions (count(), sum(), ...) in select", in_db=True),
    Key("db-anon-role", "str", "Role for requests without a JWT; unset refuses them", in_db=True, example='"anon"'),
    Key("db-channel", "str", "LISTEN channel for 'reload schema' / 'reload config' notifications"),
    Key("db-allow-privileged-authenticator", "bool",
        "pgwsgi: serve even when db-uri's role is a superuser or has BYPASSRLS (it then sees every row)",
        reloadable=False),
    Key("db-channel-enabled", "bool", "Listen on db-channel"),
    Key("db-channel-uri", "str",
        "pgwsgi: connection for the LISTEN on db-channel, unset: db-uri; give the database directly when db-uri "
        "goes through a pooler in transaction mode (PgBouncer), which cannot carry a LISTEN",
        reloadable=False, secret=True, example='"postgresql://authenticator:secret@db-host:5432/app"'),
    Key("db-config", "bool", "Read pgrst.* settings of the authenticator role from the database"),
    Key("db-extra-search-path", "list0", "Schemas appended to every request's search_path", in_db=True),
    Key("db-hoisted-tx-settings", "list", "Function settings applied to the whole transaction", in_db=True),
    Key("db-max-rows", "int", "Cap on rows returned by any read; unset is unlimited", aliases=("max-rows",),
        in_db=True, example="1000"),
    Key("db-plan-enabled", "bool", "Allow EXPLAIN plans through Accept: application/vnd.pgrst.plan", in_db=True),
    Key("db-pool", "int", "Connections in the pool", reloadable=False),
    Key("db-pool-acquisition-timeout", "int", "Seconds to wait for a free pool connection", reloadable=False),
    Key("db-pool-automatic-recovery", "bool", "Reconnect after losing the database instead of exiting"),
    Key("db-pool-max-idletime", "int", "Seconds before an idle pool connection is closed",
        aliases=("db-pool-timeout",), alias_first=True, reloadable=False),
    Key("db-pool-max-lifetime", "int", "Seconds before a pool connection is recycled", reloadable=False),
    Key("db-pre-config", "str", "Function that sets pgrst.* settings for in-database configuration", in_db=True,
        example='"postgrest.pre_config"'),
    Key("db-pre-request", "str", "Function called after authentication, before every request",
        aliases=("pre-request",), in_db=True, example='"public.check_request"'),
    Key("db-prepared-statements", "bool", "Prepare statements (turn off behind PgBouncer transaction pooling)",
        in_db=True),
    Key("db-read-replicas", "conninfos",
        "pgwsgi: streaming replicas (comma-separated connection URIs) that serve GET/HEAD reads and stable calls",
        reloadable=False, secret=True, check=_check_conninfos,
        example='"postgresql://authenticator:secret@replica1:5432/app,postgresql://authenticator:secret@replica2/app"'),
    Key("db-root-spec", "str", "Function answering GET / instead of the OpenAPI document", aliases=("root-spec",),
        in_db=True, example='"root"'),
    Key("db-schemas", "list", "Schemas exposed over HTTP; the first is the default", aliases=("db-schema",),
        in_db=True, check=_check_schemas),
    Key("db-tx-end", "enum", "How transactions end", in_db=True,
        choices=("commit", "commit-allow-override", "rollback", "rollback-allow-override")),
    Key("db-uri", "str", "libpq connection URI or key=value string; '@path' reads it from a file",
        reloadable=False, secret=True, example='"postgresql://authenticator:secret@localhost:5432/app"'),
    Key("db-use-legacy-gucs", "bool",
        "pgwsgi: also set the per-key request.jwt.claim.*, request.header.* GUCs (removed in PostgREST 12)"),
    Key("jwt-sign-claims", "bool",
        "pgwsgi: sign the result of a function returning a `...jwt_claims` composite and answer {\"token\": ...}"),
    Key("jwt-aud", "str", "Required 'aud' claim of incoming JWTs", in_db=True, check=_check_aud,
        example='"https://api.example.com"'),
    Key("jwt-cache-max-entries", "int", "JWTs kept decoded in memory; 0 disables the cache"),
    Key("jwt-jwks-refetch-interval", "int",
        "pgwsgi: with a JWKS URL as jwt-secret, the fewest seconds between two fetches of it that are not due "
        "(a token with an unknown kid, a retry after a failure)", check=_check_refetch_interval),
    Key("jwt-cookie-name", "str",
        "pgwsgi: cookie holding the JWT when a request has no Authorization header; writes then need "
        "Sec-Fetch-Site: same-origin", check=_check_cookie_name, example='"access_token"'),
    Key("jwt-role-claim-key", "str", "JSONPath to the role in the JWT claims ($ is written $$ in this file)",
        aliases=("role-claim-key",), in_db=True, check=_check_role_claim_key),
    Key("jwt-secret", "str",
        "HMAC secret (at least 32 characters), JWK, JWKS, or the https URL of a JWKS or OpenID Connect issuer; "
        "'@path' reads it from a file",
        in_db=True, secret=True, example='"a-secret-with-at-least-32-characters"'),
    Key("jwt-secret-is-base64", "bool", "jwt-secret is base64 encoded", aliases=("secret-is-base64",), in_db=True),
    Key("log-level", "enum", "crit, error, warn, info or debug", choices=("crit", "error", "warn", "info", "debug")),
    Key("log-query", "bool", "Log each SQL statement at the current log level"),
    Key("openapi-mode", "enum", "OpenAPI output at /: follow-privileges, ignore-privileges or disabled",
        in_db=True, choices=("follow-privileges", "ignore-privileges", "disabled")),
    Key("openapi-version", "enum",
        "pgwsgi: the document GET / answers by default: 2.0 (PostgREST's Swagger) or 3.1",
        choices=("2.0", "3.1"), example='"3.1"'),
    Key("openapi-security-active", "bool", "Describe JWT bearer authentication in the OpenAPI output", in_db=True),
    Key("openapi-server-proxy-uri", "str", "Public base URL used in the OpenAPI output", in_db=True,
        check=_check_proxy_uri, example='"https://api.example.com:8443/v1"'),
    Key("server-cors-allowed-origins", "list", "Origins allowed by CORS; unset allows any", in_db=True,
        example='"https://example.com, https://app.example.com"'),
    Key("server-host", "str", "Address to listen on; *, *4, !4 (IPv4 any), *6, !6 (IPv6 any) or a host",
        reloadable=False),
    Key("server-max-body-size", "int",
        "pgwsgi: largest request body in bytes; a larger one is answered 413 before anything is written"),
    Key("server-port", "int", "Port to listen on; 0 lets the system choose", reloadable=False, check=_check_port),
    Key("server-reuseport", "bool", "Set SO_REUSEPORT on the listening socket", reloadable=False),
    Key("server-timing-enabled", "bool", "Send a Server-Timing header", in_db=True),
    Key("server-trace-header", "str", "Request header echoed back in the response, e.g. X-Request-Id", in_db=True,
        example='"X-Request-Id"'),
    Key("server-unix-socket", "str", "Listen on this Unix socket instead of host and port", reloadable=False,
        example='"/tmp/pgwsgi.sock"'),
    Key("server-unix-socket-mode", "mode", _SOCKET_MODE, reloadable=False),
    Key("url-use-legacy-target-names", "bool", "Accept the pre-v12 names for embedding targets", in_db=True),
)
# fmt: on

KEYS_BY_NAME: dict[str, Key] = {k.name: k for k in KEYS}
BY_ANY_NAME: dict[str, Key] = {n: k for k in KEYS for n in k.lookup_order}
BY_ENV: dict[str, Key] = {env_name(n): k for k in KEYS for n in k.lookup_order}
BY_DB_NAME: dict[str, Key] = {k.in_db_name: k for k in KEYS if k.in_db_name}
APP = "app.settings."
APP_ENV = "PGRST_APP_SETTINGS_"
# PostgREST's test-only knobs and the variable naming pgwsgi's config file: known, not warned about.
IGNORED = ("internal-schema-cache-",)
IGNORED_ENV = ("PGRST_CONFIG", "PGRST_INTERNAL_SCHEMA_CACHE_")


def parse_value(key: Key, raw: Value) -> object:
    """RAW (from a file, the environment or the database) as KEY's kind; ConfigError if invalid."""
    shown = "(hidden)" if key.secret else f'"{as_text(raw)}"' if not isinstance(raw, list) else "a list"
    if isinstance(raw, list) and key.kind not in ("list", "list0", "conninfos"):
        raise ConfigError(f"Invalid value for {key.name}: expected a single value, not a list", key.name)
    if key.kind == "int":
        n = as_int(raw)
        if n is None:
            raise ConfigError(f"Invalid value for {key.name}: {shown} is not an integer", key.name)
        return n
    if key.kind == "bool":
        b = as_bool(raw)
        if b is None:
            raise ConfigError(f"Invalid value for {key.name}: {shown} is not a boolean (true or false)", key.name)
        return b
    if key.kind == "conninfos":
        given = raw if isinstance(raw, list) else [raw]
        return tuple(entry for item in given for entry in split_conninfos(as_text(item)))
    if key.kind in ("list", "list0"):
        items = raw if isinstance(raw, list) else as_text(raw).split(",") if raw != "" else []
        return tuple(as_text(i).strip() for i in items)
    text = as_text(raw)
    if key.kind == "enum" and text not in key.choices:
        raise ConfigError(f"Invalid value for {key.name}: {shown} is not one of {', '.join(key.choices)}", key.name)
    if key.kind == "mode":
        # Haskell's readOct takes the longest octal prefix, so "66x" reads as 0o66 (then fails the range check).
        octal = re.match(r"[0-7]*", text.strip())
        digits = octal.group(0) if octal else ""
        if not digits:
            raise ConfigError(f"Invalid value for {key.name}: {shown} is not an octal number", key.name)
        if not 0o600 <= int(digits, 8) <= 0o777:
            raise ConfigError(f"Invalid value for {key.name}: {shown} needs to be between 600 and 777", key.name)
        return int(digits, 8)
    return text


def format_value(key: Key, value: object) -> str:
    """VALUE as a config-file value, for --dump-config and --example."""
    if value is None:
        return '""'
    if key.kind == "bool":
        return "true" if value else "false"
    if key.kind == "int":
        return str(value)
    if key.kind == "mode":
        return quote(format(value, "o"))
    if key.kind in ("list", "list0", "conninfos") and isinstance(value, tuple | list):
        return quote(",".join(value))
    return quote(str(value))
