"""Configuration: PostgREST's keys, from its config file format, PGRST_* variables and the CLI.

Contract used by the rest of pgwsgi: a frozen `Config`, produced by `load_config`
(or `config_from_environment` in gunicorn workers), refined by `apply_db_settings`
with the in-database `pgrst.*` settings.

Every key is described once, in `KEYS`; parsing, precedence, the in-db allow-list,
`dump_config` and `example_config` are all derived from that table.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import difflib
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pgwsgi.config.fileformat import ConfigFileError, Value, as_bool, as_int, as_text, parse_file, quote

log = logging.getLogger("pgwsgi.config")


class ConfigError(Exception):
    """An invalid configuration; the message is meant for the operator and never contains a secret."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Config:
    """Every setting pgwsgi understands, already parsed and validated."""

    db_uri: str = "postgresql://"
    db_schemas: tuple[str, ...] = ("public",)
    db_anon_role: str | None = None
    db_extra_search_path: tuple[str, ...] = ("public",)
    db_max_rows: int | None = None
    db_pool: int = 10
    db_pool_acquisition_timeout: int = 10
    db_pool_max_lifetime: int = 1800
    db_pool_max_idletime: int = 30
    db_pool_automatic_recovery: bool = True
    db_pre_request: str | None = None
    db_pre_config: str | None = None
    db_tx_end: str = "commit"
    db_prepared_statements: bool = True
    db_use_legacy_gucs: bool = False
    db_channel: str = "pgrst"
    db_channel_enabled: bool = True
    db_config: bool = True
    db_aggregates_enabled: bool = False
    db_plan_enabled: bool = False
    db_root_spec: str | None = None
    db_hoisted_tx_settings: tuple[str, ...] = (
        "statement_timeout",
        "plan_filter.statement_cost_limit",
        "default_transaction_isolation",
    )
    jwt_secret: str | None = None
    jwt_secret_is_base64: bool = False
    jwt_aud: str | None = None
    jwt_role_claim_key: str = "$.role"
    jwt_cache_max_entries: int = 1000
    jwt_sign_claims: bool = True
    server_host: str = "!4"
    server_port: int = 3000
    server_max_body_size: int = 100 * 1024 * 1024
    server_unix_socket: str | None = None
    server_cors_allowed_origins: tuple[str, ...] | None = None
    server_trace_header: str | None = None
    server_timing_enabled: bool = False
    client_error_verbosity: str = "verbose"
    log_level: str = "error"
    log_query: bool = False
    openapi_mode: str = "follow-privileges"
    openapi_security_active: bool = False
    openapi_server_proxy_uri: str | None = None
    # None only on a hand-built Config: the loaders fill it with server_host, as PostgREST does.
    admin_server_host: str | None = None
    admin_server_port: int | None = None
    url_use_legacy_target_names: bool = True
    app_settings: tuple[tuple[str, str], ...] = ()
    server_unix_socket_mode: int = 0o660
    server_reuseport: bool = False
    admin_server_unix_socket: str | None = None
    admin_server_unix_socket_mode: int = 0o660
    # The key material: base64-decoded when jwt_secret_is_base64, else jwt_secret as UTF-8.
    jwt_secret_bytes: bytes | None = None

    def __post_init__(self) -> None:
        # The loaders validate and fill this; a hand-built Config (tests) gets it derived too.
        if self.jwt_secret is not None and self.jwt_secret_bytes is None:
            object.__setattr__(self, "jwt_secret_bytes", _decode_secret(self.jwt_secret, self.jwt_secret_is_base64))


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Config)}


@dataclass(frozen=True)
class Key:
    """One configuration key. `kind` is str, int, bool, list, list0 (a list where "" means empty), enum or mode."""

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
        return _DEFAULTS[self.field]

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


def _check_port(key: Key, port: int) -> str | None:
    return None if 0 <= port <= 65535 else f"Invalid value for {key.name}: {port} is not between 0 and 65535"


_SOCKET_MODE = "Unix socket permissions, in octal (600 to 777)"

# PostgREST's keys plus pgwsgi's db-use-legacy-gucs. Reloadability follows the code
# (AMB-RELOADABLE): db-tx-end, openapi-server-proxy-uri and server-cors-allowed-origins
# are read per request, so they are reloadable. pgrst.jwt_cache_max_entries is absent
# from PostgREST's in-db allow-list (AMB-JWT-CACHE-INDB), so it is not in_db here.
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
    Key("db-channel-enabled", "bool", "Listen on db-channel"),
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
    Key("jwt-role-claim-key", "str", "JSONPath to the role in the JWT claims ($ is written $$ in this file)",
        aliases=("role-claim-key",), in_db=True, check=_check_role_claim_key),
    Key("jwt-secret", "str", "HMAC secret (at least 32 characters), JWK or JWKS; '@path' reads it from a file",
        in_db=True, secret=True, example='"a-secret-with-at-least-32-characters"'),
    Key("jwt-secret-is-base64", "bool", "jwt-secret is base64 encoded", aliases=("secret-is-base64",), in_db=True),
    Key("log-level", "enum", "crit, error, warn, info or debug", choices=("crit", "error", "warn", "info", "debug")),
    Key("log-query", "bool", "Log each SQL statement at the current log level"),
    Key("openapi-mode", "enum", "OpenAPI output at /: follow-privileges, ignore-privileges or disabled",
        in_db=True, choices=("follow-privileges", "ignore-privileges", "disabled")),
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
_BY_ANY_NAME: dict[str, Key] = {n: k for k in KEYS for n in k.lookup_order}
_BY_ENV: dict[str, Key] = {env_name(n): k for k in KEYS for n in k.lookup_order}
_BY_DB_NAME: dict[str, Key] = {k.in_db_name: k for k in KEYS if k.in_db_name}
_APP = "app.settings."
_APP_ENV = "PGRST_APP_SETTINGS_"
# PostgREST's test-only knobs and the variable naming pgwsgi's config file: known, not warned about.
_IGNORED = ("internal-schema-cache-",)
_IGNORED_ENV = ("PGRST_CONFIG", "PGRST_INTERNAL_SCHEMA_CACHE_")


def load_config(
    path: str | None = None, env: Mapping[str, str] | None = None, overrides: Mapping[str, str] | None = None
) -> Config:
    """Build a Config from a config file (optional), PGRST_* variables and CLI overrides.

    Per key, overrides beat env, env beats the file, the file beats the default.
    `env` defaults to os.environ. Raises ConfigError for an unreadable file or any invalid value.
    """
    env = os.environ if env is None else env
    overrides = overrides or {}
    file_values: Mapping[str, Value] = {}
    if path:
        try:
            file_values = parse_file(path, env)
        except ConfigFileError as e:
            raise ConfigError(str(e))
        except OSError as e:
            raise ConfigError(f"Cannot read config file {path}: {e.strerror or e}")
    _warn_unknown(file_values, f"in {path}", _BY_ANY_NAME)
    _warn_unknown(overrides, "given on the command line", _BY_ANY_NAME)
    _warn_unknown([n for n in env if n.startswith("PGRST_")], "in the environment", _BY_ENV)

    values: dict[str, Value] = {}
    for key in KEYS:
        for name in key.lookup_order:
            value = _first(name, overrides, env, file_values)
            # "" means unset, so the next alias and then the default apply (C-EMPTY).
            if value is not None and (value != "" or key.kind == "list0"):
                values[key.name] = value
                break
    app: dict[str, str] = {n: as_text(v) for n, v in file_values.items() if n.startswith(_APP)}
    app.update(
        {_APP + n[len(_APP_ENV) :].lower(): v for n, v in env.items() if n.startswith(_APP_ENV) and n != _APP_ENV}
    )
    app.update({n: v for n, v in overrides.items() if n.startswith(_APP)})
    return _build(values, app)


def config_from_environment(env: Mapping[str, str] | None = None) -> Config:
    """The Config of a gunicorn worker: the file named by PGRST_CONFIG (if any) plus PGRST_* variables."""
    env = os.environ if env is None else env
    return load_config(env.get("PGRST_CONFIG") or None, env)


def apply_db_settings(config: Config, settings: Mapping[str, str]) -> Config:
    """Overlay in-database settings (C-SRC-DB), which beat every other source.

    Names may be given as `pgrst.db_schemas` or `db_schemas`; only the §1.3 allow-list is
    used, anything else is ignored. With db-config=false the config is returned unchanged.
    """
    if not config.db_config:
        return config
    values = _values_of(config)
    applied = False
    for name, value in settings.items():
        key = _BY_DB_NAME.get(name if name.startswith("pgrst.") else "pgrst." + name)
        if key is None:
            continue
        applied = True
        if value == "" and key.kind != "list0":
            values.pop(key.name, None)
        else:
            values[key.name] = value
    return _build(values, dict(config.app_settings)) if applied else config


def reloaded(old: Config, new: Config) -> Config:
    """The config to switch to on reload: `new`, except that non-reloadable keys keep their `old` values."""
    kept = {k.field: getattr(old, k.field) for k in KEYS if not k.reloadable}
    return dataclasses.replace(new, **kept)


def dump_config(config: Config) -> str:
    """Every key as `key = value`, sorted, in the config file syntax (so the output loads back to `config`)."""
    lines = {k.name: _format(k, getattr(config, k.field)) for k in KEYS}
    lines.update({n: quote(v) for n, v in config.app_settings})
    return "".join(f"{n} = {lines[n]}\n" for n in sorted(lines))


def example_config() -> str:
    """A commented example config file; every line is commented out, so it loads to the defaults."""
    out = [
        "## pgwsgi configuration, in PostgREST's format: key = value, strings in double quotes.",
        '## Inside strings, $(NAME) inserts an environment variable and $$ is a literal "$".',
        "## Every key can also be set with an environment variable: db-uri -> PGRST_DB_URI.",
        "## Each commented-out value is the default, or an example for keys that are unset by default.",
        "",
    ]
    for key in KEYS:
        aka = f" (also: {', '.join(key.aliases)})" if key.aliases else ""
        out.append(f"## {key.doc}{aka}")
        shown = key.example or _format(key, key.default)
        if key.name == "admin-server-host":
            shown = '"!4"'
        out += [f"# {key.name} = {shown}", ""]
    out += [
        "## Custom settings, readable in SQL as current_setting('app.settings.jwt_exp')",
        '# app.settings.jwt_exp = "3600"',
        "",
    ]
    return "\n".join(out)


def bind_address(config: Config) -> str:
    """The gunicorn bind string for the main server."""
    if config.server_unix_socket:
        return f"unix:{config.server_unix_socket}"
    host = config.server_host
    if host in ("*", "*4", "!4"):
        host = "0.0.0.0"
    elif host in ("*6", "!6"):
        host = "[::]"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{config.server_port}"


def _first(
    name: str, overrides: Mapping[str, str], env: Mapping[str, str], file_values: Mapping[str, Value]
) -> Value | None:
    for source, lookup in ((overrides, name), (env, env_name(name)), (file_values, name)):
        if lookup in source:
            return source[lookup]
    return None


def _warn_unknown(names: Iterable[str], where: str, known: Mapping[str, Key]) -> None:
    for name in names:
        if name in known or name.startswith((_APP, _APP_ENV, *_IGNORED, *_IGNORED_ENV)):
            continue
        close = difflib.get_close_matches(name, list(known), n=1)
        hint = f'; did you mean "{close[0]}"?' if close else " (ignored)"
        log.warning('Unknown configuration key "%s" %s%s', name, where, hint)


def _values_of(config: Config) -> dict[str, Value]:
    """The config as raw key values again, the inverse of `_build` (used to re-validate with overlays)."""
    out: dict[str, Value] = {}
    for key in KEYS:
        v = getattr(config, key.field)
        if v is None:
            continue
        if key.kind in ("list", "list0"):
            v = ",".join(v)
        elif key.kind == "mode":
            v = format(v, "o")
        out[key.name] = v
    return out


def _build(values: Mapping[str, Value], app: Mapping[str, str]) -> Config:
    # Config's keyword arguments: each value has the type its key's kind gives it (see _parse),
    # which only the KEYS table knows, so the static type of the values is Any.
    kwargs: dict[str, Any] = {}
    for name, raw in values.items():
        key = KEYS_BY_NAME[name]
        value = _parse(key, raw)
        problem = key.check(key, value) if key.check else None
        if problem:
            raise ConfigError(problem, key.name)
        kwargs[key.field] = value
    if "db_uri" in kwargs and str(kwargs["db_uri"]).startswith("@"):
        kwargs["db_uri"] = _read_at_file("db-uri", str(kwargs["db_uri"])).strip()
    if "jwt_secret" in kwargs and str(kwargs["jwt_secret"]).startswith("@"):
        secret = _read_at_file("jwt-secret", str(kwargs["jwt_secret"]))
        kwargs["jwt_secret"] = secret[:-1] if secret.endswith("\n") else secret
    kwargs.setdefault("admin_server_host", kwargs.get("server_host", _DEFAULTS["server_host"]))
    port, admin_port = kwargs.get("server_port", _DEFAULTS["server_port"]), kwargs.get("admin_server_port")
    if admin_port is not None and admin_port == port:
        raise ConfigError("admin-server-port cannot be the same as server-port", "admin-server-port")
    if kwargs.get("jwt_secret") is not None:
        kwargs["jwt_secret_bytes"] = _secret_bytes(str(kwargs["jwt_secret"]), bool(kwargs.get("jwt_secret_is_base64")))
    return Config(**kwargs, app_settings=tuple(sorted(app.items())))


def _parse(key: Key, raw: Value) -> object:
    shown = "(hidden)" if key.secret else f'"{as_text(raw)}"' if not isinstance(raw, list) else "a list"
    if isinstance(raw, list) and key.kind not in ("list", "list0"):
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


def _read_at_file(key: str, value: str) -> str:
    try:
        with open(value[1:], encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as e:
        reason = getattr(e, "strerror", None) or str(e)
        raise ConfigError(f"Invalid value for {key}: cannot read {value[1:]}: {reason}", key)


def _decode_secret(secret: str, is_base64: bool) -> bytes:
    if not is_base64:
        return secret.encode("utf-8")
    text = secret.replace("-", "+").replace("_", "/").replace(".", "=").strip()
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(
            "Invalid value for jwt-secret: jwt-secret-is-base64 is set but the secret is not valid base64", "jwt-secret"
        )


def _secret_bytes(secret: str, is_base64: bool) -> bytes:
    data = _decode_secret(secret, is_base64)
    if len(data) < 32 and not _is_jwk(data):
        raise ConfigError(
            "Invalid value for jwt-secret: The JWT secret must be at least 32 characters long.", "jwt-secret"
        )
    return data


def _is_jwk(data: bytes) -> bool:
    try:
        parsed = json.loads(data)
    except ValueError:
        return False
    return isinstance(parsed, dict) and (isinstance(parsed.get("keys"), list) or "kty" in parsed)


def _format(key: Key, value: object) -> str:
    if value is None:
        return '""'
    if key.kind == "bool":
        return "true" if value else "false"
    if key.kind == "int":
        return str(value)
    if key.kind == "mode":
        return quote(format(value, "o"))
    if key.kind in ("list", "list0") and isinstance(value, tuple | list):
        return quote(",".join(value))
    return quote(str(value))
