"""The audit's pure parts: its documented ids, the per-row call detector, the secret estimate."""

from __future__ import annotations

import re
import secrets

import pytest

from pgwsgi.audit.checks import CHECKS
from pgwsgi.audit.checks.policies import outside_subqueries
from pgwsgi.audit.model import RULES
from pgwsgi.audit.settings import estimated_bits
from tests.conftest import ROOT


def test_every_id_is_documented_with_its_level() -> None:
    text = (ROOT / "docs" / "security.md").read_text()
    rows = dict(re.findall(r"^\| `(\w+)` \| ([\w /]+) \|", text, flags=re.M))
    assert set(rows) == set(RULES)
    for rule in RULES.values():
        assert rows[rule.id].split(" / ")[0] == rule.level, rule.id


def test_every_database_rule_has_a_check() -> None:
    names = {check.__name__ for check in CHECKS}
    assert names | {"jwt_secret_weak", "db_schemas_internal", "db_anon_role_missing"} == set(RULES)


@pytest.mark.parametrize(
    ("expr", "left"),
    [
        # As pg_get_expr prints them.
        ("(owner = ( SELECT current_setting('x'::text) AS current_setting))", "(owner = )"),
        ("(owner = current_setting('x'::text))", "(owner = current_setting('x'::text))"),
        ("((a = ( SELECT f((b)) AS f)) AND (c = g()))", "((a = ) AND (c = g()))"),
        # A parenthesis in a string literal does not end the subquery.
        ("(a = ( SELECT ')' AS x))", "(a = )"),
    ],
)
def test_outside_subqueries(expr: str, left: str) -> None:
    assert outside_subqueries(expr) == left


def test_the_secret_estimate_separates_random_from_repetitive() -> None:
    assert estimated_bits(b"reallyreallyreallyreallyverysafe") < 100
    assert estimated_bits(b"ab" * 32) < 100
    for _ in range(50):
        assert estimated_bits(secrets.token_hex(32).encode()) > 200
        assert estimated_bits(secrets.token_urlsafe(32).encode()) > 100
