"""A streaming replica of a private server of devtools.devdb, for the read-replica tests.

`python -m devtools.replica start PRIMARY_DIR REPLICA_DIR` copies the running
server of PRIMARY_DIR with `pg_basebackup -R` (which also writes standby.signal;
primary_conninfo is then replaced by a plain one) into REPLICA_DIR/data, once,
then starts it as devdb
starts any server (127.0.0.1 only, a free port, as the system user when root),
and prints its DSN. `python -m devtools.devdb stop REPLICA_DIR` stops it, and
`start` again restarts it on the same port.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from devtools import devdb

REPLICATION_HBA = "host replication all 127.0.0.1/32 trust"


def has_basebackup() -> bool:
    """Whether the server binaries in use include pg_basebackup."""
    try:
        return (devdb.bin_dir() / "pg_basebackup").is_file()
    except SystemExit:
        return False


def allow_replication(primary_dsn: str) -> None:
    """Make sure the primary lets a standby on this machine stream from it; RuntimeError when it cannot.

    initdb's defaults suffice (wal_level=replica, max_wal_senders=10, and a trust
    rule for `replication` from 127.0.0.1); a rule that is missing is added and
    the configuration reloaded. wal_level needs a restart, so it is only checked.
    """
    with psycopg.connect(primary_dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT current_setting('wal_level'), current_setting('max_wal_senders')::int, current_setting('hba_file')"
        ).fetchone()
        assert row is not None
        wal_level, senders, hba_file = row
        if wal_level not in ("replica", "logical") or senders < 1:
            raise RuntimeError(f"the primary has wal_level={wal_level}, max_wal_senders={senders}: no streaming")
        rules = conn.execute(
            "SELECT count(*) FROM pg_hba_file_rules WHERE type = 'host' AND 'replication' = ANY(database) "
            "AND auth_method = 'trust' AND address IN ('127.0.0.1', 'all') AND error IS NULL"
        ).fetchone()
        if rules is not None and rules[0] == 0:
            with open(hba_file, "a") as f:
                f.write(f"\n{REPLICATION_HBA}\n")
            conn.execute("SELECT pg_reload_conf()")


def start(primary_root: Path, root: Path) -> str:
    """The DSN of a running replica of PRIMARY_ROOT's server in ROOT, made by pg_basebackup -R when new."""
    primary_root, root = primary_root.resolve(), root.resolve()
    primary_dsn = devdb.dsn(primary_root)
    root.mkdir(parents=True, exist_ok=True)
    data = root / "data"
    if not (data / "PG_VERSION").exists():
        if data.exists():
            shutil.rmtree(data)
        allow_replication(primary_dsn)
        user = devdb._run_as()
        bindir = devdb.bin_dir().resolve()
        if user is not None:
            devdb._make_reachable(root)
            os.chown(root, user.pw_uid, user.pw_gid)  # pg_basebackup, as that user, creates data/ in it
        devdb._cmd(
            user,
            [str(bindir / "pg_basebackup"), "-d", primary_dsn, "-D", str(data), "-R", "-X", "stream"]
            + ["--checkpoint=fast", "--no-sync"],
            stdout=subprocess.DEVNULL,
        )
        # -R writes every option the libpq of pg_basebackup knows, and the server's walreceiver may
        # load an older libpq (the system's) that refuses some (sslnegotiation), and a passfile of
        # our home: the last primary_conninfo in the file wins, so a plain one is appended.
        port = urlsplit(primary_dsn).port
        conninfo = f"host=127.0.0.1 port={port} user={devdb.SUPERUSER} application_name=devtools-replica"
        with open(data / "postgresql.auto.conf", "a") as f:
            f.write(f"primary_conninfo = '{conninfo}'\n")
        # devdb starts a data folder made by these binaries as it is (a standby, thanks to standby.signal).
        (root / "bin").write_text(f"{bindir}\n")
    return devdb.start(root)


def main(argv: list[str] | None = None) -> int:
    """Command line: start PRIMARY_DIR REPLICA_DIR."""
    parser = argparse.ArgumentParser(prog="python -m devtools.replica", description=__doc__)
    parser.add_argument("action", choices=["start"])
    parser.add_argument("primary", metavar="PRIMARY_DIR")
    parser.add_argument("replica", metavar="REPLICA_DIR")
    args = parser.parse_args(argv)
    print(start(Path(args.primary), Path(args.replica)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
