"""db/wire.py against a real PostgreSQL: one round trip per batch, named statements, their eviction.

Most tests drive `Wire` on a plain psycopg connection to the session's database,
opened as the pool opens its own (autocommit), and look at the server's side
through `pg_prepared_statements` of that same session. The last ones go through
the WSGI app (db/transaction.py runs every request through a Wire).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg import errors
from psycopg.pq import TransactionStatus
from werkzeug.test import Client

from pgwsgi.db import wire
from pgwsgi.db.wire import Step, Wire, postgres_text
from pgwsgi.http.app import App
from tests.conftest import Server

HOSTILE = [
    "",
    " ",
    "'",
    "''",
    "'; DROP TABLE wire_never; --",
    "\\",
    "\\'",
    "\\x00",
    "E'\\n'",
    "$1",
    "$2::int",
    "$$ $tag$ $$",
    "%s",
    "%%",
    "%%s",
    "%(name)s",
    "%b %t",
    "{}",
    "ü ñ 中文 🐘",
    "line\nbreak\ttab\r",
    "\u2028\u2029",
    "x" * 10_000,
]


@pytest.fixture
def conn(pg_server: Server, test_db: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection as the pool opens them (autocommit), to the session's database."""
    c = psycopg.connect(pg_server.dsn(test_db), autocommit=True)
    yield c
    c.close()  # only closes: a connection a test left stuck must not turn into a teardown error


def rows(w: Wire, steps: list[Step]) -> list[dict[str, Any]]:
    """Each step's first row, in order."""
    return [w.load_row(res) for res in w.run(steps)]


def prepared(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """The Wire's named statements of CONN's session: name -> statement text."""
    found = conn.execute(
        "SELECT name, statement FROM pg_prepared_statements WHERE name LIKE '\\_pgwsgi\\_%' ORDER BY name",
        prepare=False,
    ).fetchall()
    return {name: statement for name, statement in found}


# postgres_text -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "text", "count"),
    [
        (b"SELECT 1", b"SELECT 1", 0),
        (b"SELECT %s", b"SELECT $1", 1),
        (b"SELECT %s, %s, %s", b"SELECT $1, $2, $3", 3),
        (b"SELECT %s::int + %s::int", b"SELECT $1::int + $2::int", 2),
        (b"SELECT '100%%'", b"SELECT '100%'", 0),
        (b"SELECT '%%s'", b"SELECT '%s'", 0),
        (b"SELECT %s LIKE 'a%%'", b"SELECT $1 LIKE 'a%'", 1),
        (b"%s%%%s", b"$1%$2", 2),
        (b"%%%%", b"%%", 0),
        (b"SELECT '$1', %s", b"SELECT '$1', $1", 1),
        (b"", b"", 0),
    ],
)
def test_postgres_text_numbers_placeholders_and_unescapes_percent(query: bytes, text: bytes, count: int) -> None:
    assert postgres_text(query) == (text, count)


def test_postgres_text_counts_up_to_ten_and_beyond() -> None:
    text, count = postgres_text(b",".join([b"%s"] * 12))
    assert count == 12
    assert text == b",".join(b"$%d" % i for i in range(1, 13))


# A batch --------------------------------------------------------------------------------


@pytest.mark.parametrize("prepare", [True, False])
def test_a_batch_returns_each_result_in_order(conn: psycopg.Connection[Any], prepare: bool) -> None:
    w = Wire(conn, prepare=prepare)
    steps = [
        Step(b"SELECT 1 AS one"),
        Step(b"SELECT %s::int AS n, %s::text AS t", [2, "two"]),
        Step(b"SELECT generate_series(1, 3) AS many"),  # the first row of three
        Step(b"SELECT 1 AS nothing WHERE false"),
        Step(b"SELECT %s::int AS n", [4]),
        Step(b"SELECT NULL::text AS null_value, %s::jsonb AS j, %s::bytea AS b", ['{"a": [1]}', b"\x00\xff"]),
    ]
    assert rows(w, steps) == [
        {"one": 1},
        {"n": 2, "t": "two"},
        {"many": 1},
        {},
        {"n": 4},
        {"null_value": None, "j": {"a": [1]}, "b": b"\x00\xff"},
    ]
    # The connection is out of pipeline mode and idle afterwards: plain psycopg works.
    assert conn.info.transaction_status == TransactionStatus.IDLE
    assert conn.execute("SELECT 5").fetchone() == (5,)


@pytest.mark.parametrize("prepare", [True, False])
@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_values_are_bound_never_spliced(conn: psycopg.Connection[Any], prepare: bool, value: str) -> None:
    w = Wire(conn, prepare=prepare)
    got = rows(w, [Step(b"SELECT %s::text AS v, length(%s::text) AS n, '%%' AS pct", [value, value])])
    assert got == [{"v": value, "n": len(value), "pct": "%"}]
    # Exactly what psycopg's own cursor sends and gets back.
    assert conn.execute("SELECT %s::text, length(%s::text)", [value, value]).fetchone() == (value, len(value))


def test_hostile_values_in_one_prepared_batch_and_again(conn: psycopg.Connection[Any]) -> None:
    w = Wire(conn, prepare=True)
    steps = [Step(b"SELECT %s::text AS v", [value]) for value in HOSTILE]
    assert rows(w, steps) == [{"v": value} for value in HOSTILE]
    assert rows(w, steps[::-1]) == [{"v": value} for value in HOSTILE[::-1]]
    assert len(prepared(conn)) == 1  # one text, one parameter type: one named statement


@pytest.mark.parametrize("prepare", [True, False])
def test_a_nul_byte_is_refused_as_psycopg_refuses_it_and_the_connection_survives(
    conn: psycopg.Connection[Any], prepare: bool
) -> None:
    """psycopg refuses a NUL in a text value before anything is sent: DataError, as cursor.execute raises."""
    with pytest.raises(psycopg.DataError) as expected:
        conn.execute("SELECT %s::text", ["a\x00b"])
    w = Wire(conn, prepare=prepare)
    rows(w, [Step(b"SELECT 0 AS warm")])
    with pytest.raises(psycopg.DataError) as raised:
        w.run([Step(b"BEGIN"), Step(b"SELECT 1 AS before"), Step(b"SELECT %s::text AS v", ["a\x00b"]), Step(b"COMMIT")])
    assert type(raised.value) is type(expected.value)
    assert str(raised.value) == str(expected.value)
    # Nothing half-sent is left behind: the next batch and plain psycopg both work.
    if conn.info.transaction_status != TransactionStatus.IDLE:
        conn.execute("ROLLBACK")
    assert rows(w, [Step(b"SELECT 2 AS after"), Step(b"SELECT 0 AS warm")]) == [{"after": 2}, {"warm": 0}]
    assert conn.execute("SELECT 3").fetchone() == (3,)


def test_the_same_statement_twice_in_one_batch(conn: psycopg.Connection[Any]) -> None:
    w = Wire(conn, prepare=True)
    step = b"SELECT %s::int + 1 AS n"
    assert rows(w, [Step(step, [1]), Step(step, [2]), Step(b"SELECT 0 AS z"), Step(step, [3])]) == [
        {"n": 2},
        {"n": 3},
        {"z": 0},
        {"n": 4},
    ]
    assert sorted(prepared(conn).values()) == ["SELECT $1::int + 1 AS n", "SELECT 0 AS z"]
    # And in the next batch, the same names serve again.
    names = prepared(conn)
    assert rows(w, [Step(step, [10])]) == [{"n": 11}]
    assert prepared(conn) == names


def test_one_text_with_two_parameter_types(conn: psycopg.Connection[Any]) -> None:
    """An int and a str for the same placeholder: psycopg types them differently, both work."""
    w = Wire(conn, prepare=True)
    step = b"SELECT %s::text AS v"
    assert rows(w, [Step(step, [1]), Step(step, ["x"]), Step(step, [None]), Step(step, [2**40])]) == [
        {"v": "1"},
        {"v": "x"},
        {"v": None},
        {"v": str(2**40)},
    ]


def test_a_transaction_may_span_two_batches(conn: psycopg.Connection[Any]) -> None:
    """As db/transaction.py does when the main statement's row must be checked before COMMIT."""
    conn.execute("CREATE TEMP TABLE wire_span (x int)")
    w = Wire(conn, prepare=True)
    rows(w, [Step(b"BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE"), Step(b"INSERT INTO wire_span VALUES (%s)", [1])])
    assert conn.info.transaction_status == TransactionStatus.INTRANS
    rows(w, [Step(b"INSERT INTO wire_span VALUES (%s)", [2]), Step(b"COMMIT")])
    assert conn.execute("SELECT array_agg(x ORDER BY x) FROM wire_span").fetchone() == ([1, 2],)


# Errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("prepare", [True, False])
def test_a_failing_statement_stops_the_batch_and_the_connection_recovers(
    conn: psycopg.Connection[Any], prepare: bool
) -> None:
    conn.execute("CREATE TEMP SEQUENCE wire_ticks")  # nextval() is not rolled back: it shows what ran
    w = Wire(conn, prepare=prepare)
    tick = Step(b"SELECT nextval('wire_ticks') AS tick")
    batch = [Step(b"BEGIN"), tick, Step(b"SELECT %s::int / %s::int AS q", [1, 0]), tick, tick, Step(b"COMMIT")]
    with pytest.raises(errors.DivisionByZero) as raised:
        w.run(batch)
    assert raised.value.sqlstate == "22012"
    assert conn.info.transaction_status == TransactionStatus.INERROR
    conn.execute("ROLLBACK")
    assert conn.execute("SELECT last_value FROM wire_ticks").fetchone() == (1,)  # only the tick before
    names = prepared(conn)
    # The same statements again: the named ones serve as they are, the skipped ones are prepared now.
    good = [Step(b"BEGIN"), tick, Step(b"SELECT %s::int / %s::int AS q", [6, 3]), tick, Step(b"COMMIT")]
    assert rows(w, good) == [{}, {"tick": 2}, {"q": 2}, {"tick": 3}, {}]
    assert conn.info.transaction_status == TransactionStatus.IDLE
    if prepare:
        assert names.items() <= prepared(conn).items()
        assert sorted(prepared(conn).values()) == [
            "BEGIN",
            "COMMIT",
            "SELECT $1::int / $2::int AS q",
            tick.query.decode(),
        ]
    else:
        assert prepared(conn) == {}


@pytest.mark.parametrize(
    ("statement", "error"),
    [
        (b"SELECT 1/0", errors.DivisionByZero),
        (b"SELECT 'abc'::int", errors.InvalidTextRepresentation),
        (b"SELECT * FROM wire_no_such_table", errors.UndefinedTable),
        (b"SELECT wire_no_such_column FROM pg_class", errors.UndefinedColumn),
        (b"SELEC 1", errors.SyntaxError),
        (b"SET ROLE wire_no_such_role", errors.InvalidParameterValue),
    ],
)
def test_each_error_is_psycopgs_exception_for_its_sqlstate(
    conn: psycopg.Connection[Any], statement: bytes, error: type[psycopg.Error]
) -> None:
    w = Wire(conn, prepare=True)
    with pytest.raises(psycopg.Error) as raised:
        w.run([Step(b"SELECT 1"), Step(statement), Step(b"SELECT 2")])
    with pytest.raises(psycopg.Error) as expected:
        conn.execute(statement)
    assert type(raised.value) is type(expected.value) is error
    assert raised.value.sqlstate == expected.value.sqlstate
    assert raised.value.diag.message_primary == expected.value.diag.message_primary
    assert rows(w, [Step(b"SELECT 3 AS three")]) == [{"three": 3}]


def test_a_statement_that_fails_to_parse_is_not_remembered(conn: psycopg.Connection[Any]) -> None:
    w = Wire(conn, prepare=True)
    with pytest.raises(errors.SyntaxError):
        w.run([Step(b"SELECT 1 AS a"), Step(b"SELEC 2 AS b"), Step(b"SELECT 3 AS c")])
    texts = sorted(prepared(conn).values())
    assert texts == ["SELECT 1 AS a"]  # parsed and run before the failure; the others never existed
    # The statements after the failure were skipped: they are prepared when next sent, not assumed.
    assert rows(w, [Step(b"SELECT 3 AS c"), Step(b"SELECT 1 AS a")]) == [{"c": 3}, {"a": 1}]
    assert sorted(prepared(conn).values()) == ["SELECT 1 AS a", "SELECT 3 AS c"]
    # The broken text again (twice in one batch) fails again, as itself, and leaves nothing behind.
    with pytest.raises(errors.SyntaxError):
        w.run([Step(b"SELEC 2 AS b"), Step(b"SELEC 2 AS b")])
    assert sorted(prepared(conn).values()) == ["SELECT 1 AS a", "SELECT 3 AS c"]
    assert rows(w, [Step(b"SELECT 2 AS b")]) == [{"b": 2}]


def test_a_parameter_the_server_refuses_leaves_the_statement_usable(conn: psycopg.Connection[Any]) -> None:
    """Bind fails (22P02) after a successful Parse: the name is kept and serves the next batch."""
    w = Wire(conn, prepare=True)
    step = b"SELECT %s::int AS n"
    with pytest.raises(errors.InvalidTextRepresentation):
        w.run([Step(b"SELECT n FROM (SELECT %s::text::int AS n) s", ["abc"])])
    with pytest.raises(errors.NumericValueOutOfRange):
        w.run([Step(step, [2**40])])
    assert rows(w, [Step(step, [7]), Step(b"SELECT n FROM (SELECT %s::text::int AS n) s", ["8"])]) == [
        {"n": 7},
        {"n": 8},
    ]


# Eviction ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "close_message",
    # The protocol's Close (libpq 17+, what PgBouncer >= 1.21 follows) and the SQL DEALLOCATE before it.
    [pytest.param(True, marks=pytest.mark.skipif(not wire.CLOSE_MESSAGE, reason="libpq < 17")), False],
    ids=["close-message", "deallocate"],
)
def test_eviction_keeps_at_most_prepared_max_and_evicted_statements_come_back(
    conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch, close_message: bool
) -> None:
    monkeypatch.setattr(wire, "PREPARED_MAX", 3)
    monkeypatch.setattr(wire, "CLOSE_MESSAGE", close_message)
    w = Wire(conn, prepare=True)
    statements = [Step(b"SELECT %d AS n" % i) for i in range(5)]
    for i, step in enumerate(statements):
        assert rows(w, [step]) == [{"n": i}]
        # Names evicted by a batch are deallocated at the start of the next one.
        assert len(prepared(conn)) <= wire.PREPARED_MAX + 1
    rows(w, [statements[4]])
    assert sorted(prepared(conn).values()) == ["SELECT 2 AS n", "SELECT 3 AS n", "SELECT 4 AS n"]
    # The evicted ones are prepared again under new names, and still answer.
    assert rows(w, statements) == [{"n": i} for i in range(5)]
    assert rows(w, [Step(b"SELECT 42 AS n")]) == [{"n": 42}]
    server = prepared(conn)
    assert len(server) <= wire.PREPARED_MAX + 1
    assert "SELECT 42 AS n" in server.values()
    assert len(set(server)) == len(server)


def test_one_batch_larger_than_prepared_max(conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire, "PREPARED_MAX", 3)
    w = Wire(conn, prepare=True)
    statements = [Step(b"SELECT %d AS n" % i) for i in range(6)]
    assert rows(w, statements) == [{"n": i} for i in range(6)]
    assert rows(w, [Step(b"SELECT 's' AS s")]) == [{"s": "s"}]
    assert len(prepared(conn)) <= wire.PREPARED_MAX + 1
    assert rows(w, statements) == [{"n": i} for i in range(6)]


def test_an_error_in_a_batch_that_evicts_its_own_statements(
    conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Names prepared and evicted within one failed batch: some never existed on the server.

    The next batch must not fail on deallocating a statement the server never had.
    """
    monkeypatch.setattr(wire, "PREPARED_MAX", 2)
    w = Wire(conn, prepare=True)
    with pytest.raises(errors.DivisionByZero):
        w.run([Step(b"SELECT 1/0"), Step(b"SELECT 'a'"), Step(b"SELECT 'b'"), Step(b"SELECT 'c'")])
    assert rows(w, [Step(b"SELECT 42 AS x")]) == [{"x": 42}]


@pytest.mark.parametrize("level", ["SERIALIZABLE", "REPEATABLE READ"])
def test_an_isolation_level_right_after_an_eviction(
    conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch, level: str
) -> None:
    """The DEALLOCATEs of evicted names run first in a batch; a BEGIN ISOLATION LEVEL after them must still work.

    (db/transaction.py begins every transaction with BEGIN ISOLATION LEVEL ...;
    functions may ask for serializable or repeatable read.)
    """
    monkeypatch.setattr(wire, "PREPARED_MAX", 2)
    w = Wire(conn, prepare=True)
    for i in range(3):
        rows(w, [Step(b"SELECT %d" % i)])  # the third evicts the first: due at the next batch
    begin = Step(f"BEGIN ISOLATION LEVEL {level} READ ONLY".encode())
    got = rows(w, [begin, Step(b"SELECT current_setting('transaction_isolation') AS iso"), Step(b"COMMIT")])
    assert got == [{}, {"iso": level.lower()}, {}]


@pytest.mark.parametrize(
    ("setting", "begin", "shows"),
    [
        ("default_transaction_isolation = 'repeatable read'", "READ COMMITTED READ ONLY", "read committed"),
        ("default_transaction_read_only = on", "READ COMMITTED READ WRITE", "read committed"),
    ],
)
def test_the_begin_of_every_request_right_after_an_eviction_on_a_server_with_other_defaults(
    conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch, setting: str, begin: str, shows: str
) -> None:
    """A database or role whose defaults differ (a repeatable-read default, a read-only default):
    every request begins with `BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY|WRITE`, which must work
    right after an eviction too."""
    conn.execute(f"SET {setting}")
    monkeypatch.setattr(wire, "PREPARED_MAX", 2)
    w = Wire(conn, prepare=True)
    for i in range(3):
        rows(w, [Step(b"SELECT %d" % i)])
    steps = [
        Step(f"BEGIN ISOLATION LEVEL {begin}".encode()),
        Step(b"SELECT current_setting('transaction_isolation') AS iso"),
    ]
    got = rows(w, [*steps, Step(b"COMMIT")])
    assert got == [{}, {"iso": shows}, {}]


def test_without_prepare_no_statement_is_named(conn: psycopg.Connection[Any]) -> None:
    steps = [
        Step(b"BEGIN"),
        Step(b"SELECT %s::int * 2 AS n", [21]),
        Step(b"SELECT %s::text AS t", ["it's"]),
        Step(b"SELECT %s::int * 2 AS n", [5]),
        Step(b"COMMIT"),
    ]
    unnamed = Wire(conn, prepare=False)
    first = rows(unnamed, steps)
    assert prepared(conn) == {}
    assert conn.execute("SELECT count(*) FROM pg_prepared_statements", prepare=False).fetchone() == (0,)
    named = Wire(conn, prepare=True)
    assert rows(named, steps) == first == [{}, {"n": 42}, {"t": "it's"}, {"n": 10}, {}]
    assert len(prepared(conn)) == 4


# Through the app ---------------------------------------------------------------------------


def app_of(client: Client) -> App:
    app = client.application
    assert isinstance(app, App)
    return app


def app_prepared(app: App) -> list[str]:
    """The Wire's named statements on the app's pool connection (db_pool=1: there is one)."""
    with app.db.connection() as c:
        return [row[0] for row in c.execute("SELECT statement FROM pg_prepared_statements", prepare=False).fetchall()]


@pytest.fixture
def reset_writes(pg_server: Server, test_db: str) -> Iterator[Callable[[], None]]:
    def reset() -> None:
        with psycopg.connect(pg_server.dsn(test_db), autocommit=True) as c:
            c.execute("SELECT test.w_reset()")

    reset()
    yield reset
    reset()


def test_the_app_without_prepared_statements(
    make_client: Callable[..., Client], reset_writes: Callable[[], None]
) -> None:
    client = make_client(db_prepared_statements=False, db_pool=1)
    r = client.get("/items?select=id,name&id=lte.2&order=id")
    assert (r.status_code, r.get_data()) == (200, b'[{"id":1,"name":"item 1"}, \n {"id":2,"name":"item 2"}]')
    r = client.post(
        "/w_items?select=id,name,qty",
        data=json.dumps({"name": "it's %s $1", "qty": 2}),
        headers={"Content-Type": "application/json", "Prefer": "return=representation"},
    )
    assert r.status_code == 201, r.get_data()
    assert r.get_json() == [{"id": 4, "name": "it's %s $1", "qty": 2}]
    r = client.post(
        "/w_items",
        data=json.dumps({"name": "five"}),
        headers={"Content-Type": "application/json", "Prefer": "return=headers-only"},
    )
    assert (r.status_code, r.headers["Location"]) == (201, "/w_items?id=eq.5")
    r = client.get("/items?select=id&id=eq.abc")
    assert r.status_code == 400 and r.get_json()["code"] == "22P02"
    r = client.get("/w_items?select=name&id=eq.4")
    assert r.get_json() == [{"name": "it's %s $1"}]
    assert app_prepared(app_of(client)) == []


def test_the_app_prepares_each_statement_once(make_client: Callable[..., Client]) -> None:
    client = make_client(db_pool=1)
    app = app_of(client)
    for i in (1, 2, 3):
        assert client.get(f"/items?select=id&id=eq.{i}").get_json() == [{"id": i}]
    after_three = app_prepared(app)
    assert after_three, "the app's transactions go through named statements"
    assert len(after_three) == len(set(after_three))
    for i in (4, 5):
        assert client.get(f"/items?select=id&id=eq.{i}").get_json() == [{"id": i}]
    assert sorted(app_prepared(app)) == sorted(after_three)


def test_an_error_then_a_good_request_on_the_same_connection(make_client: Callable[..., Client]) -> None:
    client = make_client(db_pool=1)
    app = app_of(client)
    assert client.get("/items?select=id&id=eq.1").status_code == 200
    names = sorted(app_prepared(app))
    r = client.get("/items?select=id&id=eq.abc")
    assert r.status_code == 400 and r.get_json()["code"] == "22P02"
    r = client.get("/rpc/r_boom")
    assert r.status_code == 400 and r.get_json()["code"] == "P0001"
    assert client.get("/items?select=id&id=eq.2").get_json() == [{"id": 2}]
    assert set(names) <= set(app_prepared(app))


def test_a_nul_byte_in_a_value_is_400_and_the_app_carries_on(make_client: Callable[..., Client]) -> None:
    """A value psycopg refuses (a NUL byte) is answered 22021 (db/transaction.py `_db_error`), not a 500."""
    client = make_client(db_pool=1)
    assert client.get("/items?select=id&id=eq.1").status_code == 200
    for url in ("/items?select=id&name=eq.a%00b", "/rpc/r_greet?name=a%00b"):
        r = client.get(url)
        assert r.status_code == 400, (url, r.get_data())
        assert r.get_json()["code"] == "22021"
        assert client.get("/items?select=id&id=eq.2").get_json() == [{"id": 2}]


def test_a_function_isolation_level_after_the_app_evicted_statements(
    make_client: Callable[..., Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    """r_isolation asks for serializable (a SET clause); evictions must not break its BEGIN."""
    client = make_client(db_pool=1)
    monkeypatch.setattr(wire, "PREPARED_MAX", 4)
    for i in range(1, 6):
        r = client.get(f"/items?select=id&id=eq.{i}&limit={i}")  # a new statement text each time
        assert r.status_code == 200
        r = client.get("/rpc/r_isolation")
        assert (r.status_code, r.get_data()) == (200, b'"serializable"'), i
