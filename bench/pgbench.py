"""The SQL-only side: pgbench running pgwsgi's transaction, and what its output and logs say."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bench.httpload import clean_env
from bench.measurement import Measurement, percentile

_NUMBERS = {
    "processed": re.compile(r"number of transactions actually processed: (\d+)"),
    "failed": re.compile(r"number of failed transactions: (\d+)"),
    "latency_avg_ms": re.compile(r"latency average = ([\d.]+) ms"),
    "tps": re.compile(r"tps = ([\d.]+) \(without initial connection time\)"),
}
# -r: "statement latencies in milliseconds and failures:" then "  <ms>  <failures>  <SQL>" per statement.
_STATEMENT = re.compile(r"^\s+([\d.]+)\s+(\d+)\s+(\S.*)$")


def connection_args(dsn: str) -> list[str]:
    """pgbench's -h/-p/-U/dbname for a postgresql:// DSN without a password (the dev server trusts local logins)."""
    parts = urlsplit(dsn)
    return [
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        unquote(parts.username or "postgres"),
        unquote(parts.path.lstrip("/")) or "postgres",
    ]


def _command(
    pgbench: Path, dsn: str, script: Path, variables: Mapping[str, str], clients: int, threads: int
) -> list[str]:
    # -n: no VACUUM of pgbench's own tables (there are none); -M prepared: every
    # statement is parsed and planned once per connection and its :variables are
    # bound as parameters, which is what psycopg does for pgwsgi (prepare_threshold=0).
    cmd = [
        str(pgbench),
        "-n",
        "-M",
        "prepared",
        "-f",
        str(script),
        "-c",
        str(clients),
        "-j",
        str(max(1, min(threads, clients))),
    ]
    cmd += [f"-D{name}={value}" for name, value in variables.items()]
    return cmd + connection_args(dsn)


def dry_run(pgbench: Path, dsn: str, script: Path, variables: Mapping[str, str]) -> None:
    """One transaction on one connection: the script parses, binds and runs without error."""
    cmd = _command(pgbench, dsn, script, variables, 1, 1) + ["-t", "1"]
    done = subprocess.run(cmd, env=clean_env({}), capture_output=True, text=True, timeout=60, check=False)
    failed = _NUMBERS["failed"].search(done.stdout)
    if done.returncode != 0 or (failed and int(failed.group(1)) != 0):
        raise RuntimeError(f"pgbench dry run failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")


def run_pgbench(
    pgbench: Path,
    dsn: str,
    script: Path,
    variables: Mapping[str, str],
    *,
    scenario: str,
    clients: int,
    threads: int,
    duration: float,
    log_dir: Path,
) -> Measurement:
    """Run SCRIPT for DURATION seconds; throughput from pgbench's summary, percentiles from its -l log."""
    log_dir.mkdir(parents=True, exist_ok=True)
    prefix = log_dir / "pgbench"
    cmd = _command(pgbench, dsn, script, variables, clients, threads)
    cmd += ["-T", str(max(1, round(duration))), "-r", "-l", f"--log-prefix={prefix}"]
    done = subprocess.run(
        cmd, env=clean_env({}), capture_output=True, text=True, timeout=duration + 60, check=False, cwd=log_dir
    )
    out = done.stdout
    found = {k: (float(m.group(1)) if (m := rx.search(out)) else None) for k, rx in _NUMBERS.items()}
    if found["processed"] is None or found["tps"] is None:
        raise RuntimeError(f"pgbench failed (exit {done.returncode}):\n{out}\n{done.stderr}")
    latencies, failed_in_log = _read_logs(log_dir, prefix.name)
    # A client that hits a non-retriable error is aborted, not counted as failed;
    # count each abort as an error too, so `make bench` fails loudly.
    aborted = len(re.findall(r"client \d+ aborted", done.stderr))
    errors = int(found["failed"] or 0) + aborted + (1 if done.returncode != 0 and not aborted else 0)
    processed = int(found["processed"])
    return Measurement(
        scenario=scenario,
        tool="pgbench",
        requests=processed,
        duration_s=float(round(duration)),
        rps=float(found["tps"]),
        p50_ms=_ms(percentile(latencies, 50)),
        p99_ms=_ms(percentile(latencies, 99)),
        mean_ms=found["latency_avg_ms"],
        errors=errors,
        detail={
            "statement_ms": _statement_latencies(out),
            "logged": len(latencies),
            "failed_in_log": failed_in_log,
            "aborted_clients": aborted,
            "exit_status": done.returncode,
        },
    )


def _read_logs(log_dir: Path, prefix: str) -> tuple[list[float], int]:
    """All per-transaction latencies (µs, ascending) from the -l files, and how many were marked failed.

    Line format: client_id transaction_no time script_no time_epoch time_us ...,
    where `time` is the latency in µs, or `failed` / `skipped`.
    """
    latencies: list[float] = []
    failed = 0
    for path in sorted(log_dir.glob(f"{prefix}.*")):
        for line in path.read_text().splitlines():
            fields = line.split()
            if len(fields) < 3:
                continue
            if fields[2].isdigit():
                latencies.append(float(fields[2]))
            elif fields[2] == "failed":
                failed += 1
    latencies.sort()
    return latencies, failed


def _statement_latencies(out: str) -> list[dict[str, object]]:
    """Average latency (ms) and failures of each statement of the script, from -r."""
    rows: list[dict[str, object]] = []
    section = False
    for line in out.splitlines():
        if line.startswith("statement latencies"):
            section = True
            continue
        m = _STATEMENT.match(line) if section else None
        if m:
            rows.append({"ms": float(m.group(1)), "failures": int(m.group(2)), "sql": m.group(3)[:120]})
    return rows


def _ms(us: float | None) -> float | None:
    return None if us is None else us / 1000
