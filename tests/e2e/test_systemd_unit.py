"""deploy/pgwsgi.service passes `systemd-analyze verify` (where systemd is installed)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

ANALYZE = shutil.which("systemd-analyze")


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed (no systemd here)")
def test_the_unit_verifies(tmp_path: Path) -> None:
    # Only what must exist on the machine verifying it changes: the gunicorn the unit starts,
    # its working folder and its user (the unit names /opt/pgwsgi and a pgwsgi user).
    unit = (ROOT / "deploy" / "pgwsgi.service").read_text()
    unit = unit.replace("/opt/pgwsgi/venv/bin/gunicorn", str(Path(sys.executable).parent / "gunicorn"))
    unit = unit.replace("WorkingDirectory=/opt/pgwsgi", f"WorkingDirectory={tmp_path}")
    unit = unit.replace("User=pgwsgi", "User=root").replace("Group=pgwsgi", "Group=root")
    (tmp_path / "pgwsgi.service").write_text(unit)
    assert ANALYZE is not None
    done = subprocess.run([ANALYZE, "verify", str(tmp_path / "pgwsgi.service")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
