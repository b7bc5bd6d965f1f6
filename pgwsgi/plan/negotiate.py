"""Choose the response media type from the Accept header (M-ACCEPT-PARSE, M-406)."""

from __future__ import annotations

from pgwsgi.api.media import parse_accept
from pgwsgi.api.model import MediaType
from pgwsgi.errors import not_acceptable
from pgwsgi.plan.model import Media

# (media, Content-Type) for each Accept essence a table read can answer.
_OFFERS: dict[str, tuple[Media, str]] = {
    "*/*": ("json", "application/json; charset=utf-8"),
    "application/*": ("json", "application/json; charset=utf-8"),
    "application/json": ("json", "application/json; charset=utf-8"),
    "application/vnd.pgrst.object+json": ("object", "application/vnd.pgrst.object+json; charset=utf-8"),
    "application/vnd.pgrst.object": ("object", "application/vnd.pgrst.object+json; charset=utf-8"),
    "application/vnd.pgrst.array+json": ("json", "application/json; charset=utf-8"),
    "application/vnd.pgrst.array": ("json", "application/json; charset=utf-8"),
    "text/csv": ("csv", "text/csv; charset=utf-8"),
}


def negotiate(accept: tuple[MediaType, ...]) -> tuple[Media, str]:
    """The first acceptable offer in Accept order, or 406 PGRST107."""
    for mt in accept:
        offer = _OFFERS.get(mt.essence)
        if offer is None:
            continue
        media, content_type = offer
        if mt.param("nulls") == "stripped":
            if media == "object":
                return "object-stripped", "application/vnd.pgrst.object+json;nulls=stripped; charset=utf-8"
            if mt.subtype.startswith("vnd.pgrst.array"):
                return "array-stripped", "application/vnd.pgrst.array+json;nulls=stripped; charset=utf-8"
        return media, content_type
    listed = ", ".join(_show(mt) for mt in accept)
    raise not_acceptable(listed)


# Types PostgREST knows by name; it prints them without their parameters.
_KNOWN = {
    "application/json",
    "application/geo+json",
    "text/csv",
    "text/plain",
    "text/xml",
    "application/openapi+json",
    "application/x-www-form-urlencoded",
    "application/octet-stream",
    "*/*",
}


def _show(mt: MediaType) -> str:
    """An Accept entry as PostgREST prints it in PGRST107: decoded, then written back."""
    essence = mt.essence
    stripped = mt.param("nulls") == "stripped"
    if essence in _KNOWN:
        return essence
    if essence in ("application/vnd.pgrst.object+json", "application/vnd.pgrst.object"):
        return "application/vnd.pgrst.object+json" + (";nulls=stripped" if stripped else "")
    if essence in ("application/vnd.pgrst.array+json", "application/vnd.pgrst.array"):
        return "application/vnd.pgrst.array+json;nulls=stripped" if stripped else "application/json"
    if essence in ("application/vnd.pgrst.plan", "application/vnd.pgrst.plan+text", "application/vnd.pgrst.plan+json"):
        fmt = "json" if essence.endswith("+json") else "text"
        target = _show(parse_accept(mt.param("for") or "application/json")[0])
        options = [
            o
            for o in ("analyze", "verbose", "settings", "buffers", "wal")
            if o in (mt.param("options") or "").split("|")
        ]
        shown = f'application/vnd.pgrst.plan+{fmt}; for="{target}"'
        return shown + (f"; options={'|'.join(options)}" if options else "")
    return essence + "".join(f";{k}={v}" for k, v in mt.params)
