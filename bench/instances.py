"""One gunicorn instance against two on the same database, under the same load, on this machine.

    python -m bench.instances [--workers 4] [--connections 8] [--duration 8] [--repeat 3]
                              [--max-other 10] [--retries 3] [--scenario anon-pk]

Every instance serves `make bench`'s demo database (a database of its own,
pgwsgi_bench_instances, so that a `make bench` running meanwhile is not
disturbed) with the same settings as `make bench`: sync workers, db-pool 1, no
max-requests recycling. wrk sends one scenario's URL (anon-pk: a note by primary
key) to each set-up in turn, for --duration seconds after --warmup seconds, and
the rounds are interleaved --repeat times so that background noise falls on
every set-up alike. The set-ups, with W = --workers:

  1x{W} direct     one instance of W workers, wrk straight at it
  1x{W} nginx      the same instance behind the shipped nginx site
  2x{W/2} nginx    two instances of W/2 workers behind nginx: the same worker count
  2x{W/2} direct   the same two, each loaded by a wrk of its own with half the
                   connections (requests/s added up, p99 the worse of the two)
  2x{W} nginx      two instances of W workers behind nginx: twice the workers

The nginx site is deploy/nginx/pgwsgi.conf with its addresses and log paths
changed and its rate limit (100 requests/s per client address) taken out, since
wrk is one address. On one machine the instances share its cores with nginx,
wrk and PostgreSQL: this measures what a second instance costs, and the
correctness of the set-up, not what a second machine would add.

Prints one line per measurement: the CPU that gunicorn, nginx, the whole
private PostgreSQL server and wrk used per request, and `other`, the process
time charged to none of them (anything else running on the machine). A
measurement with more than --max-other percent of `other` is taken again, up
to --retries times; the disturbed one is kept apart in the results file. Then
the medians per set-up. bench/results/instances-<timestamp>.json holds
everything. Exit status 1 if a measurement saw an error (a non-2xx answer
or a socket error), 2 if the set-up failed. See docs/scaling.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench import cpu, database, httpload
from bench.measurement import Measurement
from bench.scenarios import CONF, RESULTS, ROOT, SCENARIOS, Scenario, app_env
from devtools import nginx
from pgwsgi.auth import mint_token
from pgwsgi.config import load_config

DBNAME = "pgwsgi_bench_instances"


@dataclass(frozen=True)
class Setup:
    """Instances (their worker counts), and whether wrk goes through nginx or straight to them."""

    instances: tuple[int, ...]
    via_nginx: bool

    @property
    def name(self) -> str:
        """E.g. `2x2 nginx`."""
        sizes = set(self.instances)
        workers = str(self.instances[0]) if len(sizes) == 1 else "+".join(map(str, self.instances))
        return f"{len(self.instances)}x{workers} {'nginx' if self.via_nginx else 'direct'}"


def setups(workers: int) -> list[Setup]:
    """The set-ups measured for W = WORKERS (see the module's docstring)."""
    half = max(1, workers // 2)
    return [
        Setup((workers,), False),
        Setup((workers,), True),
        Setup((half, half), True),
        Setup((half, half), False),
        Setup((workers, workers), True),
    ]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command line."""
    p = argparse.ArgumentParser(
        prog="python -m bench.instances", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--devdb", type=Path, default=ROOT / ".devdb", help="private PostgreSQL folder (default .devdb)")
    p.add_argument("--workers", type=int, default=4, help="W: the one instance's workers (default 4, even)")
    p.add_argument("--connections", type=int, default=8, help="wrk connections (default 8, even)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--duration", type=float, default=8, help="seconds per measurement (default 8)")
    p.add_argument("--warmup", type=float, default=2, help="seconds of load before each measurement (default 2)")
    p.add_argument("--repeat", type=int, default=3, help="interleaved rounds over all set-ups (default 3)")
    p.add_argument(
        "--max-other",
        type=float,
        default=10,
        help="measure again when other processes took more than this %% of the machine (default 10)",
    )
    p.add_argument("--retries", type=int, default=3, help="at most this many times (default 3)")
    p.add_argument("--rows", type=int, default=100_000, help="extra notes in the table (default 100000)")
    p.add_argument(
        "--scenario", default="anon-pk", choices=[s.name for s in SCENARIOS], help="the URL (default anon-pk)"
    )
    p.add_argument("--results-dir", type=Path, default=RESULTS, help="where the JSON results go")
    args = p.parse_args(argv)
    if args.workers < 2 or args.workers % 2 or args.connections < 2 or args.connections % 2:
        p.error("--workers and --connections must be even and at least 2 (they are split between two instances)")
    if args.duration < 1 or args.repeat < 1 or args.threads < 1 or args.retries < 0:
        p.error("--duration, --repeat and --threads must be at least 1, --retries at least 0")
    args.devdb = args.devdb.resolve()
    return args


@dataclass
class Running:
    """A set-up up and running: the URLs wrk loads and the processes whose CPU is counted."""

    setup: Setup
    urls: list[str]
    gunicorn_pids: list[int]
    nginx_pid: int | None


def start(stack: ExitStack, setup: Setup, env: dict[str, str], path: str, tmp: Path) -> Running:
    """Start SETUP's instances (and its nginx) inside STACK, which stops them."""
    ports, pids = [], []
    for workers in setup.instances:
        port = httpload.free_port()
        log = tmp / f"gunicorn-{port}.log"
        proc = stack.enter_context(httpload.gunicorn(httpload.clean_env(env), workers, port, log))
        ports.append(port)
        pids.append(proc.pid)
    if setup.via_nginx:
        # worker_processes auto, as Debian ships it; no rate limit: wrk is one client address.
        folder = tmp / f"nginx-{len(pids)}-{ports[0]}"
        base, proc = stack.enter_context(
            nginx.running(folder, [f"127.0.0.1:{p}" for p in ports], workers="auto", rate_limit=False)
        )
        return Running(setup, [f"{base}{path}"], pids, proc.pid)
    return Running(setup, [f"http://127.0.0.1:{p}{path}" for p in ports], pids, None)


def load(run: Running, args: argparse.Namespace, authorization: str | None, seconds: float) -> Measurement:
    """wrk at the set-up: one wrk, or one per instance (half the connections each) when direct to several."""
    name = run.setup.name
    if len(run.urls) == 1:
        return httpload.run_wrk(
            args.wrk,
            run.urls[0],
            authorization,
            scenario=args.scenario,
            connections=args.connections,
            threads=args.threads,
            duration=seconds,
            tool=name,
        )
    share = args.connections // len(run.urls)
    with ThreadPoolExecutor(len(run.urls)) as pool:
        parts = list(
            pool.map(
                lambda url: httpload.run_wrk(
                    args.wrk,
                    url,
                    authorization,
                    scenario=args.scenario,
                    connections=share,
                    threads=max(1, args.threads // len(run.urls)),
                    duration=seconds,
                    tool=name,
                ),
                run.urls,
            )
        )
    requests = sum(m.requests for m in parts)
    return Measurement(
        scenario=args.scenario,
        tool=name,
        requests=requests,
        duration_s=max(m.duration_s for m in parts),
        rps=sum(m.rps for m in parts),
        # Percentiles of two separate runs do not add up: the worse of the two, and the mean by requests.
        p50_ms=max(m.p50_ms or 0 for m in parts),
        p99_ms=max(m.p99_ms or 0 for m in parts),
        mean_ms=sum((m.mean_ms or 0) * m.requests for m in parts) / max(requests, 1),
        errors=sum(m.errors for m in parts),
        detail={"parts": [m.as_dict() for m in parts]},
    )


def measure(run: Running, args: argparse.Namespace, authorization: str | None, postmaster: int | None) -> Measurement:
    """Warm up, then measure with the CPU each party used per request."""
    if args.warmup > 0:
        load(run, args, authorization, args.warmup)
    parties: dict[str, Callable[[], cpu.CpuTimes]] = {
        "gunicorn": lambda: sum((cpu.tree_times(p) for p in run.gunicorn_pids), cpu.CpuTimes()),
        "postgres": lambda: cpu.tree_times(postmaster),
        "wrk": cpu.children_times,
    }
    if run.nginx_pid is not None:
        parties["nginx"] = lambda: cpu.tree_times(run.nginx_pid)
    before = {name: read() for name, read in parties.items()}
    machine0 = cpu.machine_times()
    m = load(run, args, authorization, args.duration)
    machine = cpu.machine_times() - machine0
    used = {name: (read() - before[name]).total for name, read in parties.items()}
    per = max(m.requests, 1)
    m.detail["cpu_us_per_request"] = {name: round(1e6 * seconds / per, 1) for name, seconds in used.items()}
    busy = machine.processes + machine.interrupts
    m.detail["machine_busy_pct"] = round(100 * busy / machine.total, 1)
    # Process time charged to none of the parties: this script, and anything else running on the
    # machine (interrupts, i.e. loopback TCP's softirq, are not counted: they belong to the load).
    m.detail["other_pct"] = round(100 * max(0.0, machine.processes - sum(used.values())) / machine.total, 1)
    return m


def _cpu(m: Measurement, party: str) -> str:
    value = m.detail.get("cpu_us_per_request", {}).get(party)
    return "-" if value is None else f"{value:.0f}"


def format_line(m: Measurement) -> str:
    """One measurement, one line."""
    return (
        f"{m.tool:<16} {m.rps:>9.1f} {m.p50_ms or 0:>7.2f} {m.p99_ms or 0:>7.2f} {m.errors:>6} "
        f"{_cpu(m, 'gunicorn'):>9} {_cpu(m, 'nginx'):>7} {_cpu(m, 'postgres'):>9} {_cpu(m, 'wrk'):>6} "
        f"{m.detail.get('machine_busy_pct', 0):>5.0f}% {m.detail.get('other_pct', 0):>5.0f}%"
    )


HEADER = (
    f"{'set-up':<16} {'req/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} "
    f"{'gunicorn':>9} {'nginx':>7} {'postgres':>9} {'wrk':>6} {'busy':>6} {'other':>6}\n"
    f"{'':<16} {'':>9} {'':>7} {'':>7} {'':>6} {'CPU µs per request':>34}"
)


def summary(results: Sequence[Measurement], names: Sequence[str]) -> str:
    """Per set-up: the median of the rounds' requests/s (min..max) and of their p99."""
    head = f"{'set-up':<16} {'req/s median':>12} {'min..max':>15} {'p99 ms median':>14} {'vs first':>9} {'errors':>6}"
    lines = [head, "-" * len(head)]
    first: float | None = None
    for name in names:
        ms = [m for m in results if m.tool == name]
        rps = statistics.median(m.rps for m in ms)
        first = first or rps
        p99 = statistics.median(m.p99_ms or 0 for m in ms)
        spread = f"{min(m.rps for m in ms):,.0f}..{max(m.rps for m in ms):,.0f}"
        lines.append(
            f"{name:<16} {rps:>12,.0f} {spread:>15} {p99:>14.2f} {rps / first:>9.2f} {sum(m.errors for m in ms):>6}"
        )
    return "\n".join(lines)


def background_busy(seconds: float = 1.0) -> float:
    """How busy the machine is before we start (percent of all cores), from /proc/stat."""
    before = cpu.machine_times()
    time.sleep(seconds)
    d = cpu.machine_times() - before
    return 100 * (d.processes + d.interrupts) / d.total if d.total > 0 else 0.0


def main(argv: Sequence[str] | None = None) -> int:
    """Run every set-up --repeat times, interleaved; 0 when every measurement was error-free."""
    from bench.run import machine  # the results file's machine description, as make bench writes it

    args = parse_args(argv)
    args.wrk = httpload.ensure_wrk()
    if nginx.BINARY is None:
        raise SystemExit("bench.instances needs nginx (Debian: apt install nginx, which `make test` does as root).")
    scenario: Scenario = next(s for s in SCENARIOS if s.name == args.scenario)
    started = time.time()
    background = background_busy()
    if background > 20:
        print(f"Warning: the machine is already {background:.0f}% busy; figures will be low and noisy.", flush=True)
    print(f"Preparing database {DBNAME} ({args.rows} extra notes) ...", flush=True)
    admin_dsn, auth_dsn = database.prepare(args.devdb, args.rows, DBNAME)
    env = app_env(auth_dsn)
    signing = load_config(str(CONF), env={})
    authorization = f"Bearer {mint_token(signing, scenario.claims)}" if scenario.claims else None
    path = f"{scenario.path}?{scenario.query}"
    postmaster = cpu.postmaster_pid(args.devdb)
    plan = setups(args.workers)
    results: list[Measurement] = []
    disturbed: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="pgwsgi-instances-") as tmp_name, ExitStack() as stack:
        tmp = Path(tmp_name)
        try:
            # All up at once (idle sync workers cost next to nothing), so every round measures the same processes.
            running = [start(stack, s, env, path, tmp) for s in plan]
            for run in running:
                for url in run.urls:
                    httpload.verify(url, authorization, scenario.rows)
        except RuntimeError as exc:
            print(f"bench.instances: {exc}", file=sys.stderr)
            return 2
        print(
            f"[{scenario.name}] {scenario.about}\nwrk: {args.connections} connections, {args.threads} threads, "
            f"{args.duration:.0f} s after {args.warmup:.0f} s of warm-up; {args.repeat} interleaved round(s)\n",
            flush=True,
        )
        print(HEADER, flush=True)
        for _ in range(args.repeat):
            for run in running:
                m = measure(run, args, authorization, postmaster)
                for _ in range(args.retries):
                    if m.detail["other_pct"] <= args.max_other:
                        break
                    # Something else took the cores meanwhile: the figure says little about the set-up.
                    print(f"{format_line(m)}  (disturbed: measured again)", flush=True)
                    disturbed.append(m)
                    m = measure(run, args, authorization, postmaster)
                results.append(m)
                print(format_line(m), flush=True)
    names = [s.name for s in plan]
    print()
    print(summary(results, names))
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(started))
    out = args.results_dir / f"instances-{stamp}.json"
    settings = {k: v for k, v in vars(args).items() if k not in ("devdb", "results_dir", "wrk")}
    data = {
        "started_at": stamp,
        "mode": "instances",
        "settings": {**settings, "db_pool": 1, "url": path},
        "machine": {**machine(admin_dsn, args.wrk, None), "busy_before_pct": round(background, 1)},
        "results": [m.as_dict() for m in results],
        "disturbed": [m.as_dict() for m in disturbed],
    }
    out.write_text(json.dumps(data, indent=2) + "\n")
    print(f"\nResults: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 1 if any(m.errors for m in results) else 0


if __name__ == "__main__":
    sys.exit(main())
