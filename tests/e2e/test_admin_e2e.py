"""The admin server through gunicorn with deploy/gunicorn.conf.py: /live, /ready and /metrics over every worker."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from tests.conftest import ROOT, SECRET, Server
from tests.e2e.conftest import eventually, fetch, free_port, server_env

CONF = ROOT / "deploy" / "gunicorn.conf.py"


def _status(url: str) -> int:
    """The status of a GET, 0 while nothing listens."""
    try:
        return fetch(url)[0]
    except OSError:
        return 0


def _metric(text: str, name: str, labels: str = "") -> float:
    """The value of one sample of the Prometheus text TEXT (0 when absent)."""
    found = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def test_live_ready_and_metrics_add_up_the_workers(gunicorn, pg_server: Server, test_db: str) -> None:  # noqa: ANN001
    admin_port = free_port()
    env = server_env(pg_server, test_db, PGRST_ADMIN_SERVER_PORT=str(admin_port), PGRST_SERVER_HOST="127.0.0.1")
    base = gunicorn({**env, "PGWSGI_ACCESS_LOG": ""}, workers=2, conf=CONF)
    admin = f"http://127.0.0.1:{admin_port}"
    # The master starts the admin server just after it opens the main port.
    assert eventually(lambda: _status(f"{admin}/live") == 200)
    assert fetch(f"{admin}/live")[:3:2] == (200, b"")
    assert eventually(lambda: fetch(f"{admin}/ready")[0] == 200)
    for _ in range(20):
        assert fetch(f"{base}/items?select=id&id=eq.1")[0] == 200
    assert fetch(f"{base}/rpc/add?a=1")[0] == 200
    assert fetch(f"{base}/no_such_table")[0] == 404
    # The pool and cache figures are copied once a second; a loaded machine may take longer.
    relation = '{kind="relation",method="GET",status="200"}'

    def settled() -> bool:
        text = fetch(f"{admin}/metrics")[2].decode()
        return _metric(text, "pgwsgi_requests_total", relation) == 20 and _metric(text, "pgrst_db_pool_max") == 4

    assert eventually(settled, seconds=20)
    status, headers, body = fetch(f"{admin}/metrics")
    assert status == 200
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = body.decode()
    # Both workers' requests, added up by the master.
    assert _metric(text, "pgwsgi_requests_total", relation) == 20
    assert _metric(text, "pgwsgi_requests_total", '{kind="rpc",method="GET",status="200"}') == 1
    assert _metric(text, "pgwsgi_requests_total", '{kind="relation",method="GET",status="404"}') == 1
    assert _metric(text, "pgwsgi_request_duration_seconds_count", '{kind="relation",method="GET"}') == 21
    # PostgREST's names.
    assert _metric(text, "pgrst_db_pool_max") == 4  # db-pool 2, two workers
    assert _metric(text, "pgrst_schema_cache_loads_total", '{status="SUCCESS"}') >= 2
    assert _metric(text, "pgrst_schema_cache_query_time_seconds") > 0
    assert _metric(text, "pgrst_jwt_cache_requests_total") >= 0
    for name in ("pgrst_db_pool_available", "pgrst_db_pool_waiting", "pgrst_db_pool_timeouts_total"):
        assert re.search(rf"^{name} ", text, re.M), name
    assert fetch(f"{admin}/nothing")[0] == 404
    status, headers, body = fetch(f"{admin}/schema_cache")
    assert (status, headers["Content-Type"]) == (200, "application/json; charset=utf-8")
    cache = json.loads(body)
    items = next(r for r in cache["relations"] if (r["schema"], r["name"]) == ("test", "items"))
    assert items["primary_key"] == ["id"] and {c["name"] for c in items["columns"]} >= {"id", "name"}
    assert any(f["name"] == "add" for f in cache["functions"])
    status, headers, body = fetch(f"{admin}/config")
    assert (status, headers["Content-Type"]) == (200, "text/plain; charset=utf-8")
    assert 'db-schemas = "test,other"' in body.decode()
    assert 'jwt-secret = "(hidden)"' in body.decode()
    assert SECRET not in body.decode()
    assert _ready_flag(env) == 0


def test_ready_is_503_while_the_database_is_unreachable(gunicorn, pg_server: Server, test_db: str) -> None:  # noqa: ANN001
    admin_port = free_port()
    env = server_env(pg_server, test_db, PGRST_ADMIN_SERVER_PORT=str(admin_port), PGRST_SERVER_HOST="127.0.0.1")
    env["PGRST_DB_URI"] = f"postgresql://nobody@127.0.0.1:{free_port()}/nothing"  # nothing listens there
    gunicorn({**env, "PGWSGI_ACCESS_LOG": ""}, workers=1, conf=CONF)
    admin = f"http://127.0.0.1:{admin_port}"
    assert eventually(lambda: _status(f"{admin}/live") == 200)
    assert fetch(f"{admin}/ready")[:3:2] == (503, b"")
    assert _ready_flag(env) == 1


def _ready_flag(env: dict[str, str]) -> int:
    """`pgwsgi --ready` (PostgREST's flag for health checks) with ENV: its exit status."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PGRST_")}
    done = subprocess.run([sys.executable, "-m", "pgwsgi", "--ready"], env={**clean, **env}, timeout=30, check=False)
    return done.returncode


def test_dump_config_without_a_database(pg_server: Server, test_db: str) -> None:
    env = server_env(pg_server, test_db)
    env["PGRST_DB_URI"] = f"postgresql://nobody@127.0.0.1:{free_port()}/nothing"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PGRST_")}
    done = subprocess.run(
        [sys.executable, "-m", "pgwsgi", "--dump-config"], env={**clean, **env}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert 'db-anon-role = "pgwsgi_anon"' in done.stdout
    assert "showing the configuration without it" in done.stderr
