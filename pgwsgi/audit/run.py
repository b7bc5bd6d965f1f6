"""Running an audit: connect as the authenticator, read the facts, apply every check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from pgwsgi.audit.checks import CHECKS
from pgwsgi.audit.facts import read_facts
from pgwsgi.audit.model import Facts, Finding, sort_findings
from pgwsgi.audit.settings import db_anon_role_missing, db_schemas_internal, jwt_secret_weak
from pgwsgi.config import Config
from pgwsgi.db.pool import connect_kwargs

# The audit reads the catalog only: a few tens of milliseconds. Never let it hang a deploy or a start.
LIMITS: dict[str, Any] = {"connect_timeout": 10, "options": "-c statement_timeout=10s"}


@dataclass(frozen=True)
class Report:
    """An audit's findings, most severe first, and the facts they were found in."""

    facts: Facts
    findings: list[Finding]

    def count(self, level: str) -> int:
        """How many findings have LEVEL."""
        return sum(1 for f in self.findings if f.level == level)

    @property
    def exit_status(self) -> int:
        """1 when any finding is an error (a deploy gate), else 0."""
        return 1 if self.count("error") else 0


def audit(config: Config, admin_dsn: str | None = None) -> Report:
    """Audit the API CONFIG describes, reading the catalog as db-uri's role (or through ADMIN_DSN).

    Raises psycopg.Error when the database cannot be reached or read.
    """
    kwargs = {**connect_kwargs(config), **LIMITS, "autocommit": False}
    with psycopg.connect(config.db_uri, **kwargs) as conn:
        # session_user, not current_user: a role setting could have switched roles already.
        authenticator, where = _identify(conn)
        if admin_dsn:
            with psycopg.connect(admin_dsn, **LIMITS) as admin:
                _, admin_where = _identify(admin)
                if admin_where != where:
                    # Auditing another database would pass a deploy gate for the wrong reasons.
                    raise LookupError(f"--admin-dsn reaches {admin_where}, db-uri reaches {where}")
                facts = read_facts(admin, authenticator, config.db_anon_role, config.db_schemas)
        else:
            facts = read_facts(conn, authenticator, config.db_anon_role, config.db_schemas)
    return Report(facts, check(config, facts))


def _identify(conn: psycopg.Connection[Any]) -> tuple[str, str]:
    """Who CONN logged in as, and which database of which cluster it reaches."""
    row = conn.execute(
        "select session_user, pg_catalog.current_database(), pg_catalog.current_setting('port'),"
        # (Its EXECUTE may have been revoked: then the database and port must do.)
        " case when pg_catalog.has_function_privilege('pg_catalog.pg_control_system()', 'execute')"
        " then (select system_identifier::text from pg_catalog.pg_control_system()) end"
    ).fetchone()
    conn.rollback()
    assert row is not None
    return str(row[0]), f"database {row[1]} (port {row[2]}, system {row[3]})"


def check(config: Config, facts: Facts) -> list[Finding]:
    """Every finding of CONFIG and FACTS, sorted."""
    findings = [f for rule in CHECKS for f in rule(facts)]
    findings += jwt_secret_weak(config)
    findings += db_schemas_internal(config, facts)
    findings += db_anon_role_missing(config, facts)
    return sort_findings(findings)
