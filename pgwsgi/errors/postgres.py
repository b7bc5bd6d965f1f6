"""PostgreSQL errors as PostgREST answers them: SQLSTATE -> HTTP status (PostgREST v16's table).

Also the errors pgwsgi answers itself with a SQLSTATE, where PostgreSQL would
have raised the same for the same request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from pgwsgi.errors.apierror import ApiError
from pgwsgi.errors.pgrst import raise_pgrst_detail, raise_pgrst_message

_PREFIX_FIRST = {"08": 503, "09": 500, "0L": 403, "0P": 403}
_PREFIX_AFTER = {
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


class Diagnostic(Protocol):
    """What pgwsgi reads of a psycopg error's diagnostics (psycopg.errors.Diagnostic)."""

    @property
    def message_primary(self) -> str | None: ...

    @property
    def message_detail(self) -> str | None: ...

    @property
    def message_hint(self) -> str | None: ...


def sqlstate_status(sqlstate: str, message: str, is_anonymous: bool) -> int:
    """HTTP status for a PostgreSQL error, in PostgREST's order (first match wins)."""
    s = sqlstate
    if s[:2] in _PREFIX_FIRST:
        return _PREFIX_FIRST[s[:2]]
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
    if s[:2] in _PREFIX_AFTER:
        return _PREFIX_AFTER[s[:2]]
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


def from_pg_error(diag: Diagnostic, sqlstate: str | None, is_anonymous: bool) -> ApiError:
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
    doc = _json_object(message)
    if doc is None or not (isinstance(doc.get("code"), str) and isinstance(doc.get("message"), str)):
        return raise_pgrst_message(message)
    det = _json_object(detail) if detail is not None else None
    if det is None or not (isinstance(det.get("status"), int) and isinstance(det.get("headers"), dict)):
        return raise_pgrst_detail(detail)
    headers = [(str(k), str(v)) for k, v in det["headers"].items()]
    return ApiError(
        det["status"], doc["code"], doc["message"], doc.get("details"), doc.get("hint"), headers, det.get("status_text")
    )


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


@dataclass
class UndefinedColumn(ApiError):
    """42703 with what it names, so that a caller can name the relation as PostgREST's SQL aliases it."""

    relation: str = ""
    column: str = ""


def undefined_column(relation: str, name: str) -> UndefinedColumn:
    """42703, as PostgreSQL words it: a column the relation does not have."""
    return UndefinedColumn(400, "42703", f"column {relation}.{name} does not exist", relation=relation, column=name)


def duplicate_alias(alias: str) -> ApiError:
    """42712, as PostgreSQL words it: one alias twice in a FROM (two embeds of one name, as PostgREST builds them)."""
    return ApiError(400, "42712", f'table name "{alias}" specified more than once')


def bigint_out_of_range() -> ApiError:
    """22003, as PostgreSQL words it: a limit, offset or range bound past 64 bits (PostgREST's SQL carries them)."""
    return ApiError(400, "22003", "bigint out of range")


def undefined_text_search_config(name: str) -> ApiError:
    """42704, as PostgreSQL words it for a configuration name it does not know.

    An all-digit name would be read as an OID by `::regconfig` and fail as an
    internal error (XX000); it is refused as the unknown name it is instead.
    """
    return ApiError(400, "42704", f'text search configuration "{name}" does not exist')


def undefined_type(name: str) -> ApiError:
    """42704, as PostgreSQL words it: a cast to a type that does not exist."""
    return ApiError(400, "42704", f'type "{name}" does not exist')


def invalid_byte_sequence(message: str) -> ApiError:
    """22021: a value psycopg refused before it reached the server (a NUL byte)."""
    return ApiError(400, "22021", message or 'invalid byte sequence for encoding "UTF8": 0x00')
