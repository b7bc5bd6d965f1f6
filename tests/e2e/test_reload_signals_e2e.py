"""PostgREST's reloads through a real gunicorn with deploy/gunicorn.conf.py: SIGUSR1, SIGUSR2, NOTIFY 'reload config'."""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time

import psycopg

from tests.conftest import AUTHENTICATOR, ROOT, Server
from tests.e2e.conftest import eventually, fetch, server_env

CONF = ROOT / "deploy" / "gunicorn.conf.py"


def test_sigusr1_reloads_the_schema_cache_of_every_worker(gunicorn, pg_server: Server, test_db: str) -> None:  # noqa: ANN001
    # No LISTEN: only the signal can tell the workers about the new table.
    env = server_env(pg_server, test_db, PGRST_DB_CHANNEL_ENABLED="false", PGWSGI_ACCESS_LOG="")
    base = gunicorn(env, workers=2, conf=CONF)
    master = gunicorn.processes[-1]
    _both_workers_up(base)
    # Each instance has a control socket of its own (gunicorn's default is one per user).
    port = base.rsplit(":", 1)[1]
    assert os.path.exists(os.path.join(tempfile.gettempdir(), f"pgwsgi-127-0-0-1-{port}.ctl"))
    with psycopg.connect(pg_server.dsn(test_db), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS test.usr1_new; CREATE TABLE test.usr1_new (id int)")
        conn.execute("GRANT SELECT ON test.usr1_new TO pgwsgi_anon")
    try:
        assert fetch(f"{base}/usr1_new")[0] == 404
        os.kill(master.pid, signal.SIGUSR1)
        # Both workers must have it: several requests in a row all find it.
        assert eventually(lambda: all(fetch(f"{base}/usr1_new")[0] == 200 for _ in range(6)))
    finally:
        with psycopg.connect(pg_server.dsn(test_db), autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS test.usr1_new")


def _both_workers_up(base: str) -> None:
    """Wait for the workers to have loaded their catalogs (gunicorn listens before they boot)."""
    assert eventually(lambda: fetch(f"{base}/items?select=id&limit=1")[0] == 200)
    time.sleep(1.5)


def _rows(base: str) -> int:
    status, _, body = fetch(f"{base}/items?select=id")
    return len(json.loads(body)) if status == 200 else -1


def test_sigusr2_and_notify_reload_the_in_database_configuration(gunicorn, pg_server: Server, test_db: str) -> None:  # noqa: ANN001
    base = gunicorn(server_env(pg_server, test_db, PGWSGI_ACCESS_LOG=""), workers=2, conf=CONF)
    master = gunicorn.processes[-1]
    everything = _rows(base)
    assert everything > 2
    setting = f"ALTER ROLE {AUTHENTICATOR} IN DATABASE {test_db} SET pgrst.db_max_rows = '{{}}'"
    with psycopg.connect(pg_server.dsn(test_db), autocommit=True) as conn:
        try:
            conn.execute(setting.format(2))
            assert _rows(base) == everything  # read at start-up only
            os.kill(master.pid, signal.SIGUSR2)
            assert eventually(lambda: all(_rows(base) == 2 for _ in range(6)))
            conn.execute(setting.format(1))
            time.sleep(1)  # the new workers listen once they have booted
            conn.execute("NOTIFY pgrst, 'reload config'")
            assert eventually(lambda: all(_rows(base) == 1 for _ in range(6)))
            # The master is still the same process: SIGUSR2 no longer re-execs it.
            assert master.poll() is None
        finally:
            conn.execute(f"ALTER ROLE {AUTHENTICATOR} IN DATABASE {test_db} RESET pgrst.db_max_rows")
