"""The execution-plan media type, `Accept: application/vnd.pgrst.plan[+text|+json]` (M-PLAN).

Ported from PostgREST's test/spec/Feature/Query/PlanSpec.hs (configured with
db-plan-enabled = true there too) and checked against its MediaType.hs, Plan.hs,
Plan/Negotiate.hs, Query/Statements.hs, MainTx.hs and Response.hs. PostgREST
asserts some plan costs; here only the structure is: statuses, headers, node
types and keys that PostgreSQL 15 and later all print.

The objects are those of tests/fixtures/*.sql plus tests/fixtures/plan.sql
(schema pln: PostgREST's `bets`, `tiobe_pls` and `Surr_Gen_Default_Upsert`),
loaded by this module and dropped after it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from werkzeug.test import Client

from tests.conftest import FIXTURES, Server, assert_error, load_sql

PLAN_TEXT = 'application/vnd.pgrst.plan+text; for="application/json"; charset=utf-8'
PLAN_JSON = 'application/vnd.pgrst.plan+json; for="application/json"; charset=utf-8'
PLN = {"Accept-Profile": "pln", "Content-Profile": "pln"}

Rows = Callable[..., list[tuple[Any, ...]]]


# Fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pln_schema(pg_server: Server, test_db: str) -> Iterator[None]:
    """Schema pln (tests/fixtures/plan.sql) in the session's database, for this module only."""
    load_sql(pg_server, test_db, FIXTURES / "plan.sql")
    yield
    with psycopg.connect(pg_server.dsn(test_db), autocommit=True) as conn:
        conn.execute("SELECT test.w_reset()")
        conn.execute("DROP SCHEMA IF EXISTS pln CASCADE")


@pytest.fixture(autouse=True)
def fresh_rows(pg_server: Server, test_db: str, pln_schema: None) -> None:
    """The seed rows of the tables this module writes to (or must not)."""
    with psycopg.connect(pg_server.dsn(test_db), autocommit=True) as conn:
        conn.execute("SELECT test.w_reset()")
        conn.execute("DELETE FROM pln.tiobe_pls")
        conn.execute("INSERT INTO pln.tiobe_pls VALUES ('Java', 1), ('C', 2), ('Python', 3)")
        conn.execute('DELETE FROM pln."Surr_Gen_Default_Upsert"')


@pytest.fixture
def db(pg_server: Server, test_db: str) -> Iterator[Rows]:
    """Read back through a superuser connection."""
    conn = psycopg.connect(pg_server.dsn(test_db), autocommit=True)

    def rows(query: str, params: Any = None) -> list[tuple[Any, ...]]:
        return conn.execute(query, params).fetchall()

    yield rows
    conn.close()


@pytest.fixture
def client(make_client: Callable[..., Client], pln_schema: None) -> Client:
    """An app with db-plan-enabled; schema test first, so every response names its Content-Profile."""
    return make_client(db_plan_enabled=True, db_schemas=("test", "pln"))


# Helpers -----------------------------------------------------------------------------


def plan_of(r: Any) -> dict[str, Any]:
    """The root node of a JSON plan, after checking the answer is one."""
    assert r.status_code == 200, r.get_data(as_text=True)
    doc = json.loads(r.get_data())
    assert isinstance(doc, list) and len(doc) == 1
    return doc[0]["Plan"]


def nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """NODE and every node below it."""
    yield node
    for child in node.get("Plans", ()):
        yield from nodes(child)


def outputs(node: dict[str, Any]) -> list[list[str]]:
    """The Output list of every node (options=verbose)."""
    return [n["Output"] for n in nodes(node) if "Output" in n]


def aggregates(node: dict[str, Any]) -> int:
    return sum(1 for n in nodes(node) if n["Node Type"] == "Aggregate")


def assert_plan_headers(r: Any, content_type: str, profile: str | None = "test") -> None:
    """Exactly the headers of PostgREST's DbPlanResult (plus the Vary and Server every response has)."""
    body = r.get_data()
    expected = {
        "Content-Type": content_type,
        "Content-Length": str(len(body)),
        "Vary": "Accept, Prefer, Range",
        "Server": "postgrest/16.1",
    }
    if profile is not None:
        expected["Content-Profile"] = profile
    assert dict(r.headers) == expected
    assert r.status == "200 OK"


def tiobe_rows(n: int) -> list[dict[str, Any]]:
    """PostgREST's getInsertDataForTiobePlsTable: N languages, the first ones already there."""
    return [{"name": f"Lang {i}" if i > 3 else ["Java", "C", "Python"][i - 1], "rank": i} for i in range(1, n + 1)]


# Reads of tables and views -----------------------------------------------------------


def test_the_total_cost_of_a_filtered_read_of_a_table(client: Client) -> None:
    r = client.get("/e_projects?id=in.(1,2,3)", headers={"Accept": "application/vnd.pgrst.plan+json"})
    plan = plan_of(r)
    assert_plan_headers(r, PLAN_JSON)
    assert int(r.headers["Content-Length"]) > 0
    assert plan["Node Type"] == "Aggregate"
    assert plan["Total Cost"] > 0


def test_the_total_cost_of_a_filtered_read_of_a_view(client: Client) -> None:
    r = client.get("/e_projects_v2?id=gt.2", headers={"Accept": "application/vnd.pgrst.plan+json"})
    plan = plan_of(r)
    assert_plan_headers(r, PLAN_JSON)
    assert plan["Total Cost"] > 0


@pytest.mark.parametrize("accept", ["application/vnd.pgrst.plan", "application/vnd.pgrst.plan+text"])
def test_text_is_the_default_format(client: Client, accept: str) -> None:
    r = client.get("/e_projects?id=in.(1,2,3)", headers={"Accept": accept})
    assert_plan_headers(r, PLAN_TEXT)
    body = r.get_data(as_text=True)
    assert body.startswith("Aggregate  (cost=")
    # Each row of EXPLAIN's output is a line ended by a newline (PostgREST's BS.unlines).
    assert body.endswith("\n") and not body.endswith("\n\n")
    assert "  ->  " in body


def test_the_json_body_ends_with_a_newline_too(client: Client) -> None:
    r = client.get("/e_projects", headers={"Accept": "application/vnd.pgrst.plan+json"})
    body = r.get_data(as_text=True)
    assert body.startswith("[") and body.endswith("]\n")


def test_buffers_option_adds_block_counts(client: Client) -> None:
    r = client.get("/e_projects", headers={"Accept": "application/vnd.pgrst.plan+json; options=buffers"})
    assert_plan_headers(r, 'application/vnd.pgrst.plan+json; for="application/json"; options=buffers; charset=utf-8')
    assert "Shared Hit Blocks" in plan_of(r)


def test_settings_option_shows_the_transactions_search_path(client: Client) -> None:
    r = client.get("/e_projects", headers={"Accept": "application/vnd.pgrst.plan+json; options=settings"})
    assert_plan_headers(r, 'application/vnd.pgrst.plan+json; for="application/json"; options=settings; charset=utf-8')
    # pgwsgi's search path: the request's schema, then db-extra-search-path (public).
    assert json.loads(r.get_data())[0]["Settings"] == {"search_path": '"test", "public"'}


def test_wal_option_with_analyze_counts_wal_records(client: Client) -> None:
    r = client.get("/e_projects", headers={"Accept": "application/vnd.pgrst.plan+json; options=analyze|wal"})
    assert_plan_headers(
        r, 'application/vnd.pgrst.plan+json; for="application/json"; options=analyze|wal; charset=utf-8'
    )
    plan = plan_of(r)
    assert plan["WAL Records"] == 0
    assert plan["Actual Loops"] == 1


def test_verbose_option_lists_the_columns_read(client: Client) -> None:
    r = client.get("/e_projects", headers={"Accept": "application/vnd.pgrst.plan+json; options=verbose"})
    assert_plan_headers(r, 'application/vnd.pgrst.plan+json; for="application/json"; options=verbose; charset=utf-8')
    plan = plan_of(r)
    assert plan["Plans"][0]["Output"] == ["e_projects.id", "e_projects.name", "e_projects.client_id"]


def test_the_plan_for_application_json_aggregates_an_array(client: Client) -> None:
    accept = 'application/vnd.pgrst.plan+json; for="application/json"; options=verbose'
    r = client.get("/e_projects", headers={"Accept": accept})
    assert_plan_headers(r, 'application/vnd.pgrst.plan+json; for="application/json"; options=verbose; charset=utf-8')
    body = plan_of(r)["Output"][2]  # total, page_total, body, ...
    assert "json_agg(ROW(e_projects.id, e_projects.name, e_projects.client_id))" in body
    assert "-> 0" not in body


def test_the_plan_for_a_singular_object_skips_the_one_row_check(client: Client) -> None:
    # Five rows: answered with the object itself this would be 406 PGRST116; its plan is not.
    accept = 'application/vnd.pgrst.plan+json; for="application/vnd.pgrst.object"; options=verbose'
    r = client.get("/e_projects_v1", headers={"Accept": accept})
    assert_plan_headers(
        r,
        'application/vnd.pgrst.plan+json; for="application/vnd.pgrst.object+json"; options=verbose; charset=utf-8',
    )
    assert "(json_agg(ROW(e_projects.id, e_projects.name, e_projects.client_id)) -> 0)" in plan_of(r)["Output"][2]


def test_the_plan_for_a_stripped_singular_object(client: Client) -> None:
    accept = 'application/vnd.pgrst.plan+json; for="application/vnd.pgrst.object+json;nulls=stripped"; options=verbose'
    r = client.get("/e_projects?id=eq.1", headers={"Accept": accept})
    assert_plan_headers(
        r,
        'application/vnd.pgrst.plan+json; for="application/vnd.pgrst.object+json;nulls=stripped"; options=verbose; '
        "charset=utf-8",
    )
    assert "json_strip_nulls" in plan_of(r)["Output"][2]


def test_the_plan_for_csv(client: Client) -> None:
    r = client.get(
        "/e_projects", headers={"Accept": 'application/vnd.pgrst.plan+json; for="text/csv"; options=verbose'}
    )
    assert_plan_headers(r, 'application/vnd.pgrst.plan+json; for="text/csv"; options=verbose; charset=utf-8')
    assert "string_agg" in plan_of(r)["Output"][2]


@pytest.mark.parametrize(
    ("for_", "shown"),
    [
        ("*/*", "*/*"),
        ("application/vnd.pgrst.array", "application/json"),
        ("application/vnd.pgrst.array+json;nulls=stripped", "application/vnd.pgrst.array+json;nulls=stripped"),
    ],
)
def test_for_is_written_back_as_postgrest_prints_it(client: Client, for_: str, shown: str) -> None:
    r = client.get("/e_projects", headers={"Accept": f'application/vnd.pgrst.plan; for="{for_}"'})
    assert_plan_headers(r, f'application/vnd.pgrst.plan+text; for="{shown}"; charset=utf-8')


def test_options_come_back_in_postgrests_order_unknown_ones_dropped(client: Client) -> None:
    accept = "application/vnd.pgrst.plan+json; options=wal|verbose|nonsense|analyze|buffers|settings;"
    r = client.get("/e_projects", headers={"Accept": accept})
    assert_plan_headers(
        r,
        'application/vnd.pgrst.plan+json; for="application/json"; options=analyze|verbose|settings|buffers|wal; '
        "charset=utf-8",
    )
    doc = json.loads(r.get_data())[0]
    assert {"Settings", "Execution Time"} <= set(doc)
    assert {"Output", "WAL Records", "Shared Hit Blocks", "Actual Rows"} <= set(doc["Plan"])


def test_the_first_acceptable_entry_wins(client: Client) -> None:
    r = client.get(
        "/e_projects", headers={"Accept": "text/xml, application/vnd.pgrst.plan;q=0.5, application/json;q=0.1"}
    )
    assert_plan_headers(r, PLAN_TEXT)
    r = client.get("/e_projects", headers={"Accept": "application/json, application/vnd.pgrst.plan;q=0.5"})
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"


def test_head_has_the_plans_headers_and_no_body(client: Client) -> None:
    r = client.head("/e_projects", headers={"Accept": "application/vnd.pgrst.plan"})
    assert r.status == "200 OK"
    assert r.get_data() == b""
    assert r.headers["Content-Type"] == PLAN_TEXT
    assert int(r.headers["Content-Length"]) > 0
    assert "Content-Range" not in r.headers


def test_no_content_range_nor_preference_applied(client: Client) -> None:
    headers = {"Accept": "application/vnd.pgrst.plan", "Prefer": "count=exact, tx=rollback", "Range": "0-1"}
    r = client.get("/e_projects", headers=headers)
    assert_plan_headers(r, PLAN_TEXT)


def test_a_single_schema_sends_no_content_profile(make_client: Callable[..., Client]) -> None:
    client = make_client(db_plan_enabled=True, db_schemas=("test",))
    r = client.get("/e_projects", headers={"Accept": "application/vnd.pgrst.plan"})
    assert_plan_headers(r, PLAN_TEXT, profile=None)


def test_response_gucs_are_not_applied(make_client: Callable[..., Client]) -> None:
    client = make_client(db_plan_enabled=True, db_pre_request="test.pre_request")
    r = client.get("/e_projects", headers={"Accept": "application/vnd.pgrst.plan", "X-Set-Headers": "yes"})
    assert_plan_headers(r, PLAN_TEXT)


def test_privileges_apply_as_to_the_query_itself(client: Client) -> None:
    r = client.get("/secrets", headers={"Accept": "application/vnd.pgrst.plan"})
    assert_error(r, 401, "42501", "permission denied for table secrets")


def test_plan_requests_are_never_request_shapes(client: Client) -> None:
    app: Any = client.application
    for _ in range(3):
        r = client.get("/e_projects?id=eq.1", headers={"Accept": "application/vnd.pgrst.plan"})
        assert_plan_headers(r, PLAN_TEXT)
    assert (app.shapes.hits, app.shapes.misses) == (0, 0)


# Negotiation errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "listed"),
    [
        ('application/vnd.pgrst.plan; for="text/xml"', 'application/vnd.pgrst.plan+text; for="text/xml"'),
        (
            'application/vnd.pgrst.plan+json; for="image/png"; options=verbose|analyze',
            'application/vnd.pgrst.plan+json; for="image/png"; options=analyze|verbose',
        ),
        (
            'application/vnd.pgrst.plan; for="application/vnd.pgrst.plan+json"',
            'application/vnd.pgrst.plan+text; for="application/vnd.pgrst.plan+json; for="application/json""',
        ),
    ],
)
def test_a_for_type_that_cannot_be_produced_is_406(client: Client, accept: str, listed: str) -> None:
    r = client.get("/e_projects", headers={"Accept": accept})
    assert_error(r, 406, "PGRST107", f"None of these media types are available: {listed}")


@pytest.mark.parametrize(
    ("method", "url"),
    [("GET", "/e_projects?id=in.(1,2,3)"), ("GET", "/rpc/e_projects_of?client=1"), ("DELETE", "/w_items?id=eq.1")],
)
def test_disabled_by_default_it_is_406(make_client: Callable[..., Client], db: Rows, method: str, url: str) -> None:
    client = make_client()
    r = client.open(url, method=method, headers={"Accept": "application/vnd.pgrst.plan"})
    listed = 'application/vnd.pgrst.plan+text; for="application/json"'
    assert_error(r, 406, "PGRST107", f"None of these media types are available: {listed}")
    assert db("SELECT count(*) FROM test.w_items") == [(3,)]


def test_disabled_it_falls_through_to_the_next_entry(make_client: Callable[..., Client]) -> None:
    client = make_client()
    r = client.get("/e_projects?id=eq.1", headers={"Accept": "application/vnd.pgrst.plan, application/json;q=0.5"})
    assert (r.status_code, r.get_json()) == (200, [{"id": 1, "name": "Windows 7", "client_id": 1}])


def test_strict_preferences_are_still_checked(client: Client) -> None:
    r = client.get("/e_projects", headers={"Accept": "application/vnd.pgrst.plan", "Prefer": "handling=strict, bogus"})
    assert_error(r, 400, "PGRST122", "Invalid preferences given with handling=strict", "Invalid preferences: bogus")


# Counts -------------------------------------------------------------------------------


def test_count_exact_without_limits_counts_in_the_one_aggregate(client: Client) -> None:
    r = client.post("/tiobe_pls", json=tiobe_rows(1000), headers={**PLN, "Prefer": "resolution=merge-duplicates"})
    assert r.status_code == 201
    accept = 'application/vnd.pgrst.plan+json; for="application/json"; options=analyze;'
    r = client.get("/tiobe_pls", headers={**PLN, "Prefer": "count=exact", "Accept": accept})
    assert_plan_headers(
        r, 'application/vnd.pgrst.plan+json; for="application/json"; options=analyze; charset=utf-8', "pln"
    )
    assert aggregates(plan_of(r)) == 1


def test_count_exact_with_a_limit_counts_separately(client: Client) -> None:
    accept = 'application/vnd.pgrst.plan+json; for="application/json"; options=analyze'
    r = client.get("/tiobe_pls?limit=1000", headers={**PLN, "Prefer": "count=exact", "Accept": accept})
    assert aggregates(plan_of(r)) > 1


@pytest.mark.parametrize("count", ["planned", "estimated"])
def test_planned_and_estimated_counts_run_no_second_explain(client: Client, count: str) -> None:
    r = client.get("/e_projects", headers={"Prefer": f"count={count}", "Accept": "application/vnd.pgrst.plan+json"})
    assert_plan_headers(r, PLAN_JSON)
    assert plan_of(r)["Node Type"] == "Aggregate"


def test_functions_count_exact_without_limits_counts_in_the_one_aggregate(client: Client) -> None:
    accept = 'application/vnd.pgrst.plan+json; for="application/json"; options=analyze'
    r = client.get("/rpc/get_tiobe_pls", headers={**PLN, "Prefer": "count=exact", "Accept": accept})
    assert_plan_headers(
        r, 'application/vnd.pgrst.plan+json; for="application/json"; options=analyze; charset=utf-8', "pln"
    )
    assert aggregates(plan_of(r)) == 1


def test_functions_count_exact_with_a_limit_counts_separately(client: Client) -> None:
    accept = 'application/vnd.pgrst.plan+json; for="application/json"; options=analyze'
    r = client.get("/rpc/get_tiobe_pls?limit=1000", headers={**PLN, "Prefer": "count=exact", "Accept": accept})
    assert aggregates(plan_of(r)) > 1


# Embedding ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/e_clients?select=*,e_projects(*)&id=eq.1",
        "/e_projects?select=*,e_clients(*)&id=eq.1",
        "/e_users?select=*,e_tasks(*)&id=eq.1",
        "/e_clients?select=*,e_projects!inner(*)&id=eq.1",
        "/e_clients?select=*,e_projects(*)&e_projects=not.is.null&id=eq.1",
        "/e_projects?select=*,e_clients!inner(*)&id=eq.1",
        "/e_projects?select=*,e_clients(*)&e_clients=not.is.null&id=eq.1",
        "/e_users?select=*,e_tasks!inner(*)&e_tasks.id=eq.1",
        "/e_users?select=*,e_tasks(*)&e_tasks.id=eq.1&e_tasks=not.is.null",
    ],
)
def test_embedding_plans(client: Client, url: str) -> None:
    r = client.get(url, headers={"Accept": "application/vnd.pgrst.plan+json"})
    plan = plan_of(r)
    assert_plan_headers(r, PLAN_JSON)
    assert plan["Total Cost"] > 0
    assert "e_projects" in r.get_data(as_text=True) or "e_tasks" in r.get_data(as_text=True)


# Index usage --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "index"),
    [
        ("/bets?data_json->>contractId=eq.1", "Index Cond"),
        ("/bets?data_jsonb->>contractId=eq.1", "Index"),
        ("/bets?order=data_json->>contractId", "Index"),
        ("/bets?order=data_jsonb->>contractId", "Index"),
    ],
)
def test_json_arrow_filters_and_orders_use_an_index(client: Client, url: str, index: str) -> None:
    r = client.get(url, headers={**PLN, "Accept": "application/vnd.pgrst.plan"})
    assert_plan_headers(r, PLAN_TEXT, "pln")
    assert index in r.get_data(as_text=True)


# Writes -------------------------------------------------------------------------------


def _writes(db: Rows) -> tuple[Any, ...]:
    return (
        db("SELECT * FROM test.w_items ORDER BY id"),
        db("SELECT * FROM pln.tiobe_pls ORDER BY name"),
    )


@pytest.mark.parametrize(
    ("method", "url", "body", "prefer"),
    [
        ("POST", "/w_items", {"id": 100, "name": "Project 100"}, None),
        ("PATCH", "/w_items?id=eq.3", {"name": "Patched Project"}, None),
        ("DELETE", "/w_items?id=in.(1,2,3)", None, None),
        ("PUT", "/tiobe_pls?name=eq.Go", [{"name": "Go", "rank": 19}], None),
        (
            "POST",
            "/tiobe_pls",
            [{"name": "Python", "rank": 19}, {"name": "Go", "rank": 20}],
            "resolution=merge-duplicates",
        ),
    ],
)
def test_the_total_cost_of_a_write_that_is_not_made(
    client: Client, db: Rows, method: str, url: str, body: Any, prefer: str | None
) -> None:
    before = _writes(db)
    headers = (
        {**PLN, "Accept": "application/vnd.pgrst.plan+json"}
        if "tiobe" in url
        else {"Accept": "application/vnd.pgrst.plan+json"}
    )
    if prefer:
        headers["Prefer"] = prefer
    r = client.open(url, method=method, json=body, headers=headers)
    plan = plan_of(r)
    assert_plan_headers(r, PLAN_JSON, "pln" if "tiobe" in url else "test")
    assert plan["Total Cost"] > 0
    assert _writes(db) == before


@pytest.mark.parametrize("n", [10, 100, 1000])
def test_the_total_cost_of_bulk_upserts(client: Client, db: Rows, n: int) -> None:
    headers = {**PLN, "Prefer": "resolution=merge-duplicates", "Accept": "application/vnd.pgrst.plan+json"}
    r = client.post("/tiobe_pls", json=tiobe_rows(n), headers=headers)
    assert_plan_headers(r, PLAN_JSON, "pln")
    assert plan_of(r)["Total Cost"] > 0
    assert db("SELECT count(*) FROM pln.tiobe_pls") == [(3,)]


def test_the_plan_of_a_delete_for_a_singular_object(client: Client, db: Rows) -> None:
    accept = 'application/vnd.pgrst.plan+json; for="application/vnd.pgrst.object"; options=verbose'
    r = client.delete("/w_items?id=in.(1,2)", headers={"Prefer": "return=representation", "Accept": accept})
    assert_plan_headers(
        r,
        'application/vnd.pgrst.plan+json; for="application/vnd.pgrst.object+json"; options=verbose; charset=utf-8',
    )
    # total, page_total, location, body, ...; two rows would be 406 PGRST116 when answered, not when explained.
    body = plan_of(r)["Output"][3]
    assert "(json_agg(ROW(w_items.id, w_items.name" in body and "-> 0)" in body
    assert db("SELECT count(*) FROM test.w_items") == [(3,)]


def test_checks_of_the_written_rows_are_skipped(client: Client) -> None:
    accept = {"Accept": "application/vnd.pgrst.plan"}
    r = client.delete("/w_items", headers={**accept, "Prefer": "handling=strict, max-affected=1"})
    assert_plan_headers(r, PLAN_TEXT)
    r = client.put("/w_pairs?k1=eq.1&k2=eq.a", json=[{"k1": 9, "k2": "z"}], headers=accept)
    assert_plan_headers(r, PLAN_TEXT)


def test_missing_default_quotes_a_mixed_case_sequence(client: Client) -> None:
    prefer = "return=representation, resolution=merge-duplicates, missing=default"
    r = client.post(
        "/Surr_Gen_Default_Upsert?columns=id,name&select=name,extra",
        json=[{"id": 1, "name": "updated value"}, {"name": "new value"}],
        headers={**PLN, "Prefer": prefer, "Accept": "application/vnd.pgrst.plan+json; options=verbose"},
    )
    assert_plan_headers(
        r, 'application/vnd.pgrst.plan+json; for="application/json"; options=verbose; charset=utf-8', "pln"
    )
    assert [
        "jsonb_agg((jsonb_build_object('id', nextval('\"Surr_Gen_Default_Upsert_id_seq\"'::regclass)) || elem.value))"
    ] in outputs(plan_of(r))


@pytest.mark.parametrize(
    ("tx_end", "prefer"),
    [("commit", None), ("commit-allow-override", "tx=commit"), ("rollback-allow-override", "tx=commit")],
)
def test_analyze_really_writes_then_rolls_back(
    make_client: Callable[..., Client], pln_schema: None, db: Rows, tx_end: str, prefer: str | None
) -> None:
    client = make_client(db_plan_enabled=True, db_tx_end=tx_end)
    headers = {"Accept": "application/vnd.pgrst.plan+json; options=analyze"}
    if prefer:
        headers["Prefer"] = prefer
    before = _writes(db)
    r = client.post("/w_items", json={"name": "written"}, headers=headers)
    plan = plan_of(r)
    insert = next(n for n in nodes(plan) if n["Node Type"] == "ModifyTable")
    assert (insert["Operation"], insert["Actual Rows"]) == ("Insert", 1)
    r = client.patch("/w_items?id=eq.1", json={"name": "patched"}, headers=headers)
    update = next(n for n in nodes(plan_of(r)) if n["Node Type"] == "ModifyTable")
    assert (update["Operation"], update["Actual Rows"]) == ("Update", 1)
    r = client.delete("/w_items", headers=headers)
    delete = next(n for n in nodes(plan_of(r)) if n["Node Type"] == "ModifyTable")
    assert (delete["Operation"], delete["Actual Rows"]) == ("Delete", 3)
    assert _writes(db) == before


def test_analyze_runs_the_write_so_its_errors_are_the_writes(client: Client) -> None:
    accept = "application/vnd.pgrst.plan; options=analyze"
    r = client.post("/w_items", json={"id": 1, "name": "again"}, headers={"Accept": accept})
    assert_error(
        r, 409, "23505", 'duplicate key value violates unique constraint "w_items_pkey"', "Key (id)=(1) already exists."
    )
    # Explained only, the same insert is planned, not run.
    r = client.post("/w_items", json={"id": 1, "name": "again"}, headers={"Accept": "application/vnd.pgrst.plan"})
    assert_plan_headers(r, PLAN_TEXT)


# Functions ----------------------------------------------------------------------------


def test_the_total_cost_of_a_function_call(client: Client) -> None:
    r = client.get("/rpc/e_projects_of?client=1&id=in.(1,2,3)", headers={"Accept": "application/vnd.pgrst.plan+json"})
    plan = plan_of(r)
    assert_plan_headers(r, PLAN_JSON)
    assert plan["Total Cost"] > 0


@pytest.mark.parametrize("url", ["/rpc/e_projects_of?client=1", "/rpc/e_projects_of?client=1&id=eq.1"])
def test_sql_functions_are_inlined(client: Client, url: str) -> None:
    r = client.get(url, headers={"Accept": "application/vnd.pgrst.plan"})
    assert_plan_headers(r, PLAN_TEXT)
    assert "e_projects_of" not in r.get_data(as_text=True)
    assert "on e_projects" in r.get_data(as_text=True)


def test_a_scalar_function(client: Client) -> None:
    r = client.get("/rpc/r_add?a=3&b=4", headers={"Accept": "application/vnd.pgrst.plan+json"})
    assert_plan_headers(r, PLAN_JSON)
    assert plan_of(r)["Node Type"] == "Aggregate"


def test_post_to_a_volatile_function_with_analyze_leaves_nothing_behind(client: Client, db: Rows) -> None:
    headers = {**PLN, "Accept": "application/vnd.pgrst.plan+json; options=analyze"}
    r = client.post("/rpc/add_pl", json={"name": "Go", "rank": 19}, headers=headers)
    assert_plan_headers(
        r, 'application/vnd.pgrst.plan+json; for="application/json"; options=analyze; charset=utf-8', "pln"
    )
    assert plan_of(r)["Actual Loops"] == 1
    assert db("SELECT name FROM pln.tiobe_pls ORDER BY name") == [("C",), ("Java",), ("Python",)]


def test_a_jwt_claims_result_is_explained_not_signed(make_client: Callable[..., Client]) -> None:
    client = make_client(db_plan_enabled=True, jwt_secret=None)
    r = client.get("/rpc/login?email=a@b.c&pass=right", headers={"Accept": "application/vnd.pgrst.plan"})
    assert_plan_headers(r, PLAN_TEXT)
    assert r.get_data(as_text=True).startswith("Aggregate")


def test_max_affected_on_a_single_row_function_is_still_pgrst128(client: Client) -> None:
    headers = {"Accept": "application/vnd.pgrst.plan", "Prefer": "handling=strict, max-affected=1"}
    r = client.get("/rpc/r_add?a=1&b=2", headers=headers)
    assert_error(
        r,
        400,
        "PGRST128",
        "Function must return SETOF or TABLE when max-affected preference is used with handling=strict",
    )
