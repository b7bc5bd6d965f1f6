"""Where a worker's CPU goes: pgwsgi's WSGI app called in-process, then under cProfile.

    python -m bench.profile [--requests 3000] [--scenario anon-pk] [--top 25]

No HTTP server and no load generator: the app is called directly with a
prepared WSGI environ, one request at a time, against the benchmark database
that `make bench` loads (run it first). It prints

1. wall time and CPU (this process, PostgreSQL) per request for the app, for
   bare psycopg sending the same four statements, and for bare psycopg sending
   them in one pipeline (one round trip), so the cost of pgwsgi's Python work
   and of the round trips can be read apart;
2. the cumulative time of each pipeline stage under cProfile;
3. the functions with the largest own time.

`python -m bench.run --profile` does 1 (the app only), 2 and 3 for every
scenario, after loading the benchmark database itself; profile_scenario() is
what both call. This complements the CPU split of `make bench`: it shows what
the worker's share is made of.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from werkzeug.test import EnvironBuilder

from bench import cpu, database, statements
from bench.scenarios import CONF, ROOT, SCENARIOS, Scenario, app_env
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
    ("http.shapes key (every request)", "pgwsgi/http/shapes.py", "key"),
    ("http.shapes lookup (a known shape)", "pgwsgi/http/shapes.py", "lookup"),
    ("http.shapes learn (a new shape)", "pgwsgi/http/shapes.py", "learn"),
    ("api.parse", "pgwsgi/api/request.py", "parse"),
    ("plan.build", "pgwsgi/plan/__init__.py", "build"),
    ("sql.compose", "pgwsgi/sql/__init__.py", "compose"),
    ("  sql.request_settings", "pgwsgi/sql/settings.py", "request_settings"),
    ("db.run", "pgwsgi/db/transaction.py", "run"),
    ("  pool getconn", "psycopg_pool/pool.py", "getconn"),
    ("  pool putconn", "psycopg_pool/pool.py", "putconn"),
    ("  db.wire run (one round trip)", "pgwsgi/db/wire.py", "run"),
    ("response.render", "pgwsgi/response/__init__.py", "render"),
    ("http.app _send (response to WSGI)", "pgwsgi/http/app.py", "_send"),
)

WARMUP_CALLS = 300  # prepared statements, JWT cache, pool


@dataclass(frozen=True)
class PerRequest:
    """Wall time and CPU per call, in microseconds."""

    wall_us: float
    cpu_us: float  # this process
    pg_us: float  # PostgreSQL (the postmaster's tree)


@dataclass
class ScenarioProfile:
    """What profile_scenario() found for one scenario."""

    scenario: str
    requests: int
    unprofiled: PerRequest
    stages: list[tuple[str, float]]  # (label, cumulative µs per request under cProfile)
    top: list[dict[str, Any]] = field(default_factory=list)  # functions by own time, see top_functions()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def request_environ(sc: Scenario, signing_config: Config, host: str = "127.0.0.1:3000") -> dict[str, Any]:
    """The WSGI environ of SC's request (with its JWT, if it has claims), without wsgi.input."""
    headers = [("Host", host)]
    if sc.claims:
        headers.append(("Authorization", "Bearer " + mint_token(signing_config, sc.claims)))
    builder = EnvironBuilder(path=sc.path, query_string=sc.query, headers=headers)
    try:
        return builder.get_environ()
    finally:
        builder.close()


def call(app: Any, template: dict[str, Any]) -> tuple[str, bytes]:
    """One request through the WSGI interface; returns the status line and the body."""
    environ = dict(template)
    environ["wsgi.input"] = io.BytesIO(b"")
    seen: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen.append(status)
        return lambda _data: None

    body = b"".join(app(environ, start_response))
    return seen[0], body


def check(app: Any, template: dict[str, Any], sc: Scenario) -> str | None:
    """None when SC answers 200 with its expected rows, else what is wrong."""
    status, body = call(app, template)
    try:
        rows = json.loads(body)
    except ValueError:
        rows = None
    if status.startswith("200") and isinstance(rows, list) and len(rows) == sc.rows:
        return None
    return f"{sc.path}?{sc.query} answered {status} {body[:200]!r}; expected 200 and {sc.rows} row(s)"


def measure(fn: Callable[[], Any], n: int, postmaster: int | None) -> PerRequest:
    """Warm FN up, run it N times; wall time and CPU of this process and of PostgreSQL per call."""
    for _ in range(min(n, WARMUP_CALLS)):
        fn()
    me0, pg0, wall = cpu.tree_times(os.getpid()), cpu.tree_times(postmaster), time.perf_counter()
    for _ in range(n):
        fn()
    wall = time.perf_counter() - wall
    me, pg = cpu.tree_times(os.getpid()) - me0, cpu.tree_times(postmaster) - pg0
    return PerRequest(round(wall * 1e6 / n, 1), round(me.total * 1e6 / n, 1), round(pg.total * 1e6 / n, 1))


def run_profiled(fn: Callable[[], Any], n: int) -> pstats.Stats:
    """FN called N times under cProfile (warm it up first)."""
    prof = cProfile.Profile()
    prof.enable()
    try:
        for _ in range(n):
            fn()
    finally:
        prof.disable()
    return pstats.Stats(prof)


def stage_times(stats: pstats.Stats, n: int) -> list[tuple[str, float]]:
    """(label, cumulative µs per request) of each STAGES entry found in STATS."""
    found = []
    for label, suffix, func in STAGES:
        ct = _cumulative(stats, suffix, func)
        if ct is not None:
            found.append((label, round(ct * 1e6 / n, 1)))
    return found


def top_functions(stats: pstats.Stats, n: int, top: int) -> list[dict[str, Any]]:
    """The TOP functions by own time: own and cumulative µs and calls per request, and where they are."""
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]  # type: ignore[attr-defined]
    return [
        {
            "own_us": round(tt * 1e6 / n, 1),
            "cum_us": round(ct * 1e6 / n, 1),
            "calls": round(nc / n, 2),
            "function": _where(filename, line, name),
        }
        for (filename, line, name), (_cc, nc, tt, ct, _callers) in rows
    ]


def profile_scenario(
    app: Any, sc: Scenario, signing_config: Config, requests: int, postmaster: int | None, top: int = 15
) -> ScenarioProfile:
    """Check SC, time it without the profiler, then profile REQUESTS calls. RuntimeError if the check fails."""
    template = request_environ(sc, signing_config)
    problem = check(app, template, sc)
    if problem:
        raise RuntimeError(problem)
    unprofiled = measure(lambda: call(app, template), requests, postmaster)  # warms up too
    stats = run_profiled(lambda: call(app, template), requests)
    return ScenarioProfile(
        sc.name, requests, unprofiled, stage_times(stats, requests), top_functions(stats, requests, top)
    )


def format_profile(p: ScenarioProfile) -> str:
    """Stage table and top functions of one scenario, indented under its name."""
    u = p.unprofiled
    lines = [
        f"  unprofiled, per request: wall {u.wall_us:.0f} µs, CPU {u.cpu_us:.0f} µs here + {u.pg_us:.0f} µs PostgreSQL",
        "  stages (cumulative µs per request under cProfile, which inflates Python-heavy code):",
    ]
    lines += [f"    {label:<36} {us:8.1f}" for label, us in p.stages]
    lines.append(f"  top {len(p.top)} functions by own time (per request under cProfile):")
    lines.append(f"    {'own µs':>8} {'cum µs':>8} {'calls':>7}  function")
    lines += [f"    {f['own_us']:8.1f} {f['cum_us']:8.1f} {f['calls']:7.2f}  {f['function']}" for f in p.top]
    return "\n".join(lines)


def _where(filename: str, line: int, name: str) -> str:
    """A short location: path relative to the repository or site-packages, else the built-in's name."""
    if filename == "~":  # a built-in function or method; NAME already says which
        return name[:80]
    path = filename.replace("\\", "/")
    root = str(ROOT).replace("\\", "/") + "/"
    if "site-packages/" in path:  # first: the virtualenv may be inside the repository
        path = path.split("site-packages/", 1)[1]
    elif path.startswith(root):
        path = path[len(root) :]
    elif "/lib/python" in path:
        path = "stdlib/" + path.split("/lib/python", 1)[1].split("/", 1)[-1]
    return f"{path}:{line} {name}"


def _cumulative(stats: pstats.Stats, suffix: str, func: str) -> float | None:
    """Cumulative seconds of the function FUNC defined in a file ending with SUFFIX (summed over matches)."""
    total = None
    for (filename, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if name == func and filename.replace("\\", "/").endswith(suffix):
            total = (total or 0.0) + ct
    return total


def main(argv: Sequence[str] | None = None) -> int:
    """Profile the app on one scenario; print per-request times, stages and top functions."""
    p = argparse.ArgumentParser(
        prog="python -m bench.profile", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--devdb", default=str(ROOT / ".devdb"), help="private PostgreSQL folder (default .devdb)")
    p.add_argument("--requests", type=int, default=3000, help="requests per measurement (default 3000)")
    p.add_argument("--scenario", default="anon-pk", choices=[s.name for s in SCENARIOS])
    p.add_argument("--top", type=int, default=25, help="functions listed by own time (default 25)")
    args = p.parse_args(argv)
    if args.requests < 1:
        p.error("--requests must be at least 1")
    sc = next(s for s in SCENARIOS if s.name == args.scenario)

    admin = devdb.start(Path(args.devdb))
    auth_dsn = database.with_database(admin, database.DBNAME).replace("postgres@", "authenticator@", 1)
    config = load_config(str(CONF), env=app_env(auth_dsn))
    signing = load_config(str(CONF), env={})
    postmaster = cpu.postmaster_pid(Path(args.devdb))

    print(f"{sc.name}: {args.requests} requests, one at a time, no HTTP (µs per request)")
    print(f"  {'':<52} {'wall':>7} {'this CPU':>9} {'pg CPU':>7}")
    app = create_app(config)
    try:
        try:
            result = profile_scenario(app, sc, signing, args.requests, postmaster, args.top)
        except RuntimeError as exc:
            print(f"{exc}; run `make bench` first to load the data", file=sys.stderr)
            return 2
    finally:
        app.close()
    _print_row("pgwsgi app (WSGI call)", result.unprofiled)
    headers = [("Host", "127.0.0.1:3000")]
    if sc.claims:
        headers.append(("Authorization", "Bearer " + mint_token(signing, sc.claims)))
    _bare_psycopg(config, auth_dsn, sc.path, sc.query, headers, args.requests, postmaster)

    print("\nPipeline stages (cumulative µs per request under cProfile, which inflates Python-heavy code):")
    for label, us in result.stages:
        print(f"  {label:<36} {us:8.1f}")
    print(f"\nTop {len(result.top)} functions by own time (µs and calls per request, under cProfile):")
    print(f"  {'own µs':>8} {'cum µs':>8} {'calls':>7}  function")
    for f in result.top:
        print(f"  {f['own_us']:8.1f} {f['cum_us']:8.1f} {f['calls']:7.2f}  {f['function']}")
    return 0


def _print_row(label: str, t: PerRequest) -> None:
    print(f"  {label:<52} {t.wall_us:7.0f} {t.cpu_us:9.0f} {t.pg_us:7.0f}")


def _bare_psycopg(
    config: Config, dsn: str, path: str, query: str, headers: list[tuple[str, str]], n: int, postmaster: int | None
) -> None:
    """The same statements through psycopg's cursor, without pgwsgi: four round trips, then psycopg's pipeline.

    pgwsgi itself sends them in one round trip through libpq's pipeline (pgwsgi/db/wire.py).
    """
    with psycopg.connect(dsn, **connect_kwargs(config)) as conn:
        snapshot = load_snapshot(conn, config.db_schemas, config.db_extra_search_path)
        tx = statements.build_transaction(conn, config, snapshot, path, query, headers)

        def send(cur: psycopg.Cursor[Any]) -> None:
            for stmt in tx.statements:
                # BEGIN/COMMIT unprepared, the rest prepared (prepare_threshold=0), as pgwsgi did before db/wire.py.
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

        _print_row("psycopg, same statements, 4 round trips", measure(round_trips, n, postmaster))
        _print_row("psycopg, same statements, pipeline (1 round trip)", measure(pipelined, n, postmaster))


if __name__ == "__main__":
    sys.exit(main())
