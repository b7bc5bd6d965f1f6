"""Lists of PostgreSQL connection strings (db-read-replicas): split on the commas that start a new one.

A plain split on commas would break libpq's own multi-host forms,
`postgresql://h1:5432,h2:5433/app` and `host=h1,h2 port=5432,5433`, so a comma
separates two entries only where what follows it starts a new URI
(`postgres://` or `postgresql://`) or a new `key=value` string. Commas inside
single quotes of a `key=value` string never separate.
"""

from __future__ import annotations

import re

import psycopg
from psycopg.conninfo import conninfo_to_dict

_URI_START = re.compile(r"\s*postgres(?:ql)?://", re.IGNORECASE)
_KEYWORD_START = re.compile(r"\s*[A-Za-z_][A-Za-z0-9_]*\s*=")
_NAMES_OPTION = re.compile(r'invalid (?:connection option|URI query parameter:) "[A-Za-z0-9_]*"')


def split_conninfos(text: str) -> tuple[str, ...]:
    """The connection strings of a comma-separated list, each stripped; an empty list for blank TEXT."""
    items: list[str] = []
    start = 0
    quoted = False
    is_uri = _URI_START.match(text) is not None
    i = 0
    while i < len(text):
        c = text[i]
        if quoted:
            if c == "\\":
                i += 1  # an escaped character, a quote included
            elif c == "'":
                quoted = False
        elif c == "'" and not is_uri:
            quoted = True
        elif c == "," and _starts_entry(text, i + 1):
            items.append(text[start:i])
            start = i + 1
            is_uri = _URI_START.match(text, start) is not None
        i += 1
    items.append(text[start:])
    # A trailing comma (a list written one entry per line) ends the last entry, it is not part of it.
    return tuple(s for s in (item.strip().rstrip(",").strip() for item in items) if s)


def _starts_entry(text: str, at: int) -> bool:
    return _URI_START.match(text, at) is not None or _KEYWORD_START.match(text, at) is not None


def conninfo_problem(entry: str) -> str | None:
    """Why ENTRY is not a PostgreSQL connection URI or `key=value` string (libpq's parser decides), or None."""
    if _URI_START.match(entry) is None and _KEYWORD_START.match(entry) is None:
        return "not a postgres:// or postgresql:// URI nor a key=value connection string"
    try:
        conninfo_to_dict(entry)
    except psycopg.ProgrammingError as exc:
        message = str(exc).strip()
        # Only libpq's messages that quote an option name: others may quote a piece of a password.
        if _NAMES_OPTION.match(message):
            return message.splitlines()[0]
        return "libpq cannot parse it as a connection string"
    return None


def conninfo_label(entry: str) -> str:
    """`host:port/dbname` of ENTRY, without user or password: a name for logs and metric labels."""
    try:
        parts = conninfo_to_dict(entry)
    except psycopg.ProgrammingError:
        return "?"
    host = str(parts.get("host") or parts.get("hostaddr") or "localhost")
    port = str(parts.get("port") or "")
    if not port.strip(","):  # "," for a multi-host URI without ports
        port = "5432"
    return f"{host}:{port}/{parts.get('dbname') or ''}"
