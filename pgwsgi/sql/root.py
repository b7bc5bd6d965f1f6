"""The root's statement: what the request's role may use in the schema, and the schema's COMMENT.

PostgREST's accessibleTables and accessibleFuncs: run as the request's role, so
the document shows what that role may use (openapi-mode = follow-privileges).
"""

from __future__ import annotations

from psycopg import sql

from pgwsgi.plan.model import RootPlan
from pgwsgi.sql.fragments import Statement

_USABLE = sql.SQL(
    "SELECT array(SELECT c.relname::text FROM pg_catalog.pg_class c"
    " WHERE c.relnamespace = n.oid AND c.relkind IN ('v', 'r', 'm', 'f', 'p') AND NOT c.relispartition"
    " AND (pg_catalog.pg_has_role(c.relowner, 'USAGE')"
    " OR pg_catalog.has_table_privilege(c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')"
    " OR pg_catalog.has_any_column_privilege(c.oid, 'SELECT, INSERT, UPDATE, REFERENCES'))) AS tables,"
    " array(SELECT p.oid::int8 FROM pg_catalog.pg_proc p"
    " WHERE p.pronamespace = n.oid AND pg_catalog.has_function_privilege(p.oid, 'EXECUTE')) AS functions,"
    " pg_catalog.obj_description(n.oid, 'pg_namespace') AS description"
    " FROM (SELECT %s::text AS name) s LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = s.name"
)
_DESCRIPTION = sql.SQL(
    "SELECT NULL::text[] AS tables, NULL::int8[] AS functions,"
    " pg_catalog.obj_description(n.oid, 'pg_namespace') AS description"
    " FROM (SELECT %s::text AS name) s LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = s.name"
)


def compose_root(plan: RootPlan) -> Statement:
    """The root's main statement: always one row of (tables, functions, description).

    The lists are empty for a schema the database no longer has (a stale catalog),
    and NULL when privileges are not followed.
    """
    return (_USABLE if plan.follow_privileges else _DESCRIPTION), [plan.description.schema]
