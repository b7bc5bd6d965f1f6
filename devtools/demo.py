"""`make run`: load the demo schema and serve it with gunicorn on 127.0.0.1:3000.

Without PGRST_DB_URI the demo goes into a private PostgreSQL server under .devdb/.
With PGWSGI_ADMIN_DSN (a superuser DSN of your own server) it is loaded there
instead. With PGRST_DB_URI alone, that database is served as it is: load
deploy/demo/schema.sql into it yourself first.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "deploy" / "demo"
DEMO_DB = "pgwsgi_demo"
BASE_URL = "http://127.0.0.1:3000"


def load_demo(admin_dsn: str, dbname: str = DEMO_DB) -> str:
    """Create the demo database if needed, (re)load its schema, return the authenticator's DSN."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    parts = urlsplit(admin_dsn)
    demo_admin = urlunsplit(parts._replace(path=f"/{dbname}"))
    with psycopg.connect(demo_admin, autocommit=True) as conn:
        conn.execute((DEMO / "schema.sql").read_text())
    host = parts.hostname or "127.0.0.1"
    return f"postgresql://authenticator@{host}:{parts.port or 5432}/{dbname}"


def curl_examples() -> str:
    """The curl commands printed at start-up, with tokens minted by the demo's secret."""
    from pgwsgi.auth import mint_token
    from pgwsgi.config import load_config

    config = load_config(str(DEMO / "pgwsgi.conf"), env={})
    now = int(time.time())
    alice = mint_token(config, {"role": "web_user", "sub": "alice", "exp": now + 24 * 3600})
    admin = mint_token(config, {"role": "web_admin", "sub": "admin", "exp": now + 24 * 3600})
    stale = mint_token(config, {"role": "web_user", "sub": "alice", "exp": now - 3600})
    return f"""
pgwsgi demo on {BASE_URL} (Ctrl-C stops it). Try:

  # anonymous (web_anon): only the 2 public notes
  curl -s '{BASE_URL}/notes?select=id,owner,title&order=id'

  # alice (web_user): her 3 notes and bob's public one
  curl -s '{BASE_URL}/notes?select=id,owner,title&order=id' -H 'Authorization: Bearer {alice}'

  # admin (web_admin): all 5 notes
  curl -s '{BASE_URL}/notes?select=id,owner,title&order=id' -H 'Authorization: Bearer {admin}'

  # anonymous may not list users: 401 with a JSON error
  curl -si '{BASE_URL}/users'

  # an expired token: 401 PGRST303 "JWT expired"
  curl -si '{BASE_URL}/notes' -H 'Authorization: Bearer {stale}'

  # mint your own token:
  .venv/bin/pgwsgi token --role web_user --claim sub=bob --exp 3600 deploy/demo/pgwsgi.conf
"""


def main(argv: list[str] | None = None) -> int:
    """Load the demo (unless PGRST_DB_URI is given), print the curl examples, exec gunicorn."""
    parser = argparse.ArgumentParser(prog="python -m devtools.demo")
    parser.add_argument("action", choices=["run", "load"])
    parser.add_argument("--devdb", default=str(ROOT / ".devdb"))
    args = parser.parse_args(argv)
    env = dict(os.environ)
    if not env.get("PGRST_DB_URI"):
        admin = env.get("PGWSGI_ADMIN_DSN")
        if not admin:
            from devtools import devdb

            admin = devdb.start(Path(args.devdb))
        env["PGRST_DB_URI"] = load_demo(admin)
    if args.action == "load":
        print(env["PGRST_DB_URI"])
        return 0
    env["PGRST_CONFIG"] = str(DEMO / "pgwsgi.conf")
    env.setdefault("PGWSGI_WORKERS", "2")
    print(curl_examples(), flush=True)
    gunicorn = [sys.executable, "-m", "gunicorn", "pgwsgi:app", "-c", str(ROOT / "deploy" / "gunicorn.conf.py")]
    os.execvpe(sys.executable, gunicorn, env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
