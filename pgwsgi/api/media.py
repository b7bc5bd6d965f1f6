"""The Accept header as PostgREST parses it (M-ACCEPT-PARSE)."""

from __future__ import annotations

from pgwsgi.api.model import MediaType

ANY = MediaType("*", "*")


def parse_accept(header: str | None) -> tuple[MediaType, ...]:
    """Accept entries in preference order: quality first, then specificity; stable otherwise."""
    if header is None or not header.strip():
        return (ANY,)
    entries: list[tuple[MediaType, int]] = []
    for raw in header.replace(" ", "").replace("\t", "").split(","):
        if not raw:
            continue
        parts = raw.split(";")
        essence = parts[0].lower()
        type_, _, subtype = essence.partition("/")
        params: list[tuple[str, str]] = []
        quality = 1.0
        for p in parts[1:]:
            name, _, value = p.partition("=")
            if name.lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 1.0
                break  # parameters after q are accept-extensions, not media type parameters
            params.append((name.lower(), value.strip('"')))
        specificity = len(params) - essence.count("*")
        # No slash: no media type PostgREST knows, printed back as written in PGRST107.
        entries.append((MediaType(type_, subtype, tuple(params), quality), specificity))
    entries.sort(key=lambda e: (-e[0].quality, -e[1]))
    return tuple(mt for mt, _ in entries) or (ANY,)
