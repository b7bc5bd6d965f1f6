"""Building a `Config`: from a config file, PGRST_* variables and CLI overrides, then in-database settings.

Per key, in-database settings beat the environment, which beats the file, which
beats the default (C-PRECEDENCE). Unknown keys are warned about with the
nearest known name.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import os
from collections.abc import Iterable, Mapping
from typing import Any

from pgwsgi.config.fileformat import ConfigFileError, Value, as_text, parse_file, quote
from pgwsgi.config.keys import (
    APP,
    APP_ENV,
    BY_ANY_NAME,
    BY_DB_NAME,
    BY_ENV,
    DEFAULTS,
    IGNORED,
    IGNORED_ENV,
    KEYS,
    KEYS_BY_NAME,
    Key,
    env_name,
    format_value,
    parse_value,
)
from pgwsgi.config.model import Config, ConfigError, secret_bytes

log = logging.getLogger("pgwsgi.config")


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
    _warn_unknown(file_values, f"in {path}", BY_ANY_NAME)
    _warn_unknown(overrides, "given on the command line", BY_ANY_NAME)
    _warn_unknown([n for n in env if n.startswith("PGRST_")], "in the environment", BY_ENV)

    values: dict[str, Value] = {}
    for key in KEYS:
        for name in key.lookup_order:
            value = _first(name, overrides, env, file_values)
            # "" means unset, so the next alias and then the default apply (C-EMPTY).
            if value is not None and (value != "" or key.kind == "list0"):
                values[key.name] = value
                break
    app: dict[str, str] = {n: as_text(v) for n, v in file_values.items() if n.startswith(APP)}
    app.update({APP + n[len(APP_ENV) :].lower(): v for n, v in env.items() if n.startswith(APP_ENV) and n != APP_ENV})
    app.update({n: v for n, v in overrides.items() if n.startswith(APP)})
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
        key = BY_DB_NAME.get(name if name.startswith("pgrst.") else "pgrst." + name)
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
    lines = {k.name: format_value(k, getattr(config, k.field)) for k in KEYS}
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
        shown = key.example or format_value(key, key.default)
        if key.name == "admin-server-host":
            shown = '"!4"'
        out += [f"# {key.name} = {shown}", ""]
    out += [
        "## Custom settings, readable in SQL as current_setting('app.settings.jwt_exp')",
        '# app.settings.jwt_exp = "3600"',
        "",
    ]
    return "\n".join(out)


def listen_host(host: str) -> str:
    """The address a server-host (or admin-server-host) value listens on: PostgREST's `*`, `*4`, `!4`
    are every IPv4 address, `*6`, `!6` every IPv6 one; anything else is a host as it is."""
    if host in ("*", "*4", "!4"):
        return "0.0.0.0"
    if host in ("*6", "!6"):
        return "::"
    return host


def bind_address(config: Config) -> str:
    """The gunicorn bind string for the main server."""
    if config.server_unix_socket:
        return f"unix:{config.server_unix_socket}"
    host = listen_host(config.server_host)
    if ":" in host and not host.startswith("["):
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
        if name in known or name.startswith((APP, APP_ENV, *IGNORED, *IGNORED_ENV)):
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
        if key.kind in ("list", "list0", "conninfos"):
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
        value = parse_value(key, raw)
        problem = key.check(key, value) if key.check else None
        if problem:
            raise ConfigError(problem, key.name)
        kwargs[key.field] = value
    if "db_uri" in kwargs and str(kwargs["db_uri"]).startswith("@"):
        kwargs["db_uri"] = _read_at_file("db-uri", str(kwargs["db_uri"])).strip()
    if "jwt_secret" in kwargs and str(kwargs["jwt_secret"]).startswith("@"):
        secret = _read_at_file("jwt-secret", str(kwargs["jwt_secret"]))
        kwargs["jwt_secret"] = secret[:-1] if secret.endswith("\n") else secret
    kwargs.setdefault("admin_server_host", kwargs.get("server_host", DEFAULTS["server_host"]))
    port, admin_port = kwargs.get("server_port", DEFAULTS["server_port"]), kwargs.get("admin_server_port")
    if admin_port is not None and admin_port == port:
        raise ConfigError("admin-server-port cannot be the same as server-port", "admin-server-port")
    if kwargs.get("jwt_secret") is not None:
        kwargs["jwt_secret_bytes"] = secret_bytes(str(kwargs["jwt_secret"]), bool(kwargs.get("jwt_secret_is_base64")))
    return Config(**kwargs, app_settings=tuple(sorted(app.items())))


def _read_at_file(key: str, value: str) -> str:
    try:
        with open(value[1:], encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as e:
        reason = getattr(e, "strerror", None) or str(e)
        raise ConfigError(f"Invalid value for {key}: cannot read {value[1:]}: {reason}", key)
