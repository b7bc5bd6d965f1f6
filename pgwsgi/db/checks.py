"""What a main statement's result must pass before its transaction commits.

A failed check raises the client's error and the transaction is rolled back, so
a write that would answer PGRST116 or PGRST124 leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pgwsgi.errors import max_affected_exceeded, not_singular, put_mismatch
from pgwsgi.plan.model import ActionPlan, CallPlan, MutatePlan, ReadPlan

Row = dict[str, Any]
Check = Callable[[Row], None]

_SINGULAR = ("object", "object-stripped")


def check_for(action: ActionPlan) -> Check | None:
    """The check the result of ACTION's main statement must pass; None when no result can fail.

    Without a check the transaction ends in the same round trip as the main
    statement (db/transaction.py), so None is worth returning wherever it is true.
    """
    if isinstance(action, ReadPlan | MutatePlan) and action.explain is not None:
        return None  # an execution plan is answered as it is: no row count to check (M-PLAN)
    if isinstance(action, CallPlan) and action.read.explain is not None:
        return None
    if isinstance(action, ReadPlan):
        return _singular(action.media)
    if isinstance(action, MutatePlan):
        return _mutation(action)
    if isinstance(action, CallPlan):
        return _call(action)
    return None


def _singular(media: str) -> Check | None:
    """A singular response (T-SINGULAR) must be exactly one row (PGRST116)."""
    if media not in _SINGULAR:
        return None

    def check(row: Row) -> None:
        if row["page_total"] != 1:
            raise not_singular(row["page_total"])

    return check


def _mutation(plan: MutatePlan) -> Check | None:
    """A write: singular, max-affected (PGRST124), and PUT's one row (PGRST115)."""
    if plan.media not in _SINGULAR and plan.max_affected is None and plan.kind != "put":
        return None

    def check(row: Row) -> None:
        n = row["page_total"]
        if plan.media in _SINGULAR and n != 1:
            raise not_singular(n)
        if plan.max_affected is not None and n > plan.max_affected:
            raise max_affected_exceeded(n)
        if plan.kind == "put" and n != 1:
            raise put_mismatch()

    return check


def _call(plan: CallPlan) -> Check | None:
    """A call: singular, and max-affected with handling=strict (PGRST124)."""
    singular = _singular(plan.read.media)
    if singular is None and plan.max_affected is None:
        return None

    def check(row: Row) -> None:
        if singular is not None:
            singular(row)
        if plan.max_affected is not None and row["page_total"] > plan.max_affected:
            raise max_affected_exceeded(row["page_total"])

    return check
