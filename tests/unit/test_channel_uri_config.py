"""db-channel-uri: where the schema-reload listener connects (a direct connection behind PgBouncer)."""

from __future__ import annotations

import pytest

from pgwsgi.admin.server import Admin
from pgwsgi.config import Config, apply_db_settings, dump_config, example_config, load_config, reloaded

DIRECT = "postgresql://authenticator:s3cret@db-host:5432/app"
POOLED = "postgresql://authenticator:s3cret@pgbouncer:6432/app"


def test_unset_by_default_so_the_listener_uses_db_uri() -> None:
    assert load_config(env={}).db_channel_uri is None
    # PostgREST's rule for every key: an empty value is no value.
    assert load_config(env={"PGRST_DB_CHANNEL_URI": ""}).db_channel_uri is None


def test_read_from_the_environment_and_the_file(tmp_path) -> None:  # noqa: ANN001
    env = {"PGRST_DB_URI": POOLED, "PGRST_DB_CHANNEL_URI": DIRECT}
    config = load_config(env=env)
    assert (config.db_uri, config.db_channel_uri) == (POOLED, DIRECT)
    path = tmp_path / "pgwsgi.conf"
    path.write_text(f'db-uri = "{POOLED}"\ndb-channel-uri = "{DIRECT}"\n')
    assert load_config(str(path), env={}).db_channel_uri == DIRECT
    # The environment beats the file.
    assert load_config(str(path), env={"PGRST_DB_CHANNEL_URI": "host=other"}).db_channel_uri == "host=other"


def test_not_reloadable_and_not_an_in_database_setting() -> None:
    old = Config(db_channel_uri=DIRECT)
    assert reloaded(old, Config(db_channel_uri="host=elsewhere")).db_channel_uri == DIRECT
    assert apply_db_settings(old, {"pgrst.db_channel_uri": "host=elsewhere"}).db_channel_uri == DIRECT


def test_dump_and_example_name_it() -> None:
    assert f'db-channel-uri = "{DIRECT}"\n' in dump_config(Config(db_channel_uri=DIRECT))
    assert 'db-channel-uri = ""\n' in dump_config(Config())
    assert '# db-channel-uri = "postgresql://authenticator:secret@db-host:5432/app"' in example_config()


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        (DIRECT, "postgresql://authenticator:(hidden)@db-host:5432/app"),
        (
            "host=db-host user=authenticator password=s3cret dbname=app",
            "host=db-host user=authenticator password=(hidden) dbname=app",
        ),
    ],
)
def test_the_admin_config_hides_its_password(uri: str, shown: str) -> None:
    text = Admin(Config(db_uri=POOLED, db_channel_uri=uri), arbiter=None).config_text().decode()
    assert "s3cret" not in text
    assert f'db-channel-uri = "{shown}"\n' in text
    assert 'db-uri = "postgresql://authenticator:(hidden)@pgbouncer:6432/app"\n' in text
