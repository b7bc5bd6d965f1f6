"""PostgREST's reload signals in a gunicorn worker: SIGUSR1 reloads the schema cache.

gunicorn's worker already uses SIGUSR1 (reopen the log files): the handler keeps
doing that and also reloads the schema cache, in a thread of its own, since a
signal handler may interrupt a request that holds the catalog's lock. SIGUSR2,
PostgREST's config reload, belongs to gunicorn's master (where it would re-exec
the binary); pgwsgi's when_ready hook (admin/hooks.py) turns it into a graceful
reload of the workers, which re-read the config file, PGRST_* and the
in-database settings, and tells the workers so through CONFIG_RELOAD_ENV.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType
from typing import Any, Protocol

from pgwsgi.admin.hooks import CONFIG_RELOAD_ENV

log = logging.getLogger("pgwsgi")


class Reloadable(Protocol):
    """What a schema reload needs: the catalog holder's reload."""

    def reload(self) -> Any: ...


def install(catalog: Reloadable) -> None:
    """Make SIGUSR1 reload CATALOG too, when this process is a gunicorn worker (its handler is in place)."""
    if threading.current_thread() is not threading.main_thread():
        return  # signals can only be handled by the main thread (e.g. an app built in a test's thread)
    previous = signal.getsignal(signal.SIGUSR1)
    if not callable(previous):
        return  # not a gunicorn worker: nothing sends it PostgREST's signals

    def on_usr1(signum: int, frame: FrameType | None) -> None:
        previous(signum, frame)
        log.info("Reloading the schema cache (SIGUSR1)")
        threading.Thread(target=catalog.reload, name="pgwsgi-usr1-reload", daemon=True).start()

    signal.signal(signal.SIGUSR1, on_usr1)
    signal.siginterrupt(signal.SIGUSR1, False)


def request_config_reload() -> bool:
    """Ask gunicorn's master to reload the configuration (NOTIFY pgrst, 'reload config'); False if it cannot.

    Only a master with pgwsgi's hooks turns SIGUSR2 into a reload (it debounces
    the workers' requests into one); elsewhere SIGUSR2 would re-exec it.
    """
    if os.environ.get(CONFIG_RELOAD_ENV) != "USR2":
        return False
    os.kill(os.getppid(), signal.SIGUSR2)
    return True
