"""The sql stage: a Plan -> the statements of its transaction, as `psycopg.sql` compositions. Pure.

`fragments` are the leaves (columns, filters, paging, bodies) and import nothing
else from here; `readtree` builds the read tree (root and embeds) from them;
`read`, `mutate` and `call` build each kind of main statement on top; `settings`
is the statement that sets the role and the request GUCs. `compose` is the entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from pgwsgi.api.model import ApiRequest
from pgwsgi.auth import Identity
from pgwsgi.catalog.model import NO_ROLE_SETTINGS, RoleSettings
from pgwsgi.config import Config
from pgwsgi.plan.model import CallPlan, MutatePlan, Plan, ReadPlan, RootPlan
from pgwsgi.sql.call import compose_call
from pgwsgi.sql.explain import explain
from pgwsgi.sql.fragments import Query, Statement
from pgwsgi.sql.mutate import compose_mutation
from pgwsgi.sql.read import compose_count_explain, compose_read
from pgwsgi.sql.root import compose_root
from pgwsgi.sql.settings import pre_request_call, settings_for

__all__ = ["Statement", "Statements", "compose"]


@dataclass(frozen=True)
class Statements:
    """A request's transaction, in the order it runs: settings, pre-request, main, after."""

    settings: Statement
    pre_request: Query | None
    main: Statement
    after: Statement | None = None  # the EXPLAIN of a planned or estimated count


def compose(
    plan: Plan, req: ApiRequest, identity: Identity, config: Config, role: RoleSettings = NO_ROLE_SETTINGS
) -> Statements | None:
    """The statements for PLAN, or None when it needs no transaction; ROLE holds the role's own settings."""
    if plan.tx is None:
        return None
    action = plan.action
    head = req.method == "HEAD"
    after = None
    if isinstance(action, ReadPlan):
        main = compose_read(action, head)
        after = compose_count_explain(action)
    elif isinstance(action, MutatePlan):
        main = compose_mutation(action)
    elif isinstance(action, CallPlan):
        main = compose_call(action, head)
    elif isinstance(action, RootPlan):
        main = compose_root(action)
    else:
        raise TypeError(f"no statement for {type(action).__name__}")
    if plan.explain is not None:
        # The answer is the main statement's plan; no count EXPLAIN runs after it (M-PLAN).
        main, after = explain(main, plan.explain), None
    settings = settings_for(config, identity, req, plan.function, role.settings)
    return Statements(settings, pre_request_call(config.db_pre_request), main, after)
