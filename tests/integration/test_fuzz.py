"""Hostile input: arbitrary query strings and headers never give a 500 or a traceback."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

KEYS = st.sampled_from(
    [
        "select",
        "order",
        "limit",
        "offset",
        "or",
        "and",
        "not.or",
        "id",
        "name",
        "data->>label",
        "tags",
        "price",
        "nope",
        "items.id",
        "columns",
    ]
)
VALUES = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"(not\.)?(eq|in|is|like|cs|fts|gt)\.[\w,()\"{}\\*.:>-]{0,20}", fullmatch=True),
    st.from_regex(r"[\w,():!.*>-]{0,30}", fullmatch=True),
)
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "Accept": st.text(max_size=30),
        "Prefer": st.text(max_size=30),
        "Range": st.text(max_size=12),
        "Accept-Profile": st.sampled_from(["test", "other", "x", ""]),
        "Authorization": st.one_of(st.text(max_size=30), st.just("Bearer a.b.c")),
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.lists(st.tuples(KEYS, VALUES), max_size=4), headers=HEADERS)
def test_arbitrary_requests_get_a_result_or_a_client_error(client: Client, params, headers) -> None:  # noqa: ANN001
    query = "&".join(f"{quote(k)}={quote(v)}" for k, v in params)
    safe_headers = {
        k: v.encode("latin-1", "replace").decode("latin-1").replace("\n", " ").replace("\r", " ")
        for k, v in headers.items()
    }
    r = client.get(f"/items?{query}", headers=safe_headers)
    assert r.status_code < 500, (query, headers, r.get_data(as_text=True))
    if r.status_code >= 400:
        body = r.get_json()
        assert set(body) == {"code", "message", "details", "hint"}
        assert "Traceback" not in r.get_data(as_text=True)
