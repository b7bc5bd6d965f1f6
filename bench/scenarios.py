"""The URLs `make bench` measures, shared by bench.run, bench.profile and bench.soak.

A module of its own so that bench.profile and bench.soak need not import
bench.run (which imports them): `python -m bench.run` would otherwise load
run.py twice, once as __main__ and once as bench.run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "deploy" / "demo" / "pgwsgi.conf"
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Scenario:
    """One URL, and the JWT claims of its caller (None: anonymous)."""

    name: str
    path: str
    query: str
    claims: dict[str, Any] | None
    about: str
    rows: int = 1  # top-level rows the response must hold (checked before measuring)


ALICE = {"role": "web_user", "sub": "alice"}

SCENARIOS = (
    Scenario("anon-pk", "/notes", "id=eq.3", None, "anonymous GET of one public note by primary key (RLS: is_public)"),
    Scenario(
        "jwt-pk",
        "/notes",
        "id=eq.1",
        ALICE,
        "alice's JWT, GET of her private note by primary key (RLS: is_public or owner = sub)",
    ),
    Scenario(
        "embed-2",
        "/bench_orders",
        "select=id,bench_customers(name),bench_items(qty)&order=id&limit=20",
        None,
        "anonymous GET of 20 orders, each with its customer (many-to-one) and its items (one-to-many)",
        rows=20,
    ),
    Scenario(
        "embed-20",
        "/bench_orders",
        "select=id,placed_at,bench_customers(name),bench_items(qty,bench_products(name,price))&order=id&limit=20",
        None,
        "anonymous GET of 20 orders with customer, items and each item's product (3 levels)",
        rows=20,
    ),
)


def app_env(auth_dsn: str) -> dict[str, str]:
    """Exactly what the workers get: the demo file plus these PGRST_* variables."""
    return {"PGRST_CONFIG": str(CONF), "PGRST_DB_URI": auth_dsn, "PGRST_LOG_LEVEL": "error", "PGRST_DB_POOL": "1"}
