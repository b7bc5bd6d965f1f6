"""`make bench`: pgwsgi under HTTP load next to pgbench running the same transaction.

`python -m bench.run` loads the demo into the private development server,
serves it with gunicorn, measures a few read scenarios with wrk, measures the
very same SQL transaction with pgbench, and prints both side by side. The
pgbench figure is the ceiling: what PostgreSQL alone can do with the work
pgwsgi asks of it. See docs/performance.md.
"""
