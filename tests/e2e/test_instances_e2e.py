"""Several gunicorn instances on one database, alone and behind the shipped nginx site.

Each instance is a real gunicorn with deploy/gunicorn.conf.py. To tell its
workers apart without changing pgwsgi, the access log (gunicorn's stdout, which
the `gunicorn` fixture writes to a file) is given the worker's pid as its first
field through GUNICORN_CMD_ARGS, which gunicorn reads after the config file;
log-level is info so that every response is logged. A worker's pids are read
from /proc (the master's children). Each instance's admin server counts the
schema cache loads of its workers (pgrst_schema_cache_loads_total), so "every
worker reloaded once" is a number, not a guess.

The nginx tests run the shipped site (deploy/nginx/pgwsgi.conf) with its
upstream's commented second server line in use, in front of two instances, and
stop or crash one of them (SIGTERM, SIGKILL) with a request in flight; which
instance runs that request is read from pg_stat_activity, where each
instance's connections carry its name (application_name in db-uri).

The database is the module's own (a schema `api`), so that the in-database
setting of the 'reload config' test touches no other test.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from devtools import nginx
from tests.conftest import AUTHENTICATOR, ROOT, Server, own_database
from tests.e2e.conftest import HttpResult, eventually, fetch, free_port, send, server_env

CONF = ROOT / "deploy" / "gunicorn.conf.py"
pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="needs Linux's /proc to find gunicorn's workers and their output"
)
needs_nginx = pytest.mark.skipif(
    nginx.BINARY is None, reason="nginx is not installed (Debian: apt install nginx, which `make test` does as root)"
)

# gunicorn's %(p)s is "<pid>"; the rest says which request it was.
LOG_FORMAT = "pid=%(p)s %(s)s %(m)s %(U)s"
LOG_LINE = re.compile(r"^pid=<(\d+)> (\d{3}) ([A-Z]+) (\S+)$", re.MULTILINE)
# The second server line of the shipped upstream, commented out there.
SECOND_SERVER = "# server 127.0.0.1:3002 max_fails=1 fail_timeout=10s;"

SCHEMA = """
DROP SCHEMA IF EXISTS api CASCADE;
CREATE SCHEMA api;
GRANT USAGE ON SCHEMA api TO pgwsgi_anon;
CREATE TABLE api.items (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO api.items VALUES (1, 'one'), (2, 'two'), (3, 'three');
GRANT SELECT ON api.items TO pgwsgi_anon;
CREATE TABLE api.notes (id serial PRIMARY KEY, body text NOT NULL);
GRANT SELECT, INSERT ON api.notes TO pgwsgi_anon;
GRANT USAGE ON SEQUENCE api.notes_id_seq TO pgwsgi_anon;
-- Requests that stay in flight long enough to stop their instance under them.
CREATE FUNCTION api.slow_read(s float8) RETURNS text LANGUAGE sql STABLE
  AS $$ SELECT 'slept ' || pg_sleep(s)::text $$;
CREATE FUNCTION api.slow_write(s float8, body text) RETURNS void LANGUAGE sql
  AS $$ INSERT INTO api.notes (body) VALUES (body); SELECT pg_sleep(s) $$;
GRANT EXECUTE ON FUNCTION api.slow_read(float8), api.slow_write(float8, text) TO pgwsgi_anon;
"""
# Bodies byte for byte, as PostgreSQL's json_agg writes them (PostgREST's too).
ITEMS = b'[{"id":1,"name":"one"}, \n {"id":2,"name":"two"}, \n {"id":3,"name":"three"}]'
FIRST_ITEM = b'[{"id":1,"name":"one"}]'
NOT_FOUND = {
    "code": "PGRST205",
    "details": None,
    "hint": None,
    "message": "Could not find the table 'api.fresh' in the schema cache",
}


@pytest.fixture(scope="module")
def instances_db(pg_server: Server) -> Iterator[str]:
    """The module's database, with the schema above."""
    with own_database(pg_server, "pgwsgi_instances") as name:
        with psycopg.connect(pg_server.dsn(name), autocommit=True) as conn:
            conn.execute(SCHEMA)
        yield name


@dataclass(frozen=True)
class Instance:
    """One gunicorn instance: its URL, master, access log, admin URL and application_name."""

    base: str
    master: subprocess.Popen[bytes]
    log: Path
    admin: str
    name: str

    def workers(self) -> set[int]:
        """The pids of the master's children: its workers."""
        return worker_pids(self.master.pid)

    def logged(self, since: int, path: str | None = None) -> list[tuple[int, int, str, str]]:
        """(pid, status, method, path) of each access log line after byte SINCE (for PATH only, if given)."""
        text = self.log.read_bytes()[since:].decode(errors="replace")
        lines = [(int(p), int(s), m, u) for p, s, m, u in LOG_LINE.findall(text)]
        return [line for line in lines if path is None or line[3] == path]

    def mark(self) -> int:
        """Where the access log ends now (for `logged`)."""
        return self.log.stat().st_size


def worker_pids(master: int) -> set[int]:
    """The children of process MASTER, read from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The fields after the command name, which may hold spaces and parentheses: state, ppid, ...
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            found.add(int(entry.name))
    return found


def start_instance(
    gunicorn,  # noqa: ANN001
    tmp_path: Path,
    server: Server,
    db: str,
    name: str,
    workers: int = 2,
    admin: bool = True,
) -> Instance:
    """A gunicorn instance with deploy/gunicorn.conf.py on DB, its connections named NAME in pg_stat_activity."""
    admin_port = free_port()
    env = server_env(
        server,
        db,
        PGRST_DB_URI=f"{server.dsn(db, AUTHENTICATOR)}?application_name={name}",
        PGRST_DB_SCHEMAS="api",
        PGRST_LOG_LEVEL="info",
        GUNICORN_CMD_ARGS=f"--access-logformat '{LOG_FORMAT}'",
        **({"PGRST_ADMIN_SERVER_PORT": str(admin_port)} if admin else {}),
    )
    base = gunicorn(env, workers=workers, conf=CONF)
    port = base.rsplit(":", 1)[1]
    # Where the `gunicorn` fixture sends the master's output, access log included.
    log = tmp_path / f"gunicorn-{port}.log"
    instance = Instance(base, gunicorn.processes[-1], log, f"http://127.0.0.1:{admin_port}", name)
    assert eventually(lambda: len(instance.workers()) == workers), "the workers did not start"
    return instance


def every_worker_answers(
    instance: Instance, path: str, pids: set[int], seconds: float = 15.0
) -> tuple[dict[int, set[int]], set[tuple[int, bytes]]]:
    """GET PATH, four at a time with `Connection: close`, until each worker in PIDS has answered it once.

    Returns the statuses each worker logged for PATH, and the distinct (status, body)
    pairs the clients got. Concurrency is what makes every worker take some: while
    one is busy, the next connection goes to another.
    """
    since = instance.mark()
    url = f"{instance.base}{path}"
    answers: set[tuple[int, bytes]] = set()
    deadline = time.monotonic() + seconds
    with ThreadPoolExecutor(4) as pool:
        while True:
            for status, _, body in pool.map(lambda _: fetch(url, {"Connection": "close"}), range(4)):
                answers.add((status, body))
            by_pid: dict[int, set[int]] = {}
            for pid, status, _, _ in instance.logged(since, path.split("?", 1)[0]):
                by_pid.setdefault(pid, set()).add(status)
            if set(by_pid) >= pids or time.monotonic() > deadline:
                return by_pid, answers


def schema_loads(instance: Instance) -> int:
    """The successful schema cache loads of the instance's workers, added up by its admin server."""
    status, _, body = fetch(f"{instance.admin}/metrics")
    assert status == 200
    found = re.search(r'^pgrst_schema_cache_loads_total\{status="SUCCESS"\} (\S+)$', body.decode(), re.MULTILINE)
    return int(float(found.group(1))) if found else 0


def backends(server: Server, db: str, listening: bool = False) -> dict[str, int]:
    """application_name -> the instances' backends on DB (LISTENING: only those idle after `LISTEN "pgrst"`)."""
    with psycopg.connect(server.dsn(db)) as conn:
        rows = conn.execute(
            """SELECT application_name, count(*)::int FROM pg_stat_activity
               WHERE datname = %s AND application_name LIKE 'pgwsgi-_'
                 AND (query = 'LISTEN "pgrst"' OR NOT %s) GROUP BY 1""",
            [db, listening],
        ).fetchall()
    return dict(rows)


def test_reload_schema_reaches_every_worker_of_every_instance(
    gunicorn,  # noqa: ANN001
    tmp_path: Path,
    pg_server: Server,
    instances_db: str,
) -> None:
    a = start_instance(gunicorn, tmp_path, pg_server, instances_db, "pgwsgi-a")
    b = start_instance(gunicorn, tmp_path, pg_server, instances_db, "pgwsgi-b")
    pids = {a: a.workers(), b: b.workers()}
    items = (200, ITEMS)
    for inst in (a, b):
        # Every worker has booted, loaded its schema cache once and serves.
        by_pid, answers = every_worker_answers(inst, "/items?order=id", pids[inst])
        assert (by_pid, answers) == ({pid: {200} for pid in pids[inst]}, {items})
        assert eventually(lambda inst=inst: schema_loads(inst) == 2)
    # Each worker listens on a connection of its own, beside its pool's one (a sync worker
    # uses one): workers x (1 + 1) connections per instance.
    assert backends(pg_server, instances_db, listening=True) == {"pgwsgi-a": 2, "pgwsgi-b": 2}
    assert eventually(lambda: backends(pg_server, instances_db) == {"pgwsgi-a": 4, "pgwsgi-b": 4})

    with psycopg.connect(pg_server.dsn(instances_db), autocommit=True) as conn:
        conn.execute(
            "DROP TABLE IF EXISTS api.fresh; CREATE TABLE api.fresh (id int); INSERT INTO api.fresh VALUES (7)"
        )
        conn.execute("GRANT SELECT ON api.fresh TO pgwsgi_anon")
        # Before the NOTIFY no worker of either instance knows the table.
        for inst in (a, b):
            by_pid, answers = every_worker_answers(inst, "/fresh", pids[inst])
            assert by_pid == {pid: {404} for pid in pids[inst]}
            assert [(s, json.loads(body)) for s, body in answers] == [(404, NOT_FOUND)]

        conn.execute("NOTIFY pgrst, 'reload schema'")
        # One more load per worker: two per instance.
        for inst in (a, b):
            assert eventually(lambda inst=inst: schema_loads(inst) == 4), f"{inst.name}: {schema_loads(inst)} loads"
        for inst in (a, b):
            by_pid, answers = every_worker_answers(inst, "/fresh", pids[inst])
            assert (by_pid, answers) == ({pid: {200} for pid in pids[inst]}, {(200, b'[{"id":7}]')})
            # The same workers: a reload, not a restart.
            assert inst.workers() == pids[inst]


def test_reload_config_reaches_every_instance(
    gunicorn,  # noqa: ANN001
    tmp_path: Path,
    pg_server: Server,
    instances_db: str,
) -> None:
    a = start_instance(gunicorn, tmp_path, pg_server, instances_db, "pgwsgi-a", admin=False)
    b = start_instance(gunicorn, tmp_path, pg_server, instances_db, "pgwsgi-b", admin=False)
    before = {a: a.workers(), b: b.workers()}
    items = (200, ITEMS)
    for inst in (a, b):
        assert every_worker_answers(inst, "/items?order=id", before[inst])[1] == {items}
    setting = f"ALTER ROLE {AUTHENTICATOR} IN DATABASE {instances_db} SET pgrst.db_max_rows = '1'"
    marks = {a: a.mark(), b: b.mark()}

    def reloaded(inst: Instance) -> bool:
        """Both workers replaced, every new one answering with db-max-rows = 1, none replaced meanwhile."""
        now = inst.workers()
        if len(now) != 2 or now & before[inst]:
            return False
        by_pid, answers = every_worker_answers(inst, "/items?order=id", now, seconds=5)
        return (by_pid, answers) == ({pid: {200} for pid in now}, {(200, FIRST_ITEM)}) and inst.workers() == now

    with psycopg.connect(pg_server.dsn(instances_db), autocommit=True) as conn:
        try:
            conn.execute(setting)
            conn.execute("NOTIFY pgrst, 'reload config'")
            for inst in (a, b):
                # Every worker hears it and asks its own master for SIGUSR2, a graceful reload.
                assert eventually(lambda inst=inst: reloaded(inst), 30), f"{inst.name}: workers {inst.workers()}"
                text = inst.log.read_bytes()[marks[inst] :].decode(errors="replace")
                # At least once per instance; the master's debounce (0.3 s, counted from the end of
                # a reload too) folds the workers' requests, unless a busy worker heard it late.
                assert 1 <= text.count("Reloading the configuration (SIGUSR2)") <= 2
        finally:
            conn.execute(f"ALTER ROLE {AUTHENTICATOR} IN DATABASE {instances_db} RESET pgrst.db_max_rows")


@dataclass(frozen=True)
class Proxy:
    """nginx with the shipped site in front of two instances."""

    base: str
    error_log: Path
    a: Instance
    b: Instance


@pytest.fixture
def proxy(gunicorn, pg_server: Server, instances_db: str, tmp_path: Path) -> Iterator[Proxy]:  # noqa: ANN001
    """The shipped site, its upstream's second server line uncommented, in front of instances a and b."""
    a = start_instance(gunicorn, tmp_path, pg_server, instances_db, "pgwsgi-a", workers=1, admin=False)
    b = start_instance(gunicorn, tmp_path, pg_server, instances_db, "pgwsgi-b", workers=1, admin=False)
    for inst in (a, b):
        assert eventually(lambda inst=inst: fetch(f"{inst.base}/items?id=eq.1")[0] == 200)
    assert SECOND_SERVER in nginx.SITE.read_text()  # the form docs/scaling.md tells operators to uncomment
    upstreams = [a.base.removeprefix("http://"), f"{b.base.removeprefix('http://')} max_fails=1 fail_timeout=10s"]
    with nginx.running(tmp_path, upstreams) as (base, _):
        yield Proxy(base, tmp_path / "logs" / "pgwsgi.error.log", a, b)


def kill_instance(inst: Instance) -> None:
    """SIGKILL the master and its workers at once: a crash, not a stop (nothing is finished)."""
    for pid in {inst.master.pid, *inst.workers()}:
        os.kill(pid, signal.SIGKILL)
    inst.master.wait(timeout=10)
    # A killed master leaves its control socket behind (admin/hooks.py on_starting).
    port = inst.base.rsplit(":", 1)[1]
    Path(tempfile.gettempdir(), f"pgwsgi-127-0-0-1-{port}.ctl").unlink(missing_ok=True)


def serving(server: Server, db: str, function: str) -> str | None:
    """The application_name (the instance) whose backend is running FUNCTION now, if any."""
    with psycopg.connect(server.dsn(db)) as conn:
        row = conn.execute(
            "SELECT application_name FROM pg_stat_activity WHERE datname = %s AND state = 'active' "
            "AND query LIKE %s AND pid <> pg_backend_pid()",
            [db, f'%"{function}"%'],
        ).fetchone()
    return row[0] if row else None


@needs_nginx
def test_nginx_spreads_requests_and_passes_them_on_when_an_instance_stops(proxy: Proxy) -> None:
    a, b = proxy.a, proxy.b
    one = (200, FIRST_ITEM)
    marks = {a: a.mark(), b: b.mark()}
    answers = [fetch(f"{proxy.base}/items?id=eq.1") for _ in range(20)]
    assert {(s, body) for s, _, body in answers} == {one}
    # Round robin: exactly half each. (gunicorn writes the line just after the answer: wait for it.)
    assert eventually(lambda: [len(inst.logged(marks[inst], "/items")) for inst in (a, b)] == [10, 10], 5)

    stop_instance(b)
    marks = {a: a.mark(), b: b.mark()}
    # Two POSTs in a row: round robin sends one of them to b, which refuses the connection,
    # so it was never sent and nginx passes it on to a, POST or not.
    posts = [
        send(f"{proxy.base}/notes", "POST", {"Prefer": "return=representation"}, {"body": f"after stop {i}"})
        for i in range(2)
    ]
    assert [(s, [r["body"] for r in json.loads(body)]) for s, _, body in posts] == [
        (201, ["after stop 0"]),
        (201, ["after stop 1"]),
    ]
    answers = [fetch(f"{proxy.base}/items?id=eq.1") for _ in range(20)]
    assert {(s, body) for s, _, body in answers} == {one}
    assert eventually(lambda: (len(a.logged(marks[a], "/notes")), len(a.logged(marks[a], "/items"))) == (2, 20), 5)
    refused = [ln for ln in proxy.error_log.read_text().splitlines() if "(111: Connection refused)" in ln]
    assert len(refused) == 1 and 'request: "POST /notes HTTP/1.1"' in refused[0], refused


def stop_instance(inst: Instance) -> None:
    """SIGTERM to the master: gunicorn's graceful stop (what `systemctl stop` sends)."""
    inst.master.terminate()
    inst.master.wait(timeout=15)


def _in_flight(
    proxy: Proxy,
    server: Server,
    db: str,
    function: str,
    request: Callable[[], HttpResult],
    end: Callable[[Instance], None] = kill_instance,
) -> tuple[HttpResult, Instance, Instance, Callable[[], list[tuple[int, int, str, str]]]]:
    """Send REQUEST through nginx and END (crash, by default) the instance that runs FUNCTION for it meanwhile.

    Returns the answer, the ended instance, the other one, and what the other has logged since.
    """
    result: list[HttpResult] = []
    thread = threading.Thread(target=lambda: result.append(request()))
    since = {inst: inst.mark() for inst in (proxy.a, proxy.b)}
    thread.start()
    running: list[str] = []

    def started() -> bool:
        running[:] = [serving(server, db, function) or ""]
        return bool(running[0])

    assert eventually(started, 5), f"{function} never ran"
    ended, other = (proxy.a, proxy.b) if running[0] == proxy.a.name else (proxy.b, proxy.a)
    end(ended)
    thread.join(timeout=15)
    return result[0], ended, other, lambda: other.logged(since[other])


@needs_nginx
def test_a_get_in_flight_on_a_crashed_instance_is_answered_by_the_other(
    proxy: Proxy, pg_server: Server, instances_db: str
) -> None:
    answer, _, other, logged = _in_flight(
        proxy, pg_server, instances_db, "slow_read", lambda: fetch(f"{proxy.base}/rpc/slow_read?s=1")
    )
    # The connection closed before any response header: nginx ran the GET again on the other instance.
    assert (answer[0], json.loads(answer[2])) == (200, "slept ")
    assert eventually(lambda: [(s, m, u) for _, s, m, u in logged()] == [(200, "GET", "/rpc/slow_read")], 5)
    assert other.master.poll() is None


@needs_nginx
def test_a_post_in_flight_on_a_crashed_instance_is_not_passed_on(
    proxy: Proxy, pg_server: Server, instances_db: str
) -> None:
    body = f"in flight {time.time_ns()}"
    answer, crashed, other, logged = _in_flight(
        proxy,
        pg_server,
        instances_db,
        "slow_write",
        lambda: send(f"{proxy.base}/rpc/slow_write", "POST", {}, {"s": 1, "body": body}),
    )
    status, headers, raw = answer
    assert (status, headers["Content-Type"], json.loads(raw)) == (
        502,
        "application/json",
        {
            "code": "NGINX502",
            "details": "The proxy could not reach the API server.",
            "hint": None,
            "message": "Bad gateway",
        },
    )
    # Not sent again: the other instance never saw it.
    assert logged() == []
    assert other.master.poll() is None and crashed.master.poll() is not None
    # The client cannot tell whether it happened: the worker had sent the whole transaction,
    # COMMIT included, in one round trip before it died, so PostgreSQL finishes it.
    assert eventually(lambda: serving(pg_server, instances_db, "slow_write") is None, 5)
    with psycopg.connect(pg_server.dsn(instances_db)) as conn:
        assert conn.execute("SELECT count(*)::int FROM api.notes WHERE body = %s", [body]).fetchone() == (1,)


@needs_nginx
def test_a_post_in_flight_on_a_stopped_instance_completes(proxy: Proxy, pg_server: Server, instances_db: str) -> None:
    body = f"stopped under it {time.time_ns()}"
    answer, stopped, other, logged = _in_flight(
        proxy,
        pg_server,
        instances_db,
        "slow_write",
        lambda: send(f"{proxy.base}/rpc/slow_write", "POST", {}, {"s": 1, "body": body}),
        stop_instance,
    )
    # gunicorn's graceful stop lets the worker finish it (within graceful_timeout) before exiting.
    assert (answer[0], answer[2]) == (204, b"")
    assert logged() == [] and stopped.master.returncode == 0
    with psycopg.connect(pg_server.dsn(instances_db)) as conn:
        assert conn.execute("SELECT count(*)::int FROM api.notes WHERE body = %s", [body]).fetchone() == (1,)
