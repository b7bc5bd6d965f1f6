"""sql/explain.py: a main statement wrapped in EXPLAIN for the plan media type (M-PLAN)."""

from __future__ import annotations

import pytest
from psycopg import sql

from pgwsgi.plan.model import Explain, ExplainFormat, ExplainOption
from pgwsgi.sql.explain import explain


@pytest.mark.parametrize(
    ("fmt", "options", "head"),
    [
        ("text", (), "EXPLAIN (FORMAT TEXT) "),
        ("json", (), "EXPLAIN (FORMAT JSON) "),
        (
            "json",
            ("analyze", "verbose", "settings", "buffers", "wal"),
            "EXPLAIN (FORMAT JSON, ANALYZE, VERBOSE, SETTINGS, BUFFERS, WAL) ",
        ),
    ],
)
def test_the_statement_is_explained_with_its_parameters(
    fmt: ExplainFormat, options: tuple[ExplainOption, ...], head: str
) -> None:
    params = ["1", 2]
    query, bound = explain(
        (sql.SQL("SELECT {} WHERE x = %s").format(sql.Identifier("t")), params), Explain(fmt, options)
    )
    assert query.as_string(None) == head + 'SELECT "t" WHERE x = %s'
    assert bound is params
