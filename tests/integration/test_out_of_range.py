"""Values PostgreSQL cannot take answer its 400, never a 500 (found by the schemathesis run)."""

from __future__ import annotations

import pytest
from werkzeug.test import Client

from tests.conftest import assert_error

TOO_BIG = "9223372036854775808"  # 2**63: one past bigint


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        (f"/items?limit={TOO_BIG}", {}),
        (f"/items?offset={TOO_BIG}", {}),
        ("/items", {"Range": f"{TOO_BIG}-"}),
        ("/items", {"Range": "0-9223372036854775807"}),  # a limit of 2**63 rows
        (f"/e_clients?select=id,e_projects(id)&e_projects.limit={TOO_BIG}", {}),
    ],
)
def test_bounds_past_64_bits_are_postgresqls_22003(client: Client, url: str, headers: dict[str, str]) -> None:
    # PostgREST writes them into its SQL, where PostgreSQL refuses them the same way.
    assert_error(client.get(url, headers=headers), 400, "22003", "bigint out of range")


def test_the_largest_bigint_is_still_a_limit(client: Client) -> None:
    assert client.get("/items?select=id&limit=9223372036854775807&id=eq.1").get_json() == [{"id": 1}]


@pytest.mark.parametrize("op", ["fts", "plfts", "phfts", "wfts"])
def test_an_all_digit_text_search_configuration_is_an_unknown_name(client: Client, op: str) -> None:
    # `::regconfig` would read "0" as an OID and fail with an internal error (XX000).
    r = client.get(f"/items?name={op}(0).cat")
    assert_error(r, 400, "42704", 'text search configuration "0" does not exist')
