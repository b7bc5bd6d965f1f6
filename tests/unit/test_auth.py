"""JWT authentication rules A-* (inventory §2.1), without a database."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jose import jws

from pgwsgi.auth import Authenticator, Identity, mint_token
from pgwsgi.config import Config, ConfigError
from pgwsgi.errors import ApiError

SECRET = "reallyreallyreallyreallyverysafe"  # 32 bytes
NOW = 1_700_000_000
KEY_ERROR = "No suitable key or wrong key type"
NO_SUITABLE = "No suitable key was found to decode the JWT"
NONE_DECODED = "None of the keys was able to decode the JWT"
BAD_CRYPTO = "JWT cryptographic operation failed"
BAD_ALG = "Wrong or unsupported encoding algorithm"


# --- helpers -----------------------------------------------------------------------------------


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_int(n: int, size: int | None = None) -> str:
    return b64u(n.to_bytes(size or (n.bit_length() + 7) // 8, "big"))


def config(**kw: Any) -> Config:
    kw.setdefault("jwt_secret", SECRET)
    kw.setdefault("db_anon_role", "anon")
    return Config(**kw)


def authenticator(**kw: Any) -> Authenticator:
    clock = kw.pop("clock", lambda: NOW + 0.9)
    return Authenticator(config(**kw), clock=clock)


def hs(claims: dict[str, Any], secret: str | bytes = SECRET, alg: str = "HS256", **headers: Any) -> str:
    return jws.sign(claims, secret, headers=headers or None, algorithm=alg)


def hmac_token(
    header: dict[str, Any] | bytes, payload: bytes, secret: bytes = SECRET.encode(), digest: Any = hashlib.sha256
) -> str:
    """A correctly HMAC-signed token around arbitrary header and payload bytes."""
    raw_header = header if isinstance(header, bytes) else json.dumps(header).encode()
    signing_input = f"{b64u(raw_header)}.{b64u(payload)}"
    sig = hmac.new(secret, signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64u(sig)}"


def ok(auth: Authenticator, token: str) -> Identity:
    return auth.authenticate(f"Bearer {token}")


def fails(auth: Authenticator, header: str | None, code: str, message: str, details: Any = None) -> ApiError:
    with pytest.raises(ApiError) as info:
        auth.authenticate(header)
    err = info.value
    assert (err.status, err.code, err.message, err.details) == (401, code, message, details)
    assert err.headers == [("WWW-Authenticate", f'Bearer error="invalid_token", error_description="{message}"')]
    return err


def fails_token(auth: Authenticator, token: str, code: str, message: str, details: Any = None) -> ApiError:
    return fails(auth, f"Bearer {token}", code, message, details)


@pytest.fixture(scope="module")
def rsa_keys() -> dict[str, dict[str, str] | str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pn = key.private_numbers()
    pub = {"kty": "RSA", "n": b64u_int(pn.public_numbers.n), "e": b64u_int(pn.public_numbers.e)}
    priv = {
        **pub,
        "d": b64u_int(pn.d),
        "p": b64u_int(pn.p),
        "q": b64u_int(pn.q),
        "dp": b64u_int(pn.dmp1),
        "dq": b64u_int(pn.dmq1),
        "qi": b64u_int(pn.iqmp),
    }
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return {"public": pub, "private": priv, "pem": pem}


def _ec_jwk(curve: ec.EllipticCurve, crv: str, size: int) -> tuple[dict[str, str], dict[str, str]]:
    key = ec.generate_private_key(curve)
    pn = key.private_numbers()
    pub = {"kty": "EC", "crv": crv, "x": b64u_int(pn.public_numbers.x, size), "y": b64u_int(pn.public_numbers.y, size)}
    return pub, {**pub, "d": b64u_int(pn.private_value, size)}


@pytest.fixture(scope="module")
def ec_keys() -> dict[str, tuple[dict[str, str], dict[str, str]]]:
    return {
        "a": _ec_jwk(ec.SECP256R1(), "P-256", 32),
        "b": _ec_jwk(ec.SECP256R1(), "P-256", 32),
        "p384": _ec_jwk(ec.SECP384R1(), "P-384", 48),
    }


# --- A-BEARER, A-FALLBACK, A-NO-TOKEN, A-NO-SECRET ---------------------------------------------


def test_no_authorization_header_is_the_anonymous_role() -> None:
    assert authenticator().authenticate(None) == Identity("anon", {}, True)


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "", "Token abc.def.ghi", "Bearerx abc"])
def test_other_schemes_are_no_token(header: str) -> None:
    assert authenticator().authenticate(header) == Identity("anon", {}, True)


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_bearer_scheme_is_case_insensitive(scheme: str) -> None:
    token = hs({"role": "alice"})
    assert authenticator().authenticate(f"{scheme} {token}") == Identity("alice", {"role": "alice"}, False)


def test_spaces_after_the_scheme_are_skipped() -> None:
    assert authenticator().authenticate(f"Bearer \t  {hs({'role': 'alice'})}").role == "alice"


@pytest.mark.parametrize("header", ["Bearer ", "Bearer", "bearer    "])
def test_empty_bearer_token(header: str) -> None:
    fails(authenticator(), header, "PGRST301", "Empty JWT is sent in Authorization header")


def test_no_token_and_no_anonymous_role_is_pgrst302() -> None:
    with pytest.raises(ApiError) as info:
        authenticator(db_anon_role=None).authenticate(None)
    err = info.value
    assert (err.status, err.code, err.message, err.details) == (401, "PGRST302", "Anonymous access is disabled", None)
    assert err.headers == [("WWW-Authenticate", "Bearer")]


def test_token_without_role_falls_back_to_anon_or_pgrst302() -> None:
    token = hs({"sub": "alice"})
    assert ok(authenticator(), token) == Identity("anon", {"sub": "alice"}, True)
    with pytest.raises(ApiError) as info:
        ok(authenticator(db_anon_role=None), token)
    assert info.value.code == "PGRST302"


def test_bad_token_never_falls_back_to_anon() -> None:
    fails_token(authenticator(), hs({"role": "x"}, secret="x" * 40), "PGRST301", KEY_ERROR, NONE_DECODED)


def test_token_without_secret_is_pgrst300() -> None:
    auth = authenticator(jwt_secret=None)
    for header in (f"Bearer {hs({'role': 'alice'})}", "Bearer "):
        with pytest.raises(ApiError) as info:
            auth.authenticate(header)
        err = info.value
        assert (err.status, err.code, err.message, err.headers) == (500, "PGRST300", "Server lacks JWT secret", [])
    assert auth.authenticate(None) == Identity("anon", {}, True)
    assert auth.authenticate("Basic abc") == Identity("anon", {}, True)


# --- A-PARTS, malformed tokens ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "n"),
    [
        ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.bm90IGFuIG9iamVjdA", 2),
        ("a.b.c.d", 4),
        ("a.b.c.d.e", 5),  # JWE compact serialization
        ("abc", 1),
    ],
)
def test_token_must_have_three_parts(token: str, n: int) -> None:
    fails_token(authenticator(), token, "PGRST301", f"Expected 3 parts in JWT; got {n}")


@pytest.mark.parametrize(
    "token",
    [
        "quifquirndsjagnrgniur.fonvoienqhhdj.iuqvnvhojah",  # PostgREST's own test case
        f"{b64u(b'not json')}.{b64u(b'{}')}.sig",
        f"{b64u(b'[1]')}.{b64u(b'{}')}.sig",
        "e30=.e30.sig",  # padding is not base64url
    ],
)
def test_malformed_tokens_are_crypto_errors(token: str) -> None:
    fails_token(authenticator(), token, "PGRST301", BAD_CRYPTO)


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "PS256"},
        {"alg": "XS256"},
        {"typ": "JWT"},
        {"alg": 5},
        {"alg": ["HS256"]},
        {"alg": "HS256", "kid": 7},
        {"alg": "HS256", "enc": "A128GCM"},
    ],
)
def test_unknown_alg_or_bad_header_fields_are_crypto_errors(header: dict[str, Any]) -> None:
    fails_token(authenticator(), hmac_token(header, b'{"role":"alice"}'), "PGRST301", BAD_CRYPTO)


# --- A-SECRET ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alg", "digest"), [("HS256", hashlib.sha256), ("HS384", hashlib.sha384), ("HS512", hashlib.sha512)]
)
def test_oct_jwk_verifies_every_hmac_alg(alg: str, digest: Any) -> None:
    jwk = json.dumps({"kty": "oct", "k": b64u(SECRET.encode())})
    token = hmac_token({"alg": alg}, b'{"role":"alice"}', digest=digest)
    assert ok(authenticator(jwt_secret=jwk), token).role == "alice"


def test_raw_secret_is_hs256_only() -> None:
    auth = authenticator()
    assert ok(auth, hs({"role": "alice"})).role == "alice"
    for alg in ("HS384", "HS512"):
        fails_token(auth, hs({"role": "alice"}, alg=alg), "PGRST301", KEY_ERROR, NO_SUITABLE)


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_oct_jwk_alg_pins_the_algorithm(alg: str) -> None:
    jwk = json.dumps({"kty": "oct", "k": b64u(SECRET.encode()), "alg": "HS512"})
    auth = authenticator(jwt_secret=jwk)
    if alg == "HS512":
        assert ok(auth, hs({"role": "a"}, alg=alg)).role == "a"
    else:
        fails_token(auth, hs({"role": "a"}, alg=alg), "PGRST301", KEY_ERROR, NO_SUITABLE)


def test_base64_secret_with_url_safe_mapping() -> None:
    binary = bytes(range(200, 240))  # not UTF-8: only usable through base64
    encoded = base64.b64encode(binary).decode()
    assert "+" in encoded or "/" in encoded or "=" in encoded
    url_style = encoded.replace("+", "-").replace("/", "_").replace("=", ".")
    token = hs({"role": "alice"}, secret=binary)
    for text in (encoded, f"  {url_style}\n"):
        assert ok(authenticator(jwt_secret=text, jwt_secret_is_base64=True), token).role == "alice"
    fails_token(authenticator(jwt_secret=encoded), token, "PGRST301", KEY_ERROR, NONE_DECODED)


def test_base64_secret_holding_a_jwk() -> None:
    jwk = json.dumps({"kty": "oct", "k": b64u(SECRET.encode())})
    auth = authenticator(jwt_secret=base64.b64encode(jwk.encode()).decode(), jwt_secret_is_base64=True)
    assert ok(auth, hs({"role": "alice"}, alg="HS384")).role == "alice"


def test_json_that_is_not_a_jwk_is_a_raw_secret() -> None:
    text = '{"comment": "this whole text is the HMAC secret"}'
    assert ok(authenticator(jwt_secret=text), hs({"role": "a"}, secret=text)).role == "a"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"jwt_secret": "short"}, "The JWT secret must be at least 32 characters long."),
        (
            {"jwt_secret": base64.b64encode(b"x" * 31).decode(), "jwt_secret_is_base64": True},
            "The JWT secret must be at least 32 characters long.",
        ),
        ({"jwt_secret": "not base64 at all!!!!!!!!!!!!!!!!!!!", "jwt_secret_is_base64": True}, "not valid base64"),
        ({"jwt_secret": '{"keys": {"kty": "oct"}}'}, '"keys" array'),
        ({"jwt_secret": '{"keys": [42]}'}, "JWK #0 is not a JSON object"),
        ({"jwt_secret": '{"kty": "RSA", "e": "AQAB"}'}, 'needs "n" and "e"'),
        ({"jwt_secret": '{"kty": "RSA", "n": "!!", "e": "AQAB"}'}, "invalid RSA key"),
        ({"jwt_secret": '{"kty": "EC", "crv": "P-192", "x": "AA", "y": "AA"}'}, '"crv" must be'),
        ({"jwt_secret": '{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}'}, "invalid EC key"),
        ({"jwt_secret": '{"kty": "oct"}'}, 'an oct key needs "k"'),
        ({"jwt_secret": '{"kty": "oct", "k": "c2VjcmV0", "kid": 1}'}, "non-string kid"),
        (
            {
                "jwt_secret": '{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}'
            },
            "no usable key",
        ),
        ({"jwt_secret": '{"keys": []}'}, "no usable key"),
    ],
)
def test_unusable_secrets_fail_at_startup(kw: dict[str, Any], message: str) -> None:
    # Config's own validation may refuse the secret first (ConfigError); either way it never starts.
    with pytest.raises((ValueError, ConfigError), match=re.escape(message)):
        Authenticator(config(**kw))


# --- A-ALGS, A-KID -----------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_rsa_public_jwk(rsa_keys: dict, alg: str) -> None:
    auth = authenticator(jwt_secret=json.dumps(rsa_keys["public"]))
    token = jws.sign({"role": "author"}, rsa_keys["private"], algorithm=alg)
    assert ok(auth, token) == Identity("author", {"role": "author"}, False)


def test_rsa_jwk_alg_must_equal_token_alg(rsa_keys: dict) -> None:
    auth = authenticator(jwt_secret=json.dumps({**rsa_keys["public"], "alg": "RS256", "use": "sig"}))
    assert ok(auth, jws.sign({"role": "a"}, rsa_keys["private"], algorithm="RS256")).role == "a"
    fails_token(
        auth, jws.sign({"role": "a"}, rsa_keys["private"], algorithm="RS512"), "PGRST301", KEY_ERROR, NO_SUITABLE
    )


def test_hmac_token_is_never_checked_with_an_rsa_public_key(rsa_keys: dict) -> None:
    """The alg-confusion attack: HS256 signed with the public key material as HMAC secret."""
    public_json = json.dumps(rsa_keys["public"])
    auth = authenticator(jwt_secret=public_json)
    for forged_secret in (public_json, rsa_keys["pem"], rsa_keys["public"]["n"]):
        forged = hmac_token({"alg": "HS256"}, b'{"role":"admin"}', secret=forged_secret.encode())
        fails_token(auth, forged, "PGRST301", KEY_ERROR, NO_SUITABLE)
    jwks = json.dumps({"keys": [rsa_keys["public"]]})
    forged = hmac_token({"alg": "HS256"}, b'{"role":"admin"}', secret=jwks.encode())
    fails_token(authenticator(jwt_secret=jwks), forged, "PGRST301", KEY_ERROR, NO_SUITABLE)


@pytest.mark.parametrize("secret_kind", ["raw", "rsa"])
def test_alg_none_is_always_rejected(rsa_keys: dict, secret_kind: str) -> None:
    secret = SECRET if secret_kind == "raw" else json.dumps(rsa_keys["public"])
    auth = authenticator(jwt_secret=secret)
    payload = b64u(b'{"role":"admin"}')
    for sig in ("", "yOBhlOIqn56T-4NvyEXCjfi3UmyQZ-BzXtePMO2NgRI"):
        for header in ({"alg": "none"}, {"typ": "JWT", "alg": "none"}):
            token = f"{b64u(json.dumps(header).encode())}.{payload}.{sig}"
            fails_token(auth, token, "PGRST301", BAD_ALG, "JWT is unsecured but expected 'alg' was not 'none'")
    # PostgREST's own test token
    fails_token(
        auth,
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.e30.yOBhlOIqn56T-4NvyEXCjfi3UmyQZ-BzXtePMO2NgRI",
        "PGRST301",
        BAD_ALG,
        "JWT is unsecured but expected 'alg' was not 'none'",
    )


def test_eddsa_is_unsupported() -> None:
    token = ".".join([b64u(b'{"alg":"EdDSA"}'), b64u(b"{}"), b64u(b"x" * 64)])
    fails_token(authenticator(), token, "PGRST301", BAD_ALG, "EdDSA is not supported by pgwsgi")


def test_es256_jwks_with_kid_selection(ec_keys: dict) -> None:
    (pub_a, priv_a), (pub_b, priv_b) = ec_keys["a"], ec_keys["b"]
    jwks = json.dumps({"keys": [{**pub_a, "kid": "a"}, {**pub_b, "kid": "b"}]})
    auth = authenticator(jwt_secret=jwks)
    assert ok(auth, jws.sign({"role": "b"}, priv_b, headers={"kid": "b"}, algorithm="ES256")).role == "b"
    assert ok(auth, jws.sign({"role": "a"}, priv_a, algorithm="ES256")).role == "a"  # no kid: try all
    assert ok(auth, jws.sign({"role": "b"}, priv_b, algorithm="ES256")).role == "b"
    fails_token(
        auth,
        jws.sign({"role": "b"}, priv_b, headers={"kid": "a"}, algorithm="ES256"),
        "PGRST301",
        KEY_ERROR,
        NONE_DECODED,
    )
    fails_token(
        auth,
        jws.sign({"role": "b"}, priv_b, headers={"kid": "c"}, algorithm="ES256"),
        "PGRST301",
        KEY_ERROR,
        NO_SUITABLE,
    )


def test_kid_never_matches_keys_without_kid(ec_keys: dict) -> None:
    pub, priv = ec_keys["a"]
    auth = authenticator(jwt_secret=json.dumps(pub))
    fails_token(
        auth, jws.sign({"role": "a"}, priv, headers={"kid": "a"}, algorithm="ES256"), "PGRST301", KEY_ERROR, NO_SUITABLE
    )


def test_ec_alg_must_match_the_curve(ec_keys: dict) -> None:
    pub, priv = ec_keys["p384"]
    auth = authenticator(jwt_secret=json.dumps({"keys": [pub]}))
    assert ok(auth, jws.sign({"role": "a"}, priv, algorithm="ES384")).role == "a"
    fails_token(auth, jws.sign({"role": "a"}, priv, algorithm="ES256"), "PGRST301", KEY_ERROR, NO_SUITABLE)
    fails_token(auth, hs({"role": "a"}), "PGRST301", KEY_ERROR, NO_SUITABLE)


def test_encryption_keys_never_verify(rsa_keys: dict) -> None:
    jwks = json.dumps({"keys": [{**rsa_keys["public"], "use": "enc"}, {"kty": "oct", "k": b64u(SECRET.encode())}]})
    auth = authenticator(jwt_secret=jwks)
    fails_token(
        auth, jws.sign({"role": "a"}, rsa_keys["private"], algorithm="RS256"), "PGRST301", KEY_ERROR, NO_SUITABLE
    )
    assert ok(auth, hs({"role": "a"})).role == "a"


def test_wrong_signature(rsa_keys: dict) -> None:
    auth = authenticator()
    fails_token(
        auth, hs({"role": "a"}, secret="another-secret-that-is-long-enough!!"), "PGRST301", KEY_ERROR, NONE_DECODED
    )
    head, _, sig = hs({"role": "a"}).split(".")
    forged = b64u(b'{"role":"admin"}')
    fails_token(auth, f"{head}.{forged}.{sig}", "PGRST301", KEY_ERROR, NONE_DECODED)
    rsa_auth = authenticator(jwt_secret=json.dumps(rsa_keys["public"]))
    head, body, _ = jws.sign({"role": "a"}, rsa_keys["private"], algorithm="RS256").split(".")
    fails_token(rsa_auth, f"{head}.{body}.{b64u(b'short')}", "PGRST301", KEY_ERROR, NONE_DECODED)


# --- A-CLAIMS-OBJ, A-EXP, A-NBF, A-IAT, A-AUD ----------------------------------------------------


@pytest.mark.parametrize("payload", [b"[1]", b'"role"', b"42", b"null", b"{not json", b'{"exp": NaN}', b"\xff\xfe"])
def test_payload_must_be_a_json_object(payload: bytes) -> None:
    fails_token(authenticator(), hmac_token({"alg": "HS256"}, payload), "PGRST303", "Parsing claims failed")


def test_payload_with_surrounding_whitespace_is_fine() -> None:
    assert ok(authenticator(), hmac_token({"alg": "HS256"}, b' {"role": "a"}\n')).role == "a"


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"exp": NOW - 31}, "JWT expired"),
        ({"exp": NOW - 35}, "JWT expired"),
        ({"exp": NOW + 3600.5}, "JWT expired"),  # AMB-EXP-FRACTION: fractions count as 0
        ({"exp": 2**70}, "JWT expired"),  # beyond Int64 counts as 0 too
        ({"nbf": NOW + 31}, "JWT not yet valid"),
        ({"iat": NOW + 31}, "JWT issued at future"),
        ({"exp": "invalid"}, "The JWT 'exp' claim must be a number"),
        ({"exp": True}, "The JWT 'exp' claim must be a number"),
        ({"nbf": "invalid"}, "The JWT 'nbf' claim must be a number"),
        ({"iat": [1]}, "The JWT 'iat' claim must be a number"),
        ({"exp": NOW - 100, "nbf": NOW + 100, "aud": 1}, "JWT expired"),  # first check wins
        ({"nbf": NOW + 100, "iat": "x"}, "JWT not yet valid"),
    ],
)
def test_time_claims(claims: dict[str, Any], message: str) -> None:
    fails_token(authenticator(), hs({"role": "a", **claims}), "PGRST303", message)


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": NOW - 30},
        {"exp": NOW - 25},
        {"exp": NOW + 3600},
        {"exp": None},
        {"exp": float(NOW + 60)},
        {"nbf": NOW + 30},
        {"nbf": NOW + 25},
        {"nbf": NOW + 9999.5},
        {"iat": NOW + 30},
        {"iat": NOW - 9999},
        {"iat": 1e300},
        {"nbf": None, "iat": None},
    ],
)
def test_time_claims_within_leeway(claims: dict[str, Any]) -> None:
    assert ok(authenticator(), hs({"role": "a", **claims})).role == "a"


@pytest.mark.parametrize(
    ("aud", "accepted"),
    [
        ("youraudience", True),
        ("notyouraudience", False),
        ("", False),
        (["youraudience"], True),
        (["no", "youraudience", "other"], True),
        (["no"], False),
        (["no", "nope"], False),
        ([], True),
        (None, True),
        ("missing", True),
    ],
)
def test_aud_with_jwt_aud_set(aud: Any, accepted: bool) -> None:
    claims = {"role": "a"} if aud == "missing" else {"role": "a", "aud": aud}
    auth = authenticator(jwt_aud="youraudience")
    if accepted:
        assert ok(auth, hs(claims)).role == "a"
    else:
        fails_token(auth, hs(claims), "PGRST303", "JWT not in audience")


@pytest.mark.parametrize("aud", ["anything", ["x", "y"], [], None])
def test_any_aud_when_jwt_aud_unset(aud: Any) -> None:
    assert ok(authenticator(), hs({"role": "a", "aud": aud})).role == "a"


@pytest.mark.parametrize("aud", [{"invalid": "value"}, [{"invalid": "value"}, "test"], 5, True, [None]])
@pytest.mark.parametrize("jwt_aud", [None, "test"])
def test_aud_type_is_checked_even_without_jwt_aud(aud: Any, jwt_aud: str | None) -> None:
    fails_token(
        authenticator(jwt_aud=jwt_aud),
        hs({"role": "a", "aud": aud}),
        "PGRST303",
        "The JWT 'aud' claim must be a string or an array of strings",
    )


# --- A-ROLE, A-ROLE-PATH, A-ROLE-PATH-OLD ------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "claims", "role"),
    [
        ("$.role", {"role": "Author Name"}, "Author Name"),
        ("$.postgrest.roles[1]", {"postgrest": {"roles": ["other", "author"]}}, "author"),
        ("$['https://www.example.com/role'].key", {"https://www.example.com/role": {"key": "author"}}, "author"),
        ("$.postgrest.roles[?(@ == 'author')]", {"postgrest": {"roles": ["other", "author"]}}, "author"),
        ("$.postgrest.roles[?search(@, '^au')]", {"postgrest": {"roles": ["other", "author"]}}, "author"),
        (".postgrest.roles[1]", {"postgrest": {"roles": ["other", "author"]}}, "author"),
        ('."https://www.example.com/role".key', {"https://www.example.com/role": {"key": "author"}}, "author"),
        ('.roles[?(@ ^== "au")]', {"roles": ["other", "author"]}, "author"),
        ("$.role", {"role": 1}, "1"),
        ("$.role", {"role": {"b": 1, "a": [True, None]}}, '{"a":[true,null],"b":1}'),
        ("$.role", {"role": None}, "null"),
        ("$.missing", {"role": "x"}, "anon"),
    ],
)
def test_role_claim_key(path: str, claims: dict[str, Any], role: str) -> None:
    identity = ok(authenticator(jwt_role_claim_key=path), hs(claims))
    assert identity.role == role
    assert identity.claims == claims
    assert identity.is_anonymous == (role == "anon")


def test_role_equal_to_anon_counts_as_anonymous() -> None:
    assert ok(authenticator(), hs({"role": "anon"})) == Identity("anon", {"role": "anon"}, True)


def test_deprecated_role_path_logs_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="pgwsgi.auth"):
        authenticator(jwt_role_claim_key=".postgrest.roles[0]")
    assert 'jwt-role-claim-key=."postgrest"."roles"[0]' in caplog.text
    assert "deprecated JSPath syntax" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="pgwsgi.auth"):
        authenticator(jwt_role_claim_key="$.postgrest.roles[0]")
    assert caplog.text == ""


def test_unparseable_role_path_fails_at_startup() -> None:
    with pytest.raises(ValueError, match="failed to parse role-claim-key value"):
        Authenticator(config(jwt_role_claim_key="role"))


def test_claims_returned_are_a_copy() -> None:
    auth = authenticator()
    token = hs({"role": "alice", "n": 1})
    first = ok(auth, token)
    first.claims["role"] = "admin"
    assert ok(auth, token).claims == {"role": "alice", "n": 1}


# --- A-CACHE -----------------------------------------------------------------------------------


def test_cache_hits_and_claims_rechecked_every_request() -> None:
    now = [NOW]
    auth = authenticator(clock=lambda: now[0])
    token = hs({"role": "alice", "exp": NOW + 60})
    assert ok(auth, token).role == "alice"
    assert ok(auth, token).role == "alice"
    assert (auth.stats.requests, auth.stats.hits, auth.stats.evictions) == (2, 1, 0)
    now[0] = NOW + 91
    fails_token(auth, token, "PGRST303", "JWT expired")
    assert auth.stats.hits == 2


def test_errors_are_not_cached() -> None:
    auth = authenticator()
    bad = hs({"role": "a"}, secret="x" * 40)
    for _ in range(2):
        fails_token(auth, bad, "PGRST301", KEY_ERROR, NONE_DECODED)
    assert (auth.stats.requests, auth.stats.hits) == (2, 0)


def test_cache_is_bounded() -> None:
    auth = authenticator(jwt_cache_max_entries=2)
    tokens = [hs({"role": f"r{i}"}) for i in range(3)]
    for t in tokens:
        ok(auth, t)
    assert auth.stats.evictions == 1
    ok(auth, tokens[0])  # evicted: verified again
    assert auth.stats.hits == 0
    ok(auth, tokens[0])
    assert (auth.stats.requests, auth.stats.hits, auth.stats.evictions) == (5, 1, 2)


def test_cache_disabled_with_zero() -> None:
    auth = authenticator(jwt_cache_max_entries=0)
    token = hs({"role": "alice"})
    for _ in range(3):
        assert ok(auth, token).role == "alice"
    assert (auth.stats.requests, auth.stats.hits, auth.stats.evictions) == (0, 0, 0)


# --- logging hygiene ---------------------------------------------------------------------------


def test_tokens_and_secrets_are_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    tokens = [hs({"role": "alice"}), hs({"role": "a"}, secret="x" * 40), "a.b", hs({"exp": 1})]
    with caplog.at_level(logging.DEBUG):
        auth = authenticator(jwt_role_claim_key=".role")
        for t in tokens:
            try:
                ok(auth, t)
            except ApiError:
                pass
    for t in tokens:
        assert t not in caplog.text
    assert SECRET not in caplog.text


# --- mint_token --------------------------------------------------------------------------------


def test_mint_token_with_raw_secret() -> None:
    cfg = config()
    token = mint_token(cfg, {"role": "alice", "exp": NOW + 60})
    assert json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "==")) == {"alg": "HS256", "typ": "JWT"}
    assert ok(authenticator(), token).claims == {"role": "alice", "exp": NOW + 60}


def test_mint_token_with_base64_secret() -> None:
    cfg = config(jwt_secret=base64.b64encode(b"\x00" * 32).decode(), jwt_secret_is_base64=True)
    token = mint_token(cfg, {"role": "alice"})
    assert Authenticator(cfg).authenticate(f"Bearer {token}").role == "alice"


def test_mint_token_with_private_rsa_jwk(rsa_keys: dict) -> None:
    token = mint_token(config(jwt_secret=json.dumps({**rsa_keys["private"], "kid": "k1"})), {"role": "alice"})
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert (header["alg"], header["kid"]) == ("RS256", "k1")
    public = json.dumps({"keys": [{**rsa_keys["public"], "kid": "k1"}]})
    assert ok(authenticator(jwt_secret=public), token).role == "alice"


def test_mint_token_with_private_ec_jwks(ec_keys: dict) -> None:
    pub, priv = ec_keys["p384"]
    token = mint_token(config(jwt_secret=json.dumps({"keys": [pub, priv]})), {"role": "alice"})
    assert json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["alg"] == "ES384"
    assert ok(authenticator(jwt_secret=json.dumps(pub)), token).role == "alice"


def test_mint_token_with_oct_jwk_alg() -> None:
    cfg = config(jwt_secret=json.dumps({"kty": "oct", "k": b64u(SECRET.encode()), "alg": "HS512"}))
    token = mint_token(cfg, {"role": "alice"})
    assert ok(authenticator(), hmac_token({"alg": "HS256"}, b"{}")).role == "anon"
    assert Authenticator(cfg).authenticate(f"Bearer {token}").role == "alice"
    fails_token(authenticator(), token, "PGRST301", KEY_ERROR, NO_SUITABLE)


def test_mint_token_errors(rsa_keys: dict) -> None:
    with pytest.raises(ValueError, match="No jwt-secret configured"):
        mint_token(config(jwt_secret=None), {"role": "a"})
    with pytest.raises(ValueError, match="no symmetric or private key"):
        mint_token(config(jwt_secret=json.dumps(rsa_keys["public"])), {"role": "a"})
    with pytest.raises(ValueError, match="at least 32 characters"):
        mint_token(config(jwt_secret="short"), {"role": "a"})
