"""Choose the response media type from the Accept header (M-ACCEPT-PARSE, M-406)."""

from __future__ import annotations

from pgwsgi.api.model import MediaType
from pgwsgi.errors import ApiError
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
    raise ApiError(406, "PGRST107", f"None of these media types are available: {listed}")


def _show(mt: MediaType) -> str:
    params = "".join(f";{k}={v}" for k, v in mt.params)
    return f"{mt.essence}{params}"
