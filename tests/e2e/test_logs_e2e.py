"""What gunicorn with deploy/gunicorn.conf.py logs: requests by log-level, one line per database failure."""

from __future__ import annotations

import time
from pathlib import Path

from tests.conftest import ROOT, Server
from tests.e2e.conftest import fetch, free_port, server_env

CONF = ROOT / "deploy" / "gunicorn.conf.py"


def _log(tmp_path: Path, base: str) -> str:
    return (tmp_path / f"gunicorn-{base.rsplit(':', 1)[1]}.log").read_text()


def test_log_level_warn_logs_only_failed_requests(gunicorn, pg_server: Server, test_db: str, tmp_path: Path) -> None:  # noqa: ANN001
    base = gunicorn(server_env(pg_server, test_db, PGRST_LOG_LEVEL="warn"), workers=1, conf=CONF)
    assert fetch(f"{base}/items?select=id&id=eq.1")[0] == 200
    assert fetch(f"{base}/no_such_table")[0] == 404
    time.sleep(0.5)
    log = _log(tmp_path, base)
    assert '"GET /no_such_table HTTP/1.1" 404' in log
    assert "GET /items" not in log


def test_a_database_that_is_down_is_said_once_per_attempt(
    gunicorn, pg_server: Server, test_db: str, tmp_path: Path
) -> None:  # noqa: ANN001
    env = server_env(pg_server, test_db)
    env["PGRST_DB_URI"] = f"postgresql://nobody@127.0.0.1:{free_port()}/nothing"
    base = gunicorn(env, workers=1, conf=CONF)
    time.sleep(1.5)
    log = _log(tmp_path, base)
    assert "Listener connection failed" in log
    # psycopg's pool said each failure again, in its own words.
    assert "error connecting in 'pgwsgi'" not in log


def test_start_up_lines_as_postgrest(gunicorn, pg_server: Server, test_db: str, tmp_path: Path) -> None:  # noqa: ANN001
    base = gunicorn(server_env(pg_server, test_db, PGRST_ADMIN_SERVER_PORT=str(free_port())), workers=2, conf=CONF)
    time.sleep(1.0)
    log = _log(tmp_path, base)
    # Once for the instance (the master says them), whatever log-level: PostgREST's Logger.hs wording.
    assert log.count("Starting PostgREST 16.1 (pgwsgi ") == 1
    assert log.count(f"API server listening on {base}") == 1
    assert log.count("Successfully connected to PostgreSQL ") == 1
    assert log.count("Admin server listening on ") == 1


def test_a_superuser_authenticator_stops_gunicorn(gunicorn, pg_server: Server, test_db: str, tmp_path: Path) -> None:  # noqa: ANN001
    # Issue 14: db-uri's role is the server's superuser, so it would see every row.
    env = server_env(pg_server, test_db)
    env["PGRST_DB_URI"] = pg_server.dsn(test_db)
    try:
        base = gunicorn(env, workers=1, conf=CONF)
    except RuntimeError as exc:  # it may stop before it even listens
        log = str(exc)
    else:
        master = gunicorn.processes[-1]
        assert master.wait(timeout=30) != 0
        log = _log(tmp_path, base)
    assert f"Refusing to serve: {pg_server.user} is a superuser" in log


def test_error_findings_of_the_audit_are_logged_at_start(
    gunicorn, pg_server: Server, test_db: str, tmp_path: Path
) -> None:  # noqa: ANN001
    # Allowed to serve as the superuser, the instance still says, once, what the audit finds.
    env = server_env(pg_server, test_db, PGRST_DB_ALLOW_PRIVILEGED_AUTHENTICATOR="true")
    env["PGRST_DB_URI"] = pg_server.dsn(test_db)
    base = gunicorn(env, workers=2, conf=CONF)
    assert fetch(f"{base}/items?select=id&id=eq.1")[0] == 200
    time.sleep(0.5)
    log = _log(tmp_path, base)
    line = (
        f"Warning: security audit error authenticator_superuser on {pg_server.user}: The authenticator "
        f"{pg_server.user} is a superuser"
    )
    assert log.count(line) == 1
    # One line per error-level finding, each naming its id; warnings and information are left to `pgwsgi audit`.
    audit_lines = [x for x in log.splitlines() if "Warning: security audit " in x]
    assert all(x.endswith("(pgwsgi audit shows the fix)") for x in audit_lines)
    assert not any("dangerous_function_executable" in x for x in audit_lines)
