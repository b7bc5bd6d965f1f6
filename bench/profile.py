"""Where a worker's CPU goes: pgwsgi's WSGI app called in-process, then under cProfile.

    python -m bench.profile [--requests 3000] [--scenario anon-pk]

No HTTP server and no load generator: the app is called directly with a
prepared WSGI environ, one request at a time, against the benchmark database
that `make bench` loads (run it first). It prints

1. wall time and CPU (this process, PostgreSQL) per request for the app, for
   bare psycopg sending the same four statements, and for bare psycopg sending
   them in one pipeline (one round trip), so the cost of pgwsgi's Python work
   and of the round trips can be read apart;
2. the cumulative time of each pipeline stage under cProfile;
3. the functions with the largest own time.

This complements the CPU split of `make bench`: it shows what the worker's share is made of.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psycopg
from werkzeug.test import EnvironBuilder

from bench import cpu, database, statements
from bench.run import CONF, ROOT, SCENARIOS
from devtools import devdb
from pgwsgi import create_app
from pgwsgi.auth import mint_token
from pgwsgi.catalog.load import load_snapshot
from pgwsgi.config import Config, load_config
from pgwsgi.db.pool import connect_kwargs

# (label, file suffix, function name): the pipeline stages as http.app.App.handle calls them.
STAGES = (
    ("WSGI app, whole request", "pgwsgi/http/app.py", "__call__"),
    ("werkzeug Request(environ)", "werkzeug/sansio/request.py", "__init__"),
    ("auth.authenticate", "pgwsgi/auth/jwt.py", "authenticate"),
    ("http.routes.route", "pgwsgi/http/routes.py", "route"),
    ("api.parse", "pgwsgi/api/request.py", "parse"),
    ("plan.build", "pgwsgi/plan/__init__.py", "build"),
    ("sql.compose", "pgwsgi/sql/__init__.py", "compose"),
    ("  sql.request_settings", "pgwsgi/sql/settings.py", "request_settings"),
    ("db.run", "pgwsgi/db/transaction.py", "run"),
    ("  pool getconn", "psycopg_pool/pool.py", "getconn"),
    ("  pool putconn", "psycopg_pool/pool.py", "putconn"),
    ("  cursor.execute (4 round trips)", "psycopg/cursor.py", "execute"),
    ("response.render", "pgwsgi/response/__init__.py", "render"),
    ("werkzeug Response.__call__", "werkzeug/wrappers/response.py", "__call__"),
)


def main(argv: Sequence[str] | None = None) -> int:
    """Profile the app on one scenario; print per-request times, stages and top functions."""
    p = argparse.ArgumentParser(
        prog="python -m bench.profile", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--devdb", default=str(ROOT / ".devdb"))
    p.add_argument("--requests", type=int, default=3000)
    p.add_argument("--scenario", default="anon-pk", choices=[s.name for s in SCENARIOS])
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args(argv)
    sc = next(s for s in SCENARIOS if s.name == args.scenario)

    admin = devdb.start(Path(args.devdb))
    auth_dsn = database.with_database(admin, database.DBNAME).replace("postgres@", "authenticator@", 1)
    env = {"PGRST_CONFIG": str(CONF), "PGRST_DB_URI": auth_dsn, "PGRST_LOG_LEVEL": "error", "PGRST_DB_POOL": "1"}
    config = load_config(str(CONF), env=env)
    headers = [("Host", "127.0.0.1:3000")]
    if sc.claims:
        headers.append(("Authorization", "Bearer " + mint_token(load_config(str(CONF), env={}), sc.claims)))
    builder = EnvironBuilder(path=sc.path, query_string=sc.query, headers=headers)
    template = builder.get_environ()
    builder.close()
    postmaster = cpu.postmaster_pid(Path(args.devdb))

    print(f"{sc.name}: {args.requests} requests, one at a time, no HTTP (µs per request)")
    print(f"  {'':<52} {'wall':>7} {'this CPU':>9} {'pg CPU':>7}")
    app = create_app(config)
    try:
        status = _call(app, template)
        if not status.startswith("200"):
            print(f"{sc.path}?{sc.query} answered {status}; run `make bench` first to load the data", file=sys.stderr)
            return 2
        _report("pgwsgi app (WSGI call)", lambda: _call(app, template), args.requests, postmaster)
        _bare_psycopg(config, auth_dsn, sc.path, sc.query, headers, args.requests, postmaster)
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(args.requests):
            _call(app, template)
        prof.disable()
    finally:
        app.close()

    stats = pstats.Stats(prof)
    print("\nPipeline stages (cumulative µs per request under cProfile, which inflates Python-heavy code):")
    for label, suffix, func in STAGES:
        ct = _cumulative(stats, suffix, func)
        if ct is not None:
            print(f"  {label:<36} {ct * 1e6 / args.requests:8.1f}")
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(args.top)
    print("\nTop functions by own time:")
    print("\n".join(out.getvalue().splitlines()[4:]))
    return 0


def _call(app: Any, template: dict[str, Any]) -> str:
    """One request through the WSGI interface; returns the status line."""
    environ = dict(template)
    environ["wsgi.input"] = io.BytesIO(b"")
    seen: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen.append(status)
        return lambda _data: None

    for chunk in app(environ, start_response):
        del chunk
    return seen[0]


def _report(label: str, fn: Callable[[], Any], n: int, postmaster: int | None) -> None:
    """Warm FN up, run it N times; print wall time and CPU of this process and of PostgreSQL per call."""
    for _ in range(min(n, 300)):  # prepared statements, JWT cache, pool
        fn()
    me0, pg0, wall = cpu.tree_times(os.getpid()), cpu.tree_times(postmaster), time.perf_counter()
    for _ in range(n):
        fn()
    wall = time.perf_counter() - wall
    me, pg = cpu.tree_times(os.getpid()) - me0, cpu.tree_times(postmaster) - pg0
    print(f"  {label:<52} {wall * 1e6 / n:7.0f} {me.total * 1e6 / n:9.0f} {pg.total * 1e6 / n:7.0f}")


def _bare_psycopg(
    config: Config, dsn: str, path: str, query: str, headers: list[tuple[str, str]], n: int, postmaster: int | None
) -> None:
    """The same statements without pgwsgi: four round trips as pgwsgi sends them, then one pipeline."""
    with psycopg.connect(dsn, **connect_kwargs(config)) as conn:
        snapshot = load_snapshot(conn, config.db_schemas, config.db_extra_search_path)
        tx = statements.build_transaction(conn, config, snapshot, path, query, headers)

        def send(cur: psycopg.Cursor[Any]) -> None:
            for stmt in tx.statements:
                # Like pgwsgi.db.transaction: BEGIN/COMMIT unprepared, the rest prepared (prepare_threshold=0).
                if stmt.params is None:
                    cur.execute(stmt.text, prepare=False)  # type: ignore[arg-type]
                else:
                    cur.execute(stmt.text, stmt.params)  # type: ignore[arg-type]

        def round_trips() -> None:
            with conn.cursor() as cur:
                send(cur)

        def pipelined() -> None:
            # Each statement still gets its own Sync, so an error stops the ones after it.
            with conn.pipeline(), conn.cursor() as cur:
                send(cur)

        _report("psycopg, same statements, 4 round trips", round_trips, n, postmaster)
        _report("psycopg, same statements, pipeline (1 round trip)", pipelined, n, postmaster)


def _cumulative(stats: pstats.Stats, suffix: str, func: str) -> float | None:
    """Cumulative seconds of the function FUNC defined in a file ending with SUFFIX (summed over matches)."""
    total = None
    for (filename, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if name == func and filename.replace("\\", "/").endswith(suffix):
            total = (total or 0.0) + ct
    return total


if __name__ == "__main__":
    sys.exit(main())
