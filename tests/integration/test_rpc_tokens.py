"""Functions returning `jwt_claims`: their result is signed and answered as {"token": ...} (issue 5)."""

from __future__ import annotations

from jose import jwt
from werkzeug.test import Client

from tests.conftest import SECRET


def test_login_returns_a_signed_token_that_authenticates(client: Client) -> None:
    r = client.post("/rpc/login", json={"email": "ann@example.com", "pass": "right"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    token = r.get_json()["token"]
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["role"] == "pgwsgi_user" and claims["email"] == "ann@example.com"
    me = client.get(
        "/whoami", headers={"Authorization": f"Bearer {token}", "Accept": "application/vnd.pgrst.object+json"}
    )
    assert me.get_json()["role"] == "pgwsgi_user"


def test_no_user_means_no_token(client: Client) -> None:
    r = client.post("/rpc/login", json={"email": "ann@example.com", "pass": "wrong"})
    assert (r.status_code, r.get_data(as_text=True)) == (200, "null")


def test_signing_can_be_turned_off(make_client) -> None:  # noqa: ANN001
    client = make_client(jwt_sign_claims=False)
    r = client.post("/rpc/login", json={"email": "ann@example.com", "pass": "right"})
    body = r.get_json()
    assert set(body) == {"role", "email", "exp"} and body["role"] == "pgwsgi_user"


def test_without_a_secret_it_is_a_clear_500(make_client) -> None:  # noqa: ANN001
    client = make_client(jwt_secret=None)
    r = client.post("/rpc/login", json={"email": "ann@example.com", "pass": "right"})
    assert r.status_code == 500
    assert r.get_json() == {
        "code": "PGRST300",
        "message": "Server lacks JWT secret",
        "details": "login returns jwt_claims, which pgwsgi signs with jwt-secret.",
        "hint": None,
    }


def test_keys_from_a_url_cannot_sign_so_the_call_is_refused_before_it_runs(make_client) -> None:  # noqa: ANN001
    # Nothing listens on port 1: the worker starts without keys, as it would during an outage.
    client = make_client(jwt_secret="http://127.0.0.1:1/jwks.json", jwt_secret_bytes=None)
    r = client.post("/rpc/login", json={"email": "ann@example.com", "pass": "right"})
    assert r.status_code == 500
    assert r.get_json() == {
        "code": "PGRST300",
        "message": "Server lacks JWT secret",
        "details": "login returns jwt_claims, which pgwsgi cannot sign with keys fetched from a URL.",
        "hint": None,
    }


def test_select_on_a_composite_type_result(make_client) -> None:  # noqa: ANN001
    client = make_client(jwt_sign_claims=False)
    r = client.post("/rpc/login?select=email", json={"email": "ann@example.com", "pass": "right"})
    assert (r.status_code, r.get_json()) == (200, {"email": "ann@example.com"})


def test_claims_as_csv_are_not_signed(client: Client) -> None:
    r = client.post(
        "/rpc/login?select=role,email",
        json={"email": "ann@example.com", "pass": "right"},
        headers={"Accept": "text/csv"},
    )
    assert (r.status_code, r.get_data(as_text=True)) == (200, "role,email\npgwsgi_user,ann@example.com")
