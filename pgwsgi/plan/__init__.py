"""The plan stage: an ApiRequest and the catalog snapshot -> a `Plan`, every name resolved.

Errors a client can cause against the catalog (unknown table, function or
column, no relationship, PGRST1xx/2xx) are raised here, before a connection is
taken. `build` is the entry; `model` is the contract; read, embed, mutate, call
and negotiate are the planners it dispatches to.
"""

from __future__ import annotations

from pgwsgi.api.model import ApiRequest
from pgwsgi.catalog.model import CatalogSnapshot
from pgwsgi.config import Config, is_jwks_url
from pgwsgi.errors import no_jwt_secret
from pgwsgi.plan.call import build_call, resolve_function, returns_jwt_claims
from pgwsgi.plan.model import Explain, FunctionInfo, Plan, RelationInfo, RootPlan, TxPlan
from pgwsgi.plan.mutate import build_mutation
from pgwsgi.plan.read import build_read, find_relation
from pgwsgi.plan.root import build_root

__all__ = ["Plan", "build"]


def build(req: ApiRequest, snapshot: CatalogSnapshot, config: Config) -> Plan:
    """The plan for REQ, chosen by what the request is (its action)."""
    action = req.action
    if action == "read":
        read = build_read(req, snapshot, config)
        return Plan(read, TxPlan(read_only=True, commit=_commit(req, config, read.explain)))
    if action == "mutate":
        plan = build_mutation(req, snapshot, config, req.payload)
        return Plan(plan, TxPlan(read_only=False, commit=_commit(req, config, plan.explain)))
    if action == "call":
        call = build_call(req, snapshot, config, req.body)
        # Only a JSON answer is a token; other media types get the claims as they are.
        sign = (
            config.jwt_sign_claims
            and returns_jwt_claims(call.function)
            and call.read.media in ("json", "object", "object-stripped")
            and call.read.explain is None  # an execution plan is no token (M-PLAN)
        )
        if sign and not config.jwt_secret:
            # Refused before the call runs, so a login function has no effect either.
            raise no_jwt_secret(f"{call.function.name} returns jwt_claims, which pgwsgi signs with jwt-secret.")
        if sign and is_jwks_url(config.jwt_secret or ""):
            # Public keys fetched from a URL verify tokens; they cannot sign one.
            raise no_jwt_secret(
                f"{call.function.name} returns jwt_claims, which pgwsgi cannot sign with keys fetched from a URL."
            )
        commit = _commit(req, config, call.read.explain)
        return Plan(call, TxPlan(read_only=call.read_only, commit=commit), sign_token=sign)
    if action == "relation-info":
        return Plan(RelationInfo(find_relation(req, snapshot)), None)
    if action == "function-info":
        overloads = snapshot.functions.get((req.schema, req.name), ())
        return Plan(FunctionInfo(resolve_function(req, snapshot, overloads, ())), None)
    root = build_root(req, snapshot, config)
    return Plan(root, TxPlan(read_only=True, commit=True) if isinstance(root, RootPlan) else None)


def _commit(req: ApiRequest, config: Config, explain: Explain | None = None) -> bool:
    """db-tx-end, with Prefer: tx overriding it where allowed (TX-END, H-PREFER-TX).

    An EXPLAIN ANALYZE (M-PLAN) really runs the statement; what it did is always
    rolled back, whatever db-tx-end and Prefer: tx say. (PostgREST commits it
    unless told otherwise; pgwsgi keeps a look at a plan from writing anything.)
    """
    if explain is not None and explain.analyze:
        return False
    end = config.db_tx_end
    wanted = req.preferences.tx
    if end == "commit-allow-override":
        return wanted != "rollback"
    if end == "rollback-allow-override":
        return wanted == "commit"
    return end == "commit"
