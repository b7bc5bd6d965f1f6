"""Server-Timing (O-SERVER-TIMING): how long each pipeline stage of a request took.

`StageTimer.lap(name)` records the time since the previous lap (or the timer's
creation) under NAME; `header()` renders PostgREST's value, milliseconds with one
decimal: `jwt;dur=0.1, parse;dur=0.2, plan;dur=0.3, transaction;dur=1.4, response;dur=0.1`.
When server-timing-enabled is off the app uses `NO_TIMING`, which reads no clock.
"""

from __future__ import annotations

from time import perf_counter


class StageTimer:
    """Consecutive stage durations of one request."""

    __slots__ = ("_last", "laps")

    def __init__(self) -> None:
        self.laps: list[tuple[str, float]] = []
        self._last = perf_counter()

    def lap(self, name: str) -> None:
        """End stage NAME now; the next stage starts now."""
        now = perf_counter()
        self.laps.append((name, (now - self._last) * 1000.0))
        self._last = now

    def header(self) -> str | None:
        """The Server-Timing header value."""
        return ", ".join(f"{name};dur={ms:.1f}" for name, ms in self.laps)


class _NoTiming:
    """The timer used when Server-Timing is disabled: does nothing."""

    __slots__ = ()

    def lap(self, name: str) -> None:
        pass

    def header(self) -> str | None:
        return None


Timer = StageTimer | _NoTiming
NO_TIMING = _NoTiming()
