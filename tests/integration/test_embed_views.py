"""Views inherit keys and relationships from the tables they read (EMB-VIEWS), fixtures in embed_views.sql.

Schema ev exposes only views over the tables of ev_hidden: their key columns are
renamed, some read several tables, one is a junction, and some are chains of views.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from werkzeug.test import Client

from tests.conftest import assert_error, rows

# The PGRST201 body for /books_twice?select=id,authors(...): author_id is shown twice.
BOOKS_TWICE_AMBIGUOUS = {
    "code": "PGRST201",
    "message": "Could not embed because more than one relationship was found for 'books_twice' and 'authors'",
    "details": [
        {
            "cardinality": "many-to-one",
            "embedding": "books_twice with authors",
            "relationship": "books_author_id_fkey using books_twice(author_id) and authors(author_no)",
        },
        {
            "cardinality": "many-to-one",
            "embedding": "books_twice with authors",
            "relationship": "books_author_id_fkey using books_twice(coauthor_id) and authors(author_no)",
        },
    ],
    "hint": "Try changing 'authors' to one of the following: 'authors!books_author_id_fkey', "
    "'authors!books_author_id_fkey'. Find the desired relationship in the 'details' key.",
}


@pytest.fixture
def ev(make_client: Callable[..., Client]) -> Client:
    return make_client(db_schemas=("ev",), db_tx_end="commit-allow-override")


def test_views_with_renamed_keys_embed_both_ways(ev: Client) -> None:
    assert rows(ev, "/authors?select=full_name,books(title)&order=author_no&books.order=id") == [
        {"full_name": "Ursula", "books": [{"title": "Earthsea"}, {"title": "Lathe"}]},
        {"full_name": "Italo", "books": [{"title": "Invisible Cities"}]},
        {"full_name": "Nobody", "books": []},
    ]
    assert rows(ev, "/books?select=title,authors(full_name)&id=eq.3") == [
        {"title": "Invisible Cities", "authors": {"full_name": "Italo"}}
    ]


def test_a_view_over_a_join_relates_through_each_table(ev: Client) -> None:
    # book_details shows books.id as book_id: a junction view relates it to tags.
    assert rows(ev, "/book_details?select=title,author,tags(label)&order=book_id&tags.order=id") == [
        {"title": "Earthsea", "author": "Ursula", "tags": [{"label": "fantasy"}, {"label": "classic"}]},
        {"title": "Lathe", "author": "Ursula", "tags": []},
        {"title": "Invisible Cities", "author": "Italo", "tags": [{"label": "classic"}]},
    ]
    assert rows(ev, "/tags?select=label,book_details(title)&order=id&book_details.order=book_id") == [
        {"label": "fantasy", "book_details": [{"title": "Earthsea"}]},
        {"label": "classic", "book_details": [{"title": "Earthsea"}, {"title": "Invisible Cities"}]},
    ]


def test_a_materialized_view_inherits_the_key_it_shows(ev: Client) -> None:
    assert rows(ev, "/author_stats?select=id,n:books,books(title)&order=id&books.order=id") == [
        {"id": 1, "n": 2, "books": [{"title": "Earthsea"}, {"title": "Lathe"}]},
        {"id": 2, "n": 1, "books": [{"title": "Invisible Cities"}]},
        {"id": 3, "n": 0, "books": []},
    ]


def test_view_chains_pass_through_the_extra_search_path_only(ev: Client) -> None:
    assert rows(ev, "/books_via_public?select=title,authors(full_name)&id=eq.1") == [
        {"title": "Earthsea", "authors": {"full_name": "Ursula"}}
    ]
    r = ev.get("/books_via_hidden?select=title,authors(full_name)")
    assert_error(
        r,
        400,
        "PGRST200",
        "Could not find a relationship between 'books_via_hidden' and 'authors' in the schema cache",
        "Searched for a foreign key relationship between 'books_via_hidden' and 'authors' in the schema 'ev', "
        "but no matches were found.",
        "Perhaps you meant 'books_via_public' instead of 'books_via_hidden'.",
    )


def test_a_union_view_has_no_relationships(ev: Client) -> None:
    r = ev.get("/titles_and_names?select=id,authors(*)")
    assert_error(
        r,
        400,
        "PGRST200",
        "Could not find a relationship between 'titles_and_names' and 'authors' in the schema cache",
        "Searched for a foreign key relationship between 'titles_and_names' and 'authors' in the schema 'ev', "
        "but no matches were found.",
        None,
    )


def test_a_key_column_shown_twice_makes_two_relationships(ev: Client) -> None:
    r = ev.get("/books_twice?select=id,authors(full_name)")
    assert_error(r, 300, **BOOKS_TWICE_AMBIGUOUS)
    assert rows(ev, "/books_twice?select=id,authors!coauthor_id(full_name)&id=eq.3") == [
        {"id": 3, "authors": {"full_name": "Italo"}}
    ]


def test_a_renamed_view_key_locates_inserted_rows(ev: Client) -> None:
    r = ev.post(
        "/authors",
        json={"author_no": 9, "full_name": "Temp"},
        headers={"Prefer": "return=headers-only, tx=rollback"},
    )
    assert r.status_code == 201
    assert r.headers["Location"] == "/authors?author_no=eq.9"
    assert r.get_data() == b""
