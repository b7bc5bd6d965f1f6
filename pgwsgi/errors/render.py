"""The one error renderer: an ApiError as the HTTP response PostgREST sends."""

from __future__ import annotations

from http import HTTPStatus

from werkzeug.wrappers import Response

from pgwsgi.errors.apierror import JSON_CT, ApiError

# Reason phrases where Python's wording differs from the one PostgREST sends.
_PHRASES = {418: "I'm a teapot"}


def status_line(code: int, text: str | None = None) -> str:
    """`code reason` as PostgREST (warp) sends it; TEXT replaces the standard reason phrase."""
    if text is None:
        try:
            text = _PHRASES.get(code) or HTTPStatus(code).phrase
        except ValueError:
            text = ""
    return f"{code} {text}".rstrip() if text else f"{code} "


def render_error(err: ApiError, verbosity: str, head: bool = False) -> Response:
    """JSON body (none for HEAD), status, Proxy-Status and the error's own headers."""
    body = b"" if head else err.body(verbosity)
    resp = Response(body, content_type=JSON_CT)
    resp.status = status_line(err.status, err.status_text)
    resp.headers["Proxy-Status"] = f"PostgREST; error={err.code}"
    for name, value in err.headers:
        resp.headers[name] = value
    return resp
