"""jwt-secret as the URL of a JWKS or an OpenID Connect issuer (auth/jwks.py), against a real HTTP(S) server.

The server is an `http.server.ThreadingHTTPServer` on 127.0.0.1 in a thread; its
answers are set per path by each test. Keys are made with `cryptography`, tokens
signed with python-jose, and time is an injected clock.
"""

from __future__ import annotations

import base64
import datetime
import email.utils
import ipaddress
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from jose import jws

from pgwsgi.auth import Authenticator, mint_token
from pgwsgi.auth.jwks import RemoteKeys, freshness, redact
from pgwsgi.cli import main
from pgwsgi.config import Config, ConfigError, load_config
from pgwsgi.errors import ApiError

KEY_ERROR = "No suitable key or wrong key type"
NO_SUITABLE = "No suitable key was found to decode the JWT"
NONE_DECODED = "None of the keys was able to decode the JWT"
INTERVAL = 30
WELL_KNOWN = "/.well-known/openid-configuration"
NO_USABLE_KEY = (
    "jwt-secret: no usable key in the fetched JWK set; pgwsgi verifies a set from a URL with RSA (RS256/384/512) "
    "and EC P-256/P-384/P-521 (ES256/384/512) keys (never oct)"
)


# --- keys and tokens ---------------------------------------------------------------------------


def b64u_int(n: int, size: int | None = None) -> str:
    raw = n.to_bytes(size or (n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True)
class SigningKey:
    """A private key (PEM, for python-jose) and its public JWK."""

    kid: str
    alg: str
    pem: bytes
    jwk: dict[str, Any]

    def token(self, kid: str | None = "", **claims: Any) -> str:
        """A token with CLAIMS (role pgwsgi_user by default) signed with this key, naming its kid unless told."""
        claims.setdefault("role", "pgwsgi_user")
        headers = {"kid": self.kid if kid == "" else kid} if kid is not None else None
        return jws.sign(claims, self.pem, headers=headers, algorithm=self.alg)


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def rsa_key(kid: str) -> SigningKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": b64u_int(numbers.n), "e": b64u_int(numbers.e)}
    return SigningKey(kid, "RS256", _pem(key), jwk)


def ec_key(kid: str) -> SigningKey:
    key = ec.generate_private_key(ec.SECP256R1())
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "EC", "kid": kid, "crv": "P-256", "x": b64u_int(numbers.x, 32), "y": b64u_int(numbers.y, 32)}
    return SigningKey(kid, "ES256", _pem(key), jwk)


@pytest.fixture(scope="module")
def keys() -> dict[str, SigningKey]:
    """Key A and B (RSA), C (EC P-256): made once, RSA key generation is slow."""
    return {"a": rsa_key("a"), "b": rsa_key("b"), "c": ec_key("c")}


def jwks(*keys: SigningKey) -> dict[str, Any]:
    return {"keys": [k.jwk for k in keys]}


# --- the JWKS server ---------------------------------------------------------------------------


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    content_length: bool = True


@dataclass
class JwksServer:
    """An HTTP(S) server on 127.0.0.1 answering each path as told, and recording the paths asked for."""

    tls: ssl.SSLContext | None = None
    answers: dict[str, Answer] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    date: str | None = None  # the Date header, when a test needs it fixed
    delay: float = 0.0

    def __post_init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                if server.delay:
                    time.sleep(server.delay)
                answer = server.answers.get(self.path, Answer(404, b'{"error": "not found"}'))
                self.send_response(answer.status)
                for name, value in answer.headers:
                    self.send_header(name, value)
                if answer.content_length:
                    self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def date_time_string(self, timestamp: float | None = None) -> str:
                return server.date or super().date_time_string(timestamp)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if self.tls is not None:
            self.httpd.socket = self.tls.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str = "/jwks") -> str:
        return self.base + path

    def answer(self, path: str, body: bytes | dict[str, Any] | list[Any], status: int = 200, **headers: str) -> None:
        """Answer PATH with BODY (JSON unless bytes); HEADERS are given with `_` for `-`."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.answers[path] = Answer(status, raw, tuple((k.replace("_", "-"), v) for k, v in headers.items()))

    def serve(self, *keys: SigningKey, path: str = "/jwks", **headers: str) -> None:
        """Serve a JWKS of KEYS at PATH."""
        self.answer(path, jwks(*keys), **headers)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[JwksServer]:
    found = JwksServer()
    yield found
    found.close()


class Clock:
    """The Authenticator's clock, moved by the tests."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def remote(url: str, clock: Clock, **kw: Any) -> Authenticator:
    kw.setdefault("jwt_jwks_refetch_interval", INTERVAL)
    return Authenticator(Config(jwt_secret=url, db_anon_role="anon", **kw), clock=clock)


def started(url: str, clock: Clock, **kw: Any) -> Authenticator:
    auth = remote(url, clock, **kw)
    auth.start()
    return auth


def role(auth: Authenticator, token: str) -> str:
    return auth.authenticate(f"Bearer {token}").role


def refused(auth: Authenticator, token: str, details: str = NO_SUITABLE) -> None:
    with pytest.raises(ApiError) as info:
        auth.authenticate(f"Bearer {token}")
    err = info.value
    assert (err.status, err.code, err.message, err.details) == (401, "PGRST301", KEY_ERROR, details)


@pytest.fixture(autouse=True)
def _warnings_recorded(caplog: pytest.LogCaptureFixture) -> None:
    # An app built earlier in the session set the "pgwsgi" logger to log-level's default, error.
    caplog.set_level(logging.WARNING, logger="pgwsgi.auth")


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "pgwsgi.auth" and r.levelno == logging.WARNING]


# --- fetching ----------------------------------------------------------------------------------


def test_rsa_and_ec_keys_of_a_fetched_jwks_verify(server: JwksServer, clock: Clock, keys: dict) -> None:
    server.serve(keys["a"], keys["c"])
    auth = remote(server.url(), clock)
    # Nothing is fetched when the Authenticator is built (that may be gunicorn's master).
    assert server.requests == []
    auth.start()
    assert server.requests == ["/jwks"]
    assert role(auth, keys["a"].token()) == "pgwsgi_user"
    assert role(auth, keys["c"].token(role="ec")) == "ec"
    # A token without kid is tried against every key of its alg.
    assert role(auth, keys["a"].token(kid=None, role="no kid")) == "no kid"
    refused(auth, keys["b"].token(kid="a"), NONE_DECODED)
    assert server.requests == ["/jwks"]


def test_without_start_the_first_verification_fetches(server: JwksServer, clock: Clock, keys: dict) -> None:
    server.serve(keys["a"])
    auth = remote(server.url(), clock)
    assert role(auth, keys["a"].token()) == "pgwsgi_user"
    assert server.requests == ["/jwks"]


def test_a_failed_start_refuses_tokens_until_a_fetch_succeeds(
    server: JwksServer, clock: Clock, keys: dict, caplog: pytest.LogCaptureFixture
) -> None:
    server.answer("/jwks", {"message": "down"}, status=503)
    auth = remote(server.url(), clock)
    auth.start()  # logs, never raises: the worker still starts
    assert warnings(caplog) == [
        f"jwt-secret: could not fetch the keys from {server.url()}: {server.url()} answered 503; "
        "tokens are refused until it succeeds, next try in 30s at the earliest"
    ]
    server.serve(keys["a"])
    token = keys["a"].token()
    clock.advance(INTERVAL - 1)
    refused(auth, token)
    assert server.requests == ["/jwks"]  # no retry within the interval, unknown kid or not
    clock.advance(1)
    assert role(auth, token) == "pgwsgi_user"
    assert server.requests == ["/jwks", "/jwks"]


# --- caching -----------------------------------------------------------------------------------


def _refetched_after(server: JwksServer, clock: Clock, keys: dict, seconds: float, **headers: str) -> None:
    """With HEADERS on the JWKS, the set is fetched again after SECONDS and not before."""
    server.serve(keys["a"], keys["b"], **headers)
    auth = started(server.url(), clock)
    token_a = keys["a"].token()
    assert role(auth, token_a) == "pgwsgi_user"
    server.serve(keys["b"], **headers)  # A removed
    clock.advance(seconds - 1)
    assert role(auth, keys["a"].token(n=1)) == "pgwsgi_user"
    assert server.requests == ["/jwks"]
    clock.advance(1)
    # Expired: this verification fetches the set again, and A (even its cached token) is gone.
    refused(auth, token_a)
    assert server.requests == ["/jwks", "/jwks"]
    assert role(auth, keys["b"].token()) == "pgwsgi_user"


def test_max_age_says_how_long_the_set_is_kept(server: JwksServer, clock: Clock, keys: dict) -> None:
    _refetched_after(server, clock, keys, 120, Cache_Control="public, max-age=120")


def test_max_age_minus_age(server: JwksServer, clock: Clock, keys: dict) -> None:
    _refetched_after(server, clock, keys, 100, Cache_Control="max-age=120", Age="20")


def test_max_age_beats_expires(server: JwksServer, clock: Clock, keys: dict) -> None:
    server.date = email.utils.formatdate(clock.now, usegmt=True)
    expires = email.utils.formatdate(clock.now + 3000, usegmt=True)
    _refetched_after(server, clock, keys, 120, Cache_Control="max-age=120", Expires=expires)


def test_expires_counts_from_the_date_header(server: JwksServer, clock: Clock, keys: dict) -> None:
    # The server's clock is a day behind: Expires - Date still says 600 s.
    server.date = email.utils.formatdate(clock.now - 86400, usegmt=True)
    _refetched_after(server, clock, keys, 600, Expires=email.utils.formatdate(clock.now - 86400 + 600, usegmt=True))


@pytest.mark.parametrize("directive", ["no-cache", "no-store", "max-age=0", "max-age=5, must-revalidate"])
def test_no_cache_means_the_refetch_interval(server: JwksServer, clock: Clock, keys: dict, directive: str) -> None:
    _refetched_after(server, clock, keys, INTERVAL, Cache_Control=directive)


def test_no_cache_headers_keep_the_set_300_seconds(server: JwksServer, clock: Clock, keys: dict) -> None:
    _refetched_after(server, clock, keys, 300)


def test_s_maxage_is_ignored(server: JwksServer, clock: Clock, keys: dict) -> None:
    _refetched_after(server, clock, keys, 300, Cache_Control="s-maxage=3000")


def test_a_set_is_kept_one_day_at_most(server: JwksServer, clock: Clock, keys: dict) -> None:
    _refetched_after(server, clock, keys, 86400, Cache_Control="max-age=31536000")


def test_the_refetch_interval_is_configurable(server: JwksServer, clock: Clock, keys: dict) -> None:
    server.serve(keys["a"], Cache_Control="no-cache")
    auth = started(server.url(), clock, jwt_jwks_refetch_interval=2)
    clock.advance(1)
    role(auth, keys["a"].token())
    assert server.requests == ["/jwks"]
    clock.advance(1)
    role(auth, keys["a"].token(n=1))
    assert server.requests == ["/jwks", "/jwks"]


def test_freshness_of_headers() -> None:
    def of(now: float = 1_000_000.0, **headers: str) -> float | None:
        message = Message()
        for name, value in headers.items():
            message[name.replace("_", "-")] = value
        return freshness(message, now)

    assert of() is None
    assert of(Cache_Control="max-age=60") == 60
    assert of(Cache_Control='max-age="60"') == 60
    assert of(Cache_Control="max-age=60", Age="100") == -40  # the caller clamps it
    assert of(Cache_Control="max-age=oops") is None
    assert of(Cache_Control="private, no-cache, max-age=600") == 0
    assert of(Cache_Control="no-store") == 0
    # Without Date, Expires counts from the clock's now.
    assert of(now=1_000_000.0, Expires=email.utils.formatdate(1_000_500, usegmt=True)) == 500
    # An invalid Expires means already expired (RFC 9111 §5.3).
    assert of(Expires="0") == 0
    assert of(Expires="tomorrow") == 0


# --- an unknown kid --------------------------------------------------------------------------


def test_an_unknown_kid_refetches_at_most_once_per_interval(server: JwksServer, clock: Clock, keys: dict) -> None:
    server.serve(keys["a"], Cache_Control="max-age=3600")
    auth = started(server.url(), clock)
    server.serve(keys["a"], keys["b"], Cache_Control="max-age=3600")  # B added: a rotation begins
    token_b = keys["b"].token()
    clock.advance(1)
    refused(auth, token_b)  # fetched at start a second ago: not again yet
    assert server.requests == ["/jwks"]
    clock.advance(INTERVAL - 1)
    assert role(auth, token_b) == "pgwsgi_user"
    assert server.requests == ["/jwks", "/jwks"]
    # Made-up kids cannot make it fetch on every request.
    for _ in range(5):
        refused(auth, keys["a"].token(kid="made-up"))
    assert server.requests == ["/jwks", "/jwks"]
    clock.advance(INTERVAL)
    refused(auth, keys["a"].token(kid="made-up"))
    assert server.requests == ["/jwks", "/jwks", "/jwks"]
    # A known kid never fetches, whatever the interval.
    clock.advance(INTERVAL)
    assert role(auth, keys["a"].token(n=2)) == "pgwsgi_user"
    assert server.requests == ["/jwks", "/jwks", "/jwks"]


def test_a_removed_key_stops_verifying_its_cached_tokens(server: JwksServer, clock: Clock, keys: dict) -> None:
    server.serve(keys["a"], Cache_Control="max-age=3600")
    auth = started(server.url(), clock)
    token_a = keys["a"].token()
    assert role(auth, token_a) == "pgwsgi_user"
    assert role(auth, token_a) == "pgwsgi_user"
    assert auth.stats.hits == 1  # the second time came from the JWT cache
    server.serve(keys["b"], Cache_Control="max-age=3600")  # A replaced by B
    clock.advance(INTERVAL)
    assert role(auth, keys["b"].token()) == "pgwsgi_user"  # an unknown kid: the new set is fetched
    refused(auth, token_a)  # cached, but its key is gone
    assert server.requests == ["/jwks", "/jwks"]


def test_an_unchanged_set_keeps_the_cache(server: JwksServer, clock: Clock, keys: dict) -> None:
    server.serve(keys["a"], Cache_Control="no-cache")
    auth = started(server.url(), clock)
    token_a = keys["a"].token()
    role(auth, token_a)
    clock.advance(INTERVAL)
    role(auth, token_a)
    assert server.requests == ["/jwks", "/jwks"]
    assert auth.stats.hits == 1


# --- failures ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "reason", "paths"),
    [
        (Answer(503, b"busy"), "{url} answered 503", ["/jwks"]),
        (Answer(500, b"{}"), "{url} answered 500", ["/jwks"]),
        # Not a JWKS: it might be an issuer's URL, so its OpenID configuration is tried too.
        (
            Answer(200, b"<html>"),
            f"{{url}} did not answer JSON, and no OpenID Connect configuration: {{url}}{WELL_KNOWN} answered 404",
            ["/jwks", "/jwks" + WELL_KNOWN],
        ),
        (
            Answer(200, b"[1, 2]"),
            f"{{url}} did not answer a JSON object, and no OpenID Connect configuration: {{url}}{WELL_KNOWN} "
            "answered 404",
            ["/jwks", "/jwks" + WELL_KNOWN],
        ),
        (Answer(200, json.dumps({"keys": []}).encode()), NO_USABLE_KEY, ["/jwks"]),
        (
            Answer(200, json.dumps({"keys": {"kty": "RSA"}}).encode()),
            'jwt-secret: a JWK set needs a "keys" array',
            ["/jwks"],
        ),
        (
            Answer(200, b"{" + b" " * (1024 * 1024) + b"}"),
            "{url}: the answer is larger than 1048576 bytes",
            ["/jwks"],
        ),
        # Without Content-Length the body is counted as it comes.
        (
            Answer(200, b"{" + b" " * (1024 * 1024) + b"}", content_length=False),
            "{url}: the answer is larger than 1048576 bytes",
            ["/jwks"],
        ),
    ],
)
def test_a_failed_fetch_keeps_the_last_good_set(
    server: JwksServer,
    clock: Clock,
    keys: dict,
    caplog: pytest.LogCaptureFixture,
    answer: Answer,
    reason: str,
    paths: list[str],
) -> None:
    server.serve(keys["a"], Cache_Control="max-age=60")
    auth = started(server.url(), clock)
    server.answers["/jwks"] = answer
    clock.advance(60)
    assert role(auth, keys["a"].token()) == "pgwsgi_user"
    assert server.requests == ["/jwks", *paths]
    assert warnings(caplog) == [
        f"jwt-secret: could not fetch the keys from {server.url()}: {reason.format(url=server.url())}; "
        "keeping the last good key set, next try in 30s at the earliest"
    ]
    # No retry before the interval, not even for an unknown kid.
    clock.advance(INTERVAL - 1)
    assert role(auth, keys["a"].token(n=1)) == "pgwsgi_user"
    refused(auth, keys["b"].token())
    assert server.requests == ["/jwks", *paths]
    server.serve(keys["b"])
    clock.advance(1)
    assert role(auth, keys["b"].token()) == "pgwsgi_user"
    assert server.requests == ["/jwks", *paths, "/jwks"]


def test_a_closed_port_keeps_the_last_good_set(
    server: JwksServer, clock: Clock, keys: dict, caplog: pytest.LogCaptureFixture
) -> None:
    server.serve(keys["a"], Cache_Control="max-age=60")
    auth = started(server.url(), clock)
    server.close()
    clock.advance(60)
    assert role(auth, keys["a"].token()) == "pgwsgi_user"
    [warning] = warnings(caplog)
    assert warning.startswith(f"jwt-secret: could not fetch the keys from {server.url()}: {server.url()}: ")
    assert "Connection refused" in warning


def test_a_key_that_cannot_be_read_is_skipped(
    server: JwksServer, clock: Clock, keys: dict, caplog: pytest.LogCaptureFixture
) -> None:
    broken = {"kty": "RSA", "kid": "broken", "e": "AQAB"}
    encryption = {**keys["b"].jwk, "use": "enc", "alg": "RSA-OAEP"}
    server.answer("/jwks", {"keys": [broken, encryption, keys["a"].jwk]})
    auth = started(server.url(), clock)
    assert role(auth, keys["a"].token()) == "pgwsgi_user"
    assert warnings(caplog) == [
        'jwt-secret: JWK #0 (kid broken): an RSA key needs "n" and "e"; that key is skipped',
        'jwt-secret: ignoring JWK #1 (kid b): use is "enc", not "sig"',
    ]
    # Said once per set, not at every fetch.
    clock.advance(300)
    role(auth, keys["a"].token(n=1))
    assert len(server.requests) == 2
    assert len(warnings(caplog)) == 2


def test_private_members_of_a_fetched_key_are_ignored(server: JwksServer, clock: Clock, keys: dict) -> None:
    # Garbage where a private exponent would be: never parsed, since a fetched set never signs.
    server.answer("/jwks", {"keys": [{**keys["a"].jwk, "d": "!!not base64!!", "p": "x"}]})
    auth = started(server.url(), clock)
    assert role(auth, keys["a"].token()) == "pgwsgi_user"


def test_a_symmetric_key_from_a_url_is_never_used(
    server: JwksServer, clock: Clock, keys: dict, caplog: pytest.LogCaptureFixture
) -> None:
    secret = b"a shared secret anyone can fetch!"
    oct_key = {"kty": "oct", "kid": "shared", "alg": "HS256", "k": base64.urlsafe_b64encode(secret).decode()}
    forged = jws.sign({"role": "admin"}, secret, headers={"kid": "shared"}, algorithm="HS256")
    server.answer("/jwks", {"keys": [oct_key, keys["a"].jwk]}, Cache_Control="max-age=60")
    auth = started(server.url(), clock)
    assert warnings(caplog) == [
        "jwt-secret: ignoring JWK #0 (kid shared) of the fetched set: a symmetric (oct) key from a URL is never "
        "used, anyone who can fetch the URL could sign tokens with it"
    ]
    refused(auth, forged)
    refused(auth, jws.sign({"role": "admin"}, secret, algorithm="HS256"))  # without kid too
    assert role(auth, keys["a"].token()) == "pgwsgi_user"
    # A set of oct keys alone is a failed fetch: the last good set stays, the oct key is still not used.
    caplog.clear()
    server.answer("/jwks", {"keys": [{**oct_key, "kid": "other"}]})
    clock.advance(60)
    assert role(auth, keys["a"].token(n=1)) == "pgwsgi_user"
    refused(auth, jws.sign({"role": "admin"}, secret, headers={"kid": "other"}, algorithm="HS256"))
    assert warnings(caplog) == [
        "jwt-secret: ignoring JWK #0 (kid other) of the fetched set: a symmetric (oct) key from a URL is never "
        "used, anyone who can fetch the URL could sign tokens with it",
        f"jwt-secret: could not fetch the keys from {server.url()}: {NO_USABLE_KEY}; keeping the last good key "
        "set, next try in 30s at the earliest",
    ]
    # Before any good set, an oct-only set leaves every token refused.
    caplog.clear()
    fresh = started(server.url(), clock)
    refused(fresh, jws.sign({"role": "admin"}, secret, headers={"kid": "other"}, algorithm="HS256"))
    assert warnings(caplog)[-1].endswith(
        f"{NO_USABLE_KEY}; tokens are refused until it succeeds, next try in 30s at the earliest"
    )


def test_the_warnings_name_the_url_without_its_query(
    server: JwksServer, clock: Clock, keys: dict, caplog: pytest.LogCaptureFixture
) -> None:
    server.answer("/jwks?api_key=s3cret", {"keys": [{**keys["a"].jwk, "n": "AAAA"}]})
    auth = started(server.url("/jwks?api_key=s3cret"), clock)
    refused(auth, keys["a"].token())
    assert warnings(caplog) == [
        "jwt-secret: JWK #0 (kid a): invalid RSA key: n must be >= 3.; that key is skipped",
        f"jwt-secret: could not fetch the keys from {server.url()}: {NO_USABLE_KEY}; tokens are refused until it "
        "succeeds, next try in 30s at the earliest",
    ]
    assert server.requests == ["/jwks?api_key=s3cret"]
    assert redact("https://u:p@example.com:8443/a/b?q=1#f") == "https://example.com:8443/a/b"
    assert redact("http://[::1]:80/x?y") == "http://[::1]:80/x"


def test_one_fetch_for_many_threads_finding_the_set_expired(server: JwksServer, clock: Clock, keys: dict) -> None:
    server.serve(keys["a"], Cache_Control="max-age=60")
    auth = started(server.url(), clock)
    tokens = [keys["a"].token(n=i) for i in range(8)]
    clock.advance(60)
    server.delay = 0.2
    results: list[str] = []
    threads = [threading.Thread(target=lambda t=t: results.append(role(auth, t))) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["pgwsgi_user"] * 8
    assert server.requests == ["/jwks", "/jwks"]


# --- proxies and the deadline -----------------------------------------------------------------


class RawServer:
    """A TCP server on 127.0.0.1 calling HANDLE with each connection (in a thread of its own), then closing it."""

    def __init__(self, handle: Callable[[socket.socket], None]) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.handle = handle
        self.stopped = threading.Event()
        self.connections = 0
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.listener.getsockname()[1])

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(2)
            try:
                self.handle(conn)
            except OSError:  # the client went away
                pass

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.listener.close()


def _request_line(conn: socket.socket, into: list[str]) -> None:
    """Record the first line the client sends (a proxy sees `GET http://...` or `CONNECT host:port`)."""
    into.append(conn.makefile("rb").readline().decode("latin-1").strip())


@pytest.fixture
def proxy() -> Iterator[tuple[RawServer, list[str]]]:
    """A would-be proxy recording what it is asked for, and answering nothing."""
    lines: list[str] = []
    found = RawServer(lambda conn: _request_line(conn, lines))
    yield found, lines
    found.close()


def _no_proxy_exemptions(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def test_plain_http_never_goes_through_a_proxy(
    server: JwksServer,
    clock: Clock,
    keys: dict,
    proxy: tuple[RawServer, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    listener, lines = proxy
    _no_proxy_exemptions(monkeypatch)
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{listener.port}")
    server.serve(keys["a"])
    auth = started(server.url(), clock)
    # Straight to the loopback server: through a proxy the keys would cross the network in the clear.
    assert role(auth, keys["a"].token()) == "pgwsgi_user"
    assert server.requests == ["/jwks"]
    assert (listener.connections, lines) == (0, [])


def test_https_goes_through_https_proxy_unless_no_proxy_says_otherwise(
    https_server: tuple[JwksServer, Path],
    clock: Clock,
    keys: dict,
    proxy: tuple[RawServer, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server, ca_file = https_server
    listener, lines = proxy
    server.serve(keys["a"])
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    _no_proxy_exemptions(monkeypatch)
    monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{listener.port}")
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    auth = started(server.url(), clock)
    refused(auth, keys["a"].token())  # the "proxy" hung up
    [line] = lines
    assert line.startswith(f"CONNECT 127.0.0.1:{server.httpd.server_address[1]} HTTP/")
    assert server.requests == []
    [warning] = warnings(caplog)
    assert warning.startswith(f"jwt-secret: could not fetch the keys from {server.url()}: ")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    clock.advance(INTERVAL)
    assert role(auth, keys["a"].token()) == "pgwsgi_user"
    assert server.requests == ["/jwks"]
    assert len(lines) == 1


def _headers_one_byte_at_a_time(conn: socket.socket, stop: threading.Event, pause: float, count: int) -> None:
    """Read a request, then send a status line and headers one byte each PAUSE seconds, COUNT bytes at most.

    After those (were the deadline not held), a complete JWKS answer.
    """
    conn.makefile("rb").readline()
    head = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"." * count
    for byte in head[:count]:
        if stop.wait(pause):
            return
        conn.sendall(bytes([byte]))
    body = json.dumps({"keys": [{"kty": "EC", "crv": "P-256", "x": "", "y": ""}]}).encode()
    conn.sendall(head[count:] + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


def _fetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "pgwsgi-jwks-fetch"]


def _until(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_the_deadline_holds_for_a_server_sending_its_headers_slowly(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    stop = threading.Event()
    # A byte every 0.5 s for 4 s: each read gets its byte long before a socket timeout would strike.
    slow = RawServer(lambda conn: _headers_one_byte_at_a_time(conn, stop, 0.5, 8))
    try:
        url = f"http://127.0.0.1:{slow.port}/jwks"
        keys_at = RemoteKeys(url, lambda doc: doc, refetch_interval=INTERVAL, clock=clock, timeout=0.8)
        began = time.monotonic()
        assert keys_at.start() is False
        took = time.monotonic() - began
        assert 0.75 <= took < 1.6  # the server would have needed 4 s
        assert keys_at.current() is None
        assert warnings(caplog) == [
            f"jwt-secret: could not fetch the keys from {url}: {url}: timed out after 0.8s; tokens are refused "
            "until it succeeds, next try in 30s at the earliest"
        ]
        # Its connection was shut down, so the fetch's thread ends too instead of reading on.
        assert _until(lambda: not _fetch_threads(), 1.0)
    finally:
        stop.set()
        slow.close()


def test_a_late_answer_never_replaces_a_newer_set(server: JwksServer, clock: Clock, keys: dict) -> None:
    server.serve(keys["a"])
    server.delay = 0.8  # the first answer comes after the deadline
    keys_at = RemoteKeys(
        server.url(),
        lambda doc: [key["kid"] for key in doc["keys"]],
        refetch_interval=INTERVAL,
        clock=clock,
        timeout=0.3,
    )
    assert keys_at.start() is False
    server.delay = 0
    server.serve(keys["b"])
    clock.advance(INTERVAL)
    assert keys_at.current() == ["b"]
    time.sleep(0.7)  # the first request's handler has answered (or tried to) by now
    assert keys_at.current() == ["b"]
    assert server.requests == ["/jwks", "/jwks"]
    assert _until(lambda: not _fetch_threads(), 1.0)


# --- OpenID Connect discovery --------------------------------------------------------------------


def test_a_keycloak_style_issuer_url(server: JwksServer, clock: Clock, keys: dict) -> None:
    # Keycloak answers the realm's URL with realm information, neither keys nor jwks_uri.
    realm = "/realms/demo"
    certs = f"{realm}/protocol/openid-connect/certs"
    server.answer(realm, {"realm": "demo", "public_key": "MIIB..."})
    server.answer(realm + WELL_KNOWN, {"issuer": server.url(realm), "jwks_uri": server.url(certs)})
    server.serve(keys["a"], path=certs)
    auth = started(server.url(realm), clock)
    assert role(auth, keys["a"].token()) == "pgwsgi_user"
    assert server.requests == [realm, realm + WELL_KNOWN, certs]


def test_an_auth0_style_issuer_url_with_a_trailing_slash(server: JwksServer, clock: Clock, keys: dict) -> None:
    # The issuer's own URL answers 404: its OpenID configuration is next to it.
    server.answer(WELL_KNOWN, {"issuer": server.url("/"), "jwks_uri": server.url("/.well-known/jwks.json")})
    server.serve(keys["c"], path="/.well-known/jwks.json", Cache_Control="max-age=60")
    auth = started(server.url("/"), clock)
    assert role(auth, keys["c"].token()) == "pgwsgi_user"
    assert server.requests == ["/", WELL_KNOWN, "/.well-known/jwks.json"]
    # The JWKS's own cache headers count; each fetch discovers again.
    clock.advance(60)
    role(auth, keys["c"].token(n=1))
    assert server.requests == ["/", WELL_KNOWN, "/.well-known/jwks.json"] * 2


def test_an_explicit_openid_configuration_url(server: JwksServer, clock: Clock, keys: dict) -> None:
    server.answer("/tenant" + WELL_KNOWN, {"jwks_uri": "/tenant/keys"})  # relative: resolved against it
    server.serve(keys["a"], path="/tenant/keys")
    auth = started(server.url("/tenant" + WELL_KNOWN), clock)
    assert role(auth, keys["a"].token()) == "pgwsgi_user"
    assert server.requests == ["/tenant" + WELL_KNOWN, "/tenant/keys"]


@pytest.mark.parametrize(
    ("configuration", "reason"),
    [
        (
            {"jwks_uri": "http://example.com/keys"},
            "jwks_uri http://example.com/keys: a JWKS URL must use https (http only for loopback addresses)",
        ),
        ({"jwks_uri": 42}, "the jwks_uri of {url} is not a string"),
        ({"issuer": "x"}, "{url} has neither keys nor a jwks_uri"),
    ],
)
def test_an_openid_configuration_that_leads_nowhere(
    server: JwksServer,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
    configuration: dict[str, Any],
    reason: str,
) -> None:
    server.answer(WELL_KNOWN, configuration)
    auth = started(server.url(WELL_KNOWN), clock)
    [warning] = warnings(caplog)
    assert f": {reason.format(url=server.url(WELL_KNOWN))}; tokens are refused" in warning
    assert server.requests == [WELL_KNOWN]  # http://example.com was never asked
    refused(auth, "eyJhbGciOiJSUzI1NiIsImtpZCI6ImEifQ.e30.c2ln")


def test_a_jwks_uri_without_keys(server: JwksServer, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    server.answer(WELL_KNOWN, {"jwks_uri": server.url("/keys")})
    server.answer("/keys", {"nothing": []})
    started(server.url("/"), clock)
    assert warnings(caplog) == [
        f"jwt-secret: could not fetch the keys from {server.url('/')}: jwks_uri {server.url('/keys')} has no keys; "
        "tokens are refused until it succeeds, next try in 30s at the earliest"
    ]
    assert server.requests == ["/", WELL_KNOWN, "/keys"]


def test_neither_a_jwks_nor_an_issuer(server: JwksServer, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    started(server.url("/"), clock)
    assert warnings(caplog) == [
        f"jwt-secret: could not fetch the keys from {server.url('/')}: {server.url('/')} answered 404, and no "
        f"OpenID Connect configuration: {server.url(WELL_KNOWN)} answered 404; tokens are refused until it "
        "succeeds, next try in 30s at the earliest"
    ]


def test_a_redirect_to_plain_http_elsewhere_is_not_followed(
    server: JwksServer, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    server.answers["/jwks"] = Answer(302, b"", (("Location", "http://example.com/jwks"),))
    started(server.url(), clock)
    [warning] = warnings(caplog)
    assert (
        f"{server.url()} redirects to http://example.com/jwks: a JWKS URL must use https "
        "(http only for loopback addresses)" in warning
    )
    assert server.requests == ["/jwks"]


def test_a_redirect_on_loopback_is_followed(server: JwksServer, clock: Clock, keys: dict) -> None:
    server.answers["/old"] = Answer(301, b"", (("Location", "/jwks"),))
    server.serve(keys["a"])
    auth = started(server.url("/old"), clock)
    assert role(auth, keys["a"].token()) == "pgwsgi_user"
    assert server.requests == ["/old", "/jwks"]


# --- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/jwks",
        "http://10.0.0.1/jwks",
        "http://[2001:db8::1]/jwks",
        "HTTP://localhost.example.com/jwks",
        "http://127.0.0.1.example.com/jwks",
    ],
)
def test_plain_http_is_refused_unless_the_host_is_loopback(url: str) -> None:
    message = "jwt-secret: a JWKS URL must use https (http only for loopback addresses)"
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        load_config(env={"PGRST_JWT_SECRET": url})
    assert str(info.value) == message
    assert info.value.key == "jwt-secret"
    with pytest.raises(ConfigError) as info:
        Config(jwt_secret=url)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/jwks",
        "HTTPS://issuer.example.com/",
        "http://127.0.0.1:1/jwks",
        "http://127.8.9.10/jwks",
        "http://localhost/jwks",
        "http://LOCALHOST:8080/jwks",
        "http://[::1]:8080/jwks",
    ],
)
def test_https_and_loopback_urls_are_accepted(url: str) -> None:
    config = load_config(env={"PGRST_JWT_SECRET": url})
    assert config.jwt_secret == url
    Authenticator(config)  # builds without fetching anything


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"PGRST_JWT_SECRET": "https://example.com/jwks", "PGRST_JWT_SECRET_IS_BASE64": "true"},
            "jwt-secret: jwt-secret-is-base64 cannot be set with a JWKS URL",
        ),
        ({"PGRST_JWT_SECRET": "https://user:pw@example.com/jwks"}, "jwt-secret: a JWKS URL cannot carry a user name"),
        ({"PGRST_JWT_SECRET": "https:///jwks"}, "jwt-secret: a JWKS URL needs a host"),
        ({"PGRST_JWT_SECRET": "https://example.com:99999/jwks"}, "jwt-secret: a JWKS URL needs a valid host and port"),
        (
            {"PGRST_JWT_SECRET": "https://example.com/", "PGRST_JWT_JWKS_REFETCH_INTERVAL": "0"},
            "Invalid value for jwt-jwks-refetch-interval: 0 is not at least 1 (second)",
        ),
    ],
)
def test_unusable_url_configurations(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(env=env)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("url", ["https://[::1", "https://[::1/jwks", "http://[127.0.0.1]/jwks"])
def test_an_invalid_ipv6_url_names_jwt_secret(url: str) -> None:
    message = "jwt-secret: a JWKS URL needs a valid host and port"
    with pytest.raises(ConfigError) as info:
        load_config(env={"PGRST_JWT_SECRET": url})
    assert (str(info.value), info.value.key) == (message, "jwt-secret")
    with pytest.raises(ConfigError) as info:
        Config(jwt_secret=url)
    assert (str(info.value), info.value.key) == (message, "jwt-secret")


def test_refetch_interval_key() -> None:
    assert load_config(env={}).jwt_jwks_refetch_interval == 30
    assert load_config(env={"PGRST_JWT_JWKS_REFETCH_INTERVAL": "5"}).jwt_jwks_refetch_interval == 5


def test_a_url_cannot_sign(
    server: JwksServer, clock: Clock, keys: dict, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    message = "jwt-secret: cannot sign with a JWKS fetched from a URL (it holds public keys only)"
    config = Config(jwt_secret=server.url(), db_anon_role="anon")
    with pytest.raises(ValueError) as info:
        mint_token(config, {"role": "a"})
    assert str(info.value) == message
    with pytest.raises(ValueError, match="cannot sign with a JWKS fetched from a URL"):
        Authenticator(config).mint({"role": "a"})
    with pytest.raises(ApiError) as api:
        Authenticator(config).sign_claims('{"role": "a"}')
    assert (api.value.status, api.value.code, api.value.details) == (500, "PGRST300", message)
    # `pgwsgi token` says so and fails, without fetching anything.
    monkeypatch.setenv("PGRST_JWT_SECRET", server.url())
    assert main(["token", "--role", "a"]) == 1
    assert capsys.readouterr().err == f"pgwsgi: {message}\n"
    assert server.requests == []


# --- https ---------------------------------------------------------------------------------------


def _certificate_authority(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    """A CA (its certificate written to a file) and a server context for 127.0.0.1 with a certificate it signed."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pgwsgi test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain = tmp_path / "server.pem"
    chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + _pem(key))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain)
    return ca_file, context


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[JwksServer, Path]]:
    ca_file, context = _certificate_authority(tmp_path)
    found = JwksServer(tls=context)
    yield found, ca_file
    found.close()


def test_https_with_the_ca_named_by_ssl_cert_file(
    https_server: tuple[JwksServer, Path], clock: Clock, keys: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, ca_file = https_server
    assert server.url().startswith("https://127.0.0.1:")
    server.serve(keys["a"])
    # Set before the Authenticator exists; its SSL context is made at each fetch, so it reads this.
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    auth = started(server.url(), clock)
    assert role(auth, keys["a"].token()) == "pgwsgi_user"
    assert server.requests == ["/jwks"]


def test_https_with_an_unknown_ca_fails(
    https_server: tuple[JwksServer, Path],
    clock: Clock,
    keys: dict,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    server, _ = https_server
    server.serve(keys["a"])
    (tmp_path / "other").mkdir()
    other_ca, _ = _certificate_authority(tmp_path / "other")
    monkeypatch.setenv("SSL_CERT_FILE", str(other_ca))
    auth = started(server.url(), clock)
    refused(auth, keys["a"].token())
    [warning] = warnings(caplog)
    assert "CERTIFICATE_VERIFY_FAILED" in warning
    assert server.requests == []  # the handshake failed: no request was sent


def test_https_never_leads_to_plain_http(
    https_server: tuple[JwksServer, Path],
    server: JwksServer,
    clock: Clock,
    keys: dict,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secure, ca_file = https_server
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    server.serve(keys["a"])  # plain http, on loopback: fine as jwt-secret itself, not after https
    reason = "an https URL cannot lead to plain http"
    # A redirect.
    secure.answers["/jwks"] = Answer(302, b"", (("Location", server.url()),))
    auth = started(secure.url(), clock)
    refused(auth, keys["a"].token())
    assert warnings(caplog) == [
        f"jwt-secret: could not fetch the keys from {secure.url()}: {secure.url()} redirects to {server.url()}: "
        f"{reason}; tokens are refused until it succeeds, next try in 30s at the earliest"
    ]
    # A jwks_uri.
    caplog.clear()
    secure.answer(WELL_KNOWN, {"jwks_uri": server.url()})
    started(secure.url(WELL_KNOWN), clock)
    [warning] = warnings(caplog)
    assert f": jwks_uri {server.url()}: {reason}; tokens are refused" in warning
    assert secure.requests == ["/jwks", WELL_KNOWN]
    assert server.requests == []
    # From plain http on loopback to https is fine: the other way round.
    secure.serve(keys["a"])
    server.answers["/up"] = Answer(302, b"", (("Location", secure.url()),))
    assert role(started(server.url("/up"), clock), keys["a"].token()) == "pgwsgi_user"
    assert server.requests == ["/up"]
