"""Server-Timing on the root and on OPTIONS, with PostgREST's stage names (ServerTimingSpec)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from werkzeug.test import Client


def stages(header: str) -> list[str]:
    """The stage names of a Server-Timing value, checking each has a duration."""
    parts = header.split(", ")
    assert all(re.fullmatch(r"\w+;dur=\d+\.\d", p) for p in parts), header
    return [p.partition(";")[0] for p in parts]


def test_root_lists_every_stage(make_client: Callable[..., Client]) -> None:
    client = make_client(server_timing_enabled=True)
    r = client.head("/")
    assert r.status_code == 200
    assert stages(r.headers["Server-Timing"]) == ["jwt", "parse", "plan", "transaction", "response"]


@pytest.mark.parametrize("path", ["/", "/items", "/rpc/pre_request"])
def test_options_has_no_plan_or_transaction_stage(make_client: Callable[..., Client], path: str) -> None:
    client = make_client(server_timing_enabled=True)
    r = client.options(path)
    assert r.status_code == 200
    assert stages(r.headers["Server-Timing"]) == ["jwt", "parse", "response"]
