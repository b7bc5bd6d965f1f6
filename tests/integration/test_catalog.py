"""The catalog snapshot: what it holds, and reloading it on NOTIFY without failing requests."""

from __future__ import annotations

import threading
import time

import psycopg
from werkzeug.test import Client

from pgwsgi.catalog.load import load_snapshot


def test_snapshot_holds_relations_columns_keys_and_functions(pg_server, test_db) -> None:  # noqa: ANN001
    with psycopg.connect(pg_server.dsn(test_db)) as conn:
        snap = load_snapshot(conn, ("test", "other"))
    items = snap.relation("test", "items")
    assert items is not None and items.kind == "r"
    assert [c.name for c in items.columns] == ["id", "name", "price", "tags", "data", "created"]
    assert items.primary_key == ("id",)
    price = items.column("price")
    assert price.type == "numeric(10,2)" and price.nullable and price.default is None
    assert items.column("tags").default == "'{}'::text[]"
    assert items.column("data").is_json
    view = snap.relation("test", "cheap_items")
    assert view.kind == "v" and view.insertable and view.updatable
    assert snap.relation("other", "things") is not None
    (add,) = snap.functions[("test", "add")]
    assert [(p.name, p.type, p.required) for p in add.parameters] == [("a", "integer", True), ("b", "integer", False)]
    assert add.return_type == "int4" and add.volatility == "i"


def test_notify_reload_picks_up_new_table_without_failing_requests(make_client, pg_server, test_db) -> None:  # noqa: ANN001
    client = make_client(db_channel_enabled=True)
    assert client.get("/late_table").status_code == 404
    failures: list[tuple[int, str]] = []
    stop = threading.Event()

    def hammer() -> None:
        own = Client(client.application)
        while not stop.is_set():
            r = own.get("/items?id=eq.1")
            if r.status_code != 200:
                failures.append((r.status_code, r.get_data(as_text=True)))

    worker = threading.Thread(target=hammer)
    worker.start()
    try:
        with psycopg.connect(pg_server.dsn(test_db), autocommit=True) as conn:
            conn.execute("CREATE TABLE test.late_table (id int)")
            conn.execute("GRANT SELECT ON test.late_table TO pgwsgi_anon")
            conn.execute("NOTIFY pgrst, 'reload schema'")
        deadline = time.monotonic() + 10
        while client.get("/late_table").status_code != 200:
            assert time.monotonic() < deadline, "schema cache was not reloaded"
            time.sleep(0.05)
        assert client.get("/late_table").get_json() == []
    finally:
        stop.set()
        worker.join()
        with psycopg.connect(pg_server.dsn(test_db), autocommit=True) as conn:
            conn.execute("DROP TABLE test.late_table")
    assert failures == []
