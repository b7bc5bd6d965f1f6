"""The configuration checks of `pgwsgi audit`: the JWT secret and db-schemas."""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections import Counter
from collections.abc import Iterator

from pgwsgi.audit.model import Facts, Finding, finding
from pgwsgi.config import Config, is_jwks_url

MIN_SECRET_BYTES = 32
# A secret's length times the Shannon entropy of its characters, in bits: a rough
# measure that only catches repetition. A random 32-character alphanumeric secret
# scores 135-150, 32 random hex digits 105-116, 64 of them about 240, and
# "reallyreallyreallyreallyverysafe" (PostgREST's tutorial) 86.
MIN_SECRET_BITS = 100
# Secrets published in tutorials and default set-ups: long enough, and known to all.
PUBLISHED_SECRETS = frozenset(
    (
        b"reallyreallyreallyreallyverysafe",
        b"super-secret-jwt-token-with-at-least-32-characters-long",
        b"your-super-secret-jwt-token-with-at-least-32-characters-long",
    )
)
INTERNAL_SCHEMAS = ("pg_catalog", "information_schema")


def estimated_bits(secret: bytes) -> float:
    """LEN x the Shannon entropy of SECRET's bytes: a rough upper bound of its strength."""
    if not secret:
        return 0.0
    counts = Counter(secret)
    n = len(secret)
    per_byte = -sum(c / n * math.log2(c / n) for c in counts.values())
    return per_byte * n


def _weakness(secret: bytes) -> str | None:
    if len(secret) < MIN_SECRET_BYTES:
        return f"is {len(secret)} bytes long, under the {MIN_SECRET_BYTES} that HS256 needs (RFC 7518)"
    if secret in PUBLISHED_SECRETS:
        return "is the example secret of a published tutorial or default set-up"
    bits = estimated_bits(secret)
    if bits < MIN_SECRET_BITS:
        return f"repeats its characters so much that it holds about {bits:.0f} bits, under {MIN_SECRET_BITS}"
    return None


def _oct_keys(text: str) -> list[bytes] | None:
    """The symmetric keys of a JWK or JWKS secret; None when TEXT is not one."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    entries = doc.get("keys") if "keys" in doc else [doc] if "kty" in doc else None
    if not isinstance(entries, list):
        return None
    keys = []
    for e in entries:
        if isinstance(e, dict) and e.get("kty") == "oct" and isinstance(e.get("k"), str):
            try:
                keys.append(base64.urlsafe_b64decode(e["k"] + "=" * (-len(e["k"]) % 4)))
            except (binascii.Error, ValueError):
                continue
    return keys


def jwt_secret_weak(config: Config) -> Iterator[Finding]:
    """An HMAC secret (raw, or the `oct` keys of a JWK/JWKS) that is short or guessable."""
    text, raw = config.jwt_secret, config.jwt_secret_bytes
    if not text or raw is None or is_jwks_url(text):
        return
    keys = _oct_keys(raw.decode("utf-8", "replace"))
    candidates = [("jwt-secret", raw)] if keys is None else [(f"the oct key #{i + 1}", k) for i, k in enumerate(keys)]
    for what, secret in candidates:
        weakness = _weakness(secret)
        if weakness:
            yield finding(
                "jwt_secret_weak",
                "jwt-secret",
                f"{what[0].upper()}{what[1:]} {weakness}: whoever guesses it signs tokens for any role.",
                "Generate a random secret of at least 32 bytes (e.g. `openssl rand -base64 48`), or use "
                "asymmetric keys (a JWKS, or a JWKS URL).",
            )


def db_schemas_internal(config: Config, facts: Facts) -> Iterator[Finding]:
    """db-schemas exposes a system schema, or a schema of the authenticator's own."""
    authenticator = facts.authenticator["role"]
    owners = {row["schema"]: row["owner"] for row in facts.schema_rows}
    for schema in config.db_schemas:
        if schema in INTERNAL_SCHEMAS or schema.startswith(("pg_toast", "pg_temp")):
            why = "a system schema: every catalog function and view becomes an endpoint"
        elif owners.get(schema) == authenticator:
            why = f"owned by the authenticator {authenticator}, which may then create, alter and drop what it exposes"
        elif schema == authenticator:
            why = 'the authenticator\'s own schema ("$user" in search_path)'
        else:
            continue
        yield finding(
            "db_schemas_internal",
            "db-schemas",
            f"db-schemas exposes {schema}, {why}.",
            "Expose only schemas made for the API, owned by a NOLOGIN role the authenticator is not a member of.",
        )


def db_anon_role_missing(config: Config, facts: Facts) -> Iterator[Finding]:
    """db-anon-role names a role the database does not have: every request without a token fails."""
    anon = config.db_anon_role
    if anon is None:
        return
    found = next((r for r in facts.roles if r["role"] == anon), None)
    if found is None or not found["reachable"]:
        why = "not a role of this database" if found is None else "a role the authenticator was not granted"
        yield finding(
            "db_anon_role_missing",
            "db-anon-role",
            f"db-anon-role is {anon}, {why}: every request without a token fails (PostgreSQL refuses SET ROLE to it).",
            f"CREATE ROLE {facts.quote(anon)} NOLOGIN; GRANT {facts.quote(anon)} TO "
            f"{facts.quote(facts.authenticator['role'])}; or unset db-anon-role to refuse anonymous requests (401).",
        )
