"""`make bench`: pgwsgi over HTTP (gunicorn + wrk) next to pgbench running the same SQL transaction.

    python -m bench.run [--devdb .devdb] [--workers 2] [--connections 8] [--duration 10] [--floor]
    python -m bench.run --profile [--scenario NAME ...] [--profile-requests 2000] [--top 15]
    python -m bench.run --soak MINUTES [--scenario NAME ...] [--workers 2] [--connections 8]

For each scenario the URL is checked to answer 200 with its expected rows, then
measured with wrk; the transaction pgwsgi runs for it is rebuilt through
pgwsgi's own pipeline, checked to return that row, and measured with pgbench
using the same number of clients and the same duration. --floor adds gunicorn
serving a constant response, the cost of HTTP alone.

Two tables go to stdout: throughput and latency (with pgwsgi's throughput as a
fraction of pgbench's), and the CPU each party (gunicorn, PostgreSQL, the load
generator) spent per request. bench/results/<timestamp>.json holds everything.
The exit status is 1 if any measurement saw an error, 2 if the set-up or a
check failed. See docs/performance.md.

--profile: where the time goes, per scenario. No HTTP load: after loading the
database, each scenario's request is checked, then sent to pgwsgi's WSGI app
in this process, one at a time (bench/profile.py), first unprofiled and then
under cProfile. Prints the cumulative µs per request of each pipeline stage
and the functions with the largest own time.

--soak MINUTES: is a worker's memory flat under a long mixed load? gunicorn
as above (no max-requests recycling) on a database of its own, loaded by wrk
with bench/soak.lua rotating among reads (the selected scenarios), writes on
/notes as alice and /rpc calls (bench/soak.py). The RSS of every worker is
printed every 15 s; the first sample after the warm-up (a minute, or a fifth
of a shorter soak) is compared with the last. Exit status 1 (FAIL) when a
worker grew by more than 10%, a request failed (non-2xx or socket error) or a
worker was restarted. `make soak` runs a 10-minute one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg

from bench import cpu, database, httpload, pgbench, profile, soak, statements
from bench.measurement import Measurement
from bench.scenarios import ALICE, CONF, RESULTS, ROOT, SCENARIOS, Scenario, app_env
from devtools import devdb
from pgwsgi import create_app
from pgwsgi.auth import mint_token
from pgwsgi.catalog.load import load_snapshot
from pgwsgi.catalog.model import CatalogSnapshot
from pgwsgi.config import Config, load_config
from pgwsgi.config.indb import with_db_settings
from pgwsgi.db.pool import connect_kwargs
from pgwsgi.version import __version__


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command line; the defaults keep `make bench` around a minute."""
    p = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--devdb", type=Path, default=ROOT / ".devdb", help="private PostgreSQL folder (default .devdb)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    p.add_argument("--connections", type=int, default=8, help="wrk connections = pgbench clients (default 8)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads = pgbench -j (default 2)")
    p.add_argument("--duration", type=float, default=10, help="seconds per measurement (default 10)")
    p.add_argument("--warmup", type=float, default=2, help="seconds of HTTP load before each measurement (default 2)")
    p.add_argument("--rows", type=int, default=100_000, help="extra notes in the table (default 100000)")
    p.add_argument(
        "--scenario",
        action="append",
        choices=[s.name for s in SCENARIOS],
        help="run only this scenario (repeatable; with --soak: the reads of the mix)",
    )
    p.add_argument(
        "--floor",
        action="store_true",
        help="also measure gunicorn serving a constant response (bench/floor.py): the HTTP-only floor",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--profile",
        action="store_true",
        help="no HTTP load: profile each selected scenario in-process with cProfile and print where the time goes",
    )
    mode.add_argument(
        "--soak",
        type=float,
        metavar="MINUTES",
        help="drive a mixed read/write/rpc load for MINUTES and check that worker RSS stays within 10%%",
    )
    p.add_argument(
        "--profile-requests", type=int, default=2000, help="with --profile: requests per scenario (default 2000)"
    )
    p.add_argument("--top", type=int, default=15, help="with --profile: functions listed by own time (default 15)")
    p.add_argument("--results-dir", type=Path, default=RESULTS, help="where the JSON results go")
    args = p.parse_args(argv)
    args.devdb = args.devdb.resolve()
    for name in ("workers", "connections", "threads", "profile_requests", "top"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.duration < 1:
        p.error("--duration must be at least 1 second")
    if args.soak is not None and args.soak * 60 < 20:
        p.error("--soak must be at least a third of a minute")
    if args.floor and (args.profile or args.soak is not None):
        p.error("--floor goes with neither --profile nor --soak")
    args.mode = "profile" if args.profile else "soak" if args.soak is not None else "bench"
    return args


def _background_busy(seconds: float = 1.0) -> float:
    """How busy the machine is before we start (percent of all cores), from /proc/stat."""
    before = cpu.machine_times()
    time.sleep(seconds)
    d = cpu.machine_times() - before
    return 100 * (d.processes + d.interrupts) / d.total if d.total > 0 else 0.0


def _raise_exit(signum: int, _frame: FrameType | None) -> None:
    # SIGTERM/SIGHUP unwind through the finally blocks like Ctrl-C does, so gunicorn is always stopped.
    raise SystemExit(128 + signum)


@dataclass
class Bench:
    """What every measurement of one run shares."""

    args: argparse.Namespace
    wrk: str
    pgbench: Path
    auth_dsn: str
    config: Config  # the workers' configuration (demo file + PGRST_* variables)
    signing_config: Config  # the demo file alone, to mint tokens like `pgwsgi token` does
    snapshot: CatalogSnapshot
    tmp: Path
    scripts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def wrk_run(self, url: str, authorization: str | None, scenario: str, tool: str, seconds: float) -> Measurement:
        """wrk with this run's client count and threads."""
        return httpload.run_wrk(
            self.wrk,
            url,
            authorization,
            scenario=scenario,
            connections=self.args.connections,
            threads=self.args.threads,
            duration=seconds,
            tool=tool,
        )


Parties = dict[str, Callable[[], cpu.CpuTimes]]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 when every measurement was error-free."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.signal(signal.SIGHUP, _raise_exit)
    wrk = "" if args.mode == "profile" else httpload.ensure_wrk()
    pgbench_bin = devdb.bin_dir() / "pgbench"
    if args.mode == "bench" and not pgbench_bin.exists():
        raise SystemExit(f"pgbench not found at {pgbench_bin}")
    scenarios = [s for s in SCENARIOS if not args.scenario or s.name in args.scenario]
    started = time.time()

    background = _background_busy()
    if background > 20:
        # Every process here shares the same cores: other work skews both tools' figures.
        print(
            f"Warning: the machine is already {background:.0f}% busy; figures will be low and noisy.",
            file=sys.stderr,
            flush=True,
        )
    dbname = soak.DBNAME if args.mode == "soak" else database.DBNAME
    print(f"Preparing database {dbname} ({args.rows} extra notes) ...", flush=True)
    admin_dsn, auth_dsn = database.prepare(args.devdb, args.rows, dbname)
    env = app_env(auth_dsn)  # exactly what the workers get
    if args.mode == "profile":
        return _profile(args, scenarios, env, admin_dsn, started, background)
    if args.mode == "soak":
        return _soak(args, scenarios, wrk, env, admin_dsn, started, background)
    config = with_db_settings(load_config(str(CONF), env=env))
    with psycopg.connect(auth_dsn, **connect_kwargs(config)) as conn:
        snapshot = load_snapshot(conn, config.db_schemas, config.db_extra_search_path)

    results: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="pgwsgi-bench-") as tmp_name:
        bench = Bench(
            args, wrk, pgbench_bin, auth_dsn, config, load_config(str(CONF), env={}), snapshot, Path(tmp_name)
        )
        port = httpload.free_port()
        log_path = bench.tmp / "gunicorn.log"
        print(f"Starting gunicorn: {args.workers} sync worker(s), db-pool 1, on 127.0.0.1:{port} ...", flush=True)
        try:
            with (
                httpload.gunicorn(httpload.clean_env(env), args.workers, port, log_path) as server,
                psycopg.connect(auth_dsn, **connect_kwargs(config)) as conn,
            ):
                postmaster = cpu.postmaster_pid(args.devdb)
                parties: Parties = {
                    "gunicorn": lambda: cpu.tree_times(server.pid),
                    "postgres": lambda: cpu.tree_times(postmaster),
                    "load_generator": cpu.children_times,
                }
                for sc in scenarios:
                    results += _run_scenario(bench, sc, conn, port, parties)
            if args.floor:
                results.append(_run_floor(bench))
        except RuntimeError as exc:
            _setup_failed(exc, bench.tmp)
            return 2

    print()
    print(format_table(results))
    print()
    print(format_cpu_table(results))
    path = write_results(
        args, started, admin_dsn, wrk, pgbench_bin, background, results=results, extra={"scenarios": bench.scripts}
    )
    _print_path(path)
    bad = [f"{m.scenario}/{m.tool}" for m in results if m.errors]
    if bad:
        print(f"Errors in: {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


def _setup_failed(exc: Exception, tmp: Path) -> None:
    """Say why the run stopped, with the end of every non-empty gunicorn log in TMP."""
    print(f"\nmake bench: {exc}", file=sys.stderr)
    for log in sorted(tmp.glob("gunicorn*.log")):
        if log.stat().st_size:
            print(f"--- {log.name} ---\n{httpload.tail(log)}", file=sys.stderr)


def _print_path(path: Path) -> None:
    print(f"\nResults: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def _profile(
    args: argparse.Namespace,
    scenarios: Sequence[Scenario],
    env: dict[str, str],
    admin_dsn: str,
    started: float,
    background: float,
) -> int:
    """--profile: each scenario through the WSGI app in this process, unprofiled then under cProfile."""
    postmaster = cpu.postmaster_pid(args.devdb)
    signing = load_config(str(CONF), env={})
    print(f"Profiling in-process, no HTTP: {args.profile_requests} requests per scenario, one at a time", flush=True)
    found: list[profile.ScenarioProfile] = []
    app = create_app(load_config(str(CONF), env=env))
    try:
        for sc in scenarios:
            print(f"\n[{sc.name}] {sc.about}", flush=True)
            try:
                p = profile.profile_scenario(app, sc, signing, args.profile_requests, postmaster, args.top)
            except RuntimeError as exc:
                print(f"make bench: {exc}", file=sys.stderr)
                return 2
            print(profile.format_profile(p), flush=True)
            found.append(p)
    finally:
        app.close()
    extra = {"profiles": [p.as_dict() for p in found]}
    _print_path(write_results(args, started, admin_dsn, "", None, background, extra=extra))
    return 0


def _soak(
    args: argparse.Namespace,
    scenarios: Sequence[Scenario],
    wrk: str,
    env: dict[str, str],
    admin_dsn: str,
    started: float,
    background: float,
) -> int:
    """--soak: gunicorn under the mixed load for args.soak minutes; 1 unless worker memory stayed flat."""
    admin_db = database.with_database(admin_dsn, soak.DBNAME)
    seed_max = soak.seed_max_id(admin_db)
    kinds = soak.request_kinds(list(scenarios), seed_max)
    authorization = f"Bearer {mint_token(load_config(str(CONF), env={}), ALICE)}"
    with tempfile.TemporaryDirectory(prefix="pgwsgi-soak-") as tmp_name:
        tmp = Path(tmp_name)
        port = httpload.free_port()
        log_path = tmp / "gunicorn.log"
        print(f"Starting gunicorn: {args.workers} sync worker(s), db-pool 1, on 127.0.0.1:{port} ...", flush=True)
        try:
            with httpload.gunicorn(httpload.clean_env(env), args.workers, port, log_path) as server:
                workers = soak.wait_for_workers(server.pid, args.workers)
                soak.verify(f"http://127.0.0.1:{port}", kinds, authorization)
                duration = args.soak * 60
                print(
                    f"Soak: {duration:.0f} s, {args.connections} connections, {len(kinds)} request kinds in turn "
                    f"({', '.join(k.name for k in kinds)});\n"
                    f"RSS of workers {workers} every {soak.sample_interval(duration):.0f} s, "
                    f"baseline after a {soak.warmup_seconds(duration):.0f} s warm-up",
                    flush=True,
                )
                result = soak.run_soak(
                    wrk=wrk,
                    master=server.pid,
                    port=port,
                    workers=workers,
                    kinds=kinds,
                    authorization=authorization,
                    minutes=args.soak,
                    connections=args.connections,
                    threads=args.threads,
                    tmp=tmp,
                )
        except RuntimeError as exc:
            _setup_failed(exc, tmp)
            return 2
        finally:
            try:
                soak.cleanup(admin_db, seed_max)
            except psycopg.Error as exc:
                print(f"make bench: could not delete the soak's notes: {exc}", file=sys.stderr)
        if log_path.stat().st_size:
            print(f"--- gunicorn.log (end) ---\n{httpload.tail(log_path)}", file=sys.stderr)

    print()
    print(soak.format_summary(result))
    extra = {"soak": result.as_dict()}
    _print_path(write_results(args, started, admin_dsn, wrk, None, background, results=[result.load], extra=extra))
    return 0 if result.passed else 1


def _run_scenario(
    bench: Bench, sc: Scenario, conn: psycopg.Connection[Any], port: int, parties: Parties
) -> list[Measurement]:
    """Check, then measure one scenario with wrk and with pgbench."""
    args = bench.args
    authorization = f"Bearer {mint_token(bench.signing_config, sc.claims)}" if sc.claims else None
    url = f"http://127.0.0.1:{port}{sc.path}?{sc.query}"
    # The headers wrk sends: Host, plus Authorization from report.lua. They end up
    # in the request.headers GUC, so they belong to the measured SQL too.
    headers = [("Host", f"127.0.0.1:{port}")]
    if authorization:
        headers.append(("Authorization", authorization))
    tx = statements.build_transaction(conn, bench.config, bench.snapshot, sc.path, sc.query, headers)
    statements.verify(conn, tx, sc.rows)
    httpload.verify(url, authorization, sc.rows)
    script = bench.tmp / f"{sc.name}.sql"
    script.write_text(tx.script)
    pgbench.dry_run(bench.pgbench, bench.auth_dsn, script, tx.variables)
    bench.scripts[sc.name] = {
        "url": f"{sc.path}?{sc.query}",
        "about": sc.about,
        "claims": sc.claims,
        "pgbench_script": tx.script,
        "pgbench_variables": _redact(tx.variables, authorization),
    }

    print(f"[{sc.name}] {sc.about}", flush=True)
    if args.warmup > 0:
        # Reaches every worker: fills its pool, psycopg's prepared statements and the JWT cache.
        bench.wrk_run(url, authorization, sc.name, "pgwsgi", args.warmup)
    http = _with_cpu(parties, lambda: bench.wrk_run(url, authorization, sc.name, "pgwsgi", args.duration))
    print(f"  pgwsgi  {http.rps:9.1f} req/s", flush=True)
    sqlonly = _with_cpu(
        parties,
        lambda: pgbench.run_pgbench(
            bench.pgbench,
            bench.auth_dsn,
            script,
            tx.variables,
            scenario=sc.name,
            clients=args.connections,
            threads=args.threads,
            duration=args.duration,
            log_dir=bench.tmp / f"{sc.name}-logs",
        ),
    )
    print(f"  pgbench {sqlonly.rps:9.1f} tx/s", flush=True)
    return [http, sqlonly]


def _run_floor(bench: Bench) -> Measurement:
    """gunicorn with the same settings serving bench.floor:app, loaded by wrk like the scenarios."""
    port = httpload.free_port()
    log_path = bench.tmp / "gunicorn-floor.log"
    print("[floor] gunicorn serving a constant response (no pgwsgi, no database)", flush=True)
    args = bench.args
    with httpload.gunicorn(httpload.clean_env({}), args.workers, port, log_path, app="bench.floor:app") as server:
        url = f"http://127.0.0.1:{port}/notes?id=eq.3"
        httpload.verify(url, None)
        if args.warmup > 0:
            bench.wrk_run(url, None, "floor", "gunicorn", args.warmup)
        parties: Parties = {"gunicorn": lambda: cpu.tree_times(server.pid), "load_generator": cpu.children_times}
        m = _with_cpu(parties, lambda: bench.wrk_run(url, None, "floor", "gunicorn", args.duration))
    print(f"  gunicorn {m.rps:8.1f} req/s", flush=True)
    return m


def _with_cpu(parties: Parties, measure: Callable[[], Measurement]) -> Measurement:
    """Run MEASURE and attach the CPU each party used meanwhile, in total and per request.

    With every process on the same few cores, CPU per request is what bounds
    throughput: it shows where the time goes (see docs/performance.md).
    """
    before = {name: read() for name, read in parties.items()}
    machine0 = cpu.machine_times()
    m = measure()
    machine = cpu.machine_times() - machine0
    used = {name: read() - before[name] for name, read in parties.items()}
    per = max(m.requests, 1)

    def pct(seconds: float) -> float | None:
        return round(100 * seconds / machine.total, 1) if machine.total > 0 else None

    m.detail["cpu"] = {
        # Percentages of all cores over the measurement.
        "machine_busy_pct": pct(machine.processes + machine.interrupts),
        "interrupts_pct": pct(machine.interrupts),
        # Busy time not charged to the parties: interrupt work the kernel charged to nobody,
        # this script, and anything else running on the machine (a noise indicator).
        "unattributed_pct": pct(max(0.0, machine.processes + machine.interrupts - sum(t.total for t in used.values()))),
        **{
            name: {
                "user_s": round(t.user, 2),
                "system_s": round(t.system, 2),
                "us_per_request": round(1e6 * t.total / per, 1),
            }
            for name, t in used.items()
        },
    }
    return m


def _redact(variables: dict[str, str], authorization: str | None) -> dict[str, str]:
    # The results file is not a place for tokens, even demo ones.
    if not authorization:
        return dict(variables)
    token = authorization.split(" ", 1)[1]
    return {k: v.replace(token, "<jwt>") for k, v in variables.items()}


def format_table(results: Sequence[Measurement]) -> str:
    """The results as a fixed-width table, with pgwsgi's throughput as a fraction of pgbench's."""
    base = {m.scenario: m.rps for m in results if m.tool == "pgbench"}
    head = f"{'scenario':<10} {'tool':<8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} {'pgwsgi/pgbench':>15}"
    lines = [head, "-" * len(head)]
    for m in results:
        ratio = f"{m.rps / base[m.scenario]:.2f}" if m.tool == "pgwsgi" and base.get(m.scenario) else ""
        lines.append(
            f"{m.scenario:<10} {m.tool:<8} {m.rps:>9.1f} {_num(m.p50_ms):>8} {_num(m.p99_ms):>8} "
            f"{m.errors:>6} {ratio:>15}"
        )
    return "\n".join(lines)


def format_cpu_table(results: Sequence[Measurement]) -> str:
    """CPU time per request by party, and how busy the machine was: where the time goes."""
    head = (
        f"{'CPU µs per request':<19} {'gunicorn':>9} {'postgres':>9} {'load gen':>9} {'machine busy':>13} "
        f"{'unattributed':>13}"
    )
    lines = [head, "-" * len(head)]
    for m in results:
        c = m.detail.get("cpu", {})

        def us(party: str, c: dict[str, Any] = c) -> str:
            return f"{c[party]['us_per_request']:.0f}" if party in c else "-"

        lines.append(
            f"{m.scenario + ' ' + m.tool:<19} {us('gunicorn'):>9} {us('postgres'):>9} {us('load_generator'):>9} "
            f"{_num(c.get('machine_busy_pct'), '{:.0f}%'):>13} {_num(c.get('unattributed_pct'), '{:.0f}%'):>13}"
        )
    return "\n".join(lines)


def _num(value: float | None, fmt: str = "{:.2f}") -> str:
    return "-" if value is None else fmt.format(value)


def write_results(
    args: argparse.Namespace,
    started: float,
    admin_dsn: str,
    wrk: str,
    pgbench_bin: Path | None,
    background: float,
    *,
    results: Sequence[Measurement] = (),
    extra: dict[str, Any] | None = None,
) -> Path:
    """bench/results/<UTC timestamp>.json: mode, settings, machine, measurements, and EXTRA's keys.

    EXTRA: what the mode adds: the scenarios' scripts (bench), the profiles
    (--profile), the memory samples and verdict (--soak).
    """
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(started))
    settings: dict[str, Any] = {"extra_rows": args.rows}
    if args.mode == "profile":
        settings.update(requests_per_scenario=args.profile_requests, top=args.top, db_pool=1)
    else:
        settings.update(workers=args.workers, db_pool=1, connections=args.connections, threads=args.threads)
        if args.mode == "soak":
            settings["soak_minutes"] = args.soak
        else:
            settings.update(duration_s=args.duration, warmup_s=args.warmup)
    data = {
        "started_at": stamp,
        "mode": args.mode,
        "settings": settings,
        "machine": {**machine(admin_dsn, wrk, pgbench_bin), "busy_before_pct": round(background, 1)},
        **(extra or {}),
        "results": [m.as_dict() for m in results],
    }
    path = args.results_dir / f"{stamp}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def machine(admin_dsn: str, wrk: str, pgbench_bin: Path | None) -> dict[str, Any]:
    """What the figures depend on: CPU, software versions."""
    cpu = ""
    try:
        cpu = next(
            (
                ln.split(":", 1)[1].strip()
                for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")
            ),
            "",
        )
    except OSError:
        pass

    def version(cmd: list[str]) -> str:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        return (done.stdout or done.stderr).splitlines()[0].strip() if (done.stdout or done.stderr) else "?"

    import gunicorn

    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "pgwsgi": __version__,
        "gunicorn": gunicorn.__version__,
        "psycopg": psycopg.__version__,
        "postgresql": database.server_version(admin_dsn),
        "wrk": version([wrk, "--version"]) if wrk and shutil.which(wrk) else None,
        "pgbench": version([str(pgbench_bin), "--version"]) if pgbench_bin else None,
    }


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        # gunicorn and the temporary files are already gone: the with blocks cleaned up.
        print("\nmake bench: interrupted", file=sys.stderr)
        sys.exit(130)
