"""Fixtures of the end-to-end tests: real gunicorn processes and plain HTTP requests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devtools.ports import free_port, wait_listening
from tests.conftest import AUTHENTICATOR, ROOT, SECRET, Server

HttpResult = tuple[int, dict[str, str], bytes]


def eventually(check: Callable[[], bool], seconds: float = 15.0) -> bool:
    """Whether CHECK holds within SECONDS (reloads, restarts and fail-overs are asynchronous)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> HttpResult:
    """Status, headers and body of one request (errors included)."""
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers.items()), err.read()


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[callable]:
    """Start gunicorn with given environment and config file; stopped after the test."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(env_extra: dict[str, str], workers: int = 2, conf: Path | None = None) -> str:
        """The base URL of a new gunicorn; CONF is a gunicorn config file (the command line still wins)."""
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PGRST_")}
        env.update(env_extra)
        log = open(tmp_path / f"gunicorn-{port}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "pgwsgi:app",
                *(["-c", str(conf)] if conf is not None else []),
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                str(workers),
                "--graceful-timeout",
                "2",
                # As deploy/gunicorn.conf.py: filters live in the URL.
                "--limit-request-line",
                "0",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        procs.append(proc)
        wait_listening(port, proc, 20, lambda: (tmp_path / f"gunicorn-{port}.log").read_text())
        return f"http://127.0.0.1:{port}"

    start.processes = procs  # type: ignore[attr-defined]  # a test signals the master it started
    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=15)


def server_env(pg_server: Server, test_db: str, **overrides: str) -> dict[str, str]:
    """The PGRST_* environment of a server on the session's test database, with OVERRIDES."""
    env = {
        "PGRST_DB_URI": pg_server.dsn(test_db, AUTHENTICATOR),
        "PGRST_DB_SCHEMAS": "test, other",
        "PGRST_DB_ANON_ROLE": "pgwsgi_anon",
        "PGRST_JWT_SECRET": SECRET,
        "PGRST_DB_POOL": "2",
    }
    return {**env, **overrides}


@pytest.fixture
def test_server(gunicorn, pg_server: Server, test_db: str) -> str:  # noqa: ANN001
    return gunicorn(server_env(pg_server, test_db, PGRST_DB_PRE_REQUEST="test.pre_request"))


def send(url: str, method: str, headers: dict[str, str], body: object | None = None) -> HttpResult:
    """A request with a JSON body."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers.items()), err.read()
