"""A worker's figures for /metrics, in PostgREST's names, written for the master to add up.

prometheus_client's multiprocess mode keeps each worker's values in files of
PROMETHEUS_MULTIPROC_DIR, which the master's admin server reads on a scrape. It
must be in the environment before prometheus_client is imported, so the master's
hook sets it before any worker starts (admin/hooks.py); without it no figure is kept.
Per request only the request counter and histogram move; the pool, JWT cache and
schema cache figures are copied from their own counters once a second. With
db-read-replicas, each replica's pool figures come under `pgwsgi_db_replica_*`
labelled `replica="host:port/db"`, beside the primary's, whose names stay PostgREST's.
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
    def replica_stats(self) -> dict[str, dict[str, int]]: ...
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
        # How many live workers have published figures: /ready waits for all of them, since
        # livemin above says nothing about a worker that has not published yet.
        self.reporting = Gauge(
            "pgwsgi_workers_reporting", "Workers that have published their figures", multiprocess_mode="livesum"
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
        # Only with db-read-replicas, so that a server without them shows no empty families.
        self.replicas = ReplicaMetrics() if sources.replica_stats() else None
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
        self.reporting.set(1)
        if self.replicas is not None:
            self.replicas.publish(self.sources.replica_stats(), self._grow)

    def _grow(self, counter: Any, name: str, value: float) -> None:
        grown = value - self._seen.get(name, 0)
        if grown > 0:
            counter.inc(grown)
        self._seen[name] = value


class ReplicaMetrics:
    """The read replicas' figures (db/replicas.py): each replica's pool and health, and where transactions ran."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge

        per_replica = ["replica"]
        self.available = Gauge(
            "pgwsgi_db_replica_available", "Idle connections to a replica", per_replica, multiprocess_mode="livesum"
        )
        self.waiting = Gauge(
            "pgwsgi_db_replica_waiting",
            "Requests waiting for a connection to a replica",
            per_replica,
            multiprocess_mode="livesum",
        )
        self.max = Gauge(
            "pgwsgi_db_replica_max", "A replica's pool size over all workers", per_replica, multiprocess_mode="livesum"
        )
        self.healthy = Gauge(
            "pgwsgi_db_replica_healthy",
            "1 while every worker sends reads to a replica, 0 while one of them skips it",
            per_replica,
            multiprocess_mode="livemin",
        )
        self.timeouts = Counter(
            "pgwsgi_db_replica_timeouts", "Reads that waited out db-pool-acquisition-timeout on a replica", per_replica
        )
        self.failures = Counter("pgwsgi_db_replica_failures", "Times a replica was found failed", per_replica)
        self.transactions = Counter(
            "pgwsgi_db_transactions", 'Transactions run per pool: "primary" or a replica', ["pool"]
        )
        self.fallbacks = Counter("pgwsgi_db_replica_fallbacks", "Reads meant for a replica that ran on the primary")

    def publish(self, stats: dict[str, dict[str, int]], grow: Any) -> None:
        """Copy STATS (Replicas.stats): gauges as they are, counters through GROW (by what they grew)."""
        for label, figures in stats.items():
            if not label:
                grow(self.transactions.labels("primary"), "primary_routed", figures["routed"])
                grow(self.fallbacks, "replica_fallbacks", figures["fallbacks"])
                continue
            self.available.labels(label).set(figures["available"])
            self.waiting.labels(label).set(figures["waiting"])
            self.max.labels(label).set(figures["max"])
            self.healthy.labels(label).set(figures["healthy"])
            grow(self.timeouts.labels(label), f"replica_timeouts {label}", figures["timeouts"])
            grow(self.failures.labels(label), f"replica_failures {label}", figures["failures"])
            grow(self.transactions.labels(label), f"replica_routed {label}", figures["routed"])
