"""Which requests gunicorn's access log shows: PostgREST's rule by log-level (Logger.hs, shouldLogResponse)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from gunicorn.config import Config as GunicornConfig

from pgwsgi.http.accesslog import AccessLogger


@pytest.mark.parametrize(
    ("level", "logged"),
    [
        ("crit", []),
        ("error", [500, 503]),
        ("warn", [404, 500, 503]),
        ("info", [200, 201, 404, 500, 503]),
        ("debug", [200, 201, 404, 500, 503]),
    ],
)
def test_the_log_level_chooses_the_statuses_logged(monkeypatch, level: str, logged: list[int]) -> None:  # noqa: ANN001
    monkeypatch.setenv("PGRST_LOG_LEVEL", level)
    monkeypatch.delenv("PGRST_CONFIG", raising=False)
    logger = AccessLogger(GunicornConfig())
    seen: list[int] = []
    monkeypatch.setattr("gunicorn.glogging.Logger.access", lambda self, resp, *_: seen.append(resp.status_code))
    for status in (200, 201, 404, 500, 503):
        resp: Any = SimpleNamespace(status_code=status, status=f"{status} X")
        logger.access(resp, None, {}, None)
    assert seen == logged
