"""A private PgBouncer in front of a PostgreSQL server, for tests and trials.

`start(...)` writes a pgbouncer.ini of its own into a fresh folder (its log,
pid file, auth file and unix socket live there too), starts Debian's
`pgbouncer` on 127.0.0.1 and a free port, and answers a `Bouncer` that knows
its port and stops it. The packaged system service (port 6432) is never used.

Like PostgreSQL, pgbouncer refuses to run as root: then it runs as devdb's
system user (`pgwsgi-postgres`), through devdb's own helpers, and its folder is
handed to that user.

`python -m devtools.pgbouncer start --server-port N [--user ROLE ...]` starts
one by hand and prints its folder and port; `stop DIR` stops it.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from devtools import devdb
from devtools.ports import wait_listening


def binary() -> Path | None:
    """The pgbouncer executable (PATH, then Debian's /usr/sbin), or None when it is not installed."""
    found = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)
    return Path(found) if found else None


def version(exe: Path) -> tuple[int, int]:
    """(major, minor) of EXE: (1, 18) for Debian bookworm's `PgBouncer 1.18.0`."""
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True).stdout
    m = re.search(r"PgBouncer (\d+)\.(\d+)", out)
    if m is None:
        raise ValueError(f"no version in {out!r}")
    return int(m.group(1)), int(m.group(2))


@dataclass(frozen=True)
class Bouncer:
    """A running pgbouncer: its folder (config, log, pid file, socket) and its port on 127.0.0.1."""

    folder: Path
    port: int
    pool_size: int

    def dsn(self, dbname: str, user: str) -> str:
        """A DSN for DBNAME as USER through this pgbouncer."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def log_text(self) -> str:
        """Everything pgbouncer logged so far."""
        try:
            return (self.folder / "pgbouncer.log").read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, remove: bool = True) -> None:
        """Stop pgbouncer (immediate shutdown) and wait for it to exit; REMOVE its folder then."""
        pid = _pid(self.folder)
        if pid is not None:
            _signal(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _alive(pid):
                _signal(pid, signal.SIGKILL)
        if remove:
            shutil.rmtree(self.folder, ignore_errors=True)


def config_text(
    folder: Path,
    port: int,
    server_host: str,
    server_port: int,
    pool_mode: str = "transaction",
    pool_size: int = 2,
    extra: dict[str, str] | None = None,
) -> str:
    """pgbouncer.ini: every database name goes to SERVER_HOST:SERVER_PORT, clients are trusted (auth_file)."""
    settings = {
        "listen_addr": "127.0.0.1",
        "listen_port": str(port),
        "unix_socket_dir": str(folder),
        "auth_type": "trust",
        "auth_file": str(folder / "userlist.txt"),
        "pool_mode": pool_mode,
        "default_pool_size": str(pool_size),
        "min_pool_size": "0",
        "reserve_pool_size": "0",
        "max_client_conn": "200",
        # JDBC and some drivers send it; psycopg (libpq) does not, but a refusal would be a confusing failure.
        "ignore_startup_parameters": "extra_float_digits",
        "logfile": str(folder / "pgbouncer.log"),
        "pidfile": str(folder / "pgbouncer.pid"),
        "log_connections": "0",
        "log_disconnections": "0",
        **(extra or {}),
    }
    lines = ["[databases]", f"* = host={server_host} port={server_port}", "", "[pgbouncer]"]
    lines += [f"{k} = {v}" for k, v in settings.items()]
    return "\n".join(lines) + "\n"


def start(
    server_host: str,
    server_port: int,
    users: Iterable[str],
    *,
    pool_mode: str = "transaction",
    pool_size: int = 2,
    extra: dict[str, str] | None = None,
    exe: Path | None = None,
) -> Bouncer:
    """Start a pgbouncer in front of SERVER_HOST:SERVER_PORT that lets USERS in without a password.

    With auth_type = trust pgbouncer checks no password but still only admits the
    users of its auth_file; it then logs in to the server as that user, so the
    server must trust them too (the private dev server does). RuntimeError, with
    pgbouncer's log, when it does not come up.
    """
    exe = exe or binary()
    if exe is None:
        raise RuntimeError("pgbouncer is not installed (Debian: apt install pgbouncer)")
    folder = Path(tempfile.mkdtemp(prefix="pgwsgi-pgbouncer-"))
    user = devdb._run_as()
    port = devdb._free_port()
    (folder / "pgbouncer.ini").write_text(
        config_text(folder, port, server_host, server_port, pool_mode, pool_size, extra)
    )
    (folder / "userlist.txt").write_text("".join(f'"{u}" ""\n' for u in users))
    if user is not None:
        for path in (folder, *folder.iterdir()):
            os.chown(path, user.pw_uid, user.pw_gid)
    bouncer = Bouncer(folder, port, pool_size)
    try:
        # -d: pgbouncer daemonizes once its socket listens, so the command returns when it is up.
        devdb._cmd(user, [str(exe), "-d", str(folder / "pgbouncer.ini")], capture_output=True)
        wait_listening(port, seconds=10)
    except (subprocess.CalledProcessError, RuntimeError) as exc:
        output = getattr(exc, "stderr", "") or ""
        bouncer.stop(remove=False)
        raise RuntimeError(f"pgbouncer did not start: {output}{bouncer.log_text()}") from None
    return bouncer


def _pid(folder: Path) -> int | None:
    try:
        return int((folder / "pgbouncer.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def main(argv: list[str] | None = None) -> int:
    """Command line: start --server-port N [--server-host H] [--user ROLE ...] | stop DIR."""
    parser = argparse.ArgumentParser(prog="python -m devtools.pgbouncer", description=__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    up = sub.add_parser("start", help="start a pgbouncer; prints its folder and port")
    up.add_argument("--server-host", default="127.0.0.1")
    up.add_argument("--server-port", type=int, required=True)
    up.add_argument("--user", action="append", default=[], help="a role it admits (repeatable)")
    up.add_argument("--pool-mode", default="transaction", choices=["session", "transaction", "statement"])
    up.add_argument("--pool-size", type=int, default=2)
    down = sub.add_parser("stop", help="stop the pgbouncer of a folder start printed, and remove the folder")
    down.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    if args.action == "start":
        users = args.user or [devdb.SUPERUSER]
        bouncer = start(args.server_host, args.server_port, users, pool_mode=args.pool_mode, pool_size=args.pool_size)
        print(bouncer.folder, bouncer.port)
    else:
        Bouncer(args.folder, 0, 0).stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
