"""Authentication and the request transaction, seen through HTTP against a real PostgreSQL."""

from __future__ import annotations

import json
import time

from werkzeug.test import Client

from tests.conftest import SECRET, bearer, expired, token


def whoami(client: Client, **headers: str) -> dict:
    r = client.get("/whoami", headers={"Accept": "application/vnd.pgrst.object+json", **headers})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


def test_no_token_runs_as_anonymous_role_in_read_only_transaction(client: Client) -> None:
    me = whoami(client)
    assert me["role"] == "pgwsgi_anon"
    assert me["claims"] == {"role": "pgwsgi_anon"}
    assert me["method"] == "GET"
    assert me["path"] == "/whoami"
    assert me["search_path"] == '"test", "public"'
    assert me["read_only"] == "on"


def test_token_role_and_claims_reach_the_database(client: Client) -> None:
    me = whoami(client, **bearer(role="pgwsgi_user", sub="alice", n=3))
    assert me["role"] == "pgwsgi_user"
    assert me["claims"] == {"role": "pgwsgi_user", "sub": "alice", "n": 3}


def test_headers_and_cookies_gucs(client: Client) -> None:
    me = whoami(client, **{"X-Test": "hello", "Cookie": "a=1; b=two"})
    assert me["header"] == "hello"
    assert me["cookies"] == {"a": "1", "b": "two"}


def test_app_settings_are_set_per_request(make_client) -> None:  # noqa: ANN001
    client = make_client(app_settings=(("app.settings.greeting", "hi there"),))
    assert whoami(client)["greeting"] == "hi there"


def test_legacy_gucs_when_enabled(make_client) -> None:  # noqa: ANN001
    client = make_client(db_use_legacy_gucs=True)
    me = whoami(client, **bearer(role="pgwsgi_user", sub="alice"), **{"Xtest": "v"})
    assert me["legacy_sub"] == "alice"
    assert me["legacy_header"] == "v"


def test_legacy_gucs_off_by_default(client: Client) -> None:
    assert whoami(client, **bearer(role="pgwsgi_user", sub="alice"))["legacy_sub"] is None


def test_rls_user_sees_only_own_rows(client: Client) -> None:
    r = client.get("/owned?select=id&order=id", headers=bearer(role="pgwsgi_user", sub="alice"))
    assert r.get_json() == [{"id": 1}, {"id": 2}]
    r = client.get("/owned?select=id&order=id", headers=bearer(role="pgwsgi_user", sub="bob"))
    assert r.get_json() == [{"id": 3}]
    r = client.get("/owned?select=id&order=id", headers=bearer(role="pgwsgi_admin"))
    assert r.get_json() == [{"id": 1}, {"id": 2}, {"id": 3}]


def test_permission_denied_is_401_for_anonymous(client: Client) -> None:
    r = client.get("/secrets")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert r.get_json() == {
        "code": "42501",
        "message": "permission denied for table secrets",
        "details": None,
        "hint": None,
    }


def test_permission_denied_is_403_for_a_user(client: Client) -> None:
    r = client.get("/secrets", headers=bearer(role="pgwsgi_user"))
    assert r.status_code == 403
    assert "WWW-Authenticate" not in r.headers
    assert r.get_json()["code"] == "42501"


def test_expired_token_is_401(client: Client) -> None:
    r = client.get("/items", headers=expired(role="pgwsgi_user"))
    assert r.status_code == 401
    assert r.get_json() == {"code": "PGRST303", "message": "JWT expired", "details": None, "hint": None}
    assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token", error_description="JWT expired"'


def test_token_signed_with_another_secret_is_401(client: Client) -> None:
    bad = token(secret="another-secret-that-is-long-enough!!", role="pgwsgi_user")
    r = client.get("/items", headers={"Authorization": f"Bearer {bad}"})
    assert r.status_code == 401
    assert r.get_json() == {
        "code": "PGRST301",
        "message": "No suitable key or wrong key type",
        "details": "None of the keys was able to decode the JWT",
        "hint": None,
    }


def test_alg_none_token_is_401(client: Client) -> None:
    import base64

    def b64(doc: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()

    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64({'role': 'pgwsgi_admin'})}."
    r = client.get("/secrets", headers={"Authorization": f"Bearer {unsigned}"})
    assert r.status_code == 401
    assert r.get_json()["code"] == "PGRST301"


def test_role_that_does_not_exist_is_401(client: Client) -> None:
    r = client.get("/items", headers=bearer(role="no_such_role"))
    assert r.status_code == 401
    assert r.get_json() == {
        "code": "22023",
        "message": 'role "no_such_role" does not exist',
        "details": None,
        "hint": None,
    }
    assert r.headers["WWW-Authenticate"] == "Bearer"


def test_empty_bearer_is_401(client: Client) -> None:
    r = client.get("/items", headers={"Authorization": "Bearer "})
    assert r.status_code == 401
    assert r.get_json()["message"] == "Empty JWT is sent in Authorization header"


def test_no_anonymous_role_is_pgrst302(make_client) -> None:  # noqa: ANN001
    client = make_client(db_anon_role=None)
    r = client.get("/items")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert r.get_json() == {
        "code": "PGRST302",
        "message": "Anonymous access is disabled",
        "details": None,
        "hint": None,
    }


def test_jwt_aud(make_client) -> None:  # noqa: ANN001
    client = make_client(jwt_aud="pgwsgi")
    ok = client.get("/items?id=eq.1", headers=bearer(role="pgwsgi_user", aud="pgwsgi"))
    assert ok.status_code == 200
    bad = client.get("/items?id=eq.1", headers=bearer(role="pgwsgi_user", aud="other"))
    assert bad.status_code == 401
    assert bad.get_json()["message"] == "JWT not in audience"


def test_role_claim_key_path(make_client) -> None:  # noqa: ANN001
    client = make_client(jwt_role_claim_key="$.app.roles[0]")
    me = whoami(client, **bearer(app={"roles": ["pgwsgi_admin", "x"]}))
    assert me["role"] == "pgwsgi_admin"


def test_token_within_leeway_is_accepted(client: Client) -> None:
    r = client.get("/items?id=eq.1", headers=bearer(role="pgwsgi_user", exp=int(time.time()) - 10))
    assert r.status_code == 200


def test_pre_request_rejects_a_role_with_a_hint(make_client) -> None:  # noqa: ANN001
    client = make_client(db_pre_request="test.pre_request")
    assert client.get("/items?id=eq.1").status_code == 200
    r = client.get("/items", headers=bearer(role="pgwsgi_banned"))
    assert r.status_code == 403
    assert r.get_json() == {
        "code": "42501",
        "message": "You are banned",
        "details": None,
        "hint": "Ask an admin to lift the ban",
    }


def test_pre_request_sets_response_headers_and_status(make_client) -> None:  # noqa: ANN001
    client = make_client(db_pre_request="test.pre_request")
    r = client.get("/items?id=eq.1", headers={"X-Set-Headers": "yes", "X-Set-Status": "202"})
    assert r.status == "202 Accepted"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["X-Extra"] == "1"


def test_invalid_response_headers_guc_is_pgrst111(make_client) -> None:  # noqa: ANN001
    client = make_client(db_pre_request="test.pre_request")
    r = client.get("/items?id=eq.1", headers={"X-Set-Headers": "bad"})
    assert r.status_code == 500
    assert r.get_json()["code"] == "PGRST111"


def test_raise_pgrst_custom_error(make_client) -> None:  # noqa: ANN001
    client = make_client(db_pre_request="test.pre_request")
    r = client.get("/items", headers={"X-Raise": "pgrst"})
    assert r.status == "402 Payment Required"
    assert r.headers["X-Powered-By"] == "Nerd Rage"
    assert r.get_json() == {
        "code": "123",
        "message": "Payment Required",
        "details": "Quota exceeded",
        "hint": "Upgrade your plan",
    }


def test_prefer_tx_rollback_is_honoured_only_with_override(make_client) -> None:  # noqa: ANN001
    # Reads commit or roll back invisibly; what matters is that the preference is accepted.
    client = make_client(db_tx_end="rollback-allow-override")
    assert client.get("/items?id=eq.1", headers={"Prefer": "tx=commit"}).status_code == 200


def test_secret_is_not_needed_without_token(make_client) -> None:  # noqa: ANN001
    client = make_client(jwt_secret=None)
    assert client.get("/items?id=eq.1").status_code == 200
    r = client.get("/items", headers=bearer(role="pgwsgi_user"))
    assert r.status_code == 500
    assert r.get_json()["code"] == "PGRST300"


def test_base64_secret(make_client) -> None:  # noqa: ANN001
    import base64

    client = make_client(jwt_secret=base64.b64encode(SECRET.encode()).decode(), jwt_secret_is_base64=True)
    assert client.get("/items?id=eq.1", headers=bearer(role="pgwsgi_user")).status_code == 200


def test_rs256_token_with_jwks_and_kid(make_client) -> None:  # noqa: ANN001
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jose import jwk

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    from cryptography.hazmat.primitives import serialization

    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public = jwk.construct(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        "RS256",
    ).to_dict()
    public["kid"] = "k1"
    client = make_client(jwt_secret=json.dumps({"keys": [public]}))
    good = jwt_encode_rs256(pem, {"role": "pgwsgi_admin"}, kid="k1")
    r = client.get("/secrets?select=id&order=id", headers={"Authorization": f"Bearer {good}"})
    assert r.status_code == 200
    assert r.get_json() == [{"id": 1}, {"id": 2}]
    wrong_kid = jwt_encode_rs256(pem, {"role": "pgwsgi_admin"}, kid="k2")
    r = client.get("/secrets", headers={"Authorization": f"Bearer {wrong_kid}"})
    assert r.status_code == 401
    assert r.get_json()["code"] == "PGRST301"


def jwt_encode_rs256(pem: bytes, claims: dict, kid: str) -> str:
    from jose import jwt as jose_jwt

    return jose_jwt.encode(claims, pem.decode(), algorithm="RS256", headers={"kid": kid})


def test_in_database_settings_override_the_environment(pg_server, test_db) -> None:  # noqa: ANN001
    import psycopg
    from werkzeug.test import Client as WClient

    from pgwsgi import create_app
    from tests.conftest import make_config

    with psycopg.connect(pg_server.dsn(test_db), autocommit=True) as conn:
        conn.execute(f"ALTER ROLE pgwsgi_authenticator IN DATABASE \"{test_db}\" SET pgrst.db_max_rows = '2'")
    try:
        app = create_app(make_config(pg_server, test_db))
        try:
            r = WClient(app).get("/items?select=id&order=id")
            assert r.get_json() == [{"id": 1}, {"id": 2}]
        finally:
            app.close()
    finally:
        with psycopg.connect(pg_server.dsn(test_db), autocommit=True) as conn:
            conn.execute(f'ALTER ROLE pgwsgi_authenticator IN DATABASE "{test_db}" RESET pgrst.db_max_rows')
