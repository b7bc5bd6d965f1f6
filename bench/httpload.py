"""The HTTP side: a gunicorn serving pgwsgi, and wrk loading it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.measurement import Measurement

REPORT_LUA = Path(__file__).with_name("report.lua")
_MARKER = "PGWSGI_BENCH "


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without PG*/PGRST_* variables, plus EXTRA.

    A PGRST_* or PGHOST left in the caller's shell must not change what is measured.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(extra)
    return env


def ensure_wrk() -> str:
    """Path of wrk; installs the Debian package when missing and we are root, else exits with a hint."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing; installing the Debian package `wrk` ...", file=sys.stderr, flush=True)
        quiet = {"stdout": subprocess.DEVNULL, "env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}}
        if subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, **quiet).returncode != 0:
            subprocess.run(["apt-get", "update"], check=False, **quiet)
            subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, **quiet)
        found = shutil.which("wrk")
        if found:
            return found
    raise SystemExit(
        "make bench needs the HTTP load generator wrk: install it (Debian/Ubuntu: "
        "`sudo apt-get install wrk`, macOS: `brew install wrk`) and run it again."
    )


@contextmanager
def gunicorn(
    env: Mapping[str, str], workers: int, port: int, log_path: Path, app: str = "pgwsgi:app"
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `gunicorn APP` on 127.0.0.1:PORT for the length of the block; always stop it.

    Plain command-line settings rather than deploy/gunicorn.conf.py: that file
    recycles workers every ~10,000 requests (max_requests), which would restart
    a worker, and reload its schema cache, in the middle of a measurement.
    """
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--log-level",
        "error",
        "--timeout",
        "30",
        "--graceful-timeout",
        "5",
        # No access log (its default is off, said here to be explicit), and no control
        # socket: its fixed default path would collide with a `make run` on this machine.
        "--no-control-socket",
    ]
    with open(log_path, "wb") as log:
        # A session of its own, so that its whole process group can be killed if it hangs.
        # cwd: the repository root, where `bench.floor` is importable too.
        proc = subprocess.Popen(
            cmd,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
    try:
        _wait_listening(proc, port, log_path)
        yield proc
    finally:
        _stop(proc)


def _wait_listening(proc: subprocess.Popen[bytes], port: int, log_path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {proc.returncode}:\n{tail(log_path)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not listen on port {port} within {timeout:.0f} s:\n{tail(log_path)}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the master (it stops its workers), then SIGKILL to its process group if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    try:
        # Also reaps workers orphaned by a master that died or did not stop in time.
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if proc.poll() is None:
        proc.wait(timeout=5)


def tail(path: Path, lines: int = 30) -> str:
    """The last LINES lines of a log file, for error messages."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def get_json(url: str, authorization: str | None) -> tuple[int, Any]:
    """GET URL once; (status, decoded JSON body)."""
    req = urllib.request.Request(url, headers={"Authorization": authorization} if authorization else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        body = err.read()
        try:
            return err.code, json.loads(body or b"null")
        except ValueError:
            return err.code, body.decode(errors="replace")


def verify(url: str, authorization: str | None, expected_rows: int = 1) -> Any:
    """Check that URL answers 200 with exactly EXPECTED_ROWS rows; raises RuntimeError otherwise.

    A few are sent, so that more than one worker is likely to be checked.
    """
    body: Any = None
    for _ in range(4):
        status, body = get_json(url, authorization)
        if status != 200 or not isinstance(body, list) or len(body) != expected_rows:
            raise RuntimeError(f"GET {url} answered {status} {body!r}; expected 200 and {expected_rows} row(s)")
    return body


def wrk_command(
    wrk: str, url: str, *, connections: int, threads: int, duration: float, script: Path = REPORT_LUA
) -> list[str]:
    """The wrk command line: CONNECTIONS over THREADS for DURATION seconds, reporting through SCRIPT."""
    return [
        wrk,
        "--threads",
        str(min(threads, connections)),
        "--connections",
        str(connections),
        "--duration",
        f"{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "--script",
        str(script),
        url,
    ]


def parse_wrk(returncode: int, stdout: str, stderr: str, *, scenario: str, tool: str) -> Measurement:
    """The Measurement in the PGWSGI_BENCH line a wrk script printed; RuntimeError when wrk failed.

    Keys of that line beyond those of report.lua (soak.lua adds some) are kept in detail["wrk"].
    """
    line = next((ln for ln in stdout.splitlines() if ln.startswith(_MARKER)), None)
    if returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed (exit {returncode}):\n{stdout}\n{stderr}")
    r = json.loads(line[len(_MARKER) :])
    seconds = r["duration_us"] / 1e6
    socket_errors = r["connect"] + r["read"] + r["write"] + r["timeout"]
    return Measurement(
        scenario=scenario,
        tool=tool,
        requests=r["requests"],
        duration_s=round(seconds, 3),
        rps=r["requests"] / seconds if seconds else 0.0,
        p50_ms=r["p50_us"] / 1000,
        p99_ms=r["p99_us"] / 1000,
        mean_ms=r["mean_us"] / 1000,
        errors=r["non2xx"] + socket_errors,
        detail={"wrk": r, "socket_errors": socket_errors},
    )


def run_wrk(
    wrk: str,
    url: str,
    authorization: str | None,
    *,
    scenario: str,
    connections: int,
    threads: int,
    duration: float,
    tool: str = "pgwsgi",
) -> Measurement:
    """Load URL with wrk for DURATION seconds and return what report.lua summarised."""
    cmd = wrk_command(wrk, url, connections=connections, threads=threads, duration=duration)
    env = clean_env({"PGWSGI_BENCH_AUTHORIZATION": authorization or ""})
    # A hard limit on top of wrk's own duration, so a wedged run cannot hang `make bench`.
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=duration + 30, check=False)
    return parse_wrk(done.returncode, done.stdout, done.stderr, scenario=scenario, tool=tool)
