"""The Prefer header (RFC 7240) as PostgREST reads it (H-PREFER-PARSE)."""

from __future__ import annotations

from collections.abc import Iterable

from pgwsgi.api.model import Preferences

_SIMPLE = {
    "return=minimal": ("return_", "minimal"),
    "return=headers-only": ("return_", "headers-only"),
    "return=representation": ("return_", "representation"),
    "count=exact": ("count", "exact"),
    "count=planned": ("count", "planned"),
    "count=estimated": ("count", "estimated"),
    "resolution=merge-duplicates": ("resolution", "merge-duplicates"),
    "resolution=ignore-duplicates": ("resolution", "ignore-duplicates"),
    "missing=default": ("missing", "default"),
    "missing=null": ("missing", "null"),
    "handling=strict": ("handling", "strict"),
    "handling=lenient": ("handling", "lenient"),
    "tx=commit": ("tx", "commit"),
    "tx=rollback": ("tx", "rollback"),
}


def parse_prefer(values: Iterable[str]) -> Preferences:
    """All Prefer headers, concatenated; per category the first occurrence wins."""
    found: dict[str, object] = {}
    invalid: list[str] = []
    for header in values:
        for raw in header.split(","):
            token = raw.strip()
            if not token:
                continue
            if token in _SIMPLE:
                key, value = _SIMPLE[token]
                found.setdefault(key, value)
            elif token.startswith("timezone="):
                found.setdefault("timezone", token[len("timezone=") :])
            elif token.startswith("max-affected="):
                number = token[len("max-affected=") :]
                # A non-numeric value is ignored, as PostgREST does.
                if number.isdigit():
                    found.setdefault("max_affected", int(number))
            else:
                invalid.append(token)
    return Preferences(invalid=tuple(invalid), **found)  # type: ignore[arg-type]
