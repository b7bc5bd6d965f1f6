"""jwt-cookie-name: the token from a cookie, and the CSRF guard on writes (docs/security.md), through HTTP.

Against a database of this module's own: a table the user role may write, a
function that writes, and a view that says who the request runs as.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from werkzeug.test import Client

from pgwsgi.config import ConfigError, apply_db_settings, dump_config, load_config
from tests.conftest import (
    JSON,
    ROOT,
    SECRET,
    Server,
    assert_error,
    bearer,
    client_factory,
    database,
    own_database,
    token,
)

COOKIE = "access_token"
SCHEMA_SQL = """
CREATE SCHEMA ck;
GRANT USAGE ON SCHEMA ck TO pgwsgi_anon, pgwsgi_user;
CREATE TABLE ck.notes (
  id int PRIMARY KEY,
  body text NOT NULL,
  author text DEFAULT current_setting('request.jwt.claims', true)::json ->> 'sub'
);
INSERT INTO ck.notes (id, body, author) VALUES (1, 'first', 'alice');
GRANT SELECT ON ck.notes TO pgwsgi_anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON ck.notes TO pgwsgi_user;
CREATE VIEW ck.me AS
SELECT current_user::text AS role,
       current_setting('request.jwt.claims', true)::json AS claims,
       current_setting('request.cookies', true)::json AS cookies,
       current_setting('request.cookie.access_token', true) AS legacy_cookie;
GRANT SELECT ON ck.me TO pgwsgi_anon, pgwsgi_user;
CREATE FUNCTION ck.add_note(id int, body text) RETURNS int LANGUAGE sql
AS $$ INSERT INTO ck.notes (id, body) VALUES (id, body) RETURNING id $$;
REVOKE EXECUTE ON FUNCTION ck.add_note(int, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ck.add_note(int, text) TO pgwsgi_user;
"""

ALICE = token(role="pgwsgi_user", sub="alice")
MESSAGE = "Cookie-authenticated write refused: the request does not show it comes from this site"
HINT = (
    "Send writes from a page of this origin (browsers then send Sec-Fetch-Site: same-origin), "
    "or send the token in the Authorization header instead of the cookie."
)


@pytest.fixture(scope="module")
def ck_db(pg_server: Server) -> Iterator[str]:
    with own_database(pg_server, "pgwsgi_jwt_cookie") as name:
        with psycopg.connect(pg_server.dsn(name), autocommit=True) as conn:
            conn.execute(SCHEMA_SQL)
        yield name


@pytest.fixture(scope="module")
def make(pg_server: Server, ck_db: str) -> Iterator[Callable[..., Client]]:
    with client_factory(pg_server, ck_db, db_schemas=("ck",), jwt_cookie_name=COOKIE) as factory:
        yield factory


@pytest.fixture
def client(make: Callable[..., Client]) -> Client:
    return make()


@pytest.fixture
def notes(pg_server: Server, ck_db: str) -> Callable[[int], list[tuple[Any, ...]]]:
    """The rows of ck.notes with an id, read as the superuser (not through the API under test)."""

    def read(note_id: int) -> list[tuple[Any, ...]]:
        with psycopg.connect(pg_server.dsn(ck_db), autocommit=True) as conn:
            return conn.execute("SELECT id, body, author FROM ck.notes WHERE id = %s", [note_id]).fetchall()

    return read


def cookie(value: str, **others: str) -> dict[str, str]:
    """A Cookie header with the token cookie set to VALUE, after OTHERS."""
    pairs = [f"{k}={v}" for k, v in others.items()] + [f"{COOKIE}={value}"]
    return {"Cookie": "; ".join(pairs)}


def me(client: Client, **headers: str) -> dict[str, Any]:
    r = client.get("/me", headers={"Accept": "application/vnd.pgrst.object+json", **headers})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


def refused(r: Any, method: str, site: str | None) -> None:
    sent = f"Sec-Fetch-Site: {site}" if site is not None else "no Sec-Fetch-Site header"
    details = f"The {method} request took its token from the '{COOKIE}' cookie and has {sent}."
    assert_error(r, 403, "PGWSGI301", MESSAGE, details, HINT)
    assert "WWW-Authenticate" not in r.headers


# -- the key ----------------------------------------------------------------------------------


def test_the_key_comes_from_the_file_or_environment_only() -> None:
    assert load_config(env={}).jwt_cookie_name is None
    config = load_config(env={"PGRST_JWT_COOKIE_NAME": "__Host-access_token"})
    assert config.jwt_cookie_name == "__Host-access_token"
    assert load_config(env={"PGRST_JWT_COOKIE_NAME": ""}).jwt_cookie_name is None
    with pytest.raises(ConfigError, match=r'jwt-cookie-name: "a b" is not a cookie name') as raised:
        load_config(env={"PGRST_JWT_COOKIE_NAME": "a b"})
    assert raised.value.key == "jwt-cookie-name"
    # Not on PostgREST's in-database allow-list: a pgrst.* setting cannot turn it on or change it.
    assert apply_db_settings(config, {"pgrst.jwt_cookie_name": "other"}) == config
    assert 'jwt-cookie-name = "__Host-access_token"' in dump_config(config)


# -- reading the token ------------------------------------------------------------------------


def test_the_cookies_token_gives_its_role_and_claims(client: Client) -> None:
    found = me(client, **cookie(ALICE, theme="dark"))
    assert found["role"] == "pgwsgi_user"
    assert found["claims"] == {"role": "pgwsgi_user", "sub": "alice"}
    # Every cookie still reaches the database, the token's included, as PostgREST passes them.
    assert found["cookies"] == {"theme": "dark", COOKIE: ALICE}
    assert found["legacy_cookie"] is None


def test_without_the_cookie_the_request_is_anonymous(client: Client) -> None:
    assert me(client)["role"] == "pgwsgi_anon"
    found = me(client, Cookie="theme=dark; other_token=" + ALICE)
    assert (found["role"], found["claims"]) == ("pgwsgi_anon", {"role": "pgwsgi_anon"})


def test_an_empty_cookie_is_no_token(client: Client, notes: Callable[[int], list]) -> None:
    assert me(client, **cookie(""))["role"] == "pgwsgi_anon"
    # Anonymous, so not a cookie-authenticated write: the database refuses it, not the CSRF guard.
    r = client.post("/notes", json={"id": 90, "body": "x"}, headers=cookie(""))
    assert_error(r, 401, "42501", "permission denied for table notes")
    assert notes(90) == []


def test_an_invalid_cookie_token_is_401_as_for_the_header(client: Client) -> None:
    bad = token(secret="another-secret-that-is-long-enough!!", role="pgwsgi_user")
    r = client.get("/me", headers=cookie(bad))
    assert_error(r, 401, "PGRST301", "No suitable key or wrong key type", "None of the keys was able to decode the JWT")
    assert r.headers["WWW-Authenticate"] == (
        'Bearer error="invalid_token", error_description="No suitable key or wrong key type"'
    )
    r = client.get("/me", headers=cookie("not-a-jwt"))
    assert_error(r, 401, "PGRST301", "Expected 3 parts in JWT; got 1")


def test_an_expired_cookie_token_is_401(client: Client) -> None:
    old = token(role="pgwsgi_user", exp=int(time.time()) - 60)
    r = client.get("/notes", headers=cookie(old))
    assert_error(r, 401, "PGRST303", "JWT expired")
    assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token", error_description="JWT expired"'


def test_the_authorization_header_beats_the_cookie(client: Client) -> None:
    found = me(client, **bearer(role="pgwsgi_user", sub="bob"), **cookie(ALICE))
    assert found["claims"] == {"role": "pgwsgi_user", "sub": "bob"}
    # The cookie is not even read: its bad token does not matter.
    assert me(client, **bearer(role="pgwsgi_user", sub="bob"), **cookie("not-a-jwt"))["role"] == "pgwsgi_user"


def test_a_non_bearer_authorization_header_also_beats_the_cookie(client: Client) -> None:
    # PostgREST ignores other schemes: the request is anonymous, whatever the cookie holds.
    assert me(client, Authorization="Basic dXNlcjpwYXNz", **cookie(ALICE))["role"] == "pgwsgi_anon"


def test_the_key_unset_ignores_the_cookie(make: Callable[..., Client], notes: Callable[[int], list]) -> None:
    client = make(jwt_cookie_name=None)
    assert me(client, **cookie(ALICE))["role"] == "pgwsgi_anon"
    assert client.get("/notes?id=eq.1", headers=cookie(ALICE)).headers["Vary"] == "Accept, Prefer, Range"
    assert me(client, **cookie("not-a-jwt"))["role"] == "pgwsgi_anon"
    # No guard either: the anonymous write is the database's to refuse, as before.
    r = client.post("/notes", json={"id": 91, "body": "x"}, headers=cookie(ALICE))
    assert_error(r, 401, "42501", "permission denied for table notes")
    assert notes(91) == []


def test_legacy_gucs_still_carry_every_cookie(make: Callable[..., Client]) -> None:
    found = me(make(db_use_legacy_gucs=True), **cookie(ALICE))
    assert (found["role"], found["legacy_cookie"]) == ("pgwsgi_user", ALICE)


# -- the CSRF guard ---------------------------------------------------------------------------

# Each write; 0 stands for the id of the row it touches (_prepare makes one for PUT, PATCH and DELETE).
WRITES: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "POST": ("POST", "/notes", {"id": 0, "body": "new"}),
    "PUT": ("PUT", "/notes?id=eq.0", {"id": 0, "body": "new"}),
    "PATCH": ("PATCH", "/notes?id=eq.0", {"body": "new"}),
    "DELETE": ("DELETE", "/notes?id=eq.0", None),
    "POST-rpc": ("POST", "/rpc/add_note", {"id": 0, "body": "new"}),
}
_ids = iter(range(1000, 100000))  # one row of its own per test


def _write(client: Client, kind: str, note_id: int, headers: dict[str, str]) -> Any:
    method, url, body = WRITES[kind]
    url = url.replace("eq.0", f"eq.{note_id}")
    if body is not None:
        body = {k: (note_id if k == "id" else v) for k, v in body.items()}
    return client.open(url, method=method, json=body, headers=headers)


def _prepare(pg_server: Server, ck_db: str, kind: str) -> tuple[int, list[tuple[Any, ...]]]:
    """A fresh id for a write of KIND; PATCH, PUT and DELETE find a row there. Returns it and the rows before."""
    note_id = next(_ids)
    with psycopg.connect(pg_server.dsn(ck_db), autocommit=True) as conn:
        conn.execute("DELETE FROM ck.notes WHERE id = %s", [note_id])
        if kind in ("PATCH", "PUT", "DELETE"):
            conn.execute("INSERT INTO ck.notes (id, body, author) VALUES (%s, 'old', 'alice')", [note_id])
        return note_id, conn.execute("SELECT id, body, author FROM ck.notes WHERE id = %s", [note_id]).fetchall()


@pytest.mark.parametrize("site", [None, "cross-site", "same-site", "none"])
@pytest.mark.parametrize("kind", sorted(WRITES))
def test_a_cookie_write_not_from_this_origin_is_refused_and_writes_nothing(
    client: Client, pg_server: Server, ck_db: str, notes: Callable[[int], list], kind: str, site: str | None
) -> None:
    note_id, before = _prepare(pg_server, ck_db, kind)
    headers = cookie(ALICE) if site is None else {**cookie(ALICE), "Sec-Fetch-Site": site}
    r = _write(client, kind, note_id, headers)
    refused(r, WRITES[kind][0], site)
    assert notes(note_id) == before


@pytest.mark.parametrize("kind", sorted(WRITES))
def test_a_cookie_write_from_this_origin_succeeds(
    client: Client, pg_server: Server, ck_db: str, notes: Callable[[int], list], kind: str
) -> None:
    note_id, _ = _prepare(pg_server, ck_db, kind)
    r = _write(client, kind, note_id, {**cookie(ALICE), "Sec-Fetch-Site": "same-origin"})
    assert r.status_code in (200, 201, 204), r.get_data(as_text=True)
    expected = {
        "POST": [(note_id, "new", "alice")],
        "POST-rpc": [(note_id, "new", "alice")],
        "PUT": [(note_id, "new", "alice")],
        "PATCH": [(note_id, "new", "alice")],
        "DELETE": [],
    }
    assert notes(note_id) == expected[kind]


@pytest.mark.parametrize("kind", sorted(WRITES))
def test_a_write_with_the_authorization_header_needs_no_sec_fetch_site(
    client: Client, pg_server: Server, ck_db: str, notes: Callable[[int], list], kind: str
) -> None:
    note_id, _ = _prepare(pg_server, ck_db, kind)
    # The cookie is there too (a browser sends it), but the header wins: no guard.
    r = _write(client, kind, note_id, {**bearer(role="pgwsgi_user", sub="bob"), **cookie(ALICE)})
    assert r.status_code in (200, 201, 204), r.get_data(as_text=True)
    # A created row takes its author from the header's token; PUT and PATCH keep the row's.
    author = "bob" if kind in ("POST", "POST-rpc") else "alice"
    assert notes(note_id) == ([] if kind == "DELETE" else [(note_id, "new", author)])


def test_the_guard_comes_before_the_token_is_checked(client: Client, notes: Callable[[int], list]) -> None:
    # A cross-site write learns nothing about the cookie: 403 whether its token is good or not.
    r = client.post(
        "/notes", json={"id": 92, "body": "x"}, headers={**cookie("not-a-jwt"), "Sec-Fetch-Site": "cross-site"}
    )
    refused(r, "POST", "cross-site")
    r = client.post(
        "/notes", json={"id": 92, "body": "x"}, headers={**cookie("not-a-jwt"), "Sec-Fetch-Site": "same-origin"}
    )
    assert_error(r, 401, "PGRST301", "Expected 3 parts in JWT; got 1")
    assert notes(92) == []


@pytest.mark.parametrize("site", [None, "cross-site"])
def test_cookie_reads_are_allowed_from_anywhere(client: Client, site: str | None) -> None:
    headers = cookie(ALICE) if site is None else {**cookie(ALICE), "Sec-Fetch-Site": site}
    r = client.get("/notes?id=eq.1", headers=headers)
    assert (r.status_code, r.get_json()) == (200, [{"id": 1, "body": "first", "author": "alice"}])
    # Whose rows they are depends on the cookie: a cache that honours Vary keys on it.
    assert r.headers["Vary"] == "Accept, Prefer, Range, Cookie"
    assert client.head("/notes?id=eq.1", headers=headers).status_code == 200
    # A writing function called with GET fails in its read-only transaction (25006), not in the guard.
    assert client.get("/rpc/add_note?id=1&body=x", headers=headers).get_json()["code"] == "25006"
    assert client.options("/notes", headers=headers).status_code == 200


def test_an_unknown_method_with_the_cookie_is_refused_by_the_guard(client: Client) -> None:
    # Anything but GET, HEAD and OPTIONS counts as a write: the guard answers before the 405.
    refused(client.open("/notes", method="TRACE", headers=cookie(ALICE)), "TRACE", None)


def test_minimal_verbosity_keeps_code_and_message(make: Callable[..., Client]) -> None:
    r = make(client_error_verbosity="minimal").delete("/notes?id=eq.1", headers=cookie(ALICE))
    assert r.status_code == 403
    assert r.headers["Content-Type"] == JSON
    assert r.get_json() == {"code": "PGWSGI301", "message": MESSAGE}


# -- the login example of docs/security.md ----------------------------------------------------

EXAMPLES = ROOT / "deploy" / "examples"


def _docs_sql() -> str:
    """The first SQL block of the "Tokens from a cookie" section of docs/security.md."""
    text = (ROOT / "docs" / "security.md").read_text()
    section = text[text.index("## Tokens from a cookie") :]
    found = re.search(r"```sql\n(.*?)```", section, re.S)
    assert found is not None
    return found.group(1)


@pytest.fixture(scope="module")
def login_client(pg_server: Server) -> Iterator[Client]:
    with psycopg.connect(pg_server.dsn("postgres"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pgcrypto'").fetchone() is None:
            pytest.skip("the test server has no pgcrypto, which deploy/examples/user-management.sql requires")
    name = f"pgwsgi_cookie_login_{os.getpid()}"
    with database(pg_server, name):
        with psycopg.connect(pg_server.dsn(name), autocommit=True) as conn:
            for f in (EXAMPLES / "user-management.sql", EXAMPLES / "user-management-sql-signing.sql"):
                conn.execute(f.read_text())
            conn.execute(_docs_sql())
        settings: dict[str, Any] = {
            "db_uri": pg_server.dsn(name, "authenticator"),
            "db_schemas": ("api",),
            "db_anon_role": "web_anon",
            "app_settings": (("app.settings.jwt_secret", SECRET),),
            "jwt_cookie_name": COOKIE,
        }
        try:
            with client_factory(pg_server, name, **settings) as factory:
                yield factory()
        finally:
            with psycopg.connect(pg_server.dsn("postgres"), autocommit=True) as conn:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])


def _set_cookie(r: Any) -> str:
    (header,) = r.headers.getlist("Set-Cookie")
    return header


def test_the_docs_login_function_sets_a_cookie_that_authenticates(login_client: Client) -> None:
    email = f"cookie{os.getpid()}@example.com"
    credentials = json.dumps({"email": email, "pass": "correct horse"})
    r = login_client.post("/rpc/signup", data=credentials, content_type="application/json")
    assert r.status_code == 204, r.get_data(as_text=True)
    r = login_client.post("/rpc/login_cookie", data=credentials, content_type="application/json")
    assert r.status_code == 204, r.get_data(as_text=True)
    header = _set_cookie(r)
    value, _, attributes = header.partition("; ")
    assert attributes == "Max-Age=3600; HttpOnly; Secure; SameSite=Strict; Path=/"
    name, _, jwt = value.partition("=")
    assert name == COOKIE and jwt.count(".") == 2
    session = {"Cookie": value}
    r = login_client.get("/rpc/me", headers=session)
    assert (r.status_code, r.get_json()) == (200, {"email": email, "role": "web_user"})
    # Logging out is a write: from another site it is refused, from the application's pages it clears the cookie.
    refused(
        login_client.post("/rpc/logout_cookie", headers={**session, "Sec-Fetch-Site": "cross-site"}),
        "POST",
        "cross-site",
    )
    r = login_client.post("/rpc/logout_cookie", headers={**session, "Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 204, r.get_data(as_text=True)
    assert _set_cookie(r) == f"{COOKIE}=; Max-Age=0; HttpOnly; Secure; SameSite=Strict; Path=/"
    # What the browser sends next (an emptied cookie) is anonymous.
    r = login_client.get("/rpc/me", headers={"Cookie": f"{COOKIE}="})
    assert_error(r, 401, "42501", "permission denied for function me")
