"""deploy/admin/smoke.sh against the demo served by a real gunicorn with deploy/demo/pgwsgi.conf."""

from __future__ import annotations

import os
import subprocess

from tests.conftest import ROOT, Server, database

DEMO = ROOT / "deploy" / "demo"


def test_smoke_script_passes_on_the_demo(gunicorn, pg_server: Server) -> None:  # noqa: ANN001
    # schema.sql creates the demo's own roles (authenticator, web_anon, ...), as `make run` loads it.
    with database(pg_server, f"pgwsgi_smoke_{os.getpid()}", DEMO / "schema.sql") as name:
        # The demo's config file, with the database URI given as the environment overrides it.
        base = gunicorn(
            {"PGRST_CONFIG": str(DEMO / "pgwsgi.conf"), "PGRST_DB_URI": pg_server.dsn(name, "authenticator")},
            workers=1,
        )
        env = {**os.environ, "PGWSGI_URL": base}
        default = subprocess.run(
            [str(ROOT / "deploy/admin/smoke.sh")], env=env, capture_output=True, text=True, timeout=60
        )
        assert default.returncode == 0, default.stdout + default.stderr
        assert default.stdout.splitlines() == [
            "ok    GET / -> 200",
            "ok    GET /pgwsgi_smoke_no_such_table -> 404",
            f"all checks passed against {base}",
        ]
        # The README's example checks: anonymous may read notes, not users.
        demo = subprocess.run(
            [str(ROOT / "deploy/admin/smoke.sh"), "/notes=200", "/users=401"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert demo.returncode == 0, demo.stdout + demo.stderr
