"""pgwsgi.http.signals without gunicorn: where SIGUSR1 is taken over, and when 'reload config' may signal."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

from pgwsgi.http import signals


class Catalog:
    def __init__(self) -> None:
        self.reloaded = threading.Event()

    def reload(self) -> Any:
        self.reloaded.set()


def test_sigusr1_keeps_the_workers_handler_and_reloads_the_catalog() -> None:
    seen: list[int] = []
    before = signal.signal(signal.SIGUSR1, lambda signum, frame: seen.append(signum))
    try:
        catalog = Catalog()
        signals.install(catalog)
        os.kill(os.getpid(), signal.SIGUSR1)
        assert catalog.reloaded.wait(5)
        assert seen == [signal.SIGUSR1]  # gunicorn's own handler (reopen the logs) still runs
    finally:
        signal.signal(signal.SIGUSR1, before)


def test_outside_a_gunicorn_worker_sigusr1_is_left_alone() -> None:
    before = signal.signal(signal.SIGUSR1, signal.SIG_DFL)
    try:
        signals.install(Catalog())
        assert signal.getsignal(signal.SIGUSR1) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGUSR1, before)


def test_reload_config_signals_only_a_master_that_turns_sigusr2_into_a_reload(monkeypatch) -> None:  # noqa: ANN001
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: sent.append((pid, sig)))
    monkeypatch.delenv(signals.CONFIG_RELOAD_ENV, raising=False)
    assert signals.request_config_reload() is False
    monkeypatch.setenv(signals.CONFIG_RELOAD_ENV, "USR2")
    assert signals.request_config_reload() is True
    assert sent == [(os.getppid(), signal.SIGUSR2)]
