"""Request bodies for writes: JSON, CSV and form bodies as one JSON text for PostgreSQL (§4.2).

The JSON text is bound as a single parameter and expanded by PostgreSQL; Python
only learns what the SQL needs: whether the top level is one object, and the
keys that become the column list. A small body is validated here; a large one
is passed through untouched and its keys are read by PostgreSQL instead (see
sql/mutate.py), so that a 50 MB array is never turned into Python objects.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import IO, Any
from urllib.parse import parse_qsl

from pgwsgi.api.model import Payload
from pgwsgi.errors import body_too_large, invalid_body

# Bodies up to this size are parsed in Python (fast in C, and errors are answered
# before a connection is taken); larger ones are only scanned by PostgreSQL.
PARSE_LIMIT = 1 << 20
_NOT_WHITESPACE = re.compile(rb"[^ \t\n\r]")


def parse_payload(body: bytes | bytearray, content_type: str, *, any_keys: bool = False) -> Payload:
    """The payload of a write with CONTENT_TYPE; ANY_KEYS (`?columns=`) lifts the same-keys rule."""
    if content_type == "text/csv":
        return _from_rows(csv_objects(body), any_keys)
    if content_type == "application/x-www-form-urlencoded":
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        return _from_rows(dict(pairs), any_keys)
    if content_type not in ("application/json", ""):
        raise invalid_body(f"Content-Type not acceptable: {content_type}")
    if len(body) > PARSE_LIMIT:
        start = _first_byte(body)
        if start not in (b"{", b"["):
            raise invalid_body()
        return Payload(body, start == b"{", None)
    return _from_rows(load_json(body), any_keys, body)


def load_json(body: bytes | bytearray) -> Any:
    """A JSON body's structure, or 400 PGRST102 `Empty or invalid json` for anything else.

    Numbers stay text: only the keys and the shape are read here (PostgreSQL reads the
    values), and Python refuses integers of more than 4,300 digits. NaN and Infinity
    are not JSON. Nesting too deep for Python's parser is refused rather than a 500.
    """
    try:
        return json.loads(body, parse_int=str, parse_float=str, parse_constant=_not_json)
    except (ValueError, RecursionError):
        raise invalid_body() from None


def _not_json(name: str) -> Any:
    raise ValueError(name)


def _from_rows(doc: object, any_keys: bool, raw: bytes | bytearray | None = None) -> Payload:
    if isinstance(doc, dict):
        text = raw if raw is not None else json.dumps(doc).encode()
        return Payload(text, True, tuple(doc))
    if not isinstance(doc, list):
        # A scalar body inserts nothing, as in PostgREST (T-POST-ARRAY-KEYS).
        return Payload(b"[]", False, ())
    keys: tuple[str, ...] = ()
    if doc:
        if not all(isinstance(row, dict) for row in doc):
            raise invalid_body("All object keys must match")
        first = set(doc[0])
        if not any_keys and any(set(row) != first for row in doc[1:]):
            raise invalid_body("All object keys must match")
        keys = tuple(doc[0])
    text = raw if raw is not None else json.dumps(doc).encode()
    return Payload(text, False, keys)


def csv_objects(body: bytes | bytearray) -> list[dict[str, object]]:
    """A CSV body as one object per line, keyed by the header (T-BODY-CSV); also a call's arguments.

    A header line, then rows; unquoted NULL is null, an empty field is "".
    """
    try:
        # strict: an unterminated quote is an error, as in PostgREST's CSV parser, not a field to the end.
        reader = csv.reader(io.StringIO(body.decode("utf-8")), strict=True)
        rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise invalid_body("Error in CSV input", str(exc))
    if not rows:
        return []
    header, data = rows[0], rows[1:]
    out: list[dict[str, object]] = []
    for row in data:
        if len(row) != len(header):
            raise invalid_body("All lines must have same number of fields")
        out.append({k: (None if v == "NULL" else v) for k, v in zip(header, row, strict=True)})
    return out


def _first_byte(body: bytes | bytearray) -> bytes:
    """The first non-whitespace byte, however much whitespace comes first, without copying the body."""
    found = _NOT_WHITESPACE.search(body)
    return found.group() if found else b""


def request_body(stream: IO[bytes], length: int | None, limit: int) -> bytearray:
    """The request body, bounded by server-max-body-size LIMIT: 413 PGRST102 before anything is written."""
    if length is not None and length > limit:
        raise body_too_large(length, limit)
    body = read_body(stream, length, limit)
    if len(body) > limit:
        raise body_too_large(None, limit)
    return body


def read_body(stream: IO[bytes], length: int | None, limit: int, chunk: int = 1 << 20) -> bytearray:
    """Read a request body of at most LIMIT bytes into one buffer (LENGTH known: no regrowth copies).

    Returns LIMIT + 1 bytes at most, so the caller can tell an over-long chunked body.
    """
    if length is not None:
        buffer = bytearray(length)
        view = memoryview(buffer)
        got = 0
        while got < length:
            data = stream.read(min(chunk, length - got))
            if not data:
                break
            view[got : got + len(data)] = data
            got += len(data)
        view.release()
        del buffer[got:]
        return buffer
    out = bytearray()
    while len(out) <= limit:
        data = stream.read(min(chunk, limit + 1 - len(out)))
        if not data:
            break
        out += data
    return out
