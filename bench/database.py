"""The benchmark database: the demo schema plus enough rows to make a key lookup realistic."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from pgwsgi import devdb
from pgwsgi.demo import load_demo

DBNAME = "pgwsgi_bench"

# Ids 1..5 keep the demo's seed rows (3 and 5 public, 1 alice's private note):
# the scenarios depend on them. The extra rows only make the table big enough
# that finding one row is a real index lookup and not a scan of one page.
EXTRA_NOTES_SQL = """
INSERT INTO private.notes (owner, title, body, is_public, created_at)
SELECT CASE WHEN i %% 2 = 0 THEN 'alice' ELSE 'bob' END,
       'Note ' || i,
       repeat('Lorem ipsum dolor sit amet. ', 1 + i %% 8),
       i %% 10 = 0,
       now() - i * interval '1 minute'
FROM generate_series(1, %s) AS i
"""


def with_database(dsn: str, dbname: str) -> str:
    """DSN with its database name replaced."""
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{dbname}"))


def prepare(devdb_root: Path, extra_rows: int) -> tuple[str, str]:
    """Start (or reuse) the private server, reload the demo, add rows; return (admin DSN, authenticator DSN).

    The demo is reloaded on every run (load_demo drops and rebuilds its schemas),
    so every run measures the same data.
    """
    admin_dsn = devdb.start(devdb_root)
    auth_dsn = load_demo(admin_dsn, DBNAME)
    # As the superuser: RLS does not apply to it, and the authenticator may not write.
    with psycopg.connect(with_database(admin_dsn, DBNAME), autocommit=True) as conn:
        if extra_rows > 0:
            conn.execute(EXTRA_NOTES_SQL, [extra_rows])
        # Fresh statistics, so the planner sees the table as it is now.
        conn.execute("ANALYZE private.notes, private.users")
    return admin_dsn, auth_dsn


def server_version(dsn: str) -> str:
    """PostgreSQL's version string, for the results file."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"
