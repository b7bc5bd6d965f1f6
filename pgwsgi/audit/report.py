"""`pgwsgi audit --format text` and `--format json`."""

from __future__ import annotations

import json
import textwrap

from pgwsgi.audit.model import LEVELS
from pgwsgi.audit.run import Report

_HEADINGS = {"error": "ERRORS", "warn": "WARNINGS", "info": "INFORMATION"}


def summary(report: Report) -> str:
    """One line: what was audited and how many findings of each level."""
    f = report.facts
    counts = ", ".join(f"{report.count(level)} {level}" for level in LEVELS)
    return (
        f"pgwsgi audit of database {f.database} as {f.authenticator['role']} "
        f"(db-schemas: {', '.join(f.schemas)}; request roles: {', '.join(f.role_names) or 'none'}): {counts}"
    )


def as_text(report: Report) -> str:
    """The findings grouped by level, each with its fix."""
    lines = [summary(report)]
    for level in LEVELS:
        found = [f for f in report.findings if f.level == level]
        if not found:
            continue
        lines += ["", f"{_HEADINGS[level]} ({len(found)})"]
        for f in found:
            lines.append(f"  [{f.id}] {f.object}")
            lines += textwrap.wrap(f.message, 100, initial_indent="    ", subsequent_indent="    ")
            lines += textwrap.wrap(f"fix: {f.fix}", 100, initial_indent="    ", subsequent_indent="         ")
    if not report.findings:
        lines += ["", "No findings."]
    return "\n".join(lines) + "\n"


def as_json(report: Report) -> str:
    """`{"findings": [{"id", "level", "object", "message", "fix"}, ...]}`."""
    return json.dumps({"findings": [f.as_json() for f in report.findings]}, indent=2, ensure_ascii=False) + "\n"
