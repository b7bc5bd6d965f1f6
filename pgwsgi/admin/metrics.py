"""A worker's figures for /metrics, in PostgREST's names, written for the master to add up.

prometheus_client's multiprocess mode keeps each worker's values in files of
PROMETHEUS_MULTIPROC_DIR, which the master's admin server reads on a scrape. It
must be in the environment before prometheus_client is imported, so the master's
hook sets it before any worker starts (admin/hooks.py); without it no figure is kept.
Per request only the request counter and histogram move; the pool, JWT cache and
schema cache figures are copied from their own counters once a second.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Protocol

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Latency buckets for one database transaction behind a sync worker, in seconds.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PUBLISH_SECONDS = 1.0


class Sources(Protocol):
    """Where a worker's figures come from: its pool, JWT cache and catalog holder."""

    def pool_stats(self) -> dict[str, int]: ...
    def jwt_stats(self) -> dict[str, int]: ...
    def catalog_stats(self) -> dict[str, float]: ...


def enabled() -> bool:
    """Whether the master collects figures (its hook set the multiprocess folder)."""
    return bool(os.environ.get(MULTIPROC_ENV))


def kind_of(path: str) -> str:
    """The kind of endpoint a path is, for the request figures: root, rpc or relation."""
    if path in ("", "/"):
        return "root"
    return "rpc" if path.startswith("/rpc/") else "relation"


class WorkerMetrics:
    """This worker's Prometheus metrics (only built when enabled())."""

    def __init__(self, sources: Sources) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        self.sources = sources
        self.requests = Counter("pgwsgi_requests", "Requests answered", ["method", "kind", "status"])
        self.latency = Histogram(
            "pgwsgi_request_duration_seconds", "Time to answer a request", ["method", "kind"], buckets=_BUCKETS
        )
        self.schema_loads = Counter("pgrst_schema_cache_loads", "Schema cache loads", ["status"])
        self.schema_time = Gauge(
            "pgrst_schema_cache_query_time_seconds",
            "Duration of the last schema cache load",
            multiprocess_mode="livemax",
        )
        self.schema_loaded = Gauge(
            "pgwsgi_schema_cache_loaded", "1 once every worker has a schema cache", multiprocess_mode="livemin"
        )
        self.pool_timeouts = Counter("pgrst_db_pool_timeouts", "Requests that waited out db-pool-acquisition-timeout")
        self.pool_available = Gauge("pgrst_db_pool_available", "Idle pool connections", multiprocess_mode="livesum")
        self.pool_waiting = Gauge(
            "pgrst_db_pool_waiting", "Requests waiting for a connection", multiprocess_mode="livesum"
        )
        self.pool_max = Gauge("pgrst_db_pool_max", "Pool size (db-pool) over all workers", multiprocess_mode="livesum")
        self.jwt_requests = Counter("pgrst_jwt_cache_requests", "JWT cache lookups")
        self.jwt_hits = Counter("pgrst_jwt_cache_hits", "JWT cache hits")
        self.jwt_evictions = Counter("pgrst_jwt_cache_evictions", "JWT cache evictions")
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._seen: dict[str, float] = {}
        self._stop = threading.Event()

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        """One answered request (a child per label set is looked up once)."""
        key = (method, kind_of(path), status)
        children = self._children.get(key)
        if children is None:
            children = (self.requests.labels(key[0], key[1], str(status)), self.latency.labels(key[0], key[1]))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def start(self) -> None:
        """Copy the pool, JWT and schema cache figures now and then every PUBLISH_SECONDS."""
        self.publish()
        threading.Thread(target=self._run, name="pgwsgi-metrics", daemon=True).start()

    def stop(self) -> None:
        """Stop copying."""
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(PUBLISH_SECONDS):
            self.publish()

    def publish(self) -> None:
        """Copy the current figures: gauges as they are, counters by what they grew since the last copy."""
        pool, jwt, catalog = self.sources.pool_stats(), self.sources.jwt_stats(), self.sources.catalog_stats()
        self.pool_available.set(pool["available"])
        self.pool_waiting.set(pool["waiting"])
        self.pool_max.set(pool["max"])
        self._grow(self.pool_timeouts, "timeouts", pool["timeouts"])
        self._grow(self.jwt_requests, "jwt_requests", jwt["requests"])
        self._grow(self.jwt_hits, "jwt_hits", jwt["hits"])
        self._grow(self.jwt_evictions, "jwt_evictions", jwt["evictions"])
        self._grow(self.schema_loads.labels("SUCCESS"), "loads_ok", catalog["loads_ok"])
        self._grow(self.schema_loads.labels("FAIL"), "loads_failed", catalog["loads_failed"])
        self.schema_time.set(catalog["last_load_seconds"])
        self.schema_loaded.set(1 if catalog["loaded"] else 0)

    def _grow(self, counter: Any, name: str, value: float) -> None:
        grown = value - self._seen.get(name, 0)
        if grown > 0:
            counter.inc(grown)
        self._seen[name] = value
