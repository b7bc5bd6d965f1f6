"""POST, PATCH, PUT and DELETE on tables and views, as PostgREST v16 answers them.

The objects live in tests/fixtures/writes.sql (schema test, names w_*). Every test
starts from the same rows (test.w_reset(), run as the superuser), and reads the
tables back through a superuser connection to prove what was, or was not, written.
Expected statuses, headers and bodies follow PostgREST's own specs
(test/spec/Feature/Query/{Insert,Update,Delete,Upsert,Singular}Spec.hs,
Preferences/MaxAffectedSpec.hs, RollbackSpec.hs, OptionsSpec.hs) and its
Response.hs / MainTx.hs / Payload.hs.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from werkzeug.test import Client

from tests.conftest import Server, assert_error, bearer, database, make_config, token

JSON = "application/json; charset=utf-8"
SINGULAR = "application/vnd.pgrst.object+json"
SINGULAR_CT = "application/vnd.pgrst.object+json; charset=utf-8"
ALICE = bearer(role="pgwsgi_user", sub="alice")

Rows = Callable[..., list[tuple[Any, ...]]]


# Fixtures ----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def fresh_rows(pg_server: Server, test_db: str) -> None:
    """The seed rows and sequences, restored before each test."""
    with psycopg.connect(pg_server.dsn(test_db), autocommit=True) as conn:
        conn.execute("SELECT test.w_reset()")


@pytest.fixture
def db(pg_server: Server, test_db: str) -> Iterator[Rows]:
    """Read back through a superuser connection (no RLS, no privileges in the way)."""
    conn = psycopg.connect(pg_server.dsn(test_db), autocommit=True)

    def rows(query: str, params: Any = None) -> list[tuple[Any, ...]]:
        return conn.execute(query, params).fetchall()

    yield rows
    conn.close()


# Helpers ------------------------------------------------------------------------


def send(
    client: Client,
    method: str,
    url: str,
    body: Any = None,
    *,
    prefer: str | None = None,
    ctype: str | None = "application/json",
    **headers: str,
):  # noqa: ANN201 - werkzeug TestResponse
    """One request; BODY is JSON-encoded unless it is already str/bytes."""
    hdrs: list[tuple[str, str]] = []
    if prefer is not None:
        hdrs.append(("Prefer", prefer))
    if body is not None and not isinstance(body, (str, bytes)):
        body = json.dumps(body)
    if body is not None and ctype is not None:
        hdrs.append(("Content-Type", ctype))
    hdrs.extend(headers.items())
    return client.open(url, method=method, data=body, headers=hdrs)


def post(client: Client, url: str, body: Any, **kw: Any):  # noqa: ANN201
    return send(client, "POST", url, body, **kw)


def patch(client: Client, url: str, body: Any, **kw: Any):  # noqa: ANN201
    return send(client, "PATCH", url, body, **kw)


def put(client: Client, url: str, body: Any, **kw: Any):  # noqa: ANN201
    return send(client, "PUT", url, body, **kw)


def delete(client: Client, url: str, **kw: Any):  # noqa: ANN201
    return send(client, "DELETE", url, None, **kw)


def assert_created_empty(r: Any) -> None:
    """201 without a body (H-CT-ON-EMPTY): no Content-Type, `Content-Length: 0`."""
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.get_data() == b""
    assert "Content-Type" not in r.headers
    assert r.headers["Content-Length"] == "0"


def assert_no_content(r: Any) -> None:
    """204 (H-CT-ON-EMPTY): no body, no Content-Type, no Content-Length."""
    assert r.status_code == 204, r.get_data(as_text=True)
    assert r.get_data() == b""
    assert "Content-Type" not in r.headers
    assert "Content-Length" not in r.headers


def assert_json(r: Any, status: int, text: str | None = None) -> Any:
    """A JSON body with its Content-Type and exact Content-Length; returns the decoded body."""
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.headers["Content-Type"] == JSON
    data = r.get_data()
    assert r.headers["Content-Length"] == str(len(data))
    if text is not None:
        assert data.decode() == text
    return json.loads(data)


def items(db: Rows) -> list[tuple[Any, ...]]:
    return db("SELECT id, name, qty, note FROM test.w_items ORDER BY id")


SEED_ITEMS = [(1, "apple", 3, "red"), (2, "banana", 0, "none"), (3, "cherry", 10, None)]


# POST: bodies ---------------------------------------------------------------------


def test_post_one_object_is_201_without_body(client: Client, db: Rows) -> None:
    r = post(client, "/w_items", {"name": "date", "qty": 2, "price": "1.25"})
    assert_created_empty(r)
    assert r.headers["Content-Range"] == "*/*"
    assert "Location" not in r.headers
    assert "Preference-Applied" not in r.headers
    assert "Content-Profile" not in r.headers
    assert r.headers["Vary"] == "Accept, Prefer, Range"
    # Keys not given take the column defaults; the generated columns are computed.
    assert db(
        "SELECT id, name, qty, price::text, total::text, ticket, note, created_at IS NOT NULL FROM test.w_items WHERE id = 4"
    ) == [(4, "date", 2, "1.25", "2.50", 103, "none", True)]


def test_post_without_content_type_is_json(client: Client, db: Rows) -> None:
    r = post(client, "/w_items", {"name": "date"}, ctype=None)
    assert_created_empty(r)
    assert db("SELECT name FROM test.w_items WHERE id = 4") == [("date",)]


def test_post_array_is_one_bulk_insert_with_representation(client: Client, db: Rows) -> None:
    r = post(
        client,
        "/w_items?select=id,name,qty",
        [{"name": "elder", "qty": 1}, {"name": "fig", "qty": 2}],
        prefer="return=representation",
    )
    assert_json(r, 201, '[{"id":4,"name":"elder","qty":1}, \n {"id":5,"name":"fig","qty":2}]')
    assert r.headers["Content-Range"] == "*/*"
    assert r.headers["Preference-Applied"] == "return=representation"
    assert "Location" not in r.headers
    assert db("SELECT id, name FROM test.w_items WHERE id > 3 ORDER BY id") == [(4, "elder"), (5, "fig")]


def test_post_empty_array_inserts_nothing(client: Client, db: Rows) -> None:
    assert_created_empty(post(client, "/w_items", []))
    r = post(client, "/w_items", [], prefer="return=representation")
    assert assert_json(r, 201, "[]") == []
    assert r.headers["Content-Range"] == "*/*"
    assert items(db) == SEED_ITEMS


def test_post_empty_object_inserts_a_row_of_defaults(client: Client, db: Rows) -> None:
    r = post(client, "/w_nopk", {}, prefer="return=representation")
    assert assert_json(r, 201) == [{"a": None, "b": "bee"}]
    assert_created_empty(post(client, "/w_nopk", [{}, {}]))
    assert db("SELECT count(*) FROM test.w_nopk WHERE a IS NULL AND b = 'bee'") == [(3,)]


def test_post_json_scalar_is_treated_as_empty_array(client: Client, db: Rows) -> None:
    # T-POST-ARRAY-KEYS: non-object, non-array JSON is truncated to [].
    assert_created_empty(post(client, "/w_items", "5"))
    assert items(db) == SEED_ITEMS


@pytest.mark.parametrize(
    "body",
    [
        [{"name": "elder", "qty": 1}, {"name": "fig"}],
        [{"name": "elder"}, {"name": "fig", "note": "n"}],
        [{"name": "elder"}, 123, "fig"],
        [7, {"name": "elder"}],
    ],
)
def test_post_array_keys_must_match(client: Client, db: Rows, body: list[Any]) -> None:
    r = post(client, "/w_items", body)
    assert_error(r, 400, "PGRST102", "All object keys must match")
    assert items(db) == SEED_ITEMS


@pytest.mark.parametrize("body", ["}{ x = 2", "", '{"name": '])
def test_post_invalid_json(client: Client, db: Rows, body: str) -> None:
    r = post(client, "/w_items", body)
    assert_error(r, 400, "PGRST102", "Empty or invalid json")
    assert r.headers["Content-Length"] == "80"
    assert items(db) == SEED_ITEMS


def test_post_unknown_key_is_pgrst204(client: Client, db: Rows) -> None:
    r = post(client, "/w_items", {"name": "date", "colour": "brown"})
    assert_error(r, 400, "PGRST204", "Could not find the 'colour' column of 'w_items' in the schema cache")
    assert items(db) == SEED_ITEMS


def test_post_to_unknown_table_is_404(client: Client) -> None:
    r = post(client, "/w_nothing_here?columns=helicopter", {"a": 1})
    assert r.status_code == 404
    assert r.get_json()["code"] == "PGRST205"
    assert r.get_json()["message"] == "Could not find the table 'test.w_nothing_here' in the schema cache"


# POST: ?columns, missing=default ------------------------------------------------


def test_post_columns_takes_only_those_keys(client: Client, db: Rows) -> None:
    # Q-COLUMNS: other keys ignored, objects need not share keys, absent keys are NULL,
    # columns not listed take their defaults.
    r = post(
        client,
        "/w_items?columns=name,price&select=id,name,qty,price,note",
        [{"name": "grape", "price": 2, "junk": 1, "id": 99}, {"name": "kiwi", "other": "x"}],
        prefer="return=representation",
    )
    assert assert_json(r, 201) == [
        {"id": 4, "name": "grape", "qty": 1, "price": 2.00, "note": "none"},
        {"id": 5, "name": "kiwi", "qty": 1, "price": None, "note": "none"},
    ]
    assert db("SELECT id, name FROM test.w_items WHERE id > 3 ORDER BY id") == [(4, "grape"), (5, "kiwi")]


def test_post_missing_default_takes_a_domains_default(client: Client) -> None:
    r = post(
        client,
        "/w_tasks?columns=id,status,note",
        [{"id": 1}, {"id": 2, "status": "done"}],
        prefer="return=representation, missing=default",
    )
    assert assert_json(r, 201) == [
        {"id": 1, "status": "new", "note": None},
        {"id": 2, "status": "done", "note": None},
    ]


def test_post_columns_with_unknown_name_is_pgrst204(client: Client, db: Rows) -> None:
    r = post(client, "/w_items?columns=name,helicopter", [{"name": "grape"}])
    assert_error(r, 400, "PGRST204", "Could not find the 'helicopter' column of 'w_items' in the schema cache")
    assert items(db) == SEED_ITEMS


def test_post_missing_default_fills_absent_keys_with_defaults(client: Client, db: Rows) -> None:
    r = post(
        client,
        "/w_items?columns=id,name,qty,note&select=id,name,qty,note",
        [{"name": "lime"}, {"id": 50, "name": "mango", "qty": 7, "note": None}],
        prefer="return=representation, missing=default",
    )
    # The identity column gets nextval, the others their DEFAULT; an explicit null stays null.
    assert assert_json(r, 201) == [
        {"id": 4, "name": "lime", "qty": 1, "note": "none"},
        {"id": 50, "name": "mango", "qty": 7, "note": None},
    ]
    assert r.headers["Preference-Applied"] == "missing=default, return=representation"
    assert db("SELECT id, ticket FROM test.w_items WHERE id > 3 ORDER BY id") == [(4, 103), (50, 104)]


def test_post_without_missing_default_absent_keys_are_null(client: Client, db: Rows) -> None:
    r = post(client, "/w_items?columns=id,name", [{"name": "lime"}, {"id": 50, "name": "mango"}])
    assert_error(
        r,
        400,
        "23502",
        'null value in column "id" of relation "w_items" violates not-null constraint',
        r.get_json()["details"],
    )
    assert r.get_json()["details"].startswith("Failing row contains (null, lime, 1, null, null, ")
    assert items(db) == SEED_ITEMS


# POST: other media types ----------------------------------------------------------


def test_post_csv(client: Client, db: Rows) -> None:
    r = post(
        client,
        "/w_items?select=name,qty,note",
        "name,qty,note\nkiwi,4,NULL\nlime,5,",
        ctype="text/csv",
        prefer="return=representation",
    )
    # Unquoted NULL is null, an empty field is "".
    assert assert_json(r, 201) == [{"name": "kiwi", "qty": 4, "note": None}, {"name": "lime", "qty": 5, "note": ""}]
    assert db("SELECT name, note FROM test.w_items WHERE id > 3 ORDER BY id") == [("kiwi", None), ("lime", "")]


def test_post_csv_with_ragged_lines(client: Client, db: Rows) -> None:
    r = post(client, "/w_items", "name,qty\nkiwi,4\nlime", ctype="text/csv")
    assert_error(r, 400, "PGRST102", "All lines must have same number of fields")
    assert items(db) == SEED_ITEMS


def test_post_form_urlencoded(client: Client, db: Rows) -> None:
    r = post(
        client,
        "/w_items?select=name,qty,note",
        "name=mango&qty=6&note=a+b%21",
        ctype="application/x-www-form-urlencoded",
        prefer="return=representation",
    )
    assert assert_json(r, 201) == [{"name": "mango", "qty": 6, "note": "a b!"}]
    assert db("SELECT name, qty, note FROM test.w_items WHERE id = 4") == [("mango", 6, "a b!")]


def test_post_other_content_type_is_not_acceptable(client: Client, db: Rows) -> None:
    r = post(client, "/w_items", "name=x", ctype="text/plain")
    assert_error(r, 400, "PGRST102", "Content-Type not acceptable: text/plain")
    assert items(db) == SEED_ITEMS


def test_post_csv_response(client: Client) -> None:
    r = post(
        client,
        "/w_items?select=name,qty",
        "name,qty\nkiwi,4",
        ctype="text/csv",
        prefer="return=representation",
        Accept="text/csv",
    )
    assert r.status_code == 201
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert r.get_data(as_text=True) == "name,qty\nkiwi,4"


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("POST", "/w_items?select=id", {"name": "plum"}),
        ("PATCH", "/w_items?id=eq.1&select=id", {"note": "x"}),
        ("PUT", "/w_items?id=eq.1&select=id", {"id": 1, "name": "x"}),
        ("DELETE", "/w_items?id=eq.1&select=id", None),
    ],
)
def test_representation_names_the_default_schema(client: Client, method: str, url: str, body: Any) -> None:
    # Two schemas are exposed, so the default one counts as negotiated (as on GET):
    # Content-Profile goes with the Content-Type of a representation, and only then.
    r = send(client, method, url, body, prefer="return=representation")
    assert r.status_code in (200, 201)
    assert r.headers.get("Content-Profile") == "test"
    r = send(client, method, url, body, prefer="return=minimal")
    assert r.status_code in (201, 204)
    assert "Content-Profile" not in r.headers


def test_post_by_content_profile_writes_the_other_schema(client: Client, db: Rows) -> None:
    r = post(
        client,
        "/w_things",
        {"id": 2, "label": "second"},
        prefer="return=representation",
        **{"Content-Profile": "other"},
    )
    assert assert_json(r, 201) == [{"id": 2, "label": "second"}]
    content_profile = r.headers.get("Content-Profile")
    assert db("SELECT id, label FROM other.w_things ORDER BY id") == [(1, "other thing"), (2, "second")]
    # Writes negotiate with Content-Profile; Accept-Profile is not looked at.
    r = post(client, "/w_things", {"id": 3, "label": "third"}, **{"Accept-Profile": "other"})
    assert r.status_code == 404
    assert r.get_json()["code"] == "PGRST205"
    assert db("SELECT count(*) FROM other.w_things") == [(2,)]
    assert content_profile == "other"


def test_post_without_select_privilege_works_only_with_minimal(client: Client, db: Rows) -> None:
    assert_created_empty(post(client, "/w_insertonly", {"id": 1, "v": "x"}, prefer="return=minimal"))
    r = post(client, "/w_insertonly", {"id": 2, "v": "y"}, prefer="return=representation")
    assert_error(r, 401, "42501", "permission denied for table w_insertonly")
    assert db("SELECT id, v FROM test.w_insertonly") == [(1, "x")]


def test_post_into_a_view_that_cannot_take_inserts(client: Client, db: Rows) -> None:
    # PostgreSQL's rewriter refuses it (55000, mapped to 500); PostgREST does not check first.
    r = post(client, "/w_readonly_view", {"id": 9, "name": "x"})
    assert_error(
        r,
        500,
        "55000",
        'cannot insert into view "w_readonly_view"',
        "Views containing DISTINCT are not automatically updatable.",
        "To enable inserting into the view, provide an INSTEAD OF INSERT trigger or an unconditional ON INSERT DO INSTEAD rule.",
    )
    assert items(db) == SEED_ITEMS


def test_post_strict_handling_rejects_unknown_preferences(client: Client, db: Rows) -> None:
    r = post(client, "/w_items", {"name": "plum"}, prefer="return=representation, handling=strict, anything")
    assert_error(r, 400, "PGRST122", "Invalid preferences given with handling=strict", "Invalid preferences: anything")
    assert items(db) == SEED_ITEMS


def test_post_first_preference_of_a_kind_wins(client: Client) -> None:
    r = post(client, "/w_items", {"name": "plum"}, prefer="return=minimal, return=representation")
    assert_created_empty(r)
    assert r.headers["Preference-Applied"] == "return=minimal"


# POST: return=, Location, count, singular -----------------------------------------


def test_post_representation_select_renames_and_casts(client: Client) -> None:
    r = post(client, "/w_items?select=ident:id::text,name", {"name": "plum"}, prefer="return=representation")
    assert assert_json(r, 201, '[{"ident":"4","name":"plum"}]') == [{"ident": "4", "name": "plum"}]
    assert r.headers["Content-Range"] == "*/*"


def test_post_select_ignored_without_representation(client: Client) -> None:
    r = post(client, "/w_items?select=id,name", {"name": "plum"}, prefer="return=minimal")
    assert_created_empty(r)
    assert r.headers["Preference-Applied"] == "return=minimal"


def test_post_headers_only_sends_location(client: Client, db: Rows) -> None:
    # Also when the select does not include the PK.
    r = post(client, "/w_items?select=name", {"name": "plum"}, prefer="return=headers-only")
    assert_created_empty(r)
    assert r.headers["Location"] == "/w_items?id=eq.4"
    assert r.headers["Content-Range"] == "*/*"
    assert r.headers["Preference-Applied"] == "return=headers-only"
    assert db("SELECT name FROM test.w_items WHERE id = 4") == [("plum",)]


def test_post_headers_only_location_with_composite_pk(client: Client) -> None:
    r = post(client, "/w_pairs", {"k1": 7, "k2": "x", "val": "v"}, prefer="return=headers-only")
    assert_created_empty(r)
    assert r.headers["Location"] == "/w_pairs?k1=eq.7&k2=eq.x"


def test_post_location_is_url_encoded(client: Client, db: Rows) -> None:
    r = post(client, "/w_pairs", {"k1": 8, "k2": "a b&c", "val": "v"}, prefer="return=headers-only")
    assert_created_empty(r)
    assert r.headers["Location"] == "/w_pairs?k1=eq.8&k2=eq.a%20b%26c"
    assert db("SELECT val FROM test.w_pairs WHERE k2 = 'a b&c'") == [("v",)]


def test_post_representation_with_embedded_parent(client: Client) -> None:
    r = post(
        client,
        "/w_child?select=id,label,w_parent(name)",
        {"id": 5, "parent_id": 2, "label": "c5"},
        prefer="return=representation",
    )
    assert assert_json(r, 201) == [{"id": 5, "label": "c5", "w_parent": {"name": "two"}}]


@pytest.mark.parametrize(
    ("url", "body", "prefer"),
    [
        ("/w_items", {"name": "plum"}, "return=representation"),
        ("/w_items", {"name": "plum"}, "return=minimal"),
        ("/w_items", {"name": "plum"}, None),
        ("/w_items", [{"name": "plum"}, {"name": "pear"}], "return=headers-only"),
        ("/w_items", [], "return=headers-only"),
        ("/w_nopk", {"a": "9"}, "return=headers-only"),
    ],
)
def test_post_location_only_for_one_row_headers_only_with_pk(client: Client, url: str, body: Any, prefer: str) -> None:
    r = post(client, url, body, prefer=prefer)
    assert r.status_code == 201
    assert "Location" not in r.headers


def test_post_count_exact_gives_total(client: Client) -> None:
    r = post(
        client,
        "/w_items?select=name",
        [{"name": "plum"}, {"name": "pear"}],
        prefer="return=representation, count=exact",
    )
    assert assert_json(r, 201) == [{"name": "plum"}, {"name": "pear"}]
    assert r.headers["Content-Range"] == "*/2"
    assert r.headers["Preference-Applied"] == "return=representation, count=exact"


def test_post_singular_one_row(client: Client) -> None:
    r = post(client, "/w_items?select=id,name", [{"name": "plum"}], prefer="return=representation", Accept=SINGULAR)
    assert r.status_code == 201
    assert r.headers["Content-Type"] == SINGULAR_CT
    assert r.get_json() == {"id": 4, "name": "plum"}


@pytest.mark.parametrize("prefer", ["return=representation", "return=minimal", None])
def test_post_singular_other_than_one_row_is_406_and_rolled_back(client: Client, db: Rows, prefer: str | None) -> None:
    r = post(client, "/w_items", [{"name": "plum"}, {"name": "pear"}], prefer=prefer, Accept=SINGULAR)
    assert_error(r, 406, "PGRST116", "Cannot coerce the result to a single JSON object", "The result contains 2 rows")
    assert items(db) == SEED_ITEMS
    r = post(client, "/w_items", [], prefer=prefer, Accept=SINGULAR)
    assert_error(r, 406, "PGRST116", "Cannot coerce the result to a single JSON object", "The result contains 0 rows")


def test_post_generated_columns_cannot_be_written(client: Client, db: Rows) -> None:
    r = post(client, "/w_items", {"name": "plum", "total": 5})
    assert_error(
        r,
        400,
        "428C9",
        'cannot insert a non-DEFAULT value into column "total"',
        'Column "total" is a generated column.',
    )
    r = post(client, "/w_items", {"name": "plum", "ticket": 5})
    assert_error(
        r,
        400,
        "428C9",
        'cannot insert a non-DEFAULT value into column "ticket"',
        'Column "ticket" is an identity column defined as GENERATED ALWAYS.',
        "Use OVERRIDING SYSTEM VALUE to override.",
    )
    assert items(db) == SEED_ITEMS


# Upsert (POST with resolution) -----------------------------------------------------


def test_merge_duplicates_on_pk_inserts_and_updates(client: Client, db: Rows) -> None:
    r = client.post(
        "/w_items?select=id,name,qty",
        data=json.dumps([{"id": 1, "name": "apricot", "qty": 4}, {"id": 10, "name": "date", "qty": 1}]),
        headers=[
            ("Content-Type", "application/json"),
            ("Prefer", "return=representation"),
            ("Prefer", "resolution=merge-duplicates"),
        ],
    )
    # 201: at least one row was inserted (H-POST-STATUS).
    assert assert_json(r, 201) == [{"id": 1, "name": "apricot", "qty": 4}, {"id": 10, "name": "date", "qty": 1}]
    assert r.headers["Preference-Applied"] == "resolution=merge-duplicates, return=representation"
    # Columns absent from the body are left as they were.
    assert db("SELECT id, name, qty, price::text, note FROM test.w_items WHERE id IN (1, 10) ORDER BY id") == [
        (1, "apricot", 4, "1.50", "red"),
        (10, "date", 1, None, "none"),
    ]


def test_merge_duplicates_all_updated_is_200(client: Client, db: Rows) -> None:
    r = post(
        client,
        "/w_items",
        [{"id": 1, "name": "apricot"}, {"id": 2, "name": "blueberry"}],
        prefer="resolution=merge-duplicates",
    )
    assert r.status_code == 200
    assert r.get_data() == b""
    assert "Content-Type" not in r.headers
    assert r.headers["Content-Length"] == "0"
    assert r.headers["Preference-Applied"] == "resolution=merge-duplicates"
    assert db("SELECT id, name FROM test.w_items ORDER BY id") == [(1, "apricot"), (2, "blueberry"), (3, "cherry")]


def test_merge_duplicates_with_empty_payload_is_200(client: Client) -> None:
    r = post(client, "/w_items", [], prefer="return=representation, resolution=merge-duplicates")
    assert assert_json(r, 200, "[]") == []


def test_ignore_duplicates_on_pk_keeps_existing_rows(client: Client, db: Rows) -> None:
    r = post(
        client,
        "/w_items?select=id,name",
        [{"id": 1, "name": "nope"}, {"id": 11, "name": "elder"}],
        prefer="return=representation, resolution=ignore-duplicates",
    )
    assert assert_json(r, 201) == [{"id": 11, "name": "elder"}]
    assert r.headers["Preference-Applied"] == "resolution=ignore-duplicates, return=representation"
    assert db("SELECT id, name FROM test.w_items WHERE id IN (1, 11) ORDER BY id") == [(1, "apple"), (11, "elder")]
    # Nothing inserted at all is still 201 with ignore-duplicates.
    r = post(
        client, "/w_items", [{"id": 1, "name": "nope"}], prefer="return=representation, resolution=ignore-duplicates"
    )
    assert assert_json(r, 201, "[]") == []


def test_merge_duplicates_on_conflict_unique_column(client: Client, db: Rows) -> None:
    r = post(
        client,
        "/w_uniq?on_conflict=code&select=code,val",
        [{"code": "A", "val": "ALPHA"}, {"code": "C", "val": "gamma"}],
        prefer="return=representation, resolution=merge-duplicates",
    )
    assert assert_json(r, 201) == [{"code": "A", "val": "ALPHA"}, {"code": "C", "val": "gamma"}]
    assert r.headers["Preference-Applied"] == "resolution=merge-duplicates, return=representation"
    assert db("SELECT code, val FROM test.w_uniq ORDER BY code") == [("A", "ALPHA"), ("B", "beta"), ("C", "gamma")]
    assert db("SELECT id FROM test.w_uniq WHERE code = 'A'") == [(1,)]


def test_merge_duplicates_with_missing_default_and_identity(client: Client, db: Rows) -> None:
    r = post(
        client,
        "/w_items?columns=id,name&select=name,note",
        [{"id": 1, "name": "updated"}, {"name": "new"}],
        prefer="return=representation, resolution=merge-duplicates, missing=default",
    )
    assert assert_json(r, 201) == [{"name": "updated", "note": "red"}, {"name": "new", "note": "none"}]
    assert r.headers["Preference-Applied"] == "resolution=merge-duplicates, missing=default, return=representation"
    # The existing row keeps the columns not listed; the new one gets a generated id.
    # (PostgREST evaluates the defaults for every element, so the id drawn for the first
    # element is skipped: which id "new" gets is not pinned down here.)
    assert items(db)[:3] == [(1, "updated", 3, "red"), (2, "banana", 0, "none"), (3, "cherry", 10, None)]
    assert db("SELECT id > 3, name, qty, note FROM test.w_items WHERE name = 'new'") == [(True, "new", 1, "none")]


def test_ignore_duplicates_on_conflict_unique_column(client: Client, db: Rows) -> None:
    r = post(
        client,
        "/w_uniq?on_conflict=code&select=code,val",
        [{"code": "A", "val": "x"}, {"code": "D", "val": "delta"}],
        prefer="return=representation, resolution=ignore-duplicates",
    )
    assert assert_json(r, 201) == [{"code": "D", "val": "delta"}]
    assert r.headers["Preference-Applied"] == "resolution=ignore-duplicates, return=representation"
    assert db("SELECT code, val FROM test.w_uniq ORDER BY code") == [("A", "alpha"), ("B", "beta"), ("D", "delta")]


def test_resolution_without_pk_or_on_conflict_is_a_plain_insert(client: Client, db: Rows) -> None:
    r = post(client, "/w_nopk", [{"a": "1", "b": "x"}], prefer="return=representation, resolution=merge-duplicates")
    assert assert_json(r, 201) == [{"a": "1", "b": "x"}]
    # Not applied, so not listed.
    assert r.headers["Preference-Applied"] == "return=representation"
    assert db("SELECT count(*) FROM test.w_nopk WHERE a = '1'") == [(2,)]


def test_on_conflict_without_resolution_has_no_effect(client: Client, db: Rows) -> None:
    r = post(client, "/w_uniq?on_conflict=code", {"code": "A", "val": "again"})
    assert_error(
        r,
        409,
        "23505",
        'duplicate key value violates unique constraint "w_uniq_code_key"',
        "Key (code)=(A) already exists.",
    )
    assert db("SELECT code, val FROM test.w_uniq ORDER BY code") == [("A", "alpha"), ("B", "beta")]


# PUT ------------------------------------------------------------------------------


def test_put_inserts_with_204_and_no_content_range(client: Client, db: Rows) -> None:
    r = put(client, "/w_pairs?k1=eq.5&k2=eq.e", {"k1": 5, "k2": "e", "val": "E5"})
    assert_no_content(r)
    assert "Content-Range" not in r.headers
    assert "Preference-Applied" not in r.headers
    assert db("SELECT * FROM test.w_pairs WHERE k1 = 5") == [(5, "e", "E5")]


def test_put_updates_with_204(client: Client, db: Rows) -> None:
    r = put(client, "/w_pairs?k1=eq.1&k2=eq.a", [{"k1": 1, "k2": "a", "val": "changed"}], prefer="return=minimal")
    assert_no_content(r)
    assert r.headers["Preference-Applied"] == "return=minimal"
    assert db("SELECT * FROM test.w_pairs ORDER BY k1, k2") == [(1, "a", "changed"), (1, "b", "B1"), (2, "a", "A2")]


def test_put_with_representation_is_201_when_inserted_200_when_updated(client: Client, db: Rows) -> None:
    r = put(client, "/w_pairs?k1=eq.5&k2=eq.e", {"k1": 5, "k2": "e", "val": "E5"}, prefer="return=representation")
    assert assert_json(r, 201, '[{"k1":5,"k2":"e","val":"E5"}]') == [{"k1": 5, "k2": "e", "val": "E5"}]
    assert r.headers["Preference-Applied"] == "return=representation"
    assert "Content-Range" not in r.headers
    r = put(client, "/w_pairs?k1=eq.5&k2=eq.e", {"k1": 5, "k2": "e", "val": "E6"}, prefer="return=representation")
    assert assert_json(r, 200) == [{"k1": 5, "k2": "e", "val": "E6"}]
    assert db("SELECT * FROM test.w_pairs WHERE k1 = 5") == [(5, "e", "E6")]


def test_put_update_sets_only_the_body_columns(client: Client, db: Rows) -> None:
    # INSERT ... ON CONFLICT (pk) DO UPDATE SET <body columns> = EXCLUDED.<...>.
    assert_no_content(put(client, "/w_items?id=eq.1", {"id": 1, "name": "avocado"}))
    assert_no_content(put(client, "/w_items?id=eq.20", {"id": 20, "name": "quince"}))
    assert db("SELECT id, name, qty, note FROM test.w_items WHERE id IN (1, 20) ORDER BY id") == [
        (1, "avocado", 3, "red"),
        (20, "quince", 1, "none"),
    ]


def test_put_uses_only_the_body_row_matching_the_url(client: Client, db: Rows) -> None:
    r = put(
        client,
        "/w_pairs?k1=eq.1&k2=eq.a",
        [{"k1": 1, "k2": "a", "val": "one"}, {"k1": 9, "k2": "z", "val": "nine"}],
        prefer="return=representation",
        Accept=SINGULAR,
    )
    assert r.status_code == 200
    assert r.headers["Content-Type"] == SINGULAR_CT
    assert r.get_json() == {"k1": 1, "k2": "a", "val": "one"}
    assert db("SELECT * FROM test.w_pairs ORDER BY k1, k2") == [(1, "a", "one"), (1, "b", "B1"), (2, "a", "A2")]


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/w_pairs?k1=eq.1&k2=eq.a", {"k1": 1, "k2": "zzz", "val": "v"}),
        ("/w_pairs?k1=eq.1&k2=eq.a", [{"k1": 2, "k2": "a", "val": "v"}]),
        ("/w_items?id=eq.77", {"id": 78, "name": "other id"}),
    ],
)
def test_put_body_pk_must_match_url(client: Client, db: Rows, url: str, body: Any) -> None:
    r = put(client, url, body)
    assert_error(r, 400, "PGRST115", "Payload values do not match URL in primary key column(s)")
    assert db("SELECT * FROM test.w_pairs ORDER BY k1, k2") == [(1, "a", "A1"), (1, "b", "B1"), (2, "a", "A2")]
    assert items(db) == SEED_ITEMS


@pytest.mark.parametrize(
    "url",
    [
        "/w_items",
        "/w_items?name=eq.apple",
        "/w_items?id=gt.1",
        "/w_items?id=not.eq.1",
        "/w_items?id=in.(1)",
        "/w_items?id=eq.1&name=eq.apple",
        "/w_items?or=(id.eq.1)",
        "/w_items?and=(id.eq.1)",
        "/w_pairs?k1=eq.1",
        "/w_pairs?k2=eq.a",
        "/w_nopk?a=eq.1&b=eq.x",
    ],
)
def test_put_filters_must_be_exactly_the_pk_with_eq(client: Client, db: Rows, url: str) -> None:
    bodies = {
        "w_items": {"id": 1, "name": "apple"},
        "w_pairs": {"k1": 1, "k2": "a", "val": "x"},
        "w_nopk": {"a": "1", "b": "x"},
    }
    r = put(client, url, bodies[url[1:].split("?")[0]])
    assert_error(r, 405, "PGRST105", "Filters must include all and only primary key columns with 'eq' operators")
    assert items(db) == SEED_ITEMS


@pytest.mark.parametrize("param", ["limit=1", "offset=1"])
def test_put_with_limit_or_offset_is_pgrst114(client: Client, db: Rows, param: str) -> None:
    r = put(client, f"/w_items?id=eq.1&{param}", {"id": 1, "name": "avocado"})
    assert_error(r, 400, "PGRST114", "limit/offset querystring parameters are not allowed for PUT")
    assert items(db) == SEED_ITEMS


# PATCH ----------------------------------------------------------------------------


def test_patch_with_filter_is_204_with_content_range(client: Client, db: Rows) -> None:
    r = patch(client, "/w_items?qty=gt.0", {"note": "stocked"})
    assert_no_content(r)
    assert r.headers["Content-Range"] == "0-1/*"
    assert "Preference-Applied" not in r.headers
    assert items(db) == [(1, "apple", 3, "stocked"), (2, "banana", 0, "none"), (3, "cherry", 10, "stocked")]


def test_patch_or_tree_with_representation_and_order(client: Client, db: Rows) -> None:
    r = patch(
        client,
        "/w_items?or=(name.eq.apple,and(qty.eq.0,name.like.b*))&select=id,note&order=id.desc",
        {"note": "fruit"},
        prefer="return=representation",
    )
    assert assert_json(r, 200, '[{"id":2,"note":"fruit"}, \n {"id":1,"note":"fruit"}]')
    assert r.headers["Content-Range"] == "0-1/*"
    assert r.headers["Preference-Applied"] == "return=representation"
    assert items(db) == [(1, "apple", 3, "fruit"), (2, "banana", 0, "fruit"), (3, "cherry", 10, None)]


def test_patch_without_filter_updates_every_row(client: Client, db: Rows) -> None:
    r = patch(client, "/w_items", {"note": "all"}, prefer="count=exact")
    assert_no_content(r)
    assert r.headers["Content-Range"] == "0-2/3"
    assert r.headers["Preference-Applied"] == "count=exact"
    assert db("SELECT DISTINCT note FROM test.w_items") == [("all",)]


def test_patch_matching_no_rows(client: Client, db: Rows) -> None:
    r = patch(client, "/w_items?id=eq.999", {"note": "x"})
    assert_no_content(r)
    assert r.headers["Content-Range"] == "*/*"
    r = patch(client, "/w_items?id=eq.999", {"note": "x"}, prefer="return=representation")
    assert assert_json(r, 200, "[]") == []
    assert r.headers["Content-Range"] == "*/*"
    assert r.headers["Content-Length"] == "2"
    assert items(db) == SEED_ITEMS


@pytest.mark.parametrize("body", [{}, [], [{}]])
def test_patch_with_empty_body_updates_nothing(client: Client, db: Rows, body: Any) -> None:
    r = patch(client, "/w_items?select=id", body)
    assert_no_content(r)
    assert r.headers["Content-Range"] == "*/*"
    r = patch(client, "/w_items?select=id", body, prefer="return=representation")
    assert assert_json(r, 200, "[]") == []
    assert r.headers["Content-Range"] == "*/*"
    assert items(db) == SEED_ITEMS


def test_patch_unknown_column_is_pgrst204(client: Client, db: Rows) -> None:
    r = patch(client, "/w_items?id=eq.1", {"colour": "red"})
    assert_error(r, 400, "PGRST204", "Could not find the 'colour' column of 'w_items' in the schema cache")
    r = patch(client, "/w_items?id=eq.1&columns=note,helicopter", {"note": "x"})
    assert_error(r, 400, "PGRST204", "Could not find the 'helicopter' column of 'w_items' in the schema cache")
    assert items(db) == SEED_ITEMS


def test_patch_invalid_json(client: Client, db: Rows) -> None:
    for body in ("}{ x = 2", ""):
        r = patch(client, "/w_items?id=eq.1", body)
        assert_error(r, 400, "PGRST102", "Empty or invalid json")
    assert items(db) == SEED_ITEMS


def test_patch_columns_ignores_other_keys(client: Client, db: Rows) -> None:
    r = patch(
        client,
        "/w_items?id=eq.1&columns=note&select=name,note",
        {"note": "tart", "name": "ignored", "junk": 1},
        prefer="return=representation",
    )
    assert assert_json(r, 200) == [{"name": "apple", "note": "tart"}]
    assert items(db)[0] == (1, "apple", 3, "tart")


def test_patch_missing_default_resets_absent_columns(client: Client, db: Rows) -> None:
    r = patch(
        client,
        "/w_items?id=eq.1&columns=name,note&select=id,name,note",
        {"name": "apricot"},
        prefer="return=representation, missing=default",
    )
    assert assert_json(r, 200) == [{"id": 1, "name": "apricot", "note": "none"}]
    assert r.headers["Preference-Applied"] == "missing=default, return=representation"
    assert items(db)[0] == (1, "apricot", 3, "none")


def test_patch_headers_only_behaves_like_minimal(client: Client) -> None:
    r = patch(client, "/w_items?id=eq.1", {"note": "x"}, prefer="return=headers-only")
    assert_no_content(r)
    assert r.headers["Content-Range"] == "0-0/*"
    assert "Location" not in r.headers
    assert r.headers["Preference-Applied"] == "return=headers-only"


def test_patch_with_a_one_object_array_body(client: Client, db: Rows) -> None:
    # As in PostgREST's MaxAffectedSpec. (With several objects PostgREST's UPDATE ... FROM
    # uses an unspecified one of them, so that is not pinned down here.)
    r = patch(client, "/w_items?id=eq.1", [{"note": "only"}])
    assert_no_content(r)
    assert r.headers["Content-Range"] == "0-0/*"
    assert items(db)[0] == (1, "apple", 3, "only")


def test_patch_embedded_filters_shape_only_the_representation(client: Client, db: Rows) -> None:
    # T-MUT-FILTERS: w_child.label restricts the embedded rows, not the updated parents.
    r = patch(
        client,
        "/w_parent?select=id,name,w_child(label)&w_child.label=eq.nothing&order=id",
        {"name": "renamed"},
        prefer="return=representation",
    )
    assert assert_json(r, 200) == [
        {"id": 1, "name": "renamed", "w_child": []},
        {"id": 2, "name": "renamed", "w_child": []},
    ]
    assert r.headers["Content-Range"] == "0-1/*"
    assert db("SELECT id, name FROM test.w_parent ORDER BY id") == [(1, "renamed"), (2, "renamed")]


def test_patch_strict_handling_rejects_unknown_preferences(client: Client, db: Rows) -> None:
    r = patch(client, "/w_items?id=eq.1", {"note": "x"}, prefer="handling=strict, something, else")
    assert_error(
        r, 400, "PGRST122", "Invalid preferences given with handling=strict", "Invalid preferences: something, else"
    )
    assert items(db) == SEED_ITEMS


def test_patch_ignores_the_range_header(client: Client, db: Rows) -> None:
    r = patch(client, "/w_items", {"note": "all"}, Range="0-0")
    assert_no_content(r)
    assert r.headers["Content-Range"] == "0-2/*"
    assert db("SELECT DISTINCT note FROM test.w_items") == [("all",)]


def test_patch_singular(client: Client, db: Rows) -> None:
    r = patch(
        client, "/w_items?id=eq.1&select=id,note", {"note": "one"}, prefer="return=representation", Accept=SINGULAR
    )
    assert r.status_code == 200
    assert r.headers["Content-Type"] == SINGULAR_CT
    assert r.get_json() == {"id": 1, "note": "one"}
    r = patch(client, "/w_items?qty=gt.0", {"note": "many"}, Accept=SINGULAR)
    assert_error(r, 406, "PGRST116", "Cannot coerce the result to a single JSON object", "The result contains 2 rows")
    assert items(db) == [(1, "apple", 3, "one"), (2, "banana", 0, "none"), (3, "cherry", 10, None)]


# DELETE ---------------------------------------------------------------------------


def test_delete_with_filter_is_204(client: Client, db: Rows) -> None:
    r = delete(client, "/w_items?id=eq.1&select=id")
    assert_no_content(r)
    assert r.headers["Content-Range"] == "*/*"
    assert [row[0] for row in items(db)] == [2, 3]


def test_delete_with_representation_and_count(client: Client, db: Rows) -> None:
    r = delete(client, "/w_items?qty=lte.3&select=id,name&order=id", prefer="return=representation, count=exact")
    assert assert_json(r, 200, '[{"id":1,"name":"apple"}, \n {"id":2,"name":"banana"}]')
    assert r.headers["Content-Range"] == "*/2"
    assert r.headers["Preference-Applied"] == "return=representation, count=exact"
    assert [row[0] for row in items(db)] == [3]


def test_delete_or_tree(client: Client, db: Rows) -> None:
    assert_no_content(delete(client, "/w_pairs?or=(k2.eq.b,k1.eq.2)"))
    assert db("SELECT * FROM test.w_pairs") == [(1, "a", "A1")]


def test_delete_matching_no_rows(client: Client, db: Rows) -> None:
    r = delete(client, "/w_items?id=eq.999", prefer="return=representation")
    assert assert_json(r, 200, "[]") == []
    assert r.headers["Content-Range"] == "*/*"
    assert items(db) == SEED_ITEMS


def test_delete_ignores_the_body(client: Client, db: Rows) -> None:
    r = send(client, "DELETE", "/w_items?id=eq.2", "}{ not json")
    assert_no_content(r)
    assert [row[0] for row in items(db)] == [1, 3]


def test_delete_without_filter_deletes_every_row(client: Client, db: Rows) -> None:
    r = delete(client, "/w_nopk", prefer="count=exact")
    assert_no_content(r)
    assert r.headers["Content-Range"] == "*/3"
    assert db("SELECT count(*) FROM test.w_nopk") == [(0,)]


def test_delete_singular_many_rows_is_406_and_rolled_back(client: Client, db: Rows) -> None:
    r = delete(client, "/w_items?id=lt.3", prefer="return=representation", Accept=SINGULAR)
    assert_error(r, 406, "PGRST116", "Cannot coerce the result to a single JSON object", "The result contains 2 rows")
    assert items(db) == SEED_ITEMS


# Prefer: max-affected -------------------------------------------------------------


def test_max_affected_strict_patch_exceeded_is_rolled_back(client: Client, db: Rows) -> None:
    r = patch(client, "/w_items?qty=gt.0", {"note": "x"}, prefer="handling=strict, max-affected=1")
    assert_error(
        r, 400, "PGRST124", "Query result exceeds max-affected preference constraint", "The query affects 2 rows"
    )
    assert items(db) == SEED_ITEMS


def test_max_affected_strict_delete_exceeded_is_rolled_back(client: Client, db: Rows) -> None:
    r = delete(client, "/w_nopk?b=eq.x", prefer="handling=strict, max-affected=1")
    assert_error(
        r, 400, "PGRST124", "Query result exceeds max-affected preference constraint", "The query affects 2 rows"
    )
    assert db("SELECT count(*) FROM test.w_nopk") == [(3,)]


def test_max_affected_strict_within_limit(client: Client, db: Rows) -> None:
    r = delete(client, "/w_nopk?b=eq.x", prefer="handling=strict, max-affected=2")
    assert_no_content(r)
    assert r.headers["Preference-Applied"] == "handling=strict, max-affected=2"
    assert db("SELECT a FROM test.w_nopk") == [("3",)]


def test_max_affected_ignored_without_strict_handling(client: Client, db: Rows) -> None:
    r = patch(client, "/w_items?qty=gt.0", {"note": "x"}, prefer="max-affected=1")
    assert_no_content(r)
    assert "Preference-Applied" not in r.headers
    r = delete(client, "/w_nopk?b=eq.x", prefer="handling=lenient, max-affected=1")
    assert_no_content(r)
    assert r.headers["Preference-Applied"] == "handling=lenient"
    assert db("SELECT count(*) FROM test.w_items WHERE note = 'x'") == [(2,)]
    assert db("SELECT a FROM test.w_nopk") == [("3",)]


def test_max_affected_is_not_enforced_on_post(client: Client, db: Rows) -> None:
    r = post(client, "/w_items", [{"name": "plum"}, {"name": "pear"}], prefer="handling=strict, max-affected=1")
    assert_created_empty(r)
    assert r.headers["Preference-Applied"] == "handling=strict"
    assert db("SELECT count(*) FROM test.w_items") == [(5,)]


# Prefer: tx ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "expected"),
    [
        ("POST", "/w_items?select=id,name", {"name": "ghost"}, 201, [{"id": 4, "name": "ghost"}]),
        ("PATCH", "/w_items?id=eq.1&select=id,name", {"name": "ghost"}, 200, [{"id": 1, "name": "ghost"}]),
        ("PUT", "/w_items?id=eq.1&select=id,name", {"id": 1, "name": "ghost"}, 200, [{"id": 1, "name": "ghost"}]),
        ("DELETE", "/w_items?id=eq.1&select=id,name", None, 200, [{"id": 1, "name": "apple"}]),
    ],
)
def test_tx_rollback_answers_normally_but_persists_nothing(
    make_client: Callable[..., Client], db: Rows, method: str, url: str, body: Any, status: int, expected: Any
) -> None:
    client = make_client(db_tx_end="commit-allow-override")
    r = send(client, method, url, body, prefer="return=representation, tx=rollback")
    assert assert_json(r, status) == expected
    assert r.headers["Preference-Applied"] == "return=representation, tx=rollback"
    assert items(db) == SEED_ITEMS


def test_tx_commit_with_allow_override_persists(make_client: Callable[..., Client], db: Rows) -> None:
    client = make_client(db_tx_end="rollback-allow-override")
    r = post(client, "/w_items", {"name": "kept"}, prefer="tx=commit")
    assert_created_empty(r)
    assert r.headers["Preference-Applied"] == "tx=commit"
    r = post(client, "/w_items", {"name": "dropped"})
    assert_created_empty(r)
    assert "Preference-Applied" not in r.headers
    assert db("SELECT name FROM test.w_items WHERE id > 3") == [("kept",)]


def test_tx_preference_ignored_without_override(client: Client, db: Rows) -> None:
    r = post(client, "/w_items", {"name": "kept"}, prefer="tx=rollback")
    assert_created_empty(r)
    assert "Preference-Applied" not in r.headers
    assert db("SELECT name FROM test.w_items WHERE id > 3") == [("kept",)]


def test_db_tx_end_rollback_persists_nothing(make_client: Callable[..., Client], db: Rows) -> None:
    client = make_client(db_tx_end="rollback")
    r = patch(client, "/w_items?id=eq.1", {"name": "ghost"}, prefer="tx=commit")
    assert_no_content(r)
    assert "Preference-Applied" not in r.headers
    assert items(db) == SEED_ITEMS


def test_tx_rollback_still_checks_deferred_constraints(make_client: Callable[..., Client], db: Rows) -> None:
    client = make_client(db_tx_end="commit-allow-override")
    r = post(client, "/w_deferred", {"id": 2, "code": 1}, prefer="return=representation, tx=rollback")
    assert_error(
        r,
        409,
        "23505",
        'duplicate key value violates unique constraint "w_deferred_code_key"',
        "Key (code)=(1) already exists.",
    )
    assert "Preference-Applied" not in r.headers
    assert db("SELECT * FROM test.w_deferred") == [(1, 1)]


def test_deferred_constraint_violated_at_commit(client: Client, db: Rows) -> None:
    r = post(client, "/w_deferred", {"id": 2, "code": 1})
    assert_error(
        r,
        409,
        "23505",
        'duplicate key value violates unique constraint "w_deferred_code_key"',
        "Key (code)=(1) already exists.",
    )
    assert db("SELECT * FROM test.w_deferred") == [(1, 1)]


# Views ----------------------------------------------------------------------------


def test_write_through_auto_updatable_view(client: Client, db: Rows) -> None:
    r = post(client, "/w_items_view", {"name": "fig", "qty": 2}, prefer="return=representation")
    assert assert_json(r, 201) == [{"id": 4, "name": "fig", "qty": 2, "price": None}]
    r = post(client, "/w_items_view", {"name": "guava"}, prefer="return=headers-only")
    assert_created_empty(r)
    assert r.headers["Location"] == "/w_items_view?id=eq.5"
    r = patch(client, "/w_items_view?id=eq.1", {"qty": 7})
    assert_no_content(r)
    assert r.headers["Content-Range"] == "0-0/*"
    assert_no_content(delete(client, "/w_items_view?id=eq.2"))
    assert db("SELECT id, name, qty FROM test.w_items ORDER BY id") == [
        (1, "apple", 7),
        (3, "cherry", 10),
        (4, "fig", 2),
        (5, "guava", 1),
    ]


def test_write_through_instead_of_triggers(client: Client, db: Rows) -> None:
    r = post(client, "/w_log_view", {"id": 3, "label": "third"}, prefer="return=representation")
    assert assert_json(r, 201) == [{"id": 3, "label": "third"}]
    r = patch(client, "/w_log_view?id=eq.1", {"label": "uno"}, prefer="return=representation")
    assert assert_json(r, 200) == [{"id": 1, "label": "uno"}]
    assert r.headers["Content-Range"] == "0-0/*"
    r = delete(client, "/w_log_view?id=eq.2")
    assert_no_content(r)
    assert r.headers["Content-Range"] == "*/*"
    # The triggers did the writing: the update counted a hit.
    assert db("SELECT id, label, hits FROM test.w_log_base ORDER BY id") == [(1, "uno", 1), (3, "third", 0)]


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/w_items", "OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE"),
        ("/w_pairs", "OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE"),
        ("/w_nopk", "OPTIONS,GET,HEAD,POST,PATCH,DELETE"),
        # Capability, not privileges.
        ("/w_readonly", "OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE"),
        ("/w_items_view", "OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE"),
        ("/w_log_view", "OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE"),
        ("/w_insert_only_view", "OPTIONS,GET,HEAD,POST"),
        ("/w_readonly_view", "OPTIONS,GET,HEAD"),
    ],
)
def test_options_allow(client: Client, path: str, allow: str) -> None:
    r = client.options(path)
    assert r.status_code == 200
    assert r.headers["Allow"] == allow
    assert r.headers["Content-Length"] == "0"
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.get_data() == b""


# Errors from PostgreSQL -----------------------------------------------------------


def test_unique_violation_is_409(client: Client, db: Rows) -> None:
    r = post(client, "/w_uniq", {"code": "A", "val": "again"})
    assert_error(
        r,
        409,
        "23505",
        'duplicate key value violates unique constraint "w_uniq_code_key"',
        "Key (code)=(A) already exists.",
    )
    r = patch(client, "/w_uniq?code=eq.B", {"code": "A"})
    assert r.status_code == 409
    assert db("SELECT code, val FROM test.w_uniq ORDER BY code") == [("A", "alpha"), ("B", "beta")]


def test_foreign_key_violation_is_409(client: Client, db: Rows) -> None:
    r = post(client, "/w_child", {"id": 5, "parent_id": 99, "label": "orphan"})
    assert_error(
        r,
        409,
        "23503",
        'insert or update on table "w_child" violates foreign key constraint "w_child_parent_id_fkey"',
        'Key (parent_id)=(99) is not present in table "w_parent".',
    )
    r = delete(client, "/w_parent?id=eq.1")
    assert_error(
        r,
        409,
        "23503",
        'update or delete on table "w_parent" violates foreign key constraint "w_child_parent_id_fkey" on table "w_child"',
        'Key (id)=(1) is still referenced from table "w_child".',
    )
    assert db("SELECT id FROM test.w_child") == [(1,)]
    assert db("SELECT id FROM test.w_parent ORDER BY id") == [(1,), (2,)]


def test_not_null_violation_is_400(client: Client, db: Rows) -> None:
    r = post(client, "/w_child", {"id": 5, "label": "x"})
    assert_error(
        r,
        400,
        "23502",
        'null value in column "parent_id" of relation "w_child" violates not-null constraint',
        "Failing row contains (5, null, x).",
    )
    r = post(client, "/w_items", {"qty": 1})
    assert r.status_code == 400
    body = r.get_json()
    assert body["code"] == "23502"
    assert body["message"] == 'null value in column "name" of relation "w_items" violates not-null constraint'
    assert re.fullmatch(r"Failing row contains \(4, null, 1, null, null, 103, none, .+\)\.", body["details"])
    assert db("SELECT count(*) FROM test.w_child") == [(1,)]
    assert items(db) == SEED_ITEMS


def test_check_violation_is_400(client: Client, db: Rows) -> None:
    r = patch(client, "/w_items?id=eq.1", {"qty": -1})
    assert r.status_code == 400
    body = r.get_json()
    assert body["code"] == "23514"
    assert body["message"] == 'new row for relation "w_items" violates check constraint "w_items_qty_check"'
    assert body["details"].startswith("Failing row contains (1, apple, -1, 1.50, -1.50, 100, red, 2024-01-0")
    assert body["hint"] is None
    assert items(db) == SEED_ITEMS


def test_invalid_text_representation_is_400(client: Client, db: Rows) -> None:
    r = post(client, "/w_items", {"name": "plum", "qty": "lots"})
    assert_error(r, 400, "22P02", 'invalid input syntax for type integer: "lots"')
    assert items(db) == SEED_ITEMS


def test_bulk_insert_with_one_bad_row_inserts_none(client: Client, db: Rows) -> None:
    r = post(client, "/w_items", [{"name": "ok", "qty": 1}, {"name": "bad", "qty": -5}])
    assert r.status_code == 400
    assert r.get_json()["code"] == "23514"
    r = post(client, "/w_uniq", [{"code": "X"}, {"code": "A"}, {"code": "Y"}])
    assert r.status_code == 409
    assert r.get_json()["code"] == "23505"
    assert items(db) == SEED_ITEMS
    assert db("SELECT code FROM test.w_uniq ORDER BY code") == [("A",), ("B",)]


def test_rls_with_check_for_a_user(client: Client, db: Rows) -> None:
    r = post(client, "/w_rls?select=owner,body", {"body": "mine"}, prefer="return=representation", **ALICE)
    assert assert_json(r, 201) == [{"owner": "alice", "body": "mine"}]
    r = post(client, "/w_rls", {"owner": "bob", "body": "forged"}, **ALICE)
    assert_error(r, 403, "42501", 'new row violates row-level security policy for table "w_rls"')
    assert "WWW-Authenticate" not in r.headers
    r = patch(client, "/w_rls?id=eq.1", {"owner": "bob"}, **ALICE)
    assert_error(r, 403, "42501", 'new row violates row-level security policy for table "w_rls"')
    # Bob's row is invisible to alice: updating or deleting it affects nothing.
    r = patch(client, "/w_rls?id=eq.2", {"body": "hacked"}, **ALICE)
    assert_no_content(r)
    assert r.headers["Content-Range"] == "*/*"
    assert_no_content(delete(client, "/w_rls?owner=eq.bob", **ALICE))
    assert db("SELECT id, owner, body FROM test.w_rls ORDER BY id") == [
        (1, "alice", "a1"),
        (2, "bob", "b1"),
        (3, "alice", "mine"),
    ]


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("POST", "/w_readonly", {"id": 2, "name": "x"}),
        ("PATCH", "/w_readonly?id=eq.1", {"name": "x"}),
        ("DELETE", "/w_readonly?id=eq.1", None),
        ("PUT", "/w_readonly?id=eq.1", {"id": 1, "name": "x"}),
    ],
)
def test_write_without_privilege(client: Client, db: Rows, method: str, url: str, body: Any) -> None:
    r = send(client, method, url, body)
    assert_error(r, 401, "42501", "permission denied for table w_readonly")
    assert r.headers["WWW-Authenticate"] == "Bearer"
    r = send(client, method, url, body, **ALICE)
    assert_error(r, 403, "42501", "permission denied for table w_readonly")
    assert "WWW-Authenticate" not in r.headers
    assert db("SELECT * FROM test.w_readonly") == [(1, "ro")]


def test_insert_without_sequence_privilege(client: Client, db: Rows) -> None:
    r = post(client, "/w_noseq", {"label": "x"})
    assert_error(r, 401, "42501", "permission denied for sequence w_noseq_id_seq")
    assert r.headers["WWW-Authenticate"] == "Bearer"
    r = post(client, "/w_noseq", {"label": "x"}, **ALICE)
    assert_error(r, 403, "42501", "permission denied for sequence w_noseq_id_seq")
    # With the id given, the sequence is not needed.
    assert_created_empty(post(client, "/w_noseq", {"id": 5, "label": "y"}))
    assert db("SELECT id, label FROM test.w_noseq") == [(5, "y")]


def test_raise_pgrst_from_a_trigger(client: Client, db: Rows) -> None:
    for r in (
        post(client, "/w_guarded", {"id": 2, "label": "teapot"}),
        patch(client, "/w_guarded?id=eq.1", {"label": "teapot"}, prefer="return=representation"),
    ):
        assert r.status_code == 418
        assert r.headers["X-Custom"] == "1"
        assert r.headers["Content-Type"] == JSON
        assert r.get_json() == {"code": "123", "message": "I am a teapot", "details": "Short and stout", "hint": None}
    assert db("SELECT * FROM test.w_guarded") == [(1, "kettle")]


# Row-level security on the demo model ------------------------------------------------

DEMO_SECRET = "demo-only-secret-do-not-use-in-production-0123456789"
DEMO_RESET = """
DELETE FROM private.notes;
INSERT INTO private.notes (id, owner, title, body, is_public) OVERRIDING SYSTEM VALUE VALUES
  (1, 'alice', 'Shopping list',       'Milk, eggs, coffee.',     false),
  (2, 'alice', 'Diary',               'Tried pgwsgi today.',     false),
  (3, 'alice', 'Hello, world',        'This note is public.',    true),
  (4, 'bob',   'Gift ideas',          'A book for Alice.',       false),
  (5, 'bob',   'Bob''s reading list', 'The PostgreSQL manual.',  true);
SELECT setval(pg_get_serial_sequence('private.notes', 'id'), 5);
"""


def demo_auth(role: str, sub: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(secret=DEMO_SECRET, role=role, sub=sub)}"}


DEMO_ALICE = demo_auth("web_user", "alice")
DEMO_ADMIN = demo_auth("web_admin", "admin")


@pytest.fixture(scope="module")
def demo_app(pg_server: Server) -> Iterator[tuple[str, Client]]:
    """The demo schema in its own database, served as the demo configures it."""
    from devtools.demo import load_demo
    from pgwsgi import create_app

    name = f"pgwsgi_demo_writes_{os.getpid()}"
    with database(pg_server, name):
        dsn = load_demo(pg_server.dsn("postgres"), name)
        application = create_app(
            make_config(
                pg_server,
                name,
                db_schemas=("api",),
                db_anon_role="web_anon",
                jwt_secret=DEMO_SECRET,
                db_uri=dsn,
            )
        )
        try:
            yield name, Client(application, use_cookies=False)
        finally:
            application.close()
            with psycopg.connect(pg_server.dsn("postgres"), autocommit=True) as conn:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])


@pytest.fixture
def demo(demo_app: tuple[str, Client], pg_server: Server) -> Iterator[tuple[Client, Rows]]:
    """The demo client with the seed notes restored, and a superuser reader of its database."""
    name, client = demo_app
    conn = psycopg.connect(pg_server.dsn(name), autocommit=True)
    conn.execute(DEMO_RESET)

    def rows(query: str, params: Any = None) -> list[tuple[Any, ...]]:
        return conn.execute(query, params).fetchall()

    yield client, rows
    conn.close()


def notes(rows: Rows) -> list[tuple[Any, ...]]:
    return rows("SELECT id, owner, title FROM private.notes ORDER BY id")


SEED_NOTES = [
    (1, "alice", "Shopping list"),
    (2, "alice", "Diary"),
    (3, "alice", "Hello, world"),
    (4, "bob", "Gift ideas"),
    (5, "bob", "Bob's reading list"),
]


def test_demo_user_posts_a_note_owned_by_herself(demo: tuple[Client, Rows]) -> None:
    client, rows = demo
    r = post(
        client,
        "/notes?select=id,owner,title,is_public",
        {"title": "Groceries"},
        prefer="return=representation",
        **DEMO_ALICE,
    )
    assert assert_json(r, 201) == [{"id": 6, "owner": "alice", "title": "Groceries", "is_public": False}]
    assert notes(rows) == [*SEED_NOTES, (6, "alice", "Groceries")]


def test_demo_user_cannot_post_for_someone_else(demo: tuple[Client, Rows]) -> None:
    client, rows = demo
    r = post(client, "/notes", {"title": "Forged", "owner": "bob"}, **DEMO_ALICE)
    assert_error(r, 403, "42501", 'new row violates row-level security policy for table "notes"')
    assert notes(rows) == SEED_NOTES


def test_demo_user_cannot_change_or_delete_others_notes(demo: tuple[Client, Rows]) -> None:
    client, rows = demo
    r = patch(client, "/notes?id=eq.4", {"title": "hacked"}, **DEMO_ALICE)
    assert_no_content(r)
    assert r.headers["Content-Range"] == "*/*"
    # Bob's public note is visible to alice, but not hers to change.
    r = patch(client, "/notes?id=in.(4,5)", {"title": "hacked"}, prefer="return=representation", **DEMO_ALICE)
    assert assert_json(r, 200, "[]") == []
    r = delete(client, "/notes?owner=eq.bob", prefer="return=representation", **DEMO_ALICE)
    assert assert_json(r, 200, "[]") == []
    assert notes(rows) == SEED_NOTES


def test_demo_user_changes_and_deletes_her_own_notes(demo: tuple[Client, Rows]) -> None:
    client, rows = demo
    r = patch(
        client, "/notes?id=eq.1&select=id,title", {"title": "Shopping"}, prefer="return=representation", **DEMO_ALICE
    )
    assert assert_json(r, 200) == [{"id": 1, "title": "Shopping"}]
    r = patch(client, "/notes?id=eq.1", {"owner": "bob"}, **DEMO_ALICE)
    assert_error(r, 403, "42501", 'new row violates row-level security policy for table "notes"')
    r = delete(client, "/notes?id=eq.2", **DEMO_ALICE)
    assert_no_content(r)
    assert notes(rows) == [(1, "alice", "Shopping"), *SEED_NOTES[2:]]


def test_demo_admin_changes_and_deletes_anyones_notes(demo: tuple[Client, Rows]) -> None:
    client, rows = demo
    r = patch(
        client,
        "/notes?id=eq.4&select=id,owner,title",
        {"title": "Checked"},
        prefer="return=representation",
        **DEMO_ADMIN,
    )
    assert assert_json(r, 200) == [{"id": 4, "owner": "bob", "title": "Checked"}]
    r = delete(client, "/notes?owner=eq.alice", prefer="count=exact", **DEMO_ADMIN)
    assert_no_content(r)
    assert r.headers["Content-Range"] == "*/3"
    assert notes(rows) == [(4, "bob", "Checked"), (5, "bob", "Bob's reading list")]


def test_demo_anonymous_cannot_write(demo: tuple[Client, Rows]) -> None:
    client, rows = demo
    r = post(client, "/notes", {"title": "Spam"})
    assert_error(r, 401, "42501", "permission denied for view notes")
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert notes(rows) == SEED_NOTES
