"""Hostile input for embedding: random select trees of embeds, spreads and aggregates never give a 500."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

# What each fixture table (tests/fixtures/embed.sql) can embed, and a few names it cannot.
TARGETS = {
    "e_clients": ["e_projects", "big_projects", "first_project", "e_events", "e_tasks"],
    "e_projects": ["e_clients", "e_tasks", "owner_client", "e_projects_v1"],
    "e_tasks": ["e_projects", "e_users", "e_users_tasks"],
    "e_users": ["e_tasks", "e_profiles", "e_passports", "e_messages"],
}
OTHER = ["e_events", "e_profiles", "e_passports", "e_messages", "e_users_tasks", "e_projects_v1", "big_projects"]
COLUMNS = st.sampled_from(["id", "id", "name", "name", "*", "n:id", "client_id", "count", "nope", "name->>x"])
AGGREGATES = st.sampled_from(["count()", "id.sum()", "c:id.count()::text", "name.max()", "id::text.min()"])
PREFIXES = st.sampled_from(["", "", "...", "a:", "b:"])
SUFFIXES = st.sampled_from(["", "", "", "!inner", "!inner", "!left", "!e_projects_client_id_fkey", "!client_id"])
EXAMPLES = int(os.environ.get("PGWSGI_FUZZ_EXAMPLES", "60"))


def _select(table: str, depth: int) -> st.SearchStrategy[str]:
    items = [COLUMNS, AGGREGATES]
    if depth > 0:
        target = st.sampled_from(TARGETS.get(table, OTHER))
        items.append(
            target.flatmap(
                lambda t: st.builds(lambda p, s, c: f"{p}{t}{s}({c})", PREFIXES, SUFFIXES, _select(t, depth - 1))
            )
        )
    return st.lists(st.one_of(*items), max_size=4).map(",".join)


@pytest.fixture
def agg_client(make_client: Callable[..., Client]) -> Client:
    """One app for every example (hypothesis reuses function-scoped fixtures)."""
    return make_client(db_aggregates_enabled=True)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    query=st.sampled_from(["e_clients", "e_projects", "e_tasks"]).flatmap(
        lambda root: st.builds(
            lambda s, extra: f"/{root}?select={s}{extra}",
            _select(root, 3),
            st.sampled_from(["", "&order=id", "&limit=2", "&e_projects.order=id", "&e_projects=is.null", "&id=gt.1"]),
        )
    )
)
def test_random_embed_trees_get_a_result_or_a_client_error(agg_client: Client, query: str) -> None:
    r = agg_client.get(query, headers={"Prefer": "count=exact"})
    assert r.status_code < 500, (query, r.get_data(as_text=True))
    if r.status_code >= 400:
        assert set(r.get_json()) == {"code", "message", "details", "hint"}
