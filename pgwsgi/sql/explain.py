"""The plan media type (M-PLAN): a main statement wrapped in EXPLAIN, as PostgREST's `explainF` writes it."""

from __future__ import annotations

from psycopg import sql

from pgwsgi.plan.model import Explain
from pgwsgi.sql.fragments import Statement

_FORMATS = {"text": "FORMAT TEXT", "json": "FORMAT JSON"}


def explain(statement: Statement, how: Explain) -> Statement:
    """`EXPLAIN (FORMAT TEXT|JSON[, ANALYZE, VERBOSE, SETTINGS, BUFFERS, WAL]) <statement>`, same parameters.

    The options are a closed set of keywords (plan.model.ExplainOption), never client text.
    """
    query, params = statement
    options = ", ".join([_FORMATS[how.format], *(o.upper() for o in how.options)])
    return sql.SQL("EXPLAIN ({}) {}").format(sql.SQL(options), query), params
