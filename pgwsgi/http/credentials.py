"""Where a request's token comes from: the Authorization header, or the jwt-cookie-name cookie.

A browser attaches its cookies to requests other sites make it send (a form
posted to this API, a `fetch` with credentials), so a token read from the
cookie authorizes a write (any method but GET, HEAD and OPTIONS) only when the
request shows it comes from a page of this origin: `Sec-Fetch-Site:
same-origin`, which browsers set themselves and no page can forge. Any other
cookie-authenticated write is refused with PGWSGI301 before its token is even
verified, so before any database work. See docs/security.md.

The cookie still reaches the database with the others (`request.cookies`), as
PostgREST passes every cookie; never log its value from here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from werkzeug.wrappers import Request

from pgwsgi.errors import cookie_write_refused

# The methods that never write: PostgREST runs GET and HEAD (functions included) in a
# read-only transaction, and OPTIONS runs none at all.
READ_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))


def reader(cookie: str | None) -> Callable[[Request], str | None]:
    """How App.handle reads a request's credential, decided once per configuration.

    Without jwt-cookie-name (PostgREST's only way) the Authorization header alone, and no
    cookie is ever parsed; with it, `authorization` below.
    """
    if cookie is None:
        return _header
    return functools.partial(authorization, cookie=cookie)


def _header(request: Request) -> str | None:
    return request.headers.get("Authorization")


def authorization(request: Request, cookie: str) -> str | None:
    """The Authorization value REQUEST is authenticated with when jwt-cookie-name is COOKIE; raises ApiError.

    - An `Authorization` header, whatever its scheme, wins: the cookie is then not
      read, so a non-Bearer header still means anonymous, as in PostgREST.
    - Else a non-empty COOKIE is the token, given as the Bearer header it would be
      (the Authenticator then answers exactly as for that header, 401s included).
      An empty one, as a logout may leave behind, is no token: anonymous.
    - A write with the cookie's token needs `Sec-Fetch-Site: same-origin` (PGWSGI301).
    """
    header = request.headers.get("Authorization")
    if header is not None:
        return header
    token = request.cookies.get(cookie)
    if not token:
        return None
    if request.method not in READ_METHODS:
        site = request.headers.get("Sec-Fetch-Site")
        # same-site is not enough: a sibling subdomain (another team's app, a user's page) is same-site.
        if site != "same-origin":
            raise cookie_write_refused(request.method, cookie, site)
    return "Bearer " + token
