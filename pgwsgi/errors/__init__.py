"""The error family: every failure a client can see, and the one place that renders it.

An `ApiError` carries what PostgREST would send: HTTP status, a `code` (PGRSTnnn,
a SQLSTATE or a custom code), message, details and hint, plus extra headers.
`from_pg_error` maps a PostgreSQL error to its HTTP status exactly as PostgREST
v16 does (inventory §9.3).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

JSON_CT = "application/json; charset=utf-8"


@dataclass
class ApiError(Exception):
    """An error answered to the client as `{code, message, details, hint}`."""

    status: int
    code: str
    message: str
    details: Any = None
    hint: Any = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    status_text: str | None = None

    def __post_init__(self) -> None:
        Exception.__init__(self, f"{self.code}: {self.message}")

    def body(self, verbosity: str = "verbose") -> bytes:
        """The JSON body; `minimal` verbosity keeps only code and message."""
        if verbosity == "minimal":
            doc: dict[str, Any] = {"code": self.code, "message": self.message}
        else:
            doc = {"code": self.code, "details": self.details, "hint": self.hint, "message": self.message}
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def parse_error(message: str, details: str | None = None) -> ApiError:
    """PGRST100: the query string does not follow the grammar."""
    return ApiError(400, "PGRST100", message, details)


def bearer_error(code: str, message: str, details: Any = None) -> ApiError:
    """PGRST301/PGRST303: a bad token, with the OAuth error header PostgREST sends."""
    header = f'Bearer error="invalid_token", error_description="{message}"'
    return ApiError(401, code, message, details, headers=[("WWW-Authenticate", header)])


def anonymous_disabled() -> ApiError:
    """PGRST302: no token and no db-anon-role."""
    return ApiError(401, "PGRST302", "Anonymous access is disabled", headers=[("WWW-Authenticate", "Bearer")])


def not_found_table(schema: str, name: str, suggestion: str | None) -> ApiError:
    """PGRST205: the relation is not in the catalog snapshot."""
    hint = f"Perhaps you meant the table '{schema}.{suggestion}'" if suggestion else None
    return ApiError(404, "PGRST205", f"Could not find the table '{schema}.{name}' in the schema cache", None, hint)


def invalid_path() -> ApiError:
    """PGRST125: a path that is neither /, /name nor /rpc/name."""
    return ApiError(404, "PGRST125", "Invalid path specified in request URL")


def unsupported_method(method: str) -> ApiError:
    """PGRST117: a method PostgREST does not serve."""
    return ApiError(405, "PGRST117", f"Unsupported HTTP method: {method}")


def connection_error(details: str | None) -> ApiError:
    """PGRST000: the database cannot be reached."""
    return ApiError(
        503, "PGRST000", "Database connection error. Retrying the connection.", details, headers=[("Retry-After", "0")]
    )


def client_error(details: str | None) -> ApiError:
    """PGRST001: the connection broke during the request."""
    return ApiError(
        503, "PGRST001", "Database client error. Retrying the connection.", details, headers=[("Retry-After", "0")]
    )


def no_schema_cache() -> ApiError:
    """PGRST002: the catalog snapshot has never loaded."""
    return ApiError(
        503, "PGRST002", "Could not query the database for the schema cache. Retrying.", headers=[("Retry-After", "0")]
    )


def pool_timeout() -> ApiError:
    """PGRST003: no pooled connection within db-pool-acquisition-timeout."""
    return ApiError(504, "PGRST003", "Timed out acquiring connection from connection pool.")


def sqlstate_status(sqlstate: str, message: str, is_anonymous: bool) -> int:
    """HTTP status for a PostgreSQL error, in PostgREST's order (first match wins)."""
    s = sqlstate
    prefix_status = {
        "08": 503,
        "09": 500,
        "0L": 403,
        "0P": 403,
    }
    if s[:2] in prefix_status:
        return prefix_status[s[:2]]
    if s in ("23503", "23505"):
        return 409
    if s == "25006":
        return 405
    if s == "21000":
        return 400 if message.endswith("requires a WHERE clause") else 500
    if s == "22023":
        return 401 if message.startswith("role") and message.endswith("does not exist") else 400
    if s == "53400":
        return 500
    if s == "57P01":
        return 503
    two = {
        "25": 500,
        "28": 403,
        "2D": 500,
        "38": 500,
        "39": 500,
        "3B": 500,
        "40": 500,
        "53": 503,
        "54": 500,
        "55": 500,
        "57": 500,
        "58": 500,
        "F0": 500,
        "HV": 500,
        "XX": 500,
    }
    if s[:2] in two:
        return two[s[:2]]
    if s == "P0001":
        return 400
    if s[:2] == "P0":
        return 500
    if s == "42883":
        return 406 if message.startswith("function xmlagg(") else 404
    if s == "42P01":
        return 404
    if s == "42P17":
        return 500
    if s == "42501":
        return 401 if is_anonymous else 403
    if s.startswith("PT"):
        digits = s[2:]
        return int(digits) if digits.isdigit() and len(digits) == 3 else 500
    return 400


def from_pg_error(diag: Any, sqlstate: str | None, is_anonymous: bool) -> ApiError:
    """Turn a psycopg error's diagnostics into the error PostgREST would answer."""
    message = diag.message_primary or ""
    state = sqlstate or "XX000"
    if state == "PGRST":
        return _raised_pgrst(message, diag.message_detail)
    status = sqlstate_status(state, message, is_anonymous)
    headers: list[tuple[str, str]] = []
    status_text = None
    if status == 401:
        headers.append(("WWW-Authenticate", "Bearer"))
    if status == 503:
        headers.append(("Retry-After", "0"))
    if state.startswith("PT") and status != 500:
        status_text = message
    return ApiError(status, state, message, diag.message_detail, diag.message_hint, headers, status_text)


def _raised_pgrst(message: str, detail: str | None) -> ApiError:
    """`RAISE SQLSTATE 'PGRST'` with a JSON MESSAGE and DETAIL (E-RAISE-PGRST)."""
    hint = "MESSAGE must be a JSON object with obligatory keys: 'code', 'message' and optional keys: 'details', 'hint'."
    try:
        doc = json.loads(message)
        if not (isinstance(doc, dict) and isinstance(doc.get("code"), str) and isinstance(doc.get("message"), str)):
            raise ValueError
    except ValueError:
        return ApiError(
            500,
            "PGRST121",
            "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error",
            f"Invalid JSON value for MESSAGE: '{message}'",
            hint,
        )
    detail_hint = (
        "DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'."
    )
    if detail is None:
        return ApiError(
            500,
            "PGRST121",
            "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error",
            "DETAIL is missing in the RAISE statement",
            detail_hint,
        )
    try:
        det = json.loads(detail)
        if not (isinstance(det, dict) and isinstance(det.get("status"), int) and isinstance(det.get("headers"), dict)):
            raise ValueError
    except ValueError:
        return ApiError(
            500,
            "PGRST121",
            "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error",
            f"Invalid JSON value for DETAIL: '{detail}'",
            detail_hint,
        )
    headers = [(str(k), str(v)) for k, v in det["headers"].items()]
    return ApiError(
        det["status"], doc["code"], doc["message"], doc.get("details"), doc.get("hint"), headers, det.get("status_text")
    )
