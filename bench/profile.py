"""Where a worker's CPU goes: pgwsgi's WSGI app called in-process, under cProfile.

    python -m bench.profile [--requests 3000] [--scenario anon-pk]

No HTTP server and no load generator: the app is called directly with a
prepared WSGI environ, one request at a time, against the benchmark database
that `make bench` loads (run it first). It prints the time per request with
and without the profiler, the cumulative time of each pipeline stage, and the
functions with the largest own time. This complements the CPU split of
`make bench`: it shows what the worker's share is made of.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from collections.abc import Sequence
from typing import Any

from werkzeug.test import EnvironBuilder

from bench import database
from bench.run import CONF, ROOT, SCENARIOS
from pgwsgi import create_app, devdb
from pgwsgi.auth import mint_token
from pgwsgi.config import load_config

# (label, file suffix, function name): the pipeline stages as wsgi.App.handle calls them.
STAGES = (
    ("WSGI app, whole request", "pgwsgi/wsgi.py", "__call__"),
    ("werkzeug Request(environ)", "werkzeug/sansio/request.py", "__init__"),
    ("auth.authenticate", "pgwsgi/auth.py", "authenticate"),
    ("routes.route", "pgwsgi/routes.py", "route"),
    ("api.parse", "pgwsgi/api/request.py", "parse"),
    ("plan.build_read", "pgwsgi/plan/read.py", "build_read"),
    ("sql.compose_read", "pgwsgi/sql/read.py", "compose_read"),
    ("sql.request_settings", "pgwsgi/sql/settings.py", "request_settings"),
    ("db.transaction.run", "pgwsgi/db/transaction.py", "run"),
    ("  pool getconn", "psycopg_pool/pool.py", "getconn"),
    ("  pool putconn", "psycopg_pool/pool.py", "putconn"),
    ("  cursor.execute (4 round trips)", "psycopg/cursor.py", "execute"),
    ("response.render_read", "pgwsgi/response.py", "render_read"),
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

    from pathlib import Path

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

    app = create_app(config)
    try:
        status = _call(app, template)
        if not status.startswith("200"):
            print(f"{sc.path}?{sc.query} answered {status}; run `make bench` first to load the data", file=sys.stderr)
            return 2
        for _ in range(200):  # warm: prepared statements, JWT cache, pool
            _call(app, template)
        wall, cpu = _timed(app, template, args.requests)
        print(f"{sc.name}: {args.requests} requests in-process, one at a time")
        print(
            f"  without profiler: {wall * 1e6 / args.requests:7.1f} µs wall, "
            f"{cpu * 1e6 / args.requests:7.1f} µs CPU per request ({args.requests / wall:.0f} req/s)"
        )
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


def _timed(app: Any, template: dict[str, Any], n: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        _call(app, template)
    return time.perf_counter() - wall, time.process_time() - cpu


def _cumulative(stats: pstats.Stats, suffix: str, func: str) -> float | None:
    """Cumulative seconds of the function FUNC defined in a file ending with SUFFIX (summed over matches)."""
    total = None
    for (filename, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if name == func and filename.replace("\\", "/").endswith(suffix):
            total = (total or 0.0) + ct
    return total


if __name__ == "__main__":
    sys.exit(main())
