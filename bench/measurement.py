"""One measured run, whatever the tool, and the statistics both tools share."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Measurement:
    """Throughput, latency and errors of one tool on one scenario."""

    scenario: str
    tool: str  # "pgwsgi" (HTTP through wrk) or "pgbench" (SQL only)
    requests: int  # completed requests / transactions
    duration_s: float
    rps: float  # requests (or transactions) per second
    p50_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    errors: int  # non-2xx, socket errors, failed or aborted transactions
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def percentile(sorted_values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile of an ascending sequence (None when empty).

    Nearest rank, not interpolation: wrk reports observed values too, so the
    two tools' p99 mean the same thing.
    """
    if not sorted_values:
        return None
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]
