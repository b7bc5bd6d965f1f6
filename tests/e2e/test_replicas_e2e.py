"""db-read-replicas through a real gunicorn: a private primary and a streaming replica made by pg_basebackup -R.

Which server ran a request is read from the answer: a view and functions return
`inet_server_port()`, and a trigger stamps written rows with it. Reads go to the
replica, writes, POST calls, volatile and serializable calls to the primary, and
`Prefer: read=primary` sends a read to the primary. When the replica stops, a read
it was running runs again on the primary and every later read is answered by the
primary (never a 5xx); when it is back, reads return to it within the back-off.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import psycopg
import pytest

from pgwsgi.db.replicas import BACKOFF_SECONDS
from tests.conftest import AUTHENTICATOR, FIXTURES, ROOT, SECRET, Server, load_sql
from tests.e2e.conftest import HttpResult, eventually, fetch, free_port, send

PRIMARY_ROOT = ROOT / ".devdb-primary"
REPLICA_ROOT = ROOT / ".devdb-replica"
CONF = ROOT / "deploy" / "gunicorn.conf.py"
DB = "replicas"

SCHEMA = """
CREATE SCHEMA api;
CREATE SCHEMA private;
CREATE TABLE private.marks (n bigserial PRIMARY KEY);
CREATE VIEW api.whoami AS SELECT inet_server_port() AS port;
CREATE TABLE api.items (id int PRIMARY KEY, name text NOT NULL, port int);
CREATE FUNCTION private.stamp() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN NEW.port := inet_server_port(); RETURN NEW; END $$;
CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON api.items FOR EACH ROW EXECUTE FUNCTION private.stamp();
CREATE FUNCTION api.port_stable() RETURNS int STABLE LANGUAGE sql AS 'SELECT inet_server_port()';
CREATE FUNCTION api.port_volatile() RETURNS int VOLATILE LANGUAGE sql AS 'SELECT inet_server_port()';
CREATE FUNCTION api.port_serializable() RETURNS int STABLE LANGUAGE sql
  SET default_transaction_isolation = 'serializable' AS 'SELECT inet_server_port()';
CREATE FUNCTION api.slow_port(seconds float8) RETURNS int STABLE LANGUAGE sql
  AS 'SELECT inet_server_port() FROM pg_sleep(seconds)';
CREATE FUNCTION api.slow_port_items(seconds float8) RETURNS int STABLE LANGUAGE sql
  AS 'SELECT inet_server_port() FROM pg_sleep(seconds) WHERE (SELECT count(*) FROM api.items) >= 0';
CREATE FUNCTION api.add_item(id int, name text) RETURNS int VOLATILE LANGUAGE sql
  AS 'INSERT INTO api.items (id, name) VALUES (id, name) RETURNING port';
GRANT USAGE ON SCHEMA api TO pgwsgi_anon;
GRANT SELECT ON api.whoami TO pgwsgi_anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON api.items TO pgwsgi_anon;
"""


@dataclass(frozen=True)
class Cluster:
    """The primary and its replica: superuser DSNs of the test database, ports, and pgwsgi's URIs."""

    primary: str
    replica: str
    primary_port: int
    replica_port: int

    def uri(self, port: int) -> str:
        """The authenticator's URI of the test database on the server at PORT."""
        return f"postgresql://{AUTHENTICATOR}@127.0.0.1:{port}/{DB}"

    @property
    def label(self) -> str:
        """The replica's label in /metrics."""
        return f"127.0.0.1:{self.replica_port}/{DB}"

    def env(self, replicas: bool = True, **extra: str) -> dict[str, str]:
        """pgwsgi's environment, with the replica in db-read-replicas unless REPLICAS is false."""
        env = {
            "PGRST_DB_URI": self.uri(self.primary_port),
            "PGRST_DB_SCHEMAS": "api",
            "PGRST_DB_ANON_ROLE": "pgwsgi_anon",
            "PGRST_JWT_SECRET": SECRET,
            "PGRST_DB_POOL": "2",
            "PGWSGI_ACCESS_LOG": "",
            "PGRST_SERVER_HOST": "127.0.0.1",  # the admin server's host too
        }
        if replicas:
            env["PGRST_DB_READ_REPLICAS"] = f"{self.uri(self.replica_port)}?connect_timeout=2"
        return {**env, **extra}


def _port(dsn: str) -> int:
    return int(urlsplit(dsn).port or 5432)


def _in_db(dsn: str) -> str:
    parts = urlsplit(dsn)
    return f"postgresql://{parts.username}@{parts.hostname}:{parts.port}/{DB}"


def wait_replayed(cluster: Cluster, seconds: float = 15.0) -> None:
    """Wait until the replica has replayed everything the primary committed so far (replication lag).

    A marker row is committed on the primary and looked for on the replica: commits replay in
    order, so once it is there, so is everything before it. (Comparing WAL positions instead,
    an idle primary's insert position can sit past the replica's last replayed record until the
    next background record, seconds later.)
    """
    with psycopg.connect(cluster.primary, autocommit=True) as conn:
        row = conn.execute("INSERT INTO private.marks DEFAULT VALUES RETURNING n").fetchone()
    assert row is not None
    deadline = time.monotonic() + seconds
    while True:
        try:
            with psycopg.connect(cluster.replica, autocommit=True, connect_timeout=2) as conn:
                done = conn.execute("SELECT max(n) >= %s FROM private.marks", [row[0]]).fetchone()
            if done is not None and done[0]:
                return
        except psycopg.OperationalError:
            pass  # still starting
        assert time.monotonic() < deadline, "the replica did not catch up"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A private primary under .devdb-primary and a fresh streaming replica of it under .devdb-replica."""
    from devtools import devdb, replica

    if not replica.has_basebackup():
        pytest.skip("pg_basebackup is not among the PostgreSQL binaries in use (devtools.devdb bin_dir): no replica")
    if REPLICA_ROOT.exists():  # left by an interrupted run
        devdb.stop(REPLICA_ROOT)
        shutil.rmtree(REPLICA_ROOT)
    primary = devdb.start(PRIMARY_ROOT)
    parts = urlsplit(primary)
    server = Server(parts.hostname or "127.0.0.1", parts.port or 5432, parts.username or "postgres", None)
    try:
        with psycopg.connect(primary, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {DB}")
        load_sql(server, "postgres", FIXTURES / "roles.sql")
        with psycopg.connect(_in_db(primary), autocommit=True) as conn:
            conn.execute(SCHEMA)
        standby = replica.start(PRIMARY_ROOT, REPLICA_ROOT)
        # A query in the way of replay is cancelled at once (by default after 30 s): a recovery conflict.
        # And the replica streams again soon after the primary restarts (by default 5 s later).
        with open(REPLICA_ROOT / "data" / "postgresql.auto.conf", "a") as f:
            f.write("max_standby_streaming_delay = '100ms'\nwal_retrieve_retry_interval = '200ms'\n")
        with psycopg.connect(standby, autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")
        found = Cluster(_in_db(primary), _in_db(standby), _port(primary), _port(standby))
        wait_replayed(found)
        yield found
    finally:
        devdb.stop(REPLICA_ROOT)
        shutil.rmtree(REPLICA_ROOT, ignore_errors=True)
        if not os.environ.get("PGWSGI_KEEP_DEVDB"):
            devdb.stop(PRIMARY_ROOT)


def _answer(result: HttpResult) -> object:
    status, _, body = result
    assert status in (200, 201), (status, body)
    return json.loads(body)


def _metric(text: str, name: str, labels: str = "") -> float | None:
    found = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.M)
    return float(found.group(1)) if found else None


def test_reads_go_to_the_replica_and_everything_else_to_the_primary(gunicorn, cluster: Cluster) -> None:  # noqa: ANN001
    primary, replica = cluster.primary_port, cluster.replica_port
    admin_port = free_port()
    base = gunicorn(cluster.env(PGRST_ADMIN_SERVER_PORT=str(admin_port)), workers=2, conf=CONF)
    on_replica = on_primary = 0

    # Reads of a view, and GET/HEAD calls of a STABLE function: the replica.
    for _ in range(6):
        assert _answer(fetch(f"{base}/whoami")) == [{"port": replica}]
        assert _answer(fetch(f"{base}/rpc/port_stable")) == replica
    status, headers, body = fetch(f"{base}/whoami", method="HEAD")
    assert (status, body, headers.get("Preference-Applied")) == (200, b"", None)
    assert fetch(f"{base}/rpc/port_stable", method="HEAD")[0] == 200
    on_replica += 6 * 2 + 2

    # Calls that are VOLATILE, SERIALIZABLE (a hot standby refuses it), or by POST: the primary.
    assert _answer(fetch(f"{base}/rpc/port_volatile")) == primary
    assert _answer(fetch(f"{base}/rpc/port_serializable")) == primary
    assert _answer(send(f"{base}/rpc/port_stable", "POST", {}, {})) == primary
    on_primary += 3

    # Writes: the trigger stamps the port of the server that wrote (a replica could not write at all).
    rep = {"Prefer": "return=representation"}
    status, headers, body = send(f"{base}/items", "POST", rep, {"id": 1, "name": "a"})
    assert (status, json.loads(body)) == (201, [{"id": 1, "name": "a", "port": primary}])
    assert headers["Preference-Applied"] == "return=representation"
    assert _answer(send(f"{base}/items?id=eq.1", "PATCH", rep, {"name": "b"})) == [
        {"id": 1, "name": "b", "port": primary}
    ]
    assert _answer(send(f"{base}/rpc/add_item", "POST", {}, {"id": 2, "name": "c"})) == primary
    on_primary += 3

    # Read-your-writes: Prefer: read=primary, accepted under handling=strict and echoed.
    answer = fetch(f"{base}/items?order=id", {"Prefer": "read=primary"})
    assert _answer(answer) == [{"id": 1, "name": "b", "port": primary}, {"id": 2, "name": "c", "port": primary}]
    assert answer[1]["Preference-Applied"] == "read=primary"
    answer = fetch(f"{base}/whoami", {"Prefer": "handling=strict, read=primary"})
    assert (_answer(answer), answer[1]["Preference-Applied"]) == ([{"port": primary}], "handling=strict, read=primary")
    answer = fetch(f"{base}/rpc/port_stable", {"Prefer": "read=primary"})
    assert (_answer(answer), answer[1]["Preference-Applied"]) == (primary, "read=primary")
    status, headers, body = send(f"{base}/items?id=eq.2", "DELETE", {"Prefer": "return=representation, read=primary"})
    assert (status, json.loads(body)) == (200, [{"id": 2, "name": "c", "port": primary}])
    assert headers["Preference-Applied"] == "return=representation, read=primary"
    on_primary += 4

    # Once replayed, the replica serves the rows the primary wrote.
    wait_replayed(cluster)
    assert _answer(fetch(f"{base}/items?select=id,name")) == [{"id": 1, "name": "b"}]
    on_replica += 1
    # The root (OpenAPI) reads the primary.
    assert fetch(f"{base}/")[0] == 200
    on_primary += 1

    # /metrics: the replica's pool next to the primary's (PostgREST's names, unchanged), added up by the master.
    admin = f"http://127.0.0.1:{admin_port}"
    replica_labels = f'{{replica="{cluster.label}"}}'

    def settled() -> bool:
        text = fetch(f"{admin}/metrics")[2].decode()
        return (
            _metric(text, "pgwsgi_db_transactions_total", f'{{pool="{cluster.label}"}}') == on_replica
            and _metric(text, "pgwsgi_db_transactions_total", '{pool="primary"}') == on_primary
            and _metric(text, "pgwsgi_db_replica_max", replica_labels) == 4
        )

    assert eventually(settled, seconds=20)
    text = fetch(f"{admin}/metrics")[2].decode()
    assert _metric(text, "pgrst_db_pool_max") == 4
    assert _metric(text, "pgwsgi_db_replica_healthy", replica_labels) == 1
    assert _metric(text, "pgwsgi_db_replica_failures_total", replica_labels) == 0
    assert _metric(text, "pgwsgi_db_replica_fallbacks_total") == 0
    assert (_metric(text, "pgwsgi_db_replica_available", replica_labels) or 0) >= 1


def test_without_replicas_the_prefer_token_is_accepted_and_ignored(gunicorn, cluster: Cluster) -> None:  # noqa: ANN001
    base = gunicorn(cluster.env(replicas=False), workers=1)
    status, headers, body = fetch(f"{base}/whoami", {"Prefer": "handling=strict, read=primary"})
    assert (status, json.loads(body), headers["Preference-Applied"]) == (
        200,
        [{"port": cluster.primary_port}],
        "handling=strict",
    )
    assert _answer(fetch(f"{base}/rpc/port_stable")) == cluster.primary_port


def _read_started_on_replica(cluster: Cluster) -> bool:
    with psycopg.connect(cluster.replica, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'").fetchone()
    return row is not None and row[0] > 0


def test_a_stopped_replica_falls_back_to_the_primary_and_comes_back(gunicorn, cluster: Cluster) -> None:  # noqa: ANN001
    from devtools import devdb

    primary, replica = cluster.primary_port, cluster.replica_port
    admin_port = free_port()
    base = gunicorn(cluster.env(PGRST_ADMIN_SERVER_PORT=str(admin_port)), workers=2, conf=CONF)
    admin = f"http://127.0.0.1:{admin_port}"
    replica_labels = f'{{replica="{cluster.label}"}}'
    for _ in range(10):  # both workers have pooled replica connections
        assert _answer(fetch(f"{base}/whoami")) == [{"port": replica}]

    # The replica stops during a read: the read runs again on the primary; the client only sees it take longer.
    slow: list[HttpResult] = []
    thread = threading.Thread(target=lambda: slow.append(fetch(f"{base}/rpc/slow_port?seconds=1.5")))
    thread.start()
    assert eventually(lambda: _read_started_on_replica(cluster), seconds=5)
    devdb.stop(REPLICA_ROOT)
    thread.join(timeout=15)
    assert _answer(slow[0]) == primary

    # Stopped: every read is answered by the primary, none waits long.
    for _ in range(20):
        started = time.monotonic()
        assert _answer(fetch(f"{base}/whoami")) == [{"port": primary}]
        assert time.monotonic() - started < 1.5

    def unhealthy() -> bool:
        text = fetch(f"{admin}/metrics")[2].decode()
        return _metric(text, "pgwsgi_db_replica_healthy", replica_labels) == 0

    def counted() -> bool:
        text = fetch(f"{admin}/metrics")[2].decode()
        # Every read since the stop: the slow one, run again, and the 20 that found no healthy replica
        # (or, the first of the other worker, found it failed and ran again).
        return _metric(text, "pgwsgi_db_replica_fallbacks_total") == 21

    assert eventually(unhealthy, seconds=20)
    assert eventually(counted, seconds=20)
    text = fetch(f"{admin}/metrics")[2].decode()
    assert (_metric(text, "pgwsgi_db_replica_failures_total", replica_labels) or 0) >= 1

    # Back: each worker's next health check (one per back-off period) finds it, and reads return to it.
    devdb.start(REPLICA_ROOT)
    wait_replayed(cluster)
    back = time.monotonic()
    in_a_row = 0
    while in_a_row < 20:
        port = _answer(fetch(f"{base}/whoami"))
        assert port in ([{"port": primary}], [{"port": replica}])
        in_a_row = in_a_row + 1 if port == [{"port": replica}] else 0
        assert time.monotonic() - back < BACKOFF_SECONDS + 3.0, "reads did not return to the replica"
        time.sleep(0.02)

    def healthy() -> bool:
        text = fetch(f"{admin}/metrics")[2].decode()
        return _metric(text, "pgwsgi_db_replica_healthy", replica_labels) == 1

    assert eventually(healthy, seconds=20)


def test_a_read_cancelled_by_a_recovery_conflict_runs_again_on_the_primary(gunicorn, cluster: Cluster) -> None:  # noqa: ANN001
    primary, replica = cluster.primary_port, cluster.replica_port
    base = gunicorn(cluster.env(), workers=1)
    assert _answer(fetch(f"{base}/whoami")) == [{"port": replica}]
    slow: list[HttpResult] = []
    thread = threading.Thread(target=lambda: slow.append(fetch(f"{base}/rpc/slow_port_items?seconds=1.5")))
    thread.start()
    assert eventually(lambda: _read_started_on_replica(cluster), seconds=5)
    # Replaying this lock conflicts with the read's lock on api.items: the replica cancels the read (40001).
    with psycopg.connect(cluster.primary) as conn:
        conn.execute("LOCK TABLE api.items IN ACCESS EXCLUSIVE MODE")
    thread.join(timeout=15)
    assert _answer(slow[0]) == primary
    # The replica itself is fine: it is not skipped.
    assert _answer(fetch(f"{base}/whoami")) == [{"port": replica}]


def test_reads_the_replica_serves_go_on_while_the_primary_is_down(gunicorn, cluster: Cluster) -> None:  # noqa: ANN001
    from devtools import devdb

    base = gunicorn(cluster.env(), workers=1)
    assert _answer(fetch(f"{base}/whoami")) == [{"port": cluster.replica_port}]
    devdb.stop(PRIMARY_ROOT)
    try:
        for _ in range(5):
            assert _answer(fetch(f"{base}/whoami")) == [{"port": cluster.replica_port}]
        # What needs the primary gets PostgREST's 503, as without replicas.
        status, headers, body = fetch(f"{base}/rpc/port_volatile")
        assert (status, headers["Content-Type"]) == (503, "application/json; charset=utf-8")
        assert json.loads(body)["code"] in ("PGRST000", "PGRST001")
    finally:
        devdb.start(PRIMARY_ROOT)
    wait_replayed(cluster)
