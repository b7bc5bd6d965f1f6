"""The `pgwsgi` command: PostgREST's command line, plus a `token` helper.

pgwsgi [FILE]                        serve (config from FILE and PGRST_* variables)
pgwsgi --dump-config [FILE]          print the effective configuration
pgwsgi --ready [FILE]                exit 0 if the admin server's /ready answers 200, else 1
pgwsgi -e | -v | -h                  example config, version, help
pgwsgi postgres://... -a anon ...    PostgREST's early flag style, still accepted
pgwsgi token --role R [FILE]         print a JWT signed with the configured secret
pgwsgi audit [FILE]                  check the roles, grants and policies behind the API
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from pgwsgi.config import Config, ConfigError, dump_config, example_config, listen_host, load_config
from pgwsgi.version import POSTGREST_VERSION, __version__

# PostgREST's pre-config-file flags: (short, long, metavar, config key).
LEGACY_FLAGS = (
    ("-a", "--anonymous", "ROLE", "db-anon-role"),
    ("-s", "--schema", "NAME", "db-schemas"),
    ("-p", "--port", "N", "server-port"),
    ("-j", "--jwt-secret", "SECRET", "jwt-secret"),
    ("-o", "--pool", "N", "db-pool"),
    ("-m", "--max-rows", "N", "db-max-rows"),
    (None, "--host", "HOST", "server-host"),
)
_URI_PREFIXES = ("postgres://", "postgresql://")


@dataclass
class Command:
    """What the command line asks for: action is run, version, example, dump-config, ready, token or audit."""

    action: str
    config_path: str | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    claims: dict[str, object] = field(default_factory=dict)
    audit_format: str = "text"
    admin_dsn: str | None = None


def version_text() -> str:
    return f"pgwsgi {__version__} (PostgREST {POSTGREST_VERSION} compatible)"


def _main_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pgwsgi",
        description="Serve a PostgREST-compatible REST API for a PostgreSQL database.",
        epilog="Every config key can also be set as an environment variable (db-uri -> PGRST_DB_URI). "
        "Run 'pgwsgi token -h' for the token helper, 'pgwsgi audit -h' for the security audit.",
    )
    parser.add_argument(
        "args", nargs="*", metavar="FILE", help="config file (or, PostgREST's early style, a postgres:// URI)"
    )
    once = parser.add_mutually_exclusive_group()
    once.add_argument("-v", "--version", action="store_true", help="print the version and exit")
    once.add_argument("-e", "--example", action="store_true", help="print an example config file and exit")
    once.add_argument("--dump-config", action="store_true", help="print the effective configuration and exit")
    once.add_argument(
        "--ready", action="store_true", help="exit 0 if the admin server's /ready answers 200, else 1 (health checks)"
    )
    legacy = parser.add_argument_group("early PostgREST flags (each sets one config key)")
    for short, long, metavar, key in LEGACY_FLAGS:
        names = [n for n in (short, long) if n]
        legacy.add_argument(*names, dest=key, metavar=metavar, help=f"sets {key}")
    return parser


def _token_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pgwsgi token",
        description="Print a JWT signed with the configured jwt-secret (for testing and administration).",
    )
    parser.add_argument("file", nargs="?", metavar="FILE", help="config file")
    parser.add_argument("--role", required=True, help="value of the role claim")
    parser.add_argument(
        "--claim",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an extra claim; VALUE is JSON if it parses as JSON, else a string (repeatable)",
    )
    parser.add_argument("--exp", type=int, metavar="SECONDS", help="expire the token SECONDS from now")
    return parser


def _audit_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pgwsgi audit",
        description="Check the roles, grants, row-level security and configuration behind the API "
        "(docs/security.md). Exit status: 0 without error findings, 1 with, 2 when the audit could not run.",
    )
    parser.add_argument("file", nargs="?", metavar="FILE", help="config file (as the server reads it)")
    parser.add_argument("--format", choices=("text", "json", "html"), default="text", help="report format")
    parser.add_argument(
        "--admin-dsn",
        metavar="DSN",
        default=os.environ.get("PGWSGI_AUDIT_ADMIN_DSN"),
        help="read the catalog through this connection instead of the authenticator's (it still names the roles); "
        "PGWSGI_AUDIT_ADMIN_DSN keeps a password out of the process list",
    )
    return parser


def parse_command_line(argv: Sequence[str]) -> Command:
    """Turn argv (without the program name) into a Command; argparse exits on -h and on usage errors."""
    if argv and argv[0] == "token":
        return _parse_token(list(argv[1:]))
    if argv and argv[0] == "audit":
        ns = _audit_parser().parse_args(list(argv[1:]))
        return Command("audit", ns.file, audit_format=ns.format, admin_dsn=ns.admin_dsn)
    parser = _main_parser()
    ns = parser.parse_intermixed_args(list(argv))
    overrides = {key: getattr(ns, key) for *_, key in LEGACY_FLAGS if getattr(ns, key) is not None}
    files = []
    for arg in ns.args:
        if arg.startswith(_URI_PREFIXES) and "db-uri" not in overrides:
            overrides["db-uri"] = arg
        else:
            files.append(arg)
    if len(files) > 1:
        parser.error(f"only one config file may be given, not {len(files)}: {' '.join(files)}")
    action = (
        "version"
        if ns.version
        else "example"
        if ns.example
        else "dump-config"
        if ns.dump_config
        else "ready"
        if ns.ready
        else "run"
    )
    return Command(action, files[0] if files else None, overrides)


def _parse_token(argv: list[str]) -> Command:
    parser = _token_parser()
    ns = parser.parse_args(argv)
    claims: dict[str, object] = {}
    for item in ns.claim:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            parser.error(f"--claim needs KEY=VALUE, not {item!r}")
        try:
            claims[name] = json.loads(raw)
        except ValueError:
            claims[name] = raw
    claims["role"] = ns.role
    if ns.exp is not None:
        claims["exp"] = int(time.time()) + ns.exp
    return Command("token", ns.file, claims=claims)


def with_db_settings(config: Config) -> Config:
    """Apply the in-database settings; a database error becomes a ConfigError."""
    import psycopg

    from pgwsgi.config import indb as config_db

    try:
        return config_db.with_db_settings(config)
    except psycopg.Error as e:
        raise ConfigError(f"cannot read the in-database configuration: {str(e).strip()}")


def ready(config: Config, timeout: float = 5.0) -> bool:
    """Whether the admin server of CONFIG answers /ready with 200 (PostgREST's --ready)."""
    import http.client
    import socket

    if config.admin_server_unix_socket:

        class _UnixConnection(http.client.HTTPConnection):
            def connect(self) -> None:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.settimeout(timeout)
                self.sock.connect(str(config.admin_server_unix_socket))

        conn: http.client.HTTPConnection = _UnixConnection("localhost", timeout=timeout)
    elif config.admin_server_port is not None:
        # Listening on every address: ask on loopback.
        host = listen_host(config.admin_server_host or config.server_host)
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
        conn = http.client.HTTPConnection(host, config.admin_server_port, timeout=timeout)
    else:
        raise ConfigError("admin-server-port is not set, so there is no /ready to ask", "admin-server-port")
    try:
        conn.request("GET", "/ready")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def mint(config: Config, claims: dict[str, object]) -> str:
    if not config.jwt_secret:
        raise ConfigError("jwt-secret is not set, so there is nothing to sign a token with", "jwt-secret")
    from pgwsgi.auth import mint_token

    return mint_token(config, claims)


def run_audit(config: Config, fmt: str, admin_dsn: str | None) -> int:
    """Print the audit of CONFIG's API in FMT; 1 with error findings, 2 when it could not run."""
    import psycopg

    from pgwsgi.audit import audit
    from pgwsgi.audit.page import as_html
    from pgwsgi.audit.report import as_json, as_text

    try:
        report = audit(with_db_settings(config), admin_dsn)
    except (psycopg.Error, ConfigError, LookupError) as e:
        print(f"pgwsgi audit: cannot audit: {str(e).strip()}", file=sys.stderr)
        return 2
    render = {"text": as_text, "json": as_json, "html": as_html}[fmt]
    sys.stdout.write(render(report))
    return report.exit_status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `pgwsgi` command; returns the process exit status."""
    try:
        cmd = parse_command_line(sys.argv[1:] if argv is None else argv)
    except SystemExit as e:  # argparse: --help (0) or a usage error (2)
        return e.code if isinstance(e.code, int) else 0 if e.code is None else 2
    if cmd.action == "version":
        print(version_text())
        return 0
    if cmd.action == "example":
        sys.stdout.write(example_config())
        return 0
    try:
        config = load_config(cmd.config_path, overrides=cmd.overrides)
        if cmd.action == "dump-config":
            try:
                config = with_db_settings(config)
            except ConfigError as e:
                # The file and the environment are worth showing without the database too.
                print(f"pgwsgi: {e}; showing the configuration without it", file=sys.stderr)
            sys.stdout.write(dump_config(config))
            return 0
        if cmd.action == "ready":
            return 0 if ready(config) else 1
        if cmd.action == "token":
            print(mint(config, cmd.claims))
            return 0
        if cmd.action == "audit":
            return run_audit(config, cmd.audit_format, cmd.admin_dsn)
        from pgwsgi.http import serve

        return serve.run(config, cmd.config_path, cmd.overrides)
    except (ConfigError, ValueError) as e:  # ValueError: mint_token refusing the claims
        print(f"pgwsgi: {e}", file=sys.stderr)
        # An audit keeps 1 for "error findings", so a deploy gate can tell the two apart.
        return 2 if cmd.action == "audit" else 1
