"""pgwsgi behind a real PgBouncer in transaction mode, through real gunicorn processes.

A private pgbouncer (devtools/pgbouncer.py: its own config, port and socket
folder, pool_mode = transaction, two server connections) stands in front of the
test server. One gunicorn reaches the database through it, with
db-prepared-statements = false and db-channel-uri going to the server directly;
another gunicorn connects directly. Both serve tests/fixtures/pgbouncer.sql:
row-level security by role and claims, writes whose owner comes from the
claims, functions, and a db-pre-request hook that names the transaction's role
and subject in response headers.

pgbouncer comes from Debian's package, which `make` installs when it runs as
root; elsewhere these tests skip, saying so.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from devtools import pgbouncer
from tests.conftest import AUTHENTICATOR, FIXTURES, SECRET, Server, bearer, own_database
from tests.e2e.conftest import HttpResult, fetch, send

PGBOUNCER = pgbouncer.binary()
POOL_SIZE = 2

pytestmark = pytest.mark.skipif(
    PGBOUNCER is None,
    reason="pgbouncer is not installed (Debian: apt install pgbouncer, which `make test` does as root)",
)

ALICE = bearer(role="pgwsgi_user", sub="alice")
BOB = bearer(role="pgwsgi_user", sub="bob")
ADMIN = bearer(role="pgwsgi_admin", sub="root")
ANON: dict[str, str] = {}
JSON = "application/json; charset=utf-8"
REPRESENTATION = {"Prefer": "return=representation"}


@pytest.fixture(scope="module")
def bouncer_db(pg_server: Server) -> Iterator[str]:
    """The database of tests/fixtures/pgbouncer.sql, of this module's own."""
    with own_database(pg_server, "pgwsgi_bouncer", FIXTURES / "pgbouncer.sql") as name:
        yield name


@pytest.fixture(scope="module")
def bouncer(pg_server: Server) -> Iterator[pgbouncer.Bouncer]:
    """A pgbouncer in transaction mode in front of the test server, admitting the authenticator."""
    assert PGBOUNCER is not None
    running = pgbouncer.start(pg_server.host, pg_server.port, [AUTHENTICATOR], pool_size=POOL_SIZE, exe=PGBOUNCER)
    try:
        yield running
    finally:
        running.stop()


def _env(uri: str, **overrides: str) -> dict[str, str]:
    """The PGRST_* environment of a server on URI, with OVERRIDES."""
    env = {
        "PGRST_DB_URI": uri,
        "PGRST_DB_SCHEMAS": "api",
        "PGRST_DB_ANON_ROLE": "pgwsgi_anon",
        "PGRST_DB_PRE_REQUEST": "api.pre_request",
        "PGRST_JWT_SECRET": SECRET,
        "PGRST_DB_POOL": "2",
        "PGRST_LOG_LEVEL": "info",
    }
    return {**env, **overrides}


def bouncer_env(pg_server: Server, db: str, bouncer: pgbouncer.Bouncer, **overrides: str) -> dict[str, str]:
    """A server reaching DB through BOUNCER, listening for reloads on the server directly."""
    through = {
        "PGRST_DB_PREPARED_STATEMENTS": "false",
        "PGRST_DB_CHANNEL_URI": pg_server.dsn(db, AUTHENTICATOR),
    }
    return _env(bouncer.dsn(db, AUTHENTICATOR), **{**through, **overrides})


def direct_env(pg_server: Server, db: str) -> dict[str, str]:
    """A server connected to DB directly, with prepared statements (the default)."""
    return _env(pg_server.dsn(db, AUTHENTICATOR))


def _log(tmp_path: Path, base: str) -> str:
    """What the gunicorn of BASE logged (the `gunicorn` fixture's file)."""
    return (tmp_path / f"gunicorn-{base.rsplit(':', 1)[1]}.log").read_text(errors="replace")


def _serving(base: str, path: str = "/notes?select=id") -> None:
    """Wait until BASE answers 200 (every worker has loaded its schema cache by then, or soon will)."""
    deadline = time.monotonic() + 15
    while fetch(base + path)[0] != 200:
        assert time.monotonic() < deadline, fetch(base + path)
        time.sleep(0.1)


# (method, path, headers, body): a conversation covering reads under RLS, writes with
# return=representation, calls, the pre-request hook's headers and its refusal, and the
# singular media type (whose row is checked before COMMIT, in a second round trip).
CONVERSATION: list[tuple[str, str, dict[str, str], Any]] = [
    ("GET", "/notes?order=id", ANON, None),
    ("GET", "/notes?select=id,body&order=id", ALICE, None),
    ("GET", "/notes?select=id&order=id", {**BOB, "Prefer": "count=exact"}, None),
    ("GET", "/notes?select=id,owner&order=id.desc", ADMIN, None),
    ("GET", "/notes?id=eq.2", {**ALICE, "Accept": "application/vnd.pgrst.object+json"}, None),
    ("GET", "/notes?id=eq.2", {"Accept": "application/vnd.pgrst.object+json"}, None),
    ("POST", "/drafts", {**ALICE, **REPRESENTATION}, {"id": 900, "body": "first"}),
    ("PATCH", "/drafts?id=eq.900", {**ALICE, **REPRESENTATION}, {"body": "second"}),
    ("PATCH", "/drafts?id=eq.900", {**BOB, **REPRESENTATION}, {"body": "stolen"}),
    ("GET", "/drafts", BOB, None),
    ("DELETE", "/drafts?id=eq.900", {**ALICE, **REPRESENTATION}, None),
    ("GET", "/drafts", ALICE, None),
    ("POST", "/drafts", REPRESENTATION, {"id": 901, "body": "anonymous"}),
    ("GET", "/rpc/greet?name=you", ANON, None),
    ("POST", "/rpc/greet", BOB, {"name": "me"}),
    ("GET", "/notes", {**ALICE, "X-Block": "yes"}, None),
]

# What a client sees for each request of CONVERSATION: status and JSON body.
EXPECTED: list[tuple[int, Any]] = [
    (
        200,
        [
            {"id": 1, "owner": "alice", "body": "alice in public", "public": True},
            {"id": 3, "owner": "bob", "body": "bob in public", "public": True},
        ],
    ),
    (200, [{"id": 1, "body": "alice in public"}, {"id": 2, "body": "alice alone"}, {"id": 3, "body": "bob in public"}]),
    (200, [{"id": 1}, {"id": 3}, {"id": 4}]),
    (
        200,
        [
            {"id": 5, "owner": None},
            {"id": 4, "owner": "bob"},
            {"id": 3, "owner": "bob"},
            {"id": 2, "owner": "alice"},
            {"id": 1, "owner": "alice"},
        ],
    ),
    (200, {"id": 2, "owner": "alice", "body": "alice alone", "public": False}),
    (
        406,
        {
            "code": "PGRST116",
            "message": "Cannot coerce the result to a single JSON object",
            "details": "The result contains 0 rows",
            "hint": None,
        },
    ),
    (201, [{"id": 900, "owner": "alice", "body": "first"}]),
    (200, [{"id": 900, "owner": "alice", "body": "second"}]),
    (200, []),
    (200, []),
    (200, [{"id": 900, "owner": "alice", "body": "second"}]),
    (200, []),
    (
        401,
        {"code": "42501", "message": "permission denied for table drafts", "details": None, "hint": None},
    ),
    (200, "hello you, from pgwsgi_anon (nobody)"),
    (200, "hello me, from pgwsgi_user (bob)"),
    (
        403,
        {"code": "PB403", "message": "Blocked by the pre-request hook", "details": None, "hint": "Drop X-Block"},
    ),
]


def _converse(base: str) -> list[HttpResult]:
    out = []
    for method, path, headers, body in CONVERSATION:
        if body is None:
            out.append(fetch(base + path, headers, method))
        else:
            out.append(send(base + path, method, headers, body))
    return out


def _comparable(answer: HttpResult) -> tuple[int, dict[str, str], bytes]:
    status, headers, body = answer
    return status, {k: v for k, v in headers.items() if k != "Date"}, body


def test_the_same_conversation_answers_byte_for_byte_through_pgbouncer(
    gunicorn: Callable[..., str], pg_server: Server, bouncer_db: str, bouncer: pgbouncer.Bouncer, tmp_path: Path
) -> None:
    direct = gunicorn(direct_env(pg_server, bouncer_db), workers=2)
    pooled = gunicorn(bouncer_env(pg_server, bouncer_db, bouncer), workers=3)
    _serving(direct)
    _serving(pooled)

    through_direct = _converse(direct)
    through_bouncer = _converse(pooled)

    assert [(status, json.loads(body)) for status, _, body in through_direct] == EXPECTED
    for n, (a, b) in enumerate(zip(through_direct, through_bouncer, strict=True)):
        assert _comparable(a) == _comparable(b), CONVERSATION[n]
    headers = [h for _, h, _ in through_bouncer]
    assert headers[2]["Content-Range"] == "0-2/3"
    assert (headers[6]["Content-Range"], headers[6]["Preference-Applied"]) == ("*/*", "return=representation")
    # The pre-request hook's headers name the transaction's own role and subject.
    assert [(h.get("X-Tx-Role"), h.get("X-Tx-Sub")) for h in headers[:4]] == [
        ("pgwsgi_anon", "-"),
        ("pgwsgi_user", "alice"),
        ("pgwsgi_user", "bob"),
        ("pgwsgi_admin", "root"),
    ]
    assert headers[-1]["X-Blocked"] == "yes"
    assert headers[-1]["Content-Type"] == JSON
    for log in (_log(tmp_path, pooled), bouncer.log_text()):
        assert "prepared statement" not in log


# Who asks, and what each one must see: (headers, role, subject, the notes it may read). Alice also
# sets the transaction's timezone, which no one else does: a setting left in a server session would show.
ALICE_TZ = "America/New_York"
WHO: list[tuple[dict[str, str], str, str | None, list[int]]] = [
    (ANON, "pgwsgi_anon", None, [1, 3]),
    ({**ALICE, "Prefer": f"timezone={ALICE_TZ}"}, "pgwsgi_user", "alice", [1, 2, 3]),
    (BOB, "pgwsgi_user", "bob", [1, 3, 4]),
    (ADMIN, "pgwsgi_admin", "root", [1, 2, 3, 4, 5]),
]
THREADS = 8
ROUNDS = 150


def _mixed_load(base: str, thread: int, timezone: str, problems: list[str], pids: set[int], checked: list[int]) -> None:
    """ROUNDS requests (a few more: a write is followed by its delete), alternating who asks."""

    def expect(what: str, answer: HttpResult, status: int, body: Any, role: str, sub: str | None) -> None:
        checked.append(1)
        got_status, headers, raw = answer
        try:
            body_got: Any = json.loads(raw)
        except ValueError:
            body_got = raw
        got = (got_status, body_got, headers.get("X-Tx-Role"), headers.get("X-Tx-Sub"))
        if got != (status, body, role, sub or "-"):
            problems.append(f"{what}: {got} != {(status, body, role, sub or '-')}")

    for i in range(ROUNDS):
        headers, role, sub, notes = WHO[(thread + i) % len(WHO)]
        kind = i % 3
        if kind == 0:
            answer = fetch(f"{base}/notes?select=id&order=id", headers)
            expect(f"notes as {role}/{sub}", answer, 200, [{"id": n} for n in notes], role, sub)
        elif kind == 1:
            answer = fetch(f"{base}/rpc/whoami", headers)
            pid = json.loads(answer[2]).get("pid") if answer[0] == 200 else None
            if isinstance(pid, int):
                pids.add(pid)
            tz = ALICE_TZ if sub == "alice" else timezone
            expected = {"role": role, "sub": sub, "method": "GET", "timezone": tz, "pid": pid}
            expect(f"whoami as {role}/{sub}", answer, 200, expected, role, sub)
        elif sub in ("alice", "bob"):
            row = {"id": thread * 1000 + i, "owner": sub, "body": f"thread {thread} round {i}"}
            written = send(
                f"{base}/drafts", "POST", {**headers, **REPRESENTATION}, {"id": row["id"], "body": row["body"]}
            )
            expect(f"insert as {sub}", written, 201, [row], role, sub)
            deleted = fetch(f"{base}/drafts?id=eq.{row['id']}", {**headers, **REPRESENTATION}, "DELETE")
            expect(f"delete as {sub}", deleted, 200, [row], role, sub)
        else:
            # Row 5 is the admin's alone: anyone else reading it through a leaked role would show.
            answer = fetch(f"{base}/notes?select=id&id=eq.5", headers)
            expect(f"note 5 as {role}", answer, 200, [{"id": 5}] if 5 in notes else [], role, sub)


def test_concurrent_roles_and_claims_never_leak_between_shared_server_sessions(
    gunicorn: Callable[..., str], pg_server: Server, bouncer_db: str, bouncer: pgbouncer.Bouncer, tmp_path: Path
) -> None:
    workers = 3
    base = gunicorn(bouncer_env(pg_server, bouncer_db, bouncer), workers=workers)
    _serving(base)
    problems: list[str] = []
    pids: set[int] = set()
    checked: list[int] = []
    with psycopg.connect(pg_server.dsn(bouncer_db, AUTHENTICATOR)) as conn:
        row = conn.execute("SHOW timezone").fetchone()
    timezone = str(row[0]) if row else ""
    assert timezone not in ("", ALICE_TZ)
    load = [(base, t, timezone, problems, pids, checked) for t in range(THREADS)]
    threads = [threading.Thread(target=_mixed_load, args=args) for args in load]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - started

    assert problems == [], f"{len(problems)} wrong answers, e.g. {problems[:5]}"
    writes = sum(
        1
        for t in range(THREADS)
        for i in range(ROUNDS)
        if i % 3 == 2 and WHO[(t + i) % len(WHO)][2] in ("alice", "bob")
    )
    assert len(checked) == THREADS * ROUNDS + writes
    # Every transaction of the three workers' connections ran in one of pgbouncer's two server
    # sessions: each session served many roles and subjects in turn, and none saw another's.
    assert 1 <= len(pids) <= POOL_SIZE < workers, pids
    with psycopg.connect(pg_server.dsn(bouncer_db)) as conn:
        assert conn.execute("SELECT count(*) FROM api.drafts").fetchone() == (0,)
    for log in (_log(tmp_path, base), bouncer.log_text()):
        assert "prepared statement" not in log
        assert "ERROR" not in log
    print(f"{len(checked)} requests from {THREADS} threads through pgbouncer in {took:.1f} s")


def test_reload_schema_reaches_the_pgbouncer_backed_server_through_db_channel_uri(
    gunicorn: Callable[..., str], pg_server: Server, bouncer_db: str, bouncer: pgbouncer.Bouncer
) -> None:
    workers = 3
    base = gunicorn(bouncer_env(pg_server, bouncer_db, bouncer), workers=workers)
    _serving(base)
    status, _, body = fetch(f"{base}/later")
    assert (status, json.loads(body)["code"]) == (404, "PGRST205")

    with psycopg.connect(pg_server.dsn(bouncer_db), autocommit=True) as conn:
        conn.execute("CREATE TABLE api.later (id integer PRIMARY KEY)")
        conn.execute("INSERT INTO api.later VALUES (7)")
        conn.execute("GRANT SELECT ON api.later TO pgwsgi_anon")
        try:
            # On the server itself: the workers LISTEN there (db-channel-uri), not through pgbouncer.
            conn.execute("NOTIFY pgrst, 'reload schema'")
            deadline = time.monotonic() + 10
            in_a_row = 0
            # Every worker has reloaded once 30 answers in a row are 200 (each of 3 workers
            # answers some of them: a fresh connection per request goes to any idle worker).
            while in_a_row < 30:
                status, headers, body = fetch(f"{base}/later")
                in_a_row = in_a_row + 1 if status == 200 else 0
                assert time.monotonic() < deadline, (status, body)
            assert (status, json.loads(body), headers["X-Tx-Role"]) == (200, [{"id": 7}], "pgwsgi_anon")
            # A notification reaching a LISTEN made through pgbouncer would be dropped, and logged so.
            assert "got packet 'A'" not in bouncer.log_text()
        finally:
            conn.execute("DROP TABLE api.later")
            conn.execute("NOTIFY pgrst, 'reload schema'")


def _single_session_bouncer(pg_server: Server, max_prepared: int | None) -> pgbouncer.Bouncer:
    """A pgbouncer with one server session, so that what one client leaves there the next one meets."""
    assert PGBOUNCER is not None
    tracks = pgbouncer.version(PGBOUNCER) >= (1, 21)
    extra = {"max_prepared_statements": str(max_prepared or 0)} if tracks else {}
    return pgbouncer.start(pg_server.host, pg_server.port, [AUTHENTICATOR], pool_size=1, extra=extra, exe=PGBOUNCER)


def test_prepared_statements_collide_in_a_shared_session_before_pgbouncer_1_21(
    gunicorn: Callable[..., str], pg_server: Server, bouncer_db: str, tmp_path: Path
) -> None:
    """db-prepared-statements = true (the default) behind pgbouncer < 1.21 in transaction mode breaks.

    Named statements live in the server session, and every client names its own
    from the same counter. With one server session this is deterministic: the
    first instance loads its schema cache (psycopg prepares `_pg3_0`, ...) and
    serves; the second one's load then meets those names, so it never has a
    schema cache and answers 503. Several sessions make it a matter of chance
    which request fails (a 400 `prepared statement "_pgwsgi_N" already exists`,
    or a missing one): docs/scaling.md.
    """
    single = _single_session_bouncer(pg_server, max_prepared=None)
    try:
        first = gunicorn(bouncer_env(pg_server, bouncer_db, single, PGRST_DB_PREPARED_STATEMENTS="true"), workers=1)
        _serving(first)
        second = gunicorn(bouncer_env(pg_server, bouncer_db, single, PGRST_DB_PREPARED_STATEMENTS="true"), workers=1)
        answers = [fetch(f"{second}/notes?select=id") for _ in range(3)]
        assert [(status, json.loads(body)["code"]) for status, _, body in answers] == [(503, "PGRST002")] * 3
        assert 'Failed to load the schema cache: prepared statement "_pg3_0" already exists' in _log(tmp_path, second)
        # The same session, the same moment: without named statements a third instance serves.
        third = gunicorn(bouncer_env(pg_server, bouncer_db, single), workers=1)
        assert fetch(f"{third}/notes?select=id&order=id")[::2] == (200, b'[{"id":1}, \n {"id":3}]')
        assert fetch(f"{first}/notes?select=id&order=id")[::2] == (200, b'[{"id":1}, \n {"id":3}]')
    finally:
        single.stop()


@pytest.mark.skipif(
    PGBOUNCER is None or pgbouncer.version(PGBOUNCER) < (1, 21),
    reason="PgBouncer < 1.21 (Debian bookworm has 1.18) cannot track prepared statements (max_prepared_statements)",
)
def test_prepared_statements_work_with_pgbouncer_tracking_them(
    gunicorn: Callable[..., str], pg_server: Server, bouncer_db: str
) -> None:
    single = _single_session_bouncer(pg_server, max_prepared=200)
    try:
        env = bouncer_env(pg_server, bouncer_db, single, PGRST_DB_PREPARED_STATEMENTS="true")
        first = gunicorn(env, workers=1)
        _serving(first)
        second = gunicorn(env, workers=1)
        _serving(second)
        for base in (first, second, first, second):
            assert fetch(f"{base}/notes?select=id&order=id")[::2] == (200, b'[{"id":1}, \n {"id":3}]')
    finally:
        single.stop()
