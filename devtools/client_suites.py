"""Run the integration suites of PostgREST's client libraries against pgwsgi.

`python -m devtools.client_suites [js|py|all]` runs, against a pgwsgi served by
gunicorn, the integration tests of

- **postgrest-js** (supabase/postgrest-js): jest, test/db/*.sql; its
  docker-compose serves the same database with PostgREST v12.2 on :3000 and
  v13.0 on :3001, both with `db-schemas=public,personal`,
  `db-extra-search-path=extensions`, `db-anon-role=postgres`,
  `db-plan-enabled`, `db-tx-end=commit-allow-override`, `db-aggregates-enabled`;
- **postgrest-py** (supabase/postgrest-py, formerly supabase-community/
  postgrest-py): pytest, infra/init.sql, PostgREST v11.2.2 on :3000 with the same
  settings less the aggregates.

For each suite it

1. unpacks the suite from the local mirror of its repository (`fetch` tool:
   /work/.mirror/<owner>+<name>/repo) or copies the folder given with
   `--js-source`/`--py-source` into a cache folder (default
   /tmp/pgwsgi-client-suites), and points the copy's base URLs at pgwsgi (the
   suites hard-code http://localhost:3000 and :3001; both become the one pgwsgi);
2. installs its dependencies there: `npm ci` for js, a virtualenv under the
   cache folder for py (pinned by its poetry.lock), never into the project's .venv;
3. creates a throwaway database (`pgwsgi_clients_js`, `pgwsgi_clients_py`) on
   the project's private PostgreSQL (`devtools.devdb`, or `--admin-dsn`) and
   loads the suite's SQL into it. The suites run as the superuser `postgres`
   (their anon role), so no role is created. Where the server has no PostGIS,
   postgrest-js's `shops.shop_geom` becomes a text column (only its geojson
   test reads it). Its EXPLAIN snapshots record two settings of the
   supabase/postgres image, set on the database likewise:
   `effective_cache_size = 128MB` and query ids (`compute_query_id = on`; the
   image preloads pg_stat_statements);
4. starts gunicorn serving pgwsgi on a free port (retried when it cannot
   start, e.g. while another session has a half-edited file in the tree);
5. runs the suite (jest --ci, so inline snapshots are never rewritten) with a
   recorder of every HTTP exchange (a jest setup file wrapping `fetch`, a
   pytest plugin wrapping httpx's `send`). The recorder also keeps every
   request off this machine: one for another host fails as an unreachable
   host does, and a test that failed after such a request is counted as
   skipped and listed apart (postgrest-py's client tests ask example.com);
6. prints "N passed, N failed, N skipped" and the failing tests, writes each
   failure's message with the requests and responses of that test to
   <cache>/results/<suite>-failures.txt (the server's access log is in
   <cache>/results/<suite>/gunicorn.log), stops gunicorn and drops the database.

The exit status is 0 when every selected suite passed, 1 when a test failed,
2 when a suite could not be run.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
MIRRORS = Path("/work/.mirror")
DEFAULT_CACHE = Path("/tmp/pgwsgi-client-suites")
DEVDB = ROOT / ".devdb"
# what the recorders answer instead of sending a request off this machine
BLOCKED = "only loopback is reachable"

# The recorder of HTTP exchanges for jest: wraps the global fetch that
# postgrest-js uses (Node 18+), appends one JSON line per exchange.
JS_CAPTURE = r"""
const fs = require('fs')
const LOG = process.env.PGWSGI_CAPTURE_FILE
const original = globalThis.fetch
if (LOG && original) {
  const headersOf = (h) => {
    const out = {}
    new Headers(h || {}).forEach((v, k) => { out[k] = v })
    return out
  }
  const bodyOf = (b) => (b == null ? null : typeof b === 'string' ? b : String(b))
  const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])
  const BLOCKED = 'only loopback is reachable'
  globalThis.fetch = async function pgwsgiCapture(input, init) {
    init = init || {}
    const state = expect.getState()
    const entry = {
      test: state.currentTestName,
      file: state.testPath,
      method: init.method || 'GET',
      url: String(input && input.url ? input.url : input),
      headers: headersOf(init.headers),
      body: bodyOf(init.body),
    }
    let res
    try {
      if (!LOOPBACK.has(new URL(entry.url).hostname)) {
        // nothing leaves this machine: fail as an unreachable host does
        throw new TypeError('fetch failed', { cause: new Error('client_suites: ' + BLOCKED) })
      }
      res = await original(input, init)
    } catch (e) {
      entry.error = String(e) + (e && e.cause ? ' (' + String(e.cause.message || e.cause) + ')' : '')
      fs.appendFileSync(LOG, JSON.stringify(entry) + '\n')
      throw e
    }
    entry.status = res.status
    entry.statusText = res.statusText
    entry.responseHeaders = headersOf(res.headers)
    try {
      entry.responseBody = await res.clone().text()
    } catch (e) {
      entry.responseBody = '<unreadable: ' + String(e) + '>'
    }
    fs.appendFileSync(LOG, JSON.stringify(entry) + '\n')
    return res
  }
}
"""

# The recorder for pytest: wraps httpx's send and records every test's outcome.
PY_CAPTURE = r'''
"""pytest plugin of devtools.client_suites: records HTTP exchanges and outcomes."""
import json
import os

import httpx

_LOG = os.environ["PGWSGI_CAPTURE_FILE"]
_RESULTS = os.environ["PGWSGI_RESULTS_FILE"]


def _append(path, obj):
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(obj) + "\n")


def _entry(request, response=None, error=None):
    current = os.environ.get("PYTEST_CURRENT_TEST", "")
    entry = {
        "test": current.rsplit(" (", 1)[0],
        "method": request.method,
        "url": str(request.url),
        "headers": dict(request.headers),
        "body": request.content.decode("utf-8", "replace") if request.content else None,
    }
    if error is not None:
        entry["error"] = repr(error)
    if response is not None:
        entry["status"] = response.status_code
        entry["statusText"] = response.reason_phrase
        entry["responseHeaders"] = dict(response.headers)
    return entry


_sync_send = httpx.Client.send
_async_send = httpx.AsyncClient.send


_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _guard(request):
    """Nothing leaves this machine: fail as an unreachable host does."""
    if request.url.host not in _LOOPBACK:
        raise httpx.ConnectError("client_suites: only loopback is reachable", request=request)


def _send(self, request, *args, **kwargs):
    try:
        _guard(request)
        response = _sync_send(self, request, *args, **kwargs)
    except Exception as exc:
        _append(_LOG, _entry(request, error=exc))
        raise
    entry = _entry(request, response)
    try:
        response.read()
        entry["responseBody"] = response.text
    except Exception as exc:
        entry["responseBody"] = f"<unreadable: {exc!r}>"
    _append(_LOG, entry)
    return response


async def _asend(self, request, *args, **kwargs):
    try:
        _guard(request)
        response = await _async_send(self, request, *args, **kwargs)
    except Exception as exc:
        _append(_LOG, _entry(request, error=exc))
        raise
    entry = _entry(request, response)
    try:
        await response.aread()
        entry["responseBody"] = response.text
    except Exception as exc:
        entry["responseBody"] = f"<unreadable: {exc!r}>"
    _append(_LOG, entry)
    return response


httpx.Client.send = _send
httpx.AsyncClient.send = _asend


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        _append(
            _RESULTS,
            {
                "test": report.nodeid,
                "when": report.when,
                "outcome": report.outcome,
                "message": report.longreprtext if report.outcome == "failed" else "",
            },
        )
'''


@dataclass
class Failure:
    """One failed test: its name, the runner's message and the exchanges it made."""

    name: str
    message: str
    exchanges: list[dict[str, object]] = field(default_factory=list)


@dataclass
class Outcome:
    """The counts of one suite's run and its failures."""

    suite: str
    version: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[Failure] = field(default_factory=list)
    error: str | None = None
    # failed only because they asked a host other than this machine: (test, the URL)
    offline: list[tuple[str, str]] = field(default_factory=list)

    def add_failure(self, failure: Failure) -> None:
        """Count FAILURE, apart when it made a request that the recorder kept from leaving the machine."""
        blocked = [e for e in failure.exchanges if BLOCKED in str(e.get("error", ""))]
        if blocked:
            self.skipped += 1
            self.offline.append((failure.name, str(blocked[0].get("url"))))
        else:
            self.failed += 1
            self.failures.append(failure)


@dataclass(frozen=True)
class Suite:
    """What differs between the suites: where they come from, their database and server settings."""

    name: str
    mirrors: tuple[str, ...]
    database: str
    sql_files: tuple[str, ...]
    pgrst: dict[str, str]
    db_settings: dict[str, str]
    # (glob under the work tree, regex of the base URL to replace)
    url_sites: tuple[tuple[str, str], ...]


SUITES: dict[str, Suite] = {
    "js": Suite(
        name="js",
        mirrors=("supabase+postgrest-js",),
        database="pgwsgi_clients_js",
        sql_files=("test/db/00-schema.sql", "test/db/01-dummy-data.sql"),
        pgrst={
            "PGRST_DB_SCHEMAS": "public,personal",
            "PGRST_DB_EXTRA_SEARCH_PATH": "extensions",
            "PGRST_DB_ANON_ROLE": "postgres",
            "PGRST_DB_PLAN_ENABLED": "1",
            "PGRST_DB_TX_END": "commit-allow-override",
            "PGRST_DB_AGGREGATES_ENABLED": "true",
        },
        # the supabase/postgres image's postgresql.conf; its preloaded pg_stat_statements turns query ids on
        db_settings={"effective_cache_size": "128MB", "compute_query_id": "on"},
        url_sites=(("test/**/*.ts", r"http://localhost:300[01]"),),
    ),
    "py": Suite(
        name="py",
        mirrors=("supabase+postgrest-py", "supabase-community+postgrest-py"),
        database="pgwsgi_clients_py",
        sql_files=("infra/init.sql",),
        pgrst={
            "PGRST_DB_SCHEMAS": "public,personal",
            "PGRST_DB_EXTRA_SEARCH_PATH": "extensions",
            "PGRST_DB_ANON_ROLE": "postgres",
            "PGRST_DB_PLAN_ENABLED": "1",
            "PGRST_DB_TX_END": "commit-allow-override",
        },
        db_settings={},
        url_sites=(("tests/**/*.py", r"http://(?:127\.0\.0\.1|localhost):3000"),),
    ),
}


def log(message: str) -> None:
    """Progress messages go to stderr, the summary to stdout."""
    print(f"client_suites: {message}", file=sys.stderr, flush=True)


def _run(args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 1800) -> None:
    """Run a set-up command, showing its output only when it fails."""
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:16]


# --- sources ---------------------------------------------------------------


def find_mirror(names: tuple[str, ...]) -> Path:
    """The first stored bare git dir among NAMES (owner+name under /work/.mirror)."""
    for name in names:
        git_dir = MIRRORS / name / "repo"
        if (git_dir / "HEAD").exists():
            return git_dir
    raise RuntimeError(f"no mirror of {' or '.join(names)} under {MIRRORS}: fetch it first (github:owner/name)")


def _clear(workdir: Path, keep: tuple[str, ...]) -> None:
    """Empty WORKDIR except the entries named in KEEP (installed dependencies)."""
    workdir.mkdir(parents=True, exist_ok=True)
    for entry in workdir.iterdir():
        if entry.name in keep:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def unpack(suite: Suite, source: Path | None, workdir: Path, keep: tuple[str, ...] = ()) -> str:
    """Lay the suite's tree out afresh in WORKDIR; return what it is (repository and commit, or path).

    SOURCE may be a git dir (bare or a checkout's .git parent: its HEAD is
    archived) or a plain folder (copied, less .git and node_modules). Without it
    the mirror is used.
    """
    if source is None:
        git_dir: Path | None = find_mirror(suite.mirrors)
    elif (source / "HEAD").exists() and (source / "objects").is_dir():
        git_dir = source
    elif (source / ".git").exists():
        git_dir = source / ".git"
    else:
        git_dir = None
    _clear(workdir, keep)
    if git_dir is None:
        assert source is not None
        shutil.copytree(
            source, workdir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git", "node_modules", ".venv")
        )
        return f"folder {source}"
    commit = subprocess.run(
        ["git", "--git-dir", str(git_dir), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    stamp = subprocess.run(
        ["git", "--git-dir", str(git_dir), "log", "-1", "--format=%cI %s", commit],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    archive = subprocess.run(["git", "--git-dir", str(git_dir), "archive", commit], capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(workdir, filter="data")
    origin = git_dir.parent.name if git_dir.name == "repo" else str(git_dir)
    return f"{origin.replace('+', '/')} {commit} ({stamp})"


def point_at(suite: Suite, workdir: Path, base_url: str) -> int:
    """Rewrite the suite's hard-coded base URLs to BASE_URL; return how many were replaced."""
    count = 0
    for pattern, regex in suite.url_sites:
        for path in sorted(workdir.glob(pattern)):
            text = path.read_text()
            new, n = re.subn(regex, base_url, text)
            if n:
                path.write_text(new)
                count += n
    return count


# --- dependencies -----------------------------------------------------------


def install_js(workdir: Path) -> None:
    """`npm ci` in WORKDIR, skipped while package-lock.json is unchanged since the last install."""
    lock = workdir / "package-lock.json"
    stamp = workdir / "node_modules" / ".pgwsgi-installed"
    want = _digest(lock.read_bytes())
    if stamp.exists() and stamp.read_text() == want:
        return
    log("npm ci (postgrest-js dependencies)")
    _run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=workdir)
    stamp.write_text(want)


def _lock_constraints(lock: Path) -> list[str]:
    """`name==version` for every registry package of a poetry.lock."""
    data = tomllib.loads(lock.read_text())
    out = []
    for package in data.get("package", []):
        source = package.get("source", {})
        if source.get("type") in {"git", "directory", "file", "url"}:
            continue
        out.append(f"{package['name']}=={package['version']}")
    return out


def install_py(workdir: Path, venv: Path) -> Path:
    """A virtualenv VENV with the suite's package and test tools pinned by its poetry.lock; returns its python."""
    python = venv / "bin" / "python"
    lock = workdir / "poetry.lock"
    pyproject = workdir / "pyproject.toml"
    want = _digest(lock.read_bytes(), pyproject.read_bytes())
    stamp = venv / ".pgwsgi-installed"
    if python.exists() and stamp.exists() and stamp.read_text() == want:
        return python
    log(f"virtualenv for postgrest-py in {venv}")
    if venv.exists():
        shutil.rmtree(venv)
    base = getattr(sys, "_base_executable", sys.executable)
    _run([base, "-m", "venv", str(venv)])
    constraints = venv / "constraints.txt"
    constraints.write_text("\n".join(_lock_constraints(lock)) + "\n")
    poetry = tomllib.loads(pyproject.read_text())["tool"]["poetry"]
    # poetry >= 1.2 groups, or the older dev-dependencies table
    dev = poetry.get("group", {}).get("dev", {}).get("dependencies") or poetry.get("dev-dependencies", {})
    tools = [name for name in ("pytest", "pytest-asyncio", "pytest-depends") if name in dev]
    _run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    _run([str(python), "-m", "pip", "install", "--quiet", "-c", str(constraints), str(workdir), *tools])
    stamp.write_text(want)
    return python


# --- database ---------------------------------------------------------------


def admin_dsn(given: str | None) -> str:
    """The superuser DSN: GIVEN, else the project's private server (started if needed)."""
    if given:
        return given
    out = subprocess.run(
        [sys.executable, "-m", "devtools.devdb", "start", str(DEVDB)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def with_database(dsn: str, dbname: str) -> str:
    """DSN with its database replaced by DBNAME."""
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{dbname}"))


def has_postgis(dsn: str) -> bool:
    """Whether the server can create the postgis extension."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").fetchone() is not None


def adapt_sql(suite: Suite, text: str, postgis: bool) -> str:
    """The suite's SQL, made loadable here: without PostGIS the geometry column becomes text."""
    if suite.name == "js" and not postgis:
        text = re.sub(r"(?im)^\s*create extension postgis schema extensions;\s*$", "", text)
        text = re.sub(r"extensions\.geometry\(POINT, 4326\)", "text", text)
    return text


def create_database(dsn: str, suite: Suite, workdir: Path) -> list[str]:
    """(Re)create the suite's database and load its SQL; return notes on what was adapted."""
    notes: list[str] = []
    postgis = has_postgis(dsn)
    if suite.name == "js" and not postgis:
        notes.append("no PostGIS on this server: shops.shop_geom is a text column (the geojson test cannot pass)")
    with psycopg.connect(dsn, autocommit=True) as conn:
        name = sql.Identifier(suite.database)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(name))
        for key, value in suite.db_settings.items():
            conn.execute(sql.SQL("ALTER DATABASE {} SET {} = {}").format(name, sql.Identifier(key), sql.Literal(value)))
            notes.append(f"ALTER DATABASE {suite.database} SET {key} = {value!r} (as in the suite's database image)")
    with psycopg.connect(with_database(dsn, suite.database), autocommit=True) as conn:
        for rel in suite.sql_files:
            text = adapt_sql(suite, (workdir / rel).read_text(), postgis)
            conn.execute(text.encode())
    return notes


def drop_database(dsn: str, suite: Suite) -> None:
    """Drop the suite's database, whoever is still connected."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(suite.database)))


# --- server -----------------------------------------------------------------


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    """Whether an HTTP server answers at URL (any status)."""
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, urllib.error.URLError):
        return False


@contextlib.contextmanager
def gunicorn(
    db_uri: str, pgrst: dict[str, str], logdir: Path, attempts: int = 4, retry_wait: float = 60
) -> Iterator[str]:
    """Serve pgwsgi under gunicorn on a free port; yield its base URL; stop it afterwards.

    A server that exits before answering (e.g. a module being edited by someone
    else does not import) is retried after RETRY_WAIT seconds, ATTEMPTS times.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PGRST_")}
    env.update(pgrst)
    env["PGRST_DB_URI"] = db_uri
    # The suites' databases log in as their superuser, as their PostgREST images do.
    env["PGRST_DB_ALLOW_PRIVILEGED_AUTHENTICATOR"] = "true"
    logdir.mkdir(parents=True, exist_ok=True)
    proc: subprocess.Popen[bytes] | None = None
    for attempt in range(1, attempts + 1):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        logfile = logdir / "gunicorn.log"
        with logfile.open("wb") as out:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "pgwsgi:app",
                    "-b",
                    f"127.0.0.1:{port}",
                    "-w",
                    "2",
                    "--limit-request-line",
                    "0",
                    "--access-logfile",
                    "-",
                    "--access-logformat",
                    '%(m)s %(U)s%(q)s -> %(s)s "%(r)s"',
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None and not _answers(f"{base}/"):
            time.sleep(0.3)
        if proc.poll() is None and _answers(f"{base}/"):
            break
        _stop(proc)
        tail = logfile.read_text(errors="replace")[-3000:]
        log(f"gunicorn did not start (attempt {attempt}/{attempts}):\n{tail}")
        proc = None
        if attempt < attempts:
            time.sleep(retry_wait)
    if proc is None:
        raise RuntimeError("gunicorn could not be started; see the log above")
    log(f"pgwsgi serving on {base} (log: {logfile})")
    try:
        yield base
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the gunicorn we started (its master; it stops its workers), by pid."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


# --- runs -------------------------------------------------------------------


def _read_jsonl(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def run_js(workdir: Path, results: Path, outcome: Outcome) -> None:
    """Run jest in WORKDIR (in band, no coverage, --ci so that snapshots are never written)."""
    capture = results / "js-exchanges.jsonl"
    report = results / "js-jest.json"
    for path in (capture, report):
        path.unlink(missing_ok=True)
    (workdir / "pgwsgi-capture.js").write_text(JS_CAPTURE)
    env = dict(os.environ, PGWSGI_CAPTURE_FILE=str(capture), CI="true", FORCE_COLOR="0")
    log("jest (postgrest-js)")
    proc = subprocess.run(
        [
            "node",
            "node_modules/jest/bin/jest.js",
            "--runInBand",
            "--ci",
            "--json",
            f"--outputFile={report}",
            "--setupFilesAfterEnv",
            str(workdir / "pgwsgi-capture.js"),
        ],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    (results / "js-jest.log").write_text(proc.stdout + proc.stderr)
    if not report.exists():
        outcome.error = f"jest wrote no report (exit {proc.returncode}):\n{proc.stderr[-4000:]}"
        return
    data = json.loads(report.read_text())
    exchanges = _read_jsonl(capture)
    for suite_result in data.get("testResults", []):
        rel = os.path.relpath(suite_result["name"], workdir)
        if not suite_result.get("assertionResults") and suite_result.get("message"):
            # the file did not even run (e.g. a TypeScript error in it)
            outcome.add_failure(Failure(f"{rel} (whole file)", suite_result["message"]))
            continue
        for test in suite_result.get("assertionResults", []):
            status = test.get("status")
            if status == "passed":
                outcome.passed += 1
            elif status == "failed":
                name = test["fullName"]
                mine = [e for e in exchanges if e.get("test") == name and e.get("file") == suite_result["name"]]
                outcome.add_failure(Failure(f"{rel} > {name}", "\n".join(test.get("failureMessages", [])), mine))
            else:
                outcome.skipped += 1


def run_py(workdir: Path, python: Path, results: Path, outcome: Outcome) -> None:
    """Run pytest in WORKDIR with the recording plugin."""
    capture = results / "py-exchanges.jsonl"
    report = results / "py-results.jsonl"
    for path in (capture, report):
        path.unlink(missing_ok=True)
    plugin_dir = results / "py-plugin"
    plugin_dir.mkdir(parents=True, exist_ok=True)
    (plugin_dir / "pgwsgi_capture.py").write_text(PY_CAPTURE)
    env = dict(os.environ, PGWSGI_CAPTURE_FILE=str(capture), PGWSGI_RESULTS_FILE=str(report))
    env["PYTHONPATH"] = str(plugin_dir)
    env.pop("PYTHONHOME", None)
    log("pytest (postgrest-py)")
    proc = subprocess.run(
        [str(python), "-m", "pytest", "tests", "-p", "pgwsgi_capture", "-p", "no:cacheprovider", "-q", "-rN"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    (results / "py-pytest.log").write_text(proc.stdout + proc.stderr)
    rows = _read_jsonl(report)
    if not rows:
        outcome.error = (
            f"pytest recorded no test (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
        return
    exchanges = _read_jsonl(capture)
    for row in rows:
        test, when, result = str(row["test"]), str(row["when"]), str(row["outcome"])
        if result == "passed":
            outcome.passed += 1
        elif result == "skipped":
            outcome.skipped += 1
        else:
            label = test if when == "call" else f"{test} ({when})"
            mine = [e for e in exchanges if e.get("test") == test]
            outcome.add_failure(Failure(label, str(row["message"]), mine))


def run_suite(
    suite: Suite, source: Path | None, cache: Path, dsn: str, attempts: int, retry_wait: float, keep_db: bool
) -> Outcome:
    """Unpack, install, load, serve, run, clean up: the whole of one suite."""
    workdir = cache / suite.name
    results = cache / "results"
    results.mkdir(parents=True, exist_ok=True)
    keep = ("node_modules",) if suite.name == "js" else ()
    version = unpack(suite, source, workdir, keep)
    outcome = Outcome(suite.name, version)
    log(f"{suite.name}: {version} in {workdir}")
    python = install_py(workdir, cache / "py-venv") if suite.name == "py" else None
    if suite.name == "js":
        install_js(workdir)
    for note in create_database(dsn, suite, workdir):
        log(f"{suite.name}: {note}")
    try:
        with gunicorn(
            with_database(dsn, suite.database), suite.pgrst, results / suite.name, attempts, retry_wait
        ) as base:
            replaced = point_at(suite, workdir, base)
            log(f"{suite.name}: {replaced} base URLs now point at {base}")
            if suite.name == "js":
                run_js(workdir, results, outcome)
            else:
                assert python is not None
                run_py(workdir, python, results, outcome)
    finally:
        if not keep_db:
            drop_database(dsn, suite)
    return outcome


# --- report -----------------------------------------------------------------


def _exchange_text(e: dict[str, object]) -> str:
    lines = [f"  > {e.get('method')} {e.get('url')}"]
    headers = e.get("headers") or {}
    assert isinstance(headers, dict)
    lines += [f"  > {k}: {v}" for k, v in headers.items()]
    if e.get("body") is not None:
        lines.append(f"  > body: {e['body']}")
    if "error" in e:
        lines.append(f"  < error: {e['error']}")
        return "\n".join(lines)
    lines.append(f"  < {e.get('status')} {e.get('statusText')}")
    rheaders = e.get("responseHeaders") or {}
    assert isinstance(rheaders, dict)
    lines += [f"  < {k}: {v}" for k, v in rheaders.items()]
    body = str(e.get("responseBody"))
    lines.append(f"  < body: {body[:3000]}{' ...' if len(body) > 3000 else ''}")
    return "\n".join(lines)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def failure_report(outcome: Outcome) -> str:
    """Every failure of OUTCOME with its message and exchanges, as text."""
    parts = [f"# {outcome.suite}: {outcome.version}\n"]
    for f in outcome.failures:
        parts.append(f"## {f.name}\n")
        parts.append(_ANSI.sub("", f.message).strip() + "\n")
        parts.append(f"exchanges ({len(f.exchanges)}):")
        parts += [_exchange_text(e) for e in f.exchanges]
        parts.append("")
    return "\n".join(parts)


def summary(outcome: Outcome) -> str:
    """The counts and names of the failing tests."""
    lines = [f"{outcome.suite}: {outcome.version}"]
    if outcome.error:
        lines.append(f"{outcome.suite}: could not run: {outcome.error}")
    lines += [f"  FAILED {f.name}" for f in outcome.failures]
    lines += [f"  skipped {test}: it asked {url} ({BLOCKED})" for test, url in outcome.offline]
    lines.append(f"{outcome.suite}: {outcome.passed} passed, {outcome.failed} failed, {outcome.skipped} skipped")
    return "\n".join(lines)


def tree_state() -> str:
    """The pgwsgi tree the suites ran against: its commit, and whether files differ from it (read-only git)."""
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "--no-optional-locks", "-C", str(ROOT), "status", "--porcelain"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "pgwsgi: (not a git checkout)"
    return f"pgwsgi: {ROOT} at {head}" + (f" with {len(changed)} changed or new files" if changed else "")


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the chosen suites, print their summaries."""
    parser = argparse.ArgumentParser(prog="python -m devtools.client_suites", description=__doc__.split("\n\n")[0])
    parser.add_argument("which", nargs="?", choices=["js", "py", "all"], default="all")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="work folder (default %(default)s)")
    parser.add_argument("--js-source", type=Path, help="postgrest-js tree or git dir instead of the mirror")
    parser.add_argument("--py-source", type=Path, help="postgrest-py tree or git dir instead of the mirror")
    parser.add_argument("--admin-dsn", help="superuser DSN (default: the private server of devtools.devdb)")
    parser.add_argument("--start-attempts", type=int, default=4, help="tries to start gunicorn (default 4)")
    parser.add_argument("--retry-wait", type=float, default=60, help="seconds between tries (default 60)")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the databases afterwards")
    parser.add_argument("--details", action="store_true", help="also print every failure's message and exchanges")
    args = parser.parse_args(argv)

    names = ["js", "py"] if args.which == "all" else [args.which]
    sources = {"js": args.js_source, "py": args.py_source}
    cache: Path = args.cache
    cache.mkdir(parents=True, exist_ok=True)
    dsn = admin_dsn(args.admin_dsn)
    print(tree_state(), flush=True)
    outcomes: list[Outcome] = []
    for name in names:
        suite = SUITES[name]
        source = sources[name].resolve() if sources[name] else None
        try:
            outcome = run_suite(suite, source, cache, dsn, args.start_attempts, args.retry_wait, args.keep_db)
        except Exception as exc:  # report the others all the same
            outcome = Outcome(name, "?", error=f"{type(exc).__name__}: {exc}")
        outcomes.append(outcome)
        details = cache / "results" / f"{name}-failures.txt"
        details.parent.mkdir(parents=True, exist_ok=True)
        details.write_text(failure_report(outcome))
        if args.details:
            print(failure_report(outcome))
        print(summary(outcome))
        print(f"{name}: details in {details}", flush=True)
    total_passed = sum(o.passed for o in outcomes)
    total_failed = sum(o.failed for o in outcomes)
    total_skipped = sum(o.skipped for o in outcomes)
    if len(outcomes) > 1:
        print(f"all: {total_passed} passed, {total_failed} failed, {total_skipped} skipped")
    if any(o.error for o in outcomes):
        return 2
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main())
