"""One constructor per PGRST code: status, code and wording live here and nowhere else.

The groups follow PostgREST's Error.hs: PGRST0xx connection, PGRST1xx API
request, PGRST2xx schema cache, PGRST3xx JWT, PGRSTX internal; a code of pgwsgi's
own (no PostgREST counterpart) is PGWSGI plus the group's digits. Callers pass
only what varies (names, counts, details they computed).
"""

from __future__ import annotations

from typing import Any

from pgwsgi.errors.apierror import ApiError

_RETRY = [("Retry-After", "0")]

# -- PGRST0xx: the database connection --------------------------------------------


def connection_error(details: str | None) -> ApiError:
    """PGRST000: the database cannot be reached."""
    return ApiError(503, "PGRST000", "Database connection error. Retrying the connection.", details, headers=_RETRY[:])


def client_error(details: str | None) -> ApiError:
    """PGRST001: the connection broke during the request."""
    return ApiError(503, "PGRST001", "Database client error. Retrying the connection.", details, headers=_RETRY[:])


def no_schema_cache() -> ApiError:
    """PGRST002: the catalog snapshot has never loaded."""
    return ApiError(503, "PGRST002", "Could not query the database for the schema cache. Retrying.", headers=_RETRY[:])


def pool_timeout() -> ApiError:
    """PGRST003: no pooled connection within db-pool-acquisition-timeout."""
    return ApiError(504, "PGRST003", "Timed out acquiring connection from connection pool.")


# -- PGRST1xx: the request ------------------------------------------------------------


def parse_error(message: str, details: str | None = None) -> ApiError:
    """PGRST100: the query string does not follow the grammar."""
    return ApiError(400, "PGRST100", message, details)


def rpc_method_error(method: str) -> ApiError:
    """PGRST101: RPC takes GET, HEAD, POST and OPTIONS only."""
    return ApiError(405, "PGRST101", f"Cannot use the {method} method on RPC")


def invalid_body(message: str = "Empty or invalid json", details: str | None = None) -> ApiError:
    """PGRST102: a body PostgREST would not accept."""
    return ApiError(400, "PGRST102", message, details)


def keys_differ() -> ApiError:
    """PGRST102: the objects of a bulk body do not all have the same keys."""
    return invalid_body("All object keys must match")


def body_too_large(size: int | None, limit: int) -> ApiError:
    """PGRST102 with 413: a body past server-max-body-size, answered before anything is written."""
    got = f"The request body has {size} bytes" if size is not None else "The request body is larger than that"
    return ApiError(413, "PGRST102", "Request body too large", f"{got}; server-max-body-size allows {limit} bytes.")


def range_not_satisfiable(details: str) -> ApiError:
    """PGRST103: a Range, limit or offset that cannot be served."""
    return ApiError(416, "PGRST103", "Requested range not satisfiable", details)


def offset_past_end(offset: int, total: int | None) -> ApiError:
    """PGRST103 for a page that starts past the last row (H-416-BODY)."""
    return range_not_satisfiable(f"An offset of {offset} was requested, but there are only {total} rows.")


def put_filters() -> ApiError:
    """PGRST105: PUT must filter on exactly the primary key, with eq."""
    return ApiError(405, "PGRST105", "Filters must include all and only primary key columns with 'eq' operators")


def invalid_schema(wanted: str, schemas: tuple[str, ...]) -> ApiError:
    """PGRST106: a profile header naming a schema that is not exposed."""
    return ApiError(
        406,
        "PGRST106",
        f"Invalid schema: {wanted}",
        hint="Only the following schemas are exposed: " + ", ".join(schemas),
    )


def not_acceptable(listed: str) -> ApiError:
    """PGRST107: no media type of the Accept header can be produced."""
    return ApiError(406, "PGRST107", f"None of these media types are available: {listed}")


def not_embedded(name: str) -> ApiError:
    """PGRST108: a filter, order or limit on an embed the select does not have."""
    return ApiError(
        400,
        "PGRST108",
        f"'{name}' is not an embedded resource in this request",
        hint=f"Verify that '{name}' is included in the 'select' query parameter.",
    )


def aliased_target_name(name: str, alias: str) -> ApiError:
    """PGRST108: an aliased embed addressed by its relation name, with url-use-legacy-target-names off."""
    return ApiError(
        400,
        "PGRST108",
        f"'{name}' is not an embedded resource in this request",
        "Target names are not allowed in filters if they have an alias",
        f"Change '{name}' to '{alias}' in filters, orders or limits.",
    )


def bad_response_headers() -> ApiError:
    """PGRST111: response.headers is not a JSON array of one-key objects."""
    return ApiError(
        500,
        "PGRST111",
        "response.headers guc must be a JSON array composed of objects with a single key and a string value",
    )


def bad_response_status() -> ApiError:
    """PGRST112: response.status does not start with a status code."""
    return ApiError(500, "PGRST112", "response.status guc must be a valid status code")


def put_paging() -> ApiError:
    """PGRST114: PUT with limit or offset."""
    return ApiError(400, "PGRST114", "limit/offset querystring parameters are not allowed for PUT")


def put_mismatch() -> ApiError:
    """PGRST115: the PUT body's primary key differs from the URL's."""
    return ApiError(400, "PGRST115", "Payload values do not match URL in primary key column(s)")


def not_singular(rows: int) -> ApiError:
    """PGRST116: a singular response (T-SINGULAR) that is not exactly one row."""
    return ApiError(
        406, "PGRST116", "Cannot coerce the result to a single JSON object", f"The result contains {rows} rows"
    )


def unsupported_method(method: str) -> ApiError:
    """PGRST117: a method PostgREST does not serve."""
    return ApiError(405, "PGRST117", f"Unsupported HTTP method: {method}")


def related_order_not_to_one(relation: str, origin: str) -> ApiError:
    """PGRST118: `order=rel(col)` on an embed that is not to-one."""
    return ApiError(
        400,
        "PGRST118",
        f"A related order on '{relation}' is not possible",
        f"'{origin}' and '{relation}' do not form a many-to-one or one-to-one relationship",
    )


_RAISE_MESSAGE = "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error"


def raise_pgrst_message(message: str) -> ApiError:
    """PGRST121: `RAISE SQLSTATE 'PGRST'` whose MESSAGE is not the JSON object PostgREST expects."""
    return ApiError(
        500,
        "PGRST121",
        _RAISE_MESSAGE,
        f"Invalid JSON value for MESSAGE: '{message}'",
        "MESSAGE must be a JSON object with obligatory keys: 'code', 'message' and optional keys: 'details', 'hint'.",
    )


_DETAIL_HINT = "DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'."


def raise_pgrst_detail(detail: str | None) -> ApiError:
    """PGRST121: `RAISE SQLSTATE 'PGRST'` whose DETAIL is missing or not the JSON object PostgREST expects."""
    details = (
        "DETAIL is missing in the RAISE statement" if detail is None else f"Invalid JSON value for DETAIL: '{detail}'"
    )
    return ApiError(500, "PGRST121", _RAISE_MESSAGE, details, _DETAIL_HINT)


def strict_preferences(invalid: tuple[str, ...]) -> ApiError:
    """PGRST122: unknown Prefer tokens with handling=strict (H-PREFER-HANDLING)."""
    return ApiError(
        400,
        "PGRST122",
        "Invalid preferences given with handling=strict",
        "Invalid preferences: " + ", ".join(invalid),
    )


def aggregates_disabled() -> ApiError:
    """PGRST123: an aggregate without db-aggregates-enabled."""
    return ApiError(400, "PGRST123", "Use of aggregate functions is not allowed")


def max_affected_exceeded(rows: int) -> ApiError:
    """PGRST124: more rows than Prefer: max-affected allows, with handling=strict."""
    return ApiError(
        400, "PGRST124", "Query result exceeds max-affected preference constraint", f"The query affects {rows} rows"
    )


def invalid_path() -> ApiError:
    """PGRST125: a path that is neither /, /name nor /rpc/name."""
    return ApiError(404, "PGRST125", "Invalid path specified in request URL")


def privileged_authenticator(why: str) -> ApiError:
    """PGRSTX00: the authenticator bypasses row-level security; pgwsgi refuses to answer as it."""
    return ApiError(
        500,
        "PGRSTX00",
        "Internal server error",
        f"pgwsgi refuses to serve: {why}, so every request would see every row.",
        "Connect as a NOINHERIT role without SUPERUSER and BYPASSRLS, or set db-allow-privileged-authenticator.",
    )


def openapi_disabled() -> ApiError:
    """PGRST126: the root, with openapi-mode = disabled and no db-root-spec."""
    return ApiError(404, "PGRST126", "Root endpoint metadata is disabled")


def not_implemented(details: str) -> ApiError:
    """PGRST127: a feature PostgREST has and pgwsgi does not yet, or one PostgREST refuses too."""
    return ApiError(400, "PGRST127", "Feature not implemented", details)


def max_affected_needs_set() -> ApiError:
    """PGRST128: max-affected with handling=strict on a function that does not return a set."""
    return ApiError(
        400,
        "PGRST128",
        "Function must return SETOF or TABLE when max-affected preference is used with handling=strict",
    )


# -- PGRST2xx: the schema cache --------------------------------------------------------


def no_relationship(origin: str, target: str, details: str, hint: str | None) -> ApiError:
    """PGRST200: no relationship between ORIGIN and TARGET matches the embed."""
    return ApiError(
        400,
        "PGRST200",
        f"Could not find a relationship between '{origin}' and '{target}' in the schema cache",
        details,
        hint,
    )


def ambiguous_relationship(origin: str, target: str, details: list[dict[str, Any]], options: str) -> ApiError:
    """PGRST201: several relationships match the embed; DETAILS describe them, OPTIONS are the hints to choose."""
    return ApiError(
        300,
        "PGRST201",
        f"Could not embed because more than one relationship was found for '{origin}' and '{target}'",
        details,
        f"Try changing '{target}' to one of the following: {options}. Find the desired relationship in the "
        "'details' key.",
    )


def function_not_found(message: str, details: str, hint: str | None = None) -> ApiError:
    """PGRST202: no overload of the function takes the arguments given."""
    return ApiError(404, "PGRST202", f"{message} in the schema cache", details, hint)


def ambiguous_function(listed: str) -> ApiError:
    """PGRST203: several overloads take the arguments given."""
    return ApiError(
        300,
        "PGRST203",
        f"Could not choose the best candidate function between: {listed}",
        hint="Try renaming the parameters or the function itself in the database so function overloading can "
        "be resolved",
    )


def column_not_found(relation: str, name: str) -> ApiError:
    """PGRST204: a body key or `columns` name the relation does not have."""
    return ApiError(400, "PGRST204", f"Could not find the '{name}' column of '{relation}' in the schema cache")


def table_not_found(schema: str, name: str, suggestion: str | None) -> ApiError:
    """PGRST205: the relation is not in the catalog snapshot."""
    hint = f"Perhaps you meant the table '{schema}.{suggestion}'" if suggestion else None
    return ApiError(404, "PGRST205", f"Could not find the table '{schema}.{name}' in the schema cache", None, hint)


# -- PGRST3xx: JWT ------------------------------------------------------------------------


def no_jwt_secret(details: str | None = None) -> ApiError:
    """PGRST300: a token must be verified or signed, and jwt-secret is not set."""
    return ApiError(500, "PGRST300", "Server lacks JWT secret", details)


def _bearer(code: str, message: str, details: Any) -> ApiError:
    header = f'Bearer error="invalid_token", error_description="{message}"'
    return ApiError(401, code, message, details, headers=[("WWW-Authenticate", header)])


def invalid_token(message: str, details: Any = None) -> ApiError:
    """PGRST301: a token that cannot be decoded or verified, with the OAuth error header PostgREST sends."""
    return _bearer("PGRST301", message, details)


def anonymous_disabled() -> ApiError:
    """PGRST302: no token and no db-anon-role."""
    return ApiError(401, "PGRST302", "Anonymous access is disabled", headers=[("WWW-Authenticate", "Bearer")])


def invalid_claims(message: str, details: Any = None) -> ApiError:
    """PGRST303: a verified token whose claims are refused (exp, nbf, iat, aud)."""
    return _bearer("PGRST303", message, details)


# -- PGWSGI3xx: pgwsgi's own authentication codes (PGWSGI + PostgREST's group digit) ----------


def cookie_write_refused(method: str, cookie: str, fetch_site: str | None) -> ApiError:
    """PGWSGI301: a write authenticated by the jwt-cookie-name cookie that does not show it comes from this site.

    The CSRF guard: without `Sec-Fetch-Site: same-origin` the browser may have
    attached the cookie to a request another site made it send.
    """
    sent = f"Sec-Fetch-Site: {fetch_site}" if fetch_site is not None else "no Sec-Fetch-Site header"
    return ApiError(
        403,
        "PGWSGI301",
        "Cookie-authenticated write refused: the request does not show it comes from this site",
        f"The {method} request took its token from the '{cookie}' cookie and has {sent}.",
        "Send writes from a page of this origin (browsers then send Sec-Fetch-Site: same-origin), "
        "or send the token in the Authorization header instead of the cookie.",
    )


# -- PGRSTX: internal -------------------------------------------------------------------------


def internal_error() -> ApiError:
    """PGRSTX00: an unexpected failure; the traceback goes to the log only."""
    return ApiError(500, "PGRSTX00", "Internal server error")
