"""JWT authentication: from an `Authorization` header to the role a request runs as (docs/postgrest-inventory.md §2.1).

`Authenticator(config).authenticate(header)` returns an `Identity` or raises the
`ApiError` PostgREST would answer (PGRST300/301/302/303). Signatures are checked
with python-jose key objects only; every claim check is done here so the
messages are PostgREST's, not the library's. `mint_token` signs test and CLI
tokens with the configured key (PostgREST itself never signs: A-NO-ISSUE).
When jwt-secret is a URL, auth/jwks.py fetches the JWKS and this module parses it.

Never log a token, a claim value or key material from this module.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from jose import jwk as jose_jwk
from jose import jws as jose_jws

from pgwsgi.auth.claimpath import RolePath, compile_role_path
from pgwsgi.auth.jwks import RemoteKeys
from pgwsgi.config import Config
from pgwsgi.config.model import check_jwks_secret, is_jwks_url
from pgwsgi.errors import anonymous_disabled, invalid_claims, invalid_token, no_jwt_secret

log = logging.getLogger("pgwsgi.auth")

CLOCK_SKEW = 30  # seconds allowed on exp/nbf/iat (V-JWT-SKEW)

_HMAC_ALGS = ("HS256", "HS384", "HS512")
_RSA_ALGS = ("RS256", "RS384", "RS512")
_EC_ALG_BY_CURVE = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
# Every JWS alg PostgREST's JOSE library can parse from a header; anything else is
# a malformed header there ("JWT cryptographic operation failed"), not a bad alg.
_KNOWN_ALGS = frozenset((*_HMAC_ALGS, *_RSA_ALGS, *_EC_ALG_BY_CURVE.values(), "EdDSA"))
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_BEARER_SPACE = " \t\n\v\f\r\xa0"
_INT64 = 2**63
_NOTHING = object()

# Messages and library details exactly as PostgREST renders them.
_EMPTY = "Empty JWT is sent in Authorization header"
_BAD_CRYPTO = "JWT cryptographic operation failed"
_BAD_ALG = "Wrong or unsupported encoding algorithm"
_KEY_ERROR = "No suitable key or wrong key type"
_NO_SUITABLE_KEY = "No suitable key was found to decode the JWT"
_NO_KEY_DECODED = "None of the keys was able to decode the JWT"
_UNSECURED = "JWT is unsecured but expected 'alg' was not 'none'"
_NO_SIGNING_URL = "jwt-secret: cannot sign with a JWKS fetched from a URL (it holds public keys only)"
# JWK members of private keys (RFC 7518 §6.2.2, §6.3.2): dropped from a fetched set, which never signs.
_PRIVATE_MEMBERS = frozenset(("d", "p", "q", "dp", "dq", "qi", "oth"))


@dataclass(frozen=True)
class Identity:
    """Who a request runs as."""

    role: str  # resolved role to SET
    claims: dict[str, Any]  # decoded JWT claims ({} without token)
    is_anonymous: bool  # role is db-anon-role (PostgREST's 401-vs-403 rule for SQLSTATE 42501)


@dataclass
class CacheStats:
    """JWT cache counters, for /metrics."""

    requests: int = 0
    hits: int = 0
    evictions: int = 0


class _Key:
    """One verification (and maybe signing) key, with the token algs it may check."""

    def __init__(
        self, kid: str | None, algs: tuple[str, ...], public: dict[str, Any], private: dict[str, Any] | None
    ) -> None:
        self.kid = kid
        self.algs = algs
        # One python-jose key object per alg, built from key material of the
        # matching type only: an HS* token can never reach an RSA/EC key here.
        self.verifiers = {alg: jose_jwk.construct(public, alg) for alg in algs}
        self.private = private

    def verify(self, alg: str, signing_input: bytes, signature: bytes) -> bool:
        try:
            return bool(self.verifiers[alg].verify(signing_input, signature))
        except Exception:  # a malformed signature is just a failed verification
            return False


class _Entry:
    """A cached token: its decoded claims and, once resolved, its identity."""

    __slots__ = ("claims", "identity")

    def __init__(self, claims: dict[str, Any]) -> None:
        self.claims = claims
        self.identity: Identity | None = None


class Authenticator:
    """Resolves the role and claims of each request; one instance per loaded configuration.

    Built again on every config reload, which also resets the JWT cache when the
    secret changes (A-CACHE).
    """

    def __init__(self, config: Config, *, clock: Callable[[], float] = time.time) -> None:
        """Parse the keys and the role path once; ValueError when either is unusable."""
        self._anon = config.db_anon_role
        self._aud = config.jwt_aud
        self._clock = clock
        self._keys: list[_Key] | None = None
        self._remote: RemoteKeys[list[_Key]] | None = None
        if config.jwt_secret and is_jwks_url(config.jwt_secret):
            check_jwks_secret(config.jwt_secret, config.jwt_secret_is_base64)
            # Nothing is fetched here: this may run in gunicorn's master; start() runs in the worker.
            self._remote = RemoteKeys(
                config.jwt_secret,
                _parse_remote_jwks,
                refetch_interval=config.jwt_jwks_refetch_interval,
                clock=clock,
                on_change=self._keys_changed,
            )
        else:
            self._keys = _load_keys(config)
        self.role_path: RolePath = compile_role_path(config.jwt_role_claim_key)
        if self.role_path.deprecated:
            log.warning(
                "The config `jwt-role-claim-key=%s` is using the deprecated JSPath syntax. Update it to the new "
                "JSONPath syntax as support for JSPath will be removed in a future release. See the migration "
                "guide on how to update: https://github.com/PostgREST/postgrest/blob/main/CHANGELOG.md"
                "#migration-to-v16",
                self.role_path.canonical,
            )
        self._max_entries = config.jwt_cache_max_entries
        self._cache: OrderedDict[str, _Entry] = OrderedDict()
        self._anonymous: Identity | None = None
        self._lock = threading.Lock()
        # Bumped whenever a fetched key set replaces another: a token verified with the old set
        # while it changed is not cached (its key may be the one removed).
        self._generation = 0
        self.stats = CacheStats()

    def start(self) -> None:
        """Fetch the keys of a JWKS URL (in the worker, after the fork); a failure is logged and retried later."""
        if self._remote is not None:
            self._remote.start()

    def mint(self, claims: dict[str, Any]) -> str:
        """Sign CLAIMS with the keys parsed at start-up (jwt-sign-claims functions)."""
        if self._remote is not None:
            raise ValueError(_NO_SIGNING_URL)
        return _sign(self._keys, claims)

    def sign_claims(self, body: str | None) -> str | None:
        """The body of a `*jwt_claims` function's answer as `{"token": ...}` (jwt-sign-claims).

        A function that found no user returns a row of NULLs: no token for that, `null`.
        """
        if body in (None, "null"):
            return body
        if self._remote is not None:
            raise no_jwt_secret(_NO_SIGNING_URL)
        claims = json.loads(body)
        return json.dumps({"token": self.mint(claims)}) if any(claims.values()) else "null"

    def authenticate(self, authorization: str | None) -> Identity:
        """The identity for an `Authorization` header value (None when absent); raises ApiError.

        The claims are checked on every request (exp, nbf, iat, aud); the role they
        name is resolved once per cached token, as the claims themselves are.
        """
        token = _bearer_token(authorization)
        if token is None:
            if self._anonymous is None:
                self._anonymous = self._identity({})
            return Identity(self._anonymous.role, {}, self._anonymous.is_anonymous)
        if self._remote is not None:
            # Read before the set: should it change from here on, this token's entry is not cached.
            with self._lock:
                generation = self._generation
            keys = self._remote.current() or []
        elif self._keys is not None:
            generation, keys = 0, self._keys
        else:
            raise no_jwt_secret()
        entry = self._cached_decode(token, keys, generation)
        _validate_claims(entry.claims, self._aud, int(self._clock()))
        if entry.identity is None:
            entry.identity = self._identity(entry.claims)
        found = entry.identity
        # A shallow copy: callers may add to it without touching the cached claims.
        return Identity(found.role, dict(found.claims), found.is_anonymous)

    def _identity(self, claims: dict[str, Any]) -> Identity:
        found = self.role_path.first(claims, _NOTHING)
        if found is _NOTHING:
            if self._anon is None:
                raise anonymous_disabled()
            role = self._anon
        elif isinstance(found, str):
            role = found
        else:
            # aeson encodes objects with sorted keys and without spaces.
            role = json.dumps(found, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
        return Identity(role, claims, role == self._anon)

    def _keys_changed(self) -> None:
        """A fetched key set replaced the one held: forget the tokens the old one verified."""
        with self._lock:
            self._generation += 1
            self._cache.clear()

    def _cached_decode(self, token: str, keys: list[_Key], generation: int) -> _Entry:
        if self._max_entries <= 0:
            return _Entry(self._decode(token, keys))
        with self._lock:
            self.stats.requests += 1
            entry = self._cache.get(token)
            if entry is not None:
                self.stats.hits += 1
                self._cache.move_to_end(token)
                return entry
        entry = _Entry(self._decode(token, keys))  # raises, so errors are never cached
        with self._lock:
            if self._generation != generation:
                return entry
            self._cache[token] = entry
            while len(self._cache) > self._max_entries:
                self._cache.popitem(last=False)
                self.stats.evictions += 1
        return entry

    def _decode(self, token: str, keys: list[_Key]) -> dict[str, Any]:
        """Verify the signature with KEYS and parse the claims object (PGRST301/PGRST303)."""
        if token == "":
            raise invalid_token(_EMPTY)
        parts = token.split(".")
        if len(parts) != 3:
            raise invalid_token(f"Expected 3 parts in JWT; got {len(parts)}")
        header = _json_object(_b64decode(parts[0]))
        if header is None:
            raise invalid_token(_BAD_CRYPTO)
        alg = header.get("alg")
        payload = _b64decode(parts[1])
        if payload is None:
            raise invalid_token(_BAD_CRYPTO)
        if alg == "none":  # never accepted, whatever the keys (the classic alg=none attack)
            raise invalid_token(_BAD_ALG, _UNSECURED)
        kid = header.get("kid")
        signature = _b64decode(parts[2])
        if (
            not isinstance(alg, str)
            or alg not in _KNOWN_ALGS
            or "enc" in header
            or signature is None
            or (kid is not None and not isinstance(kid, str))
        ):
            raise invalid_token(_BAD_CRYPTO)
        if alg == "EdDSA":
            # python-jose has no EdDSA (Ed25519/Ed448), so pgwsgi rejects it outright
            # rather than failing later with a misleading key error.
            raise invalid_token(_BAD_ALG, "EdDSA is not supported by pgwsgi")
        if self._remote is not None and kid is not None and all(k.kid != kid for k in keys):
            # The issuer may have started signing with a new key: fetch the set again (at most
            # once per jwt-jwks-refetch-interval, so made-up kids cannot make it fetch on every request).
            keys = self._remote.unknown_kid() or []
        candidates = [k for k in keys if alg in k.algs and (kid is None or k.kid == kid)]
        if not candidates:
            raise invalid_token(_KEY_ERROR, _NO_SUITABLE_KEY)
        signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
        if not any(k.verify(alg, signing_input, signature) for k in candidates):
            raise invalid_token(_KEY_ERROR, _NO_KEY_DECODED)
        claims = _json_object(payload)
        if claims is None:
            raise invalid_claims("Parsing claims failed")
        return claims


def _bearer_token(authorization: str | None) -> str | None:
    """The token of a `Bearer` header (possibly ""), or None for no/another scheme."""
    if authorization is None:
        return None
    i = 0
    while i < len(authorization) and authorization[i] not in _BEARER_SPACE:
        i += 1
    if authorization[:i].lower() != "bearer":
        return None
    return authorization[i:].lstrip(_BEARER_SPACE)


def _b64decode(part: str) -> bytes | None:
    """Strict unpadded base64url, as the JOSE library PostgREST uses requires."""
    if len(part) % 4 == 1 or not _B64URL.fullmatch(part):
        return None
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        return None


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _json_object(data: bytes | None) -> dict[str, Any] | None:
    if data is None:
        return None
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError included
        return None
    return value if isinstance(value, dict) else None


def _claim_int(value: int | float) -> int:
    """A time claim as PostgREST reads it (`Scientific.toBoundedInteger`, else 0).

    AMB-EXP-FRACTION: PostgREST turns a non-integral or out-of-Int64 number into 0,
    so a fractional `exp` is always expired while a fractional `nbf`/`iat` always
    passes. Mimicked on purpose: the same token must be accepted or refused by both
    servers.
    """
    if isinstance(value, float):
        if not value.is_integer():
            return 0
        value = int(value)
    return value if -_INT64 <= value < _INT64 else 0


def _validate_claims(claims: dict[str, Any], aud: str | None, now: int) -> None:
    """exp, nbf, iat, aud in PostgREST's order; the first failure wins (PGRST303)."""
    checks = (
        ("exp", lambda t: now - CLOCK_SKEW > t, "JWT expired"),
        ("nbf", lambda t: now + CLOCK_SKEW < t, "JWT not yet valid"),
        ("iat", lambda t: now + CLOCK_SKEW < t, "JWT issued at future"),
    )
    for name, invalid, message in checks:
        value = claims.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise invalid_claims(f"The JWT '{name}' claim must be a number")
        if invalid(_claim_int(value)):
            raise invalid_claims(message)
    value = claims.get("aud")
    if value is None:
        return
    if isinstance(value, str):
        auds = [value]
    elif isinstance(value, list) and all(isinstance(a, str) for a in value):
        auds = value
    else:
        raise invalid_claims("The JWT 'aud' claim must be a string or an array of strings")
    if aud is not None and auds and aud not in auds:
        raise invalid_claims("JWT not in audience")


# --- keys --------------------------------------------------------------------------------------


def _secret_bytes(config: Config) -> bytes | None:
    """jwt-secret as key material: base64-decoded first when jwt-secret-is-base64."""
    if not config.jwt_secret:
        return None
    if not config.jwt_secret_is_base64:
        return config.jwt_secret.encode("utf-8")
    text = config.jwt_secret.replace("-", "+").replace("_", "/").replace(".", "=").strip()
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("jwt-secret-is-base64 is set but jwt-secret is not valid base64") from None


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _load_keys(config: Config) -> list[_Key] | None:
    """The keys from jwt-secret (A-SECRET): a JWKS, a single JWK, or a raw HS256 secret."""
    if config.jwt_secret and is_jwks_url(config.jwt_secret):
        # Never a raw secret: the keys of a URL are fetched by RemoteKeys (Authenticator).
        raise ValueError("jwt-secret is a JWKS URL, whose keys are fetched, not read from the configuration")
    raw = _secret_bytes(config)
    if raw is None:
        return None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except ValueError:
        doc = None
    # PostgREST falls back to using JSON it cannot read as a JWK as a raw secret;
    # pgwsgi refuses to start instead, since that is never what the operator meant.
    if isinstance(doc, dict) and "keys" in doc:
        return _parse_jwks(doc, _load_jwk)
    if isinstance(doc, dict) and "kty" in doc:
        return _parse_jwks({"keys": [doc]}, _load_jwk)
    if len(raw) < 32:
        raise ValueError("The JWT secret must be at least 32 characters long.")
    # A raw secret verifies HS256 only, exactly like PostgREST.
    return [_Key(None, ("HS256",), {"kty": "oct", "k": _b64url(raw)}, {"kty": "oct", "k": _b64url(raw)})]


_ASYMMETRIC_KEYS = "RSA (RS256/384/512) and EC P-256/P-384/P-521 (ES256/384/512) keys"


def _parse_jwks(
    doc: dict[str, Any],
    load: Callable[[object, int], _Key | None],
    none_usable: str = f"no usable key in the JWK(S); pgwsgi verifies with oct (HS256/384/512), {_ASYMMETRIC_KEYS}",
) -> list[_Key]:
    """The keys of a JWK set, each read with LOAD; ValueError saying NONE_USABLE when it has none usable."""
    entries = doc.get("keys")
    if not isinstance(entries, list):
        raise ValueError('jwt-secret: a JWK set needs a "keys" array')
    keys = [key for n, entry in enumerate(entries) if (key := load(entry, n)) is not None]
    if not keys:
        raise ValueError(f"jwt-secret: {none_usable}")
    return keys


def _parse_remote_jwks(doc: dict[str, Any]) -> list[_Key]:
    """The keys of a JWKS fetched from jwt-secret's URL (auth/jwks.py); ValueError when none is usable."""
    return _parse_jwks(
        doc,
        _load_fetched_jwk,
        f"no usable key in the fetched JWK set; pgwsgi verifies a set from a URL with {_ASYMMETRIC_KEYS} (never oct)",
    )


def _load_fetched_jwk(entry: object, n: int) -> _Key | None:
    """One JWK of a fetched set; one it cannot read is skipped with a warning, not fatal.

    Unlike a configured key, an issuer may publish a key pgwsgi cannot read next to
    the ones it signs with; refusing the whole set would stop key rotation. A
    symmetric (oct) key is always skipped.
    """
    if isinstance(entry, dict):
        if entry.get("kty") == "oct":
            # It signs as well as it verifies, and anyone who can read the URL has it: trusting it
            # would let them sign tokens for any role.
            kid = entry.get("kid")
            log.warning(
                "jwt-secret: ignoring JWK #%d%s of the fetched set: a symmetric (oct) key from a URL is never used, "
                "anyone who can fetch the URL could sign tokens with it",
                n,
                f" (kid {kid})" if isinstance(kid, str) and kid else "",
            )
            return None
        # Never signed with (mint refuses a URL), so private members are not even parsed.
        entry = {name: value for name, value in entry.items() if name not in _PRIVATE_MEMBERS}
    try:
        return _load_jwk(entry, n)
    except ValueError as exc:
        log.warning("%s; that key is skipped", exc)
        return None


def _load_jwk(entry: object, n: int) -> _Key | None:
    """One JWK, or None for a key that can never verify (skipped, as PostgREST does)."""
    if not isinstance(entry, dict):
        raise ValueError(f"jwt-secret: JWK #{n} is not a JSON object")
    kty, alg, kid = entry.get("kty"), entry.get("alg"), entry.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise ValueError(f"jwt-secret: JWK #{n} has a non-string kid")
    where = f"JWK #{n}" + (f" (kid {kid})" if kid else "")
    if entry.get("use") == "enc":
        log.warning('jwt-secret: ignoring %s: use is "enc", not "sig"', where)
        return None
    public: dict[str, Any]
    private: dict[str, Any] | None
    if kty == "oct":
        k = entry.get("k")
        material = _b64decode(k.rstrip("=")) if isinstance(k, str) else None
        if not material:
            raise ValueError(f'jwt-secret: {where}: an oct key needs "k" in base64url')
        public = private = {"kty": "oct", "k": _b64url(material)}
        algs: tuple[str, ...] = _HMAC_ALGS
    elif kty == "RSA":
        if not (isinstance(entry.get("n"), str) and isinstance(entry.get("e"), str)):
            raise ValueError(f'jwt-secret: {where}: an RSA key needs "n" and "e"')
        public = {"kty": "RSA", "n": entry["n"], "e": entry["e"]}
        private = entry if "d" in entry else None
        algs = _RSA_ALGS
    elif kty == "EC":
        crv = entry.get("crv")
        curve_alg = _EC_ALG_BY_CURVE.get(crv) if isinstance(crv, str) else None
        if curve_alg is None:
            raise ValueError(f'jwt-secret: {where}: "crv" must be P-256, P-384 or P-521')
        if not (isinstance(entry.get("x"), str) and isinstance(entry.get("y"), str)):
            raise ValueError(f'jwt-secret: {where}: an EC key needs "x" and "y"')
        public = {"kty": "EC", "crv": entry["crv"], "x": entry["x"], "y": entry["y"]}
        private = entry if "d" in entry else None
        algs = (curve_alg,)
    else:
        log.warning("jwt-secret: ignoring %s: key type %r is not supported (no EdDSA/OKP)", where, kty)
        return None
    if alg is not None:
        if alg not in algs:
            log.warning("jwt-secret: ignoring %s: alg %r does not fit its key type", where, alg)
            return None
        algs = (alg,)
    try:
        key = _Key(kid, algs, public, private)
        if private is not None:
            jose_jwk.construct(private, algs[0])
    except Exception as exc:
        raise ValueError(f"jwt-secret: {where}: invalid {kty} key: {exc}") from None
    return key


def mint_token(config: Config, claims: dict[str, Any]) -> str:
    """Sign `claims` with the configured jwt-secret (tests and the CLI; PostgREST never signs).

    A raw secret signs HS256; a JWK/JWKS uses its first oct or private RSA/EC key,
    with that key's `alg` (else HS256, RS256, or ES256/384/512 by curve) and `kid`.
    A JWKS URL cannot sign: ValueError.
    """
    if config.jwt_secret and is_jwks_url(config.jwt_secret):
        raise ValueError(_NO_SIGNING_URL)
    return _sign(_load_keys(config), claims)


def _sign(keys: list[_Key] | None, claims: dict[str, Any]) -> str:
    """Sign `claims` with the first key of KEYS that can sign; ValueError when none can."""
    if keys is None:
        raise ValueError("No jwt-secret configured")
    if not isinstance(claims, dict):
        raise ValueError("JWT claims must be a JSON object")
    found = next(((k, k.private) for k in keys if k.private is not None), None)
    if found is None:
        raise ValueError("jwt-secret has no symmetric or private key to sign with")
    signer, private = found
    alg = signer.algs[0]
    headers = {"kid": signer.kid} if signer.kid else None
    return jose_jws.sign(claims, jose_jwk.construct(private, alg), headers=headers, algorithm=alg)
