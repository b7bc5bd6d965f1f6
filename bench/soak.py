"""`python -m bench.run --soak MINUTES`: do the workers' memory stay flat under a long mixed load? (issue 11)

bench.run starts gunicorn as for `make bench` (sync workers, no max-requests
recycling, so a worker lives through the whole soak and its RSS means
something) on a database of its own, then run_soak() drives it with wrk and
bench/soak.lua, which rotates among the request kinds of request_kinds():

- the read scenarios of bench/scenarios.py (by primary key, anonymous and with
  alice's JWT; the embeddings);
- writes as alice on /notes: an insert (return=representation), an update of
  her note 2, and a delete of every note above the seed rows, so the inserts
  never pile up (cleanup() removes what is left at the end);
- /rpc/bench_order_total by GET and by POST (a STABLE function that
  bench/database.py adds: the demo schema has none).

Every SAMPLE_INTERVAL seconds the RSS of each worker (VmRSS of every child of
the gunicorn master; Pss too, from smaps_rollup, in the results file) is
printed. The verdict compares the first sample after the warm-up (a minute, or
a fifth of a shorter soak) with the last: it passes when no worker grew by
more than MAX_GROWTH_PCT, no request failed (non-2xx or socket error) and no
worker was restarted.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from bench import cpu, httpload
from bench.measurement import Measurement
from bench.scenarios import ALICE, Scenario

SOAK_LUA = Path(__file__).with_name("soak.lua")
DBNAME = "pgwsgi_soak"
SAMPLE_INTERVAL = 15.0  # seconds between memory samples (shorter for a soak under a minute)
MAX_WARMUP = 60.0  # seconds of load before the baseline sample
MAX_GROWTH_PCT = 10.0


@dataclass(frozen=True)
class Kind:
    """One request of the mix."""

    name: str
    method: str
    path: str  # with its query string
    jwt: bool  # sent with alice's token
    body: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    rows: int | None = None  # a read: the top-level rows its answer must hold


@dataclass(frozen=True)
class Sample:
    """Memory of every worker at one moment."""

    t: float  # seconds since the load started
    pids: list[int]
    rss_kib: list[int | None]  # VmRSS
    pss_kib: list[int | None]  # Pss (smaps_rollup): shared pages split among the processes mapping them

    @property
    def total(self) -> int:
        return sum(v or 0 for v in self.rss_kib)


@dataclass
class SoakResult:
    """Samples, load figures and verdict of one soak."""

    minutes: float
    warmup_s: float
    kinds: list[Kind]
    samples: list[Sample]
    load: Measurement
    restarts: list[str] = field(default_factory=list)  # what changed among the workers, and when
    baseline: Sample | None = None
    growth_pct: dict[str, float] = field(default_factory=dict)  # by worker pid, and "total"
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready; the samples as rows."""
        return {
            "minutes": self.minutes,
            "warmup_s": self.warmup_s,
            "sample_interval_s": sample_interval(self.minutes * 60),
            "max_growth_pct": MAX_GROWTH_PCT,
            "kinds": [
                {"name": k.name, "method": k.method, "path": k.path, "jwt": k.jwt, "body": k.body} for k in self.kinds
            ],
            "samples": [{**asdict(s), "total_rss_kib": s.total} for s in self.samples],
            "baseline_t": self.baseline.t if self.baseline else None,
            "growth_pct": self.growth_pct,
            "restarts": self.restarts,
            "passed": self.passed,
            "failures": self.failures,
            "load": self.load.as_dict(),
        }


def request_kinds(scenarios: list[Scenario], seed_max_id: int) -> list[Kind]:
    """The mix: SCENARIOS' reads, then writes and /rpc calls. SEED_MAX_ID: the last note the soak must keep."""
    kinds = []
    for sc in scenarios:
        if sc.claims not in (None, ALICE):
            raise ValueError(f"scenario {sc.name}: the soak sends only anonymous or alice's requests")
        kinds.append(Kind(sc.name, "GET", f"{sc.path}?{sc.query}", sc.claims is not None, rows=sc.rows))
    json_body = (("Content-Type", "application/json"),)
    kinds += [
        Kind(
            "insert",
            "POST",
            "/notes",
            True,
            '{"title": "soak", "body": "A note written by the soak."}',
            (*json_body, ("Prefer", "return=representation")),
        ),
        Kind("update", "PATCH", "/notes?id=eq.2", True, '{"body": "Tried pgwsgi today."}', json_body),
        # RLS limits it to alice's notes; only the soak's inserts are above the seed rows.
        Kind("delete", "DELETE", f"/notes?id=gt.{seed_max_id}", True),
        Kind("rpc-get", "GET", "/rpc/bench_order_total?order_id=42", False),
        Kind("rpc-post", "POST", "/rpc/bench_order_total", False, '{"order_id": 42}', json_body),
    ]
    return kinds


def seed_max_id(admin_db_dsn: str) -> int:
    """The highest note id before the soak (the demo's notes plus the extra rows)."""
    with psycopg.connect(admin_db_dsn) as conn:
        row = conn.execute("SELECT coalesce(max(id), 0) FROM private.notes").fetchone()
    return int(row[0]) if row else 0


def cleanup(admin_db_dsn: str, seed_max: int) -> int:
    """Delete the notes the soak inserted and its deletes missed; how many there were."""
    with psycopg.connect(admin_db_dsn, autocommit=True) as conn:
        return conn.execute("DELETE FROM private.notes WHERE id > %s", [seed_max]).rowcount


def verify(base_url: str, kinds: list[Kind], authorization: str) -> None:
    """Send every kind once; RuntimeError unless each answers 2xx (and each read its rows)."""
    for k in kinds:
        headers = dict(k.headers)
        if k.jwt:
            headers["Authorization"] = authorization
        data = k.body.encode() if k.body is not None else None
        req = urllib.request.Request(base_url + k.path, data=data, headers=headers, method=k.method)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                status, body = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, body = err.code, err.read()
        problem = not 200 <= status <= 299
        if not problem and k.rows is not None:
            rows = json.loads(body or b"null")
            problem = not isinstance(rows, list) or len(rows) != k.rows
        if problem:
            expected = f"200 and {k.rows} row(s)" if k.rows is not None else "2xx"
            raise RuntimeError(f"{k.name}: {k.method} {k.path} answered {status} {body[:300]!r}; expected {expected}")


def wait_for_workers(master: int, workers: int, timeout: float = 30) -> list[int]:
    """The PIDs of MASTER's workers once all WORKERS of them run; RuntimeError after TIMEOUT seconds."""
    deadline = time.monotonic() + timeout
    while True:
        pids = cpu.child_pids(master)
        if len(pids) == workers:
            return pids
        if time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn has {len(pids)} worker(s) after {timeout:.0f} s, expected {workers}")
        time.sleep(0.2)


def memory_kib(pid: int) -> tuple[int | None, int | None]:
    """(VmRSS, Pss) of PID in KiB; None for what cannot be read."""
    return _field(Path(f"/proc/{pid}/status"), "VmRSS:"), _field(Path(f"/proc/{pid}/smaps_rollup"), "Pss:")


def _field(path: Path, key: str) -> int | None:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])  # "VmRSS:   51234 kB"
    except (OSError, ValueError, IndexError):
        pass
    return None


def sample(t: float, pids: list[int]) -> Sample:
    """Memory of each of PIDS now."""
    mem = [memory_kib(pid) for pid in pids]
    return Sample(round(t, 1), list(pids), [m[0] for m in mem], [m[1] for m in mem])


def format_sample(s: Sample) -> str:
    """t=15s rss_kib=[51234, 51300] total=102534"""
    values = ", ".join("?" if v is None else str(v) for v in s.rss_kib)
    return f"t={s.t:.0f}s rss_kib=[{values}] total={s.total}"


def warmup_seconds(duration: float) -> float:
    """A minute of load before the baseline, or a fifth of a shorter soak."""
    return min(MAX_WARMUP, 0.2 * duration)


def sample_interval(duration: float) -> float:
    """Seconds between memory samples: SAMPLE_INTERVAL, or a quarter of a shorter soak."""
    return min(SAMPLE_INTERVAL, duration / 4)


def run_soak(
    *,
    wrk: str,
    master: int,
    port: int,
    workers: list[int],
    kinds: list[Kind],
    authorization: str,
    minutes: float,
    connections: int,
    threads: int,
    tmp: Path,
) -> SoakResult:
    """Load the gunicorn MASTER (whose workers are WORKERS) with the mix for MINUTES, sampling memory.

    Prints each sample as it is taken. RuntimeError when wrk fails or hangs.
    """
    duration = minutes * 60
    interval = sample_interval(duration)
    requests_file = tmp / "soak-requests.lua"
    requests_file.write_text(_lua_kinds(kinds))
    cmd = httpload.wrk_command(
        wrk,
        f"http://127.0.0.1:{port}/",
        connections=connections,
        threads=threads,
        duration=duration,
        script=SOAK_LUA,
    )
    env = httpload.clean_env({"PGWSGI_BENCH_AUTHORIZATION": authorization, "PGWSGI_SOAK_REQUESTS": str(requests_file)})
    samples = [sample(0, workers)]
    print(format_sample(samples[0]) + "  (idle, before the load)", flush=True)
    restarts: list[str] = []
    out_path, err_path = tmp / "wrk-soak.out", tmp / "wrk-soak.err"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
    t0 = time.monotonic()
    next_sample = interval
    try:
        while proc.poll() is None:
            elapsed = time.monotonic() - t0
            if elapsed > duration + 60:
                raise RuntimeError(f"wrk still runs {elapsed:.0f} s into a {duration:.0f} s soak")
            try:
                proc.wait(timeout=min(1.0, max(0.05, next_sample - elapsed)))
            except subprocess.TimeoutExpired:
                pass
            elapsed = time.monotonic() - t0
            now = cpu.child_pids(master)
            if now != workers and not restarts:
                restarts.append(f"t={elapsed:.0f}s: workers {workers} became {now}")
            # A sample due in the last second is left to the one taken when wrk is done.
            if elapsed >= next_sample and next_sample < duration - 1 and proc.poll() is None:
                samples.append(sample(elapsed, now))
                print(format_sample(samples[-1]), flush=True)
                next_sample += interval
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    elapsed = time.monotonic() - t0
    now = cpu.child_pids(master)
    if now != workers and not restarts:
        restarts.append(f"t={elapsed:.0f}s: workers {workers} became {now}")
    # The last sample: right after the load stopped, every worker still up.
    samples.append(sample(elapsed, now))
    print(format_sample(samples[-1]) + "  (end of the load)", flush=True)
    load = httpload.parse_wrk(
        proc.returncode, out_path.read_text(), err_path.read_text(), scenario="soak", tool="pgwsgi"
    )
    return judge(SoakResult(minutes, warmup_seconds(duration), kinds, samples, load, restarts))


def judge(r: SoakResult) -> SoakResult:
    """Fill in the baseline, the growth and the failures of R."""
    after = [s for s in r.samples[1:] if s.t >= r.warmup_s - 0.5]
    r.baseline = after[0] if after else r.samples[-1]
    last = r.samples[-1]
    base_by_pid = dict(zip(r.baseline.pids, r.baseline.rss_kib, strict=True))
    for pid, rss in zip(last.pids, last.rss_kib, strict=True):
        base = base_by_pid.get(pid)
        if base and rss is not None:
            r.growth_pct[str(pid)] = round(100 * (rss - base) / base, 2)
    if r.baseline.total and r.baseline.pids == last.pids:  # else the totals are of other processes
        r.growth_pct["total"] = round(100 * (last.total - r.baseline.total) / r.baseline.total, 2)
    if r.restarts:
        r.failures.append("a worker was restarted (" + "; ".join(r.restarts) + ")")
    if any(v is None for s in (r.baseline, last) for v in s.rss_kib):
        r.failures.append("the RSS of a worker could not be read")
    grown = {pid: g for pid, g in r.growth_pct.items() if pid != "total" and g > MAX_GROWTH_PCT}
    if grown:
        r.failures.append(
            "RSS grew by more than "
            f"{MAX_GROWTH_PCT:.0f}%: " + ", ".join(f"worker {pid} {g:+.1f}%" for pid, g in grown.items())
        )
    if r.baseline is last:
        r.failures.append("no sample after the warm-up but the last one: the soak is too short to judge")
    if r.load.errors:
        sock = r.load.detail["socket_errors"]
        r.failures.append(f"{r.load.errors} failed request(s): {r.load.errors - sock} non-2xx, {sock} socket errors")
    if r.load.requests == 0:
        r.failures.append("no request completed")
    return r


def format_summary(r: SoakResult) -> str:
    """Baseline vs last sample per worker and in total, load figures, verdict."""
    base, last = r.baseline or r.samples[-1], r.samples[-1]
    base_by_pid = dict(zip(base.pids, base.rss_kib, strict=True))
    b_head, l_head = f"t={base.t:.0f}s", f"t={last.t:.0f}s"
    lines = [
        f"Worker RSS in KiB: first sample after the {r.warmup_s:.0f} s warm-up vs the last",
        f"  {'worker':<12} {b_head:>10} {l_head:>10} {'growth':>8}",
    ]
    for pid, rss in zip(last.pids, last.rss_kib, strict=True):
        g = r.growth_pct.get(str(pid))
        lines.append(
            f"  {'pid ' + str(pid):<12} {_kib(base_by_pid.get(pid)):>10} {_kib(rss):>10} "
            f"{'-' if g is None else f'{g:+.1f}%':>8}"
        )
    g = r.growth_pct.get("total")
    lines.append(f"  {'total':<12} {base.total:>10} {last.total:>10} {'-' if g is None else f'{g:+.1f}%':>8}")
    m = r.load
    w = m.detail["wrk"]
    lines.append(
        f"Requests: {m.requests} in {m.duration_s:.0f} s ({m.rps:.1f}/s), p50 {m.p50_ms:.2f} ms, p99 {m.p99_ms:.2f} ms"
    )
    lines.append("  by kind: " + ", ".join(f"{k} {n}" for k, n in w.get("sent", {}).items()))
    lines.append("  by status: " + ", ".join(f"{k} {n}" for k, n in w.get("statuses", {}).items()))
    lines.append(
        f"Errors: non-2xx {w['non2xx']}, socket {m.detail['socket_errors']} "
        f"(connect {w['connect']}, read {w['read']}, write {w['write']}, timeout {w['timeout']})"
    )
    if r.restarts:
        lines.append("Worker restarts: " + "; ".join(r.restarts))
    criteria = f"every worker's RSS grew <= {MAX_GROWTH_PCT:.0f}%, no failed request, no worker restart"
    lines.append(f"PASS: {criteria}" if r.passed else "FAIL: " + "; ".join(r.failures))
    return "\n".join(lines)


def _kib(v: int | None) -> str:
    return "?" if v is None else str(v)


def _lua_kinds(kinds: list[Kind]) -> str:
    """KINDS as a Lua chunk returning a list of tables, for soak.lua's dofile."""
    rows = []
    for k in kinds:
        headers = ", ".join(f"[{_lua_str(n)}] = {_lua_str(v)}" for n, v in k.headers)
        body = "nil" if k.body is None else _lua_str(k.body)
        rows.append(
            f"  {{name = {_lua_str(k.name)}, method = {_lua_str(k.method)}, path = {_lua_str(k.path)}, "
            f"jwt = {'true' if k.jwt else 'false'}, headers = {{{headers}}}, body = {body}}},"
        )
    return "-- written by bench/soak.py for soak.lua\nreturn {\n" + "\n".join(rows) + "\n}\n"


def _lua_str(s: str) -> str:
    """A double-quoted Lua string literal: printable ASCII as is, every other byte as a decimal escape."""
    out = []
    for b in s.encode():
        c = chr(b)
        out.append("\\" + c if c in '"\\' else c if 32 <= b < 127 else f"\\{b:03d}")
    return '"' + "".join(out) + '"'
