"""Checks of functions: SECURITY DEFINER ones, and the built-in ones no request should call."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pgwsgi.audit.model import Facts, Finding, finding
from pgwsgi.audit.scope import roles_text


def _exposed_or_callable(facts: Facts) -> Iterator[dict[str, Any]]:
    for f in facts.functions:
        if f["exposed"] or f["executors"]:
            yield f


def function_search_path_mutable(facts: Facts) -> Iterator[Finding]:
    """A SECURITY DEFINER function that finds objects through the caller's search_path."""
    for f in _exposed_or_callable(facts):
        if f["security_definer"] and not f["pinned_search_path"]:
            yield finding(
                "function_search_path_mutable",
                f["signature"],
                f"{f['signature']} runs as its owner {f['owner']} (SECURITY DEFINER) but resolves names through the "
                "caller's search_path, which the caller controls.",
                f"ALTER FUNCTION {f['signature']} SET search_path = ''; and schema-qualify every name in its body.",
            )


def security_definer_function_executable_by_anon(facts: Facts) -> Iterator[Finding]:
    """An exposed SECURITY DEFINER function that anyone without a token may call."""
    if facts.anon is None:
        return
    for f in facts.functions:
        if f["exposed"] and f["security_definer"] and facts.anon in f["executors"]:
            yield finding(
                "security_definer_function_executable_by_anon",
                f["signature"],
                f"The anonymous role {facts.anon} may call {f['signature']}, which runs as {f['owner']}. Right for "
                "login and signup; anything else it does is open to everyone.",
                f"REVOKE EXECUTE ON FUNCTION {f['signature']} FROM PUBLIC, {facts.quote(facts.anon)}; unless it is meant to be "
                "public.",
            )


def dangerous_function_executable(facts: Facts) -> Iterator[Finding]:
    """Sleep, large-object, dblink and file functions a request role may execute."""
    for f in facts.dangerous_functions:
        if f["executors"]:
            yield finding(
                "dangerous_function_executable",
                f["signature"],
                f"Request roles ({roles_text(f['executors'])}) may execute {f['signature']}: a function that "
                "holds a connection, reaches other servers, or reads, writes or stores data outside the tables.",
                f"REVOKE EXECUTE ON FUNCTION {f['signature']} FROM PUBLIC; and from any request role granted it "
                "directly (docs/security.md has one statement for all of them).",
            )
