"""The Prefer header (RFC 7240) as PostgREST reads it (H-PREFER-PARSE, H-PREF-APPLIED)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal, TypedDict

from pgwsgi.api.model import Preferences


class _Found(TypedDict, total=False):
    """The `Preferences` fields a Prefer header sets."""

    return_: Literal["minimal", "headers-only", "representation"]
    count: Literal["exact", "planned", "estimated"]
    resolution: Literal["merge-duplicates", "ignore-duplicates"]
    missing: Literal["default", "null"]
    handling: Literal["strict", "lenient"]
    timezone: str
    tx: Literal["commit", "rollback"]
    max_affected: int | None
    read: Literal["primary"]


# token -> the Preferences field it sets, with its value; the first token of each field wins.
_TOKENS: dict[str, _Found] = {
    "resolution=merge-duplicates": {"resolution": "merge-duplicates"},
    "resolution=ignore-duplicates": {"resolution": "ignore-duplicates"},
    "return=representation": {"return_": "representation"},
    "return=minimal": {"return_": "minimal"},
    "return=headers-only": {"return_": "headers-only"},
    "count=exact": {"count": "exact"},
    "count=planned": {"count": "planned"},
    "count=estimated": {"count": "estimated"},
    "tx=commit": {"tx": "commit"},
    "tx=rollback": {"tx": "rollback"},
    "missing=default": {"missing": "default"},
    "missing=null": {"missing": "null"},
    "handling=strict": {"handling": "strict"},
    "handling=lenient": {"handling": "lenient"},
    # pgwsgi's own, for db-read-replicas (db/replicas.py): read from the primary.
    "read=primary": {"read": "primary"},
}
_INTEGER = re.compile(r"^-?\d+$")


def parse_prefer(values: Iterable[str], *, allow_tx: bool = True, allow_read: bool = False) -> Preferences:
    """All Prefer headers, split on commas and trimmed; per category the first token wins.

    `tx=` is only taken when db-tx-end allows overriding, and `read=primary` only
    when db-read-replicas names replicas (neither is ever invalid, though). A
    token that is neither known nor `timezone=`/`max-affected=` is invalid, the
    empty token included, as PostgREST counts them.
    """
    found: _Found = {}
    invalid: list[str] = []
    for header in values:
        for raw in header.split(","):
            token = raw.strip()
            if token in _TOKENS:
                preference = _TOKENS[token]
                if ("tx" not in preference or allow_tx) and ("read" not in preference or allow_read):
                    found = preference | found  # what is already found wins
            elif token.startswith("timezone="):
                found.setdefault("timezone", token[len("timezone=") :])
            elif token.startswith("max-affected="):
                number = token[len("max-affected=") :]
                # Only the first max-affected token counts; a non-integer one is ignored.
                if "max_affected" not in found:
                    found["max_affected"] = int(number) if _INTEGER.match(number) else None
            else:
                invalid.append(token)
    return Preferences(invalid=tuple(invalid), **found)


def applied(
    p: Preferences,
    *,
    resolution: bool = False,
    missing: bool = False,
    return_: bool = False,
    max_affected: bool = False,
) -> str | None:
    """The Preference-Applied value, in PostgREST's order, then pgwsgi's `read`; the flags say which apply."""
    parts = [
        f"resolution={p.resolution}" if resolution and p.resolution else None,
        f"missing={p.missing}" if missing and p.missing else None,
        f"return={p.return_}" if return_ and p.return_ else None,
        f"count={p.count}" if p.count else None,
        f"tx={p.tx}" if p.tx else None,
        f"handling={p.handling}" if p.handling else None,
        f"timezone={p.timezone}" if p.timezone else None,
        f"max-affected={p.max_affected}"
        if max_affected and p.handling == "strict" and p.max_affected is not None
        else None,
        # Taken only with replicas, and then always honoured: every transaction of such a request is the primary's.
        f"read={p.read}" if p.read else None,
    ]
    text = ", ".join(x for x in parts if x)
    return text or None
