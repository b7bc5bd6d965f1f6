"""Choose the response media type from the Accept header (M-ACCEPT-PARSE, M-406, M-PLAN)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, get_args

from pgwsgi.api.media import parse_accept
from pgwsgi.api.model import MediaType
from pgwsgi.catalog.model import MediaHandler, MediaHandlers, QName
from pgwsgi.errors import not_acceptable
from pgwsgi.plan.model import Explain, ExplainFormat, ExplainOption, Media, OpenApiVersion

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

# Vendored types: PostgREST's own, which no handler overrides (when they carry their meaning).
_VENDORED = {
    "application/vnd.pgrst.object+json",
    "application/vnd.pgrst.object",
    "application/vnd.pgrst.array+json",
    "application/vnd.pgrst.array",
}

# The execution plan's media types and the EXPLAIN format each asks for.
_PLANS: dict[str, ExplainFormat] = {
    "application/vnd.pgrst.plan": "text",
    "application/vnd.pgrst.plan+text": "text",
    "application/vnd.pgrst.plan+json": "json",
}
# PostgREST's order, whatever order the client wrote them in.
_OPTIONS: tuple[ExplainOption, ...] = get_args(ExplainOption)


class Negotiated(NamedTuple):
    """The answer to Accept: how the body is built, its Content-Type, and the EXPLAIN of a plan."""

    media: Media
    content_type: str
    explain: Explain | None = None
    handler: MediaHandler | None = None  # for media "custom"


@dataclass(frozen=True)
class Handlers:
    """The database's media type handlers that may answer one request (M-HANDLER-*).

    TARGET is the relation read (or the function called) and DEFAULT_SELECT
    whether its select is the plain `*`: only then do its own handlers apply,
    since they take whole rows of that relation.
    """

    handlers: MediaHandlers
    target: QName | None = None
    default_select: bool = False


NO_HANDLERS = Handlers({})


def negotiate(accept: tuple[MediaType, ...]) -> tuple[Media, str]:
    """The first acceptable offer in Accept order, or 406 PGRST107 (the plan media type not offered)."""
    found = negotiate_media(accept, plan_enabled=False)
    return found.media, found.content_type


def negotiate_media(accept: tuple[MediaType, ...], plan_enabled: bool, handlers: Handlers = NO_HANDLERS) -> Negotiated:
    """The first acceptable offer in Accept order, or 406 PGRST107 (PostgREST's negotiateContent).

    For each entry in turn: the vendored types (singular objects, stripped arrays)
    cannot be overridden; then a handler of this relation for `*/*` or for the
    type (plain `*` select only), then one for any relation, built-ins included
    (JSON, CSV, GeoJSON).

    With PLAN_ENABLED (db-plan-enabled) `application/vnd.pgrst.plan` is offered
    too, for any media type `for=` names that is itself offered; otherwise it
    matches nothing, as an unknown type (M-PLAN).
    """
    for mt in accept:
        fmt = _PLANS.get(mt.essence)
        if fmt is not None:
            inner = _inner(mt) if plan_enabled else None
            offer = _offer(inner, handlers) if inner is not None else None
            if offer is not None and inner is not None:
                explain = Explain(fmt, _options(mt))
                content_type = _plan_mime(fmt, explain.options, _show(inner)) + "; charset=utf-8"
                return Negotiated(offer.media, content_type, explain, offer.handler)
            continue
        offer = _offer(mt, handlers)
        if offer is not None:
            return offer
    listed = ", ".join(_show(mt) for mt in accept)
    raise not_acceptable(listed)


OPENAPI_JSON = "application/openapi+json; charset=utf-8"
OPENAPI_31_JSON = "application/vnd.oai.openapi+json;version=3.1; charset=utf-8"
# What PostgREST answers its document for; a plain array is application/json to it (M-ARRAY-STRIP).
_OPENAPI_GENERIC = ("application/openapi+json", "application/json", "*/*")


def negotiate_openapi(accept: tuple[MediaType, ...], default: OpenApiVersion) -> tuple[OpenApiVersion, str]:
    """The root's document and Content-Type for ACCEPT, or 406 PGRST107 (PostgREST's inspectPlan).

    PostgREST answers its document when Accept names application/openapi+json,
    application/json or */* anywhere. pgwsgi adds OpenAPI 3.1, asked for by
    application/vnd.oai.openapi+json (version 3.1 or none); the first of the types
    it can answer wins, and DEFAULT (openapi-version) is what the others get.
    """
    for mt in accept:
        if mt.essence == "application/vnd.oai.openapi+json" and mt.param("version") in (None, "3.1", "3.1.0"):
            return "3.1", OPENAPI_31_JSON
        array = mt.essence in _VENDORED and mt.subtype.startswith("vnd.pgrst.array") and mt.param("nulls") != "stripped"
        if mt.essence in _OPENAPI_GENERIC or array:
            return default, OPENAPI_JSON
    raise not_acceptable(", ".join(_show(mt) for mt in accept))


def _offer(mt: MediaType, handlers: Handlers = NO_HANDLERS) -> Negotiated | None:
    """What MT is answered as, if it is offered at all."""
    essence = mt.essence
    stripped = mt.param("nulls") == "stripped"
    if essence in _VENDORED and (stripped or essence.startswith("application/vnd.pgrst.object")):
        media, content_type = _OFFERS[essence]
        if media == "object":
            if stripped:
                return Negotiated("object-stripped", "application/vnd.pgrst.object+json;nulls=stripped; charset=utf-8")
            return Negotiated(media, content_type)
        return Negotiated("array-stripped", "application/vnd.pgrst.array+json;nulls=stripped; charset=utf-8")
    # An array without nulls=stripped is application/json, which a handler may override.
    key = "application/json" if essence in _VENDORED else essence
    found = _handler(key, handlers)
    if found is not None:
        return Negotiated("custom", _content_type(found.media_type), handler=found)
    if key == "application/geo+json":
        return Negotiated("geojson", "application/geo+json; charset=utf-8")
    offer = _OFFERS.get(key)
    return Negotiated(*offer) if offer is not None else None


def _handler(essence: str, handlers: Handlers) -> MediaHandler | None:
    """The database's handler for ESSENCE: the relation's own (for `*/*` first), then one for any relation."""
    table = handlers.handlers
    if handlers.default_select and handlers.target is not None:
        own = table.get((handlers.target, "*/*")) or table.get((handlers.target, essence))
        if own is not None:
            return own
    return table.get((None, essence))


# The types PostgREST answers with `; charset=utf-8` (MediaType.toContentType): those it
# knows by name (_KNOWN, below) but form bodies and octet streams; any other type a
# handler names is sent as it is.


def _content_type(media_type: str) -> str:
    return media_type + "; charset=utf-8" if media_type.lower() in _CHARSET else media_type


def _inner(mt: MediaType) -> MediaType | None:
    """The media type a plan entry's `for=` names (application/json by default); None for an empty one.

    api.media splits parameters at every `;`, quoted or not, so the `nulls` of
    `for="application/vnd.pgrst.object+json;nulls=stripped"` arrives as the plan's
    own parameter: it is given back to the type it was written in.
    """
    named = mt.param("for")
    if named is None:
        named = "application/json"
    if not named.strip():
        return None  # PostgREST reads an empty `for` as an unknown type
    inner = parse_accept(named)[0]
    nulls = mt.param("nulls")
    if nulls is not None and inner.param("nulls") is None:
        inner = MediaType(inner.type, inner.subtype, (*inner.params, ("nulls", nulls)), inner.quality)
    return inner


def _options(mt: MediaType) -> tuple[ExplainOption, ...]:
    """The EXPLAIN options of `options=a|b`, unknown ones ignored, in PostgREST's order."""
    given = (mt.param("options") or "").split("|")
    return tuple(o for o in _OPTIONS if o in given)


def _plan_mime(fmt: str, options: tuple[ExplainOption, ...], inner: str) -> str:
    """The plan media type as PostgREST writes it back (MediaType.toMime), INNER being its `for` type's."""
    shown = f'application/vnd.pgrst.plan+{fmt}; for="{inner}"'
    return shown + (f"; options={'|'.join(options)}" if options else "")


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
_CHARSET = _KNOWN - {"application/x-www-form-urlencoded", "application/octet-stream", "*/*"}


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
    fmt = _PLANS.get(essence)
    if fmt is not None:
        inner = _inner(mt)
        # An empty `for` is PostgREST's unknown type "", written back as it is.
        return _plan_mime(fmt, _options(mt), _show(inner) if inner is not None else "")
    return essence + "".join(f";{k}={v}" for k, v in mt.params)
