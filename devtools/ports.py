"""Local ports for the private servers of tests and benchmarks: a free one, and waiting until one listens."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(
    port: int,
    proc: subprocess.Popen[bytes] | None = None,
    seconds: float = 10,
    why: Callable[[], str] | None = None,
) -> None:
    """Wait until something listens on 127.0.0.1:PORT.

    RuntimeError with WHY() (or a plain message) if PROC exits or SECONDS pass first.
    """
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
                raise RuntimeError(why() if why else f"nothing listens on 127.0.0.1:{port}") from None
            time.sleep(0.05)
