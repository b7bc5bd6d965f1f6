"""The curl toolkit in deploy/admin against a real gunicorn with the admin server (smoke.sh: test_smoke_e2e.py)."""

from __future__ import annotations

import os
import subprocess

from tests.conftest import ROOT, Server
from tests.e2e.conftest import eventually, fetch, free_port, server_env
from tests.e2e.test_admin_e2e import _status

ADMIN = ROOT / "deploy" / "admin"
CONF = ROOT / "deploy" / "gunicorn.conf.py"


def _run(script: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ADMIN / script), *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=60
    )


def test_health_metrics_and_reload_scripts(gunicorn, pg_server: Server, test_db: str) -> None:  # noqa: ANN001
    admin_port = free_port()
    env = server_env(pg_server, test_db, PGRST_ADMIN_SERVER_PORT=str(admin_port), PGRST_SERVER_HOST="127.0.0.1")
    base = gunicorn({**env, "PGWSGI_ACCESS_LOG": ""}, workers=2, conf=CONF)
    admin = {"PGWSGI_ADMIN_URL": f"http://127.0.0.1:{admin_port}"}
    assert eventually(lambda: _status(f"{admin['PGWSGI_ADMIN_URL']}/ready") == 200)

    health = _run("health.sh", admin)
    assert (health.returncode, health.stdout) == (0, "live:  200\nready: 200\n")

    for _ in range(5):
        fetch(f"{base}/items?select=id&limit=1")
    fetch(f"{base}/no_such_table")
    metrics = _run("metrics.sh", admin)
    assert metrics.returncode == 0, metrics.stderr
    lines = metrics.stdout.splitlines()
    assert lines[0].startswith("requests:")
    assert "4xx 1" in lines[0]
    assert lines[1].startswith("pool:") and "of 4" in lines[1]
    assert lines[2].startswith("schema cache:")

    # reload-schema.sh: NOTIFY through psql, as the authenticator may.
    notify = _run("reload-schema.sh", {"PGRST_DB_URI": env["PGRST_DB_URI"]})
    assert notify.returncode == 0, notify.stderr
    config = _run("reload-schema.sh", {"PGRST_DB_URI": env["PGRST_DB_URI"]}, "config")
    assert config.returncode == 0, config.stderr

    # token.sh: a token the server accepts for that role.
    minted = _run(
        "token.sh",
        {"PGWSGI_BIN": str(ROOT / ".venv" / "bin" / "pgwsgi"), **env},
        "pgwsgi_user",
        "sub=alice",
        "exp=600",
    )
    assert minted.returncode == 0, minted.stderr
    jwt = minted.stdout.strip()
    status, _, _ = fetch(f"{base}/items?select=id&limit=1", {"Authorization": f"Bearer {jwt}"})
    assert status == 200
    assert fetch(f"{base}/items", {"Authorization": f"Bearer {jwt}x"})[0] == 401

    # Nothing answers: health.sh says so and fails.
    down = _run("health.sh", {"PGWSGI_ADMIN_URL": f"http://127.0.0.1:{free_port()}"})
    assert (down.returncode, down.stdout) == (1, "live:  000\nready: 000\n")
