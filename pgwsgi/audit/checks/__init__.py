"""The database checks of `pgwsgi audit`: each turns catalog facts into findings (docs/security.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from pgwsgi.audit.checks.functions import (
    dangerous_function_executable,
    function_search_path_mutable,
    security_definer_function_executable_by_anon,
)
from pgwsgi.audit.checks.policies import (
    multiple_permissive_policies,
    policy_exists_rls_disabled,
    rls_disabled_in_exposed,
    rls_enabled_no_policy,
    rls_initplan,
    rls_policy_always_true,
    security_definer_view,
)
from pgwsgi.audit.checks.relations import (
    extension_in_public,
    foreign_table_in_api,
    materialized_view_in_api,
    sensitive_columns_exposed,
    unindexed_foreign_keys,
)
from pgwsgi.audit.checks.roles import (
    anon_writable,
    authenticator_privileged,
    authenticator_superuser,
    public_schema_create,
    request_role_owns_exposed,
)
from pgwsgi.audit.model import Facts, Finding

CHECKS: tuple[Callable[[Facts], Iterator[Finding]], ...] = (
    authenticator_superuser,
    authenticator_privileged,
    request_role_owns_exposed,
    anon_writable,
    public_schema_create,
    rls_disabled_in_exposed,
    rls_enabled_no_policy,
    policy_exists_rls_disabled,
    rls_policy_always_true,
    rls_initplan,
    multiple_permissive_policies,
    security_definer_view,
    function_search_path_mutable,
    security_definer_function_executable_by_anon,
    dangerous_function_executable,
    sensitive_columns_exposed,
    materialized_view_in_api,
    foreign_table_in_api,
    unindexed_foreign_keys,
    extension_in_public,
)
