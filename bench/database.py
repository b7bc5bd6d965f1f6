"""The benchmark database: the demo schema plus enough rows to make a key lookup realistic."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from devtools import devdb
from devtools.demo import load_demo

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


# A small orders schema for the embedding scenarios. The tables live directly
# in `api` (the demo's exposed schema) so the demo configuration serves them and
# their foreign keys become relationships without views. Deterministic data:
# every run measures the same rows. Indexes on every foreign key column, as a
# real schema would have them, so each embed is an index lookup per parent.
ORDERS_SQL = """
DROP TABLE IF EXISTS api.bench_items, api.bench_orders, api.bench_products, api.bench_customers;
CREATE TABLE api.bench_customers (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE api.bench_products (id int PRIMARY KEY, name text NOT NULL, price numeric(10, 2) NOT NULL);
CREATE TABLE api.bench_orders (
  id int PRIMARY KEY,
  customer_id int NOT NULL REFERENCES api.bench_customers,
  placed_at timestamptz NOT NULL
);
CREATE TABLE api.bench_items (
  id int PRIMARY KEY,
  order_id int NOT NULL REFERENCES api.bench_orders,
  product_id int NOT NULL REFERENCES api.bench_products,
  qty int NOT NULL
);
INSERT INTO api.bench_customers SELECT i, 'Customer ' || i FROM generate_series(1, 1000) AS i;
INSERT INTO api.bench_products
  SELECT i, 'Product ' || i, round((1 + (i * 7919) % 10000 / 100.0)::numeric, 2) FROM generate_series(1, 500) AS i;
INSERT INTO api.bench_orders
  SELECT i, 1 + (i * 37) % 1000, timestamptz '2024-01-01' + i * interval '17 minutes'
  FROM generate_series(1, 20000) AS i;
-- Five items per order, 100,000 in all.
INSERT INTO api.bench_items
  SELECT (o - 1) * 5 + k, o, 1 + (o * 13 + k * 101) % 500, 1 + (o + k) % 5
  FROM generate_series(1, 20000) AS o, generate_series(1, 5) AS k;
CREATE INDEX ON api.bench_orders (customer_id);
CREATE INDEX ON api.bench_items (order_id);
CREATE INDEX ON api.bench_items (product_id);
GRANT SELECT ON api.bench_customers, api.bench_orders, api.bench_items, api.bench_products TO web_anon;
ANALYZE api.bench_customers, api.bench_orders, api.bench_items, api.bench_products;
-- A function for /rpc (the demo schema has none): an order's total, by GET or POST.
-- Qualified parameter: in an SQL function a column of the same name would win.
CREATE OR REPLACE FUNCTION api.bench_order_total(order_id int) RETURNS numeric
LANGUAGE sql STABLE
AS $$
  SELECT coalesce(sum(i.qty * p.price), 0)
  FROM api.bench_items AS i JOIN api.bench_products AS p ON p.id = i.product_id
  WHERE i.order_id = bench_order_total.order_id
$$;
GRANT EXECUTE ON FUNCTION api.bench_order_total(int) TO web_anon, web_user;
"""


def with_database(dsn: str, dbname: str) -> str:
    """DSN with its database name replaced."""
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{dbname}"))


def prepare(devdb_root: Path, extra_rows: int, dbname: str = DBNAME) -> tuple[str, str]:
    """Start (or reuse) the private server, reload the demo, add rows; return (admin DSN, authenticator DSN).

    The demo is reloaded on every run (load_demo drops and rebuilds its schemas),
    so every run measures the same data. DBNAME: the soak uses a database of its
    own, so that a `make bench` started meanwhile does not reload its data under it.
    """
    admin_dsn = devdb.start(devdb_root)
    auth_dsn = load_demo(admin_dsn, dbname)
    # As the superuser: RLS does not apply to it, and the authenticator may not write.
    with psycopg.connect(with_database(admin_dsn, dbname), autocommit=True) as conn:
        if extra_rows > 0:
            conn.execute(EXTRA_NOTES_SQL, [extra_rows])
        # Fresh statistics, so the planner sees the table as it is now.
        conn.execute("ANALYZE private.notes, private.users")
        conn.execute(ORDERS_SQL)
    # Loaded before gunicorn starts, so its workers' schema cache already has the tables.
    return admin_dsn, auth_dsn


def server_version(dsn: str) -> str:
    """PostgreSQL's version string, for the results file."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"
