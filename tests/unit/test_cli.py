"""The pgwsgi command line and the gunicorn settings it serves with (no server is started)."""

from __future__ import annotations

import sys
import time
import types

import pytest

from pgwsgi import cli
from pgwsgi.config import Config, ConfigError, dump_config, load_config
from pgwsgi.config import indb as config_db
from pgwsgi.http import serve
from pgwsgi.version import POSTGREST_VERSION, __version__

SECRET = "reallyreallyreallyreallyverysafe"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """The CLI reads os.environ; keep the developer's PGRST_* variables out of these tests."""
    import os

    for name in list(os.environ):
        if name.startswith(("PGRST_", "PGWSGI_")):
            monkeypatch.delenv(name)


@pytest.fixture
def config_file(tmp_path):
    def write(text: str) -> str:
        path = tmp_path / "pgwsgi.conf"
        path.write_text(text)
        return str(path)

    return write


@pytest.fixture
def served(monkeypatch):
    """Record serve.run calls instead of starting gunicorn."""
    calls = []

    def fake_run(config, config_path, overrides=None):
        calls.append((config, config_path, overrides))
        return 0

    monkeypatch.setattr(serve, "run", fake_run)
    return calls


def test_version_prints_pgwsgi_and_postgrest_versions(capsys):
    for flag in ("-v", "--version"):
        assert cli.main([flag]) == 0
        assert capsys.readouterr().out == f"pgwsgi {__version__} (PostgREST {POSTGREST_VERSION} compatible)\n"


def test_help_lists_the_options_and_exits_zero(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--version", "--example", "--dump-config", "--anonymous", "--schema", "--jwt-secret", "FILE"):
        assert option in out
    assert cli.main(["token", "-h"]) == 0
    assert "--role" in capsys.readouterr().out


def test_example_prints_a_loadable_config_file(capsys, config_file):
    assert cli.main(["-e"]) == 0
    text = capsys.readouterr().out
    assert load_config(config_file(text), env={}) == load_config(env={})


def test_usage_error_exits_two(capsys):
    assert cli.main(["--no-such-flag"]) == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_version_and_example_are_mutually_exclusive(capsys):
    assert cli.main(["-v", "-e"]) == 2


def test_file_argument_is_the_config_path():
    assert cli.parse_command_line(["/etc/pgwsgi.conf"]) == cli.Command("run", "/etc/pgwsgi.conf", {})
    assert cli.parse_command_line([]) == cli.Command("run", None, {})


def test_legacy_form_turns_uri_and_flags_into_overrides():
    cmd = cli.parse_command_line(
        [
            "postgres://user@host/db",
            "--anonymous",
            "anon",
            "--jwt-secret",
            "S",
            "-s",
            "api",
            "-p",
            "3001",
            "-o",
            "4",
            "-m",
            "100",
            "--host",
            "127.0.0.1",
        ]
    )
    assert cmd == cli.Command(
        "run",
        None,
        {
            "db-uri": "postgres://user@host/db",
            "db-anon-role": "anon",
            "jwt-secret": "S",
            "db-schemas": "api",
            "server-port": "3001",
            "db-pool": "4",
            "db-max-rows": "100",
            "server-host": "127.0.0.1",
        },
    )


def test_legacy_flags_may_come_before_the_uri_and_mix_with_a_file():
    cmd = cli.parse_command_line(["-a", "web", "postgresql://h/db", "my.conf", "-j", "x"])
    assert cmd == cli.Command(
        "run", "my.conf", {"db-anon-role": "web", "jwt-secret": "x", "db-uri": "postgresql://h/db"}
    )


def test_two_config_files_are_a_usage_error(capsys):
    assert cli.main(["a.conf", "b.conf"]) == 2
    assert "only one config file" in capsys.readouterr().err


def test_run_serves_file_and_env_config_with_overrides(config_file, monkeypatch, served):
    path = config_file('db-anon-role = "file"\ndb-pool = 4\n')
    monkeypatch.setenv("PGRST_DB_POOL", "6")
    assert cli.main([path, "-a", "cli", "-p", "3005"]) == 0
    [(config, config_path, overrides)] = served
    assert (config.db_anon_role, config.db_pool, config.server_port) == ("cli", 6, 3005)
    assert config_path == path
    assert overrides == {"db-anon-role": "cli", "server-port": "3005"}


def test_invalid_config_exits_one_with_message_and_no_traceback(config_file, capsys, served):
    assert cli.main([config_file('db-pool = "abc"\n')]) == 1
    err = capsys.readouterr().err
    assert err == 'pgwsgi: Invalid value for db-pool: "abc" is not an integer\n'
    assert not served


def test_invalid_legacy_flag_value_exits_one(capsys, served):
    assert cli.main(["-p", "http"]) == 1
    assert "Invalid value for server-port" in capsys.readouterr().err


def test_file_syntax_error_exits_one(config_file, capsys):
    path = config_file("db-pool = 1\n=\n")
    assert cli.main(["--dump-config", path]) == 1
    assert f"pgwsgi: Error in config file {path}, line 2" in capsys.readouterr().err


def test_dump_config_prints_the_file_and_env_config(config_file, monkeypatch, capsys):
    path = config_file('db-schemas = "api"\ndb-config = false\n')
    monkeypatch.setenv("PGRST_DB_ANON_ROLE", "web")
    assert cli.main(["--dump-config", path]) == 0
    out = capsys.readouterr().out
    assert out == dump_config(load_config(path, env={"PGRST_DB_ANON_ROLE": "web"}))
    assert 'db-schemas = "api"\n' in out and 'db-anon-role = "web"\n' in out


def test_dump_config_applies_in_database_settings(monkeypatch, capsys):
    seen = []
    monkeypatch.setattr(
        config_db,
        "read_db_settings",
        lambda config: seen.append(config) or {"pgrst.db_schemas": "fromdb", "pgrst.db_pool": "9"},
    )
    assert cli.main(["--dump-config"]) == 0
    out = capsys.readouterr().out
    assert 'db-schemas = "fromdb"\n' in out and "db-pool = 10\n" in out
    assert len(seen) == 1


def test_dump_config_skips_the_database_when_db_config_is_off(monkeypatch, capsys):
    monkeypatch.setattr(config_db, "read_db_settings", lambda config: pytest.fail("must not connect"))
    monkeypatch.setenv("PGRST_DB_CONFIG", "false")
    assert cli.main(["--dump-config"]) == 0
    assert "db-config = false\n" in capsys.readouterr().out


@pytest.fixture
def minted(monkeypatch):
    calls = []
    fake = types.ModuleType("pgwsgi.auth")

    def mint_token(config, claims):
        calls.append((config, claims))
        return "header.payload.signature"

    fake.mint_token = mint_token
    monkeypatch.setitem(sys.modules, "pgwsgi.auth", fake)
    return calls


def test_token_prints_a_jwt_with_role_claims_and_expiry(monkeypatch, capsys, minted):
    monkeypatch.setenv("PGRST_JWT_SECRET", SECRET)
    before = int(time.time())
    argv = [
        "token",
        "--role",
        "web",
        "--claim",
        "email=a@b.example",
        "--claim",
        "n=5",
        "--claim",
        'o={"x": [1]}',
        "--exp",
        "60",
    ]
    assert cli.main(argv) == 0
    assert capsys.readouterr().out == "header.payload.signature\n"
    [(config, claims)] = minted
    assert config.jwt_secret == SECRET
    exp = claims.pop("exp")
    assert before + 60 <= exp <= int(time.time()) + 60
    assert claims == {"role": "web", "email": "a@b.example", "n": 5, "o": {"x": [1]}}


def test_token_reads_the_secret_from_a_config_file(config_file, minted):
    assert cli.main(["token", "--role", "web", config_file(f'jwt-secret = "{SECRET}"\n')]) == 0
    assert minted[0][1] == {"role": "web"}


def test_token_without_a_secret_exits_one(capsys, minted):
    assert cli.main(["token", "--role", "web"]) == 1
    assert "jwt-secret is not set" in capsys.readouterr().err
    assert not minted


def test_token_claim_needs_key_and_value(capsys):
    assert cli.main(["token", "--role", "web", "--claim", "novalue"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err


# --- serve: what gunicorn is given ------------------------------------------------------------


def test_gunicorn_options_for_tcp():
    options = serve.gunicorn_options(
        Config(server_host="127.0.0.1", server_port=3001, log_level="warn"), env={"PGWSGI_WORKERS": "3"}
    )
    assert options["bind"] == ["127.0.0.1:3001"]
    assert (options["workers"], options["worker_class"], options["preload_app"]) == (
        3,
        "pgwsgi.http.worker.JsonSyncWorker",
        False,
    )
    assert (options["accesslog"], options["loglevel"], options["reuse_port"]) == ("-", "warning", False)
    assert "umask" not in options


def test_gunicorn_options_for_unix_socket_set_its_mode():
    options = serve.gunicorn_options(Config(server_unix_socket="/tmp/p.sock", server_unix_socket_mode=0o640), env={})
    assert options["bind"] == ["unix:/tmp/p.sock"]
    assert options["umask"] == 0o137


def test_default_worker_count_is_capped(monkeypatch):
    monkeypatch.setattr(serve.os, "cpu_count", lambda: 64)
    assert serve.worker_count({}) == 8
    monkeypatch.setattr(serve.os, "cpu_count", lambda: 1)
    assert serve.worker_count({}) == 3


def test_invalid_worker_count_is_a_config_error():
    with pytest.raises(ConfigError, match="PGWSGI_WORKERS"):
        serve.worker_count({"PGWSGI_WORKERS": "many"})


def test_workers_see_the_command_line_config_through_the_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env: dict[str, str] = {}
    serve.export_environment("pgwsgi.conf", {"db-anon-role": "web", "server-port": "3001"}, env)
    assert env == {
        "PGRST_CONFIG": str(tmp_path / "pgwsgi.conf"),
        "PGRST_DB_ANON_ROLE": "web",
        "PGRST_SERVER_PORT": "3001",
    }


def test_main_module_only_wraps_cli_main():
    import pgwsgi.__main__ as entry

    assert entry.main is cli.main
    assert {n for n in vars(entry) if not n.startswith("__")} == {"main"}
