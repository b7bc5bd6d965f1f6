"""config/conninfo.py and the db-read-replicas key: lists of connection strings, split where a new one starts."""

from __future__ import annotations

import pytest

from pgwsgi.config import ConfigError, dump_config, load_config
from pgwsgi.config.conninfo import conninfo_label, conninfo_problem, split_conninfos


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ()),
        ("  ", ()),
        ("postgresql://a/app", ("postgresql://a/app",)),
        ("postgresql://a/app,postgres://b/app", ("postgresql://a/app", "postgres://b/app")),
        (" postgresql://a/app , postgresql://b/app ,", ("postgresql://a/app", "postgresql://b/app")),
        # libpq's multi-host URI: its commas separate hosts, not replicas.
        (
            "postgresql://u:p@h1:5432,h2:5433/app?target_session_attrs=any,postgresql://h3/app",
            ("postgresql://u:p@h1:5432,h2:5433/app?target_session_attrs=any", "postgresql://h3/app"),
        ),
        # key=value strings, with multi-host values and a quoted comma.
        (
            "host=h1,h2 port=5432,5433 dbname=app,host=h3 dbname=app options='-c a=1,b=2'",
            ("host=h1,h2 port=5432,5433 dbname=app", "host=h3 dbname=app options='-c a=1,b=2'"),
        ),
        # A quoted value with an escaped quote and a comma before a key=value.
        (r"host=h1 application_name='it\'s,x=1',host=h2", (r"host=h1 application_name='it\'s,x=1'", "host=h2")),
        ("postgresql://a/app,host=b dbname=app", ("postgresql://a/app", "host=b dbname=app")),
        ("POSTGRESQL://A/app, Postgres://b/app", ("POSTGRESQL://A/app", "Postgres://b/app")),
    ],
)
def test_split_conninfos_splits_where_a_new_connection_string_starts(text: str, expected: tuple[str, ...]) -> None:
    assert split_conninfos(text) == expected


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("postgresql://h1,h2/app?connect_timeout=2", None),
        ("host=h dbname=app", None),
        ("replica1:5432", "not a postgres:// or postgresql:// URI nor a key=value connection string"),
        ("mysql://h/app", "not a postgres:// or postgresql:// URI nor a key=value connection string"),
        ("hots=h", 'invalid connection option "hots"'),
        ("postgresql://h/app?sslmod=x", 'invalid URI query parameter: "sslmod"'),
        # libpq would quote a piece of the password here: not repeated.
        ("host=h password=se cret", "libpq cannot parse it as a connection string"),
    ],
)
def test_conninfo_problem_says_why_without_quoting_the_entry(entry: str, problem: str | None) -> None:
    assert conninfo_problem(entry) == problem


def test_conninfo_label_names_host_port_and_database_only() -> None:
    assert conninfo_label("postgresql://u:secret@10.0.0.2:5433/app?sslmode=require") == "10.0.0.2:5433/app"
    assert conninfo_label("postgresql://u:secret@h1,h2/app") == "h1,h2:5432/app"
    assert conninfo_label("host=r1 port=6000 dbname=app password=x") == "r1:6000/app"
    assert conninfo_label("postgresql://") == "localhost:5432/"


def test_db_read_replicas_from_the_environment_and_a_file(tmp_path) -> None:  # noqa: ANN001
    env = {"PGRST_DB_READ_REPLICAS": "postgresql://a:5432,b:5433/app,postgresql://c/app"}
    config = load_config(env=env)
    assert config.db_read_replicas == ("postgresql://a:5432,b:5433/app", "postgresql://c/app")
    assert load_config(env={}).db_read_replicas == ()
    path = tmp_path / "pgwsgi.conf"
    path.write_text('db-read-replicas = "host=a dbname=app, host=b dbname=app"\n')
    assert load_config(str(path), env={}).db_read_replicas == ("host=a dbname=app", "host=b dbname=app")
    # --dump-config writes it back in a form that loads to the same list.
    dumped = tmp_path / "dumped.conf"
    dumped.write_text(dump_config(config))
    assert load_config(str(dumped), env={}).db_read_replicas == config.db_read_replicas


def test_an_invalid_replica_names_the_key_and_the_entry_never_its_text() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(env={"PGRST_DB_READ_REPLICAS": "postgresql://ok/app,host=h password=se cret"})
    assert caught.value.key == "db-read-replicas"
    assert str(caught.value) == (
        "Invalid value for db-read-replicas: entry 2 of 2: libpq cannot parse it as a connection string"
    )
