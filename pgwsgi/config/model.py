"""`Config`: every setting pgwsgi understands, parsed and validated, and the error for an invalid one."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
from dataclasses import dataclass
from urllib.parse import urlsplit


class ConfigError(Exception):
    """An invalid configuration; the message is meant for the operator and never contains a secret."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Config:
    """Every setting pgwsgi understands, already parsed and validated."""

    db_uri: str = "postgresql://"
    db_schemas: tuple[str, ...] = ("public",)
    db_anon_role: str | None = None
    db_extra_search_path: tuple[str, ...] = ("public",)
    db_max_rows: int | None = None
    db_pool: int = 10
    db_pool_acquisition_timeout: int = 10
    db_pool_max_lifetime: int = 1800
    db_pool_max_idletime: int = 30
    db_pool_automatic_recovery: bool = True
    db_pre_request: str | None = None
    db_pre_config: str | None = None
    db_tx_end: str = "commit"
    db_prepared_statements: bool = True
    # pgwsgi: streaming replicas that serve reads (db/replicas.py); empty: everything runs on db-uri.
    db_read_replicas: tuple[str, ...] = ()
    db_use_legacy_gucs: bool = False
    db_channel: str = "pgrst"
    db_channel_enabled: bool = True
    # pgwsgi: where the schema-reload listener connects; None: db_uri (catalog loads always use db_uri).
    db_channel_uri: str | None = None
    # pgwsgi: a superuser or BYPASSRLS authenticator is refused unless this says otherwise.
    db_allow_privileged_authenticator: bool = False
    db_config: bool = True
    db_aggregates_enabled: bool = False
    db_plan_enabled: bool = False
    db_root_spec: str | None = None
    db_hoisted_tx_settings: tuple[str, ...] = (
        "statement_timeout",
        "plan_filter.statement_cost_limit",
        "default_transaction_isolation",
    )
    jwt_secret: str | None = None
    jwt_secret_is_base64: bool = False
    jwt_aud: str | None = None
    jwt_role_claim_key: str = "$.role"
    jwt_cache_max_entries: int = 1000
    jwt_sign_claims: bool = True
    # pgwsgi: with a JWKS URL as jwt-secret, the fewest seconds between two fetches that are not due.
    jwt_jwks_refetch_interval: int = 30
    # pgwsgi: the cookie a browser's token is read from when a request has no Authorization header.
    jwt_cookie_name: str | None = None
    server_host: str = "!4"
    server_port: int = 3000
    server_max_body_size: int = 100 * 1024 * 1024
    server_unix_socket: str | None = None
    server_cors_allowed_origins: tuple[str, ...] | None = None
    server_trace_header: str | None = None
    server_timing_enabled: bool = False
    client_error_verbosity: str = "verbose"
    log_level: str = "error"
    log_query: bool = False
    openapi_mode: str = "follow-privileges"
    openapi_version: str = "2.0"  # pgwsgi: which document answers a plain GET /
    openapi_security_active: bool = False
    openapi_server_proxy_uri: str | None = None
    # None only on a hand-built Config: the loaders fill it with server_host, as PostgREST does.
    admin_server_host: str | None = None
    admin_server_port: int | None = None
    url_use_legacy_target_names: bool = True
    app_settings: tuple[tuple[str, str], ...] = ()
    server_unix_socket_mode: int = 0o660
    server_reuseport: bool = False
    admin_server_unix_socket: str | None = None
    admin_server_unix_socket_mode: int = 0o660
    # The key material: base64-decoded when jwt_secret_is_base64, else jwt_secret as UTF-8.
    jwt_secret_bytes: bytes | None = None

    def __post_init__(self) -> None:
        # The loaders validate and fill this; a hand-built Config (tests) gets it derived too.
        if self.jwt_secret is not None and self.jwt_secret_bytes is None:
            object.__setattr__(self, "jwt_secret_bytes", decode_secret(self.jwt_secret, self.jwt_secret_is_base64))


def decode_secret(secret: str, is_base64: bool) -> bytes:
    """The bytes of jwt-secret, base64-decoded when jwt-secret-is-base64 (URL-safe alphabet accepted).

    A JWKS URL is checked (the https rule) and kept as it is: its keys are fetched by the workers.
    """
    if is_jwks_url(secret):
        check_jwks_secret(secret, is_base64)
        return secret.encode("utf-8")
    if not is_base64:
        return secret.encode("utf-8")
    text = secret.replace("-", "+").replace("_", "/").replace(".", "=").strip()
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(
            "Invalid value for jwt-secret: jwt-secret-is-base64 is set but the secret is not valid base64", "jwt-secret"
        )


def secret_bytes(secret: str, is_base64: bool) -> bytes:
    """decode_secret, refusing an HMAC secret under 32 bytes (a JWK or JWKS is checked when parsed)."""
    data = decode_secret(secret, is_base64)
    if len(data) < 32 and not is_jwk(data) and not is_jwks_url(secret):
        raise ConfigError(
            "Invalid value for jwt-secret: The JWT secret must be at least 32 characters long.", "jwt-secret"
        )
    return data


def is_jwk(data: bytes) -> bool:
    """Whether DATA is a JSON Web Key or key set rather than a raw secret."""
    try:
        parsed = json.loads(data)
    except ValueError:
        return False
    return isinstance(parsed, dict) and (isinstance(parsed.get("keys"), list) or "kty" in parsed)


def is_jwks_url(secret: str) -> bool:
    """Whether jwt-secret names a URL to fetch the keys from (a JWKS or an OpenID Connect issuer)."""
    return secret[:8].lower() == "https://" or secret[:7].lower() == "http://"


def jwks_url_problem(url: str) -> str | None:
    """Why the keys may not be fetched from URL, or None: https only, plain http for loopback hosts alone.

    Also the rule for the URLs a fetch leads to (an issuer's jwks_uri, a redirect): keys
    fetched over plain http from another machine could be swapped by anyone on the path.
    """
    try:
        parts = urlsplit(url)  # raises ValueError too, for an invalid IPv6 host ("https://[::1")
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number in range)
    except ValueError:
        return "a JWKS URL needs a valid host and port"
    if not host:
        return "a JWKS URL needs a host"
    if parts.username is not None or parts.password is not None:
        # urllib cannot fetch such a URL (it takes "user:pass@host" for the host), and a password
        # in jwt-secret's URL would be one more secret to keep out of logs.
        return "a JWKS URL cannot carry a user name or password"
    scheme = parts.scheme.lower()
    if scheme == "https" or (scheme == "http" and _is_loopback(host)):
        return None
    return "a JWKS URL must use https (http only for loopback addresses)"


def check_jwks_secret(url: str, is_base64: bool) -> None:
    """ConfigError naming jwt-secret when URL cannot be where the keys come from."""
    if is_base64:
        raise ConfigError("jwt-secret: jwt-secret-is-base64 cannot be set with a JWKS URL", "jwt-secret")
    problem = jwks_url_problem(url)
    if problem is not None:
        raise ConfigError(f"jwt-secret: {problem}", "jwt-secret")


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
