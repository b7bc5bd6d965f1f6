"""`pgwsgi audit --format html`: one self-contained page (no script, no external file)."""

from __future__ import annotations

from html import escape

from pgwsgi.audit import matrix
from pgwsgi.audit.model import LEVELS
from pgwsgi.audit.report import summary
from pgwsgi.audit.run import Report

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#222;max-width:110em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}
.level{font-weight:bold;text-transform:uppercase;font-size:.85em;padding:.1em .4em;border-radius:3px;color:#fff}
.error{background:#b00020}.warn{background:#b36b00}.info{background:#2d6cdf}
code{font-family:ui-monospace,monospace;font-size:.95em}
.rows{color:#555;font-size:.9em}.none{color:#aaa}
"""


def _cell(text: str) -> str:
    return f"<td>{escape(text)}</td>"


def as_html(report: Report) -> str:
    """The findings and the role x object matrix as one HTML page."""
    facts = report.facts
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>pgwsgi audit: {escape(facts.database)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>pgwsgi audit: {escape(facts.database)}</h1>",
        f'<p id="summary">{escape(summary(report))}</p>',
        '<h2 id="findings">Findings</h2>',
    ]
    if report.findings:
        out.append("<table><tr><th>Level</th><th>Id</th><th>Object</th><th>Message</th><th>Fix</th></tr>")
        for f in report.findings:
            out.append(
                f'<tr class="finding" data-id="{escape(f.id)}"><td><span class="level {escape(f.level)}">'
                f"{escape(f.level)}</span></td><td><code>{escape(f.id)}</code></td>"
                f"<td><code>{escape(f.object)}</code></td>{_cell(f.message)}{_cell(f.fix)}</tr>"
            )
        out.append("</table>")
    else:
        out.append("<p>No findings.</p>")
    counts = ", ".join(f"{report.count(level)} {level}" for level in LEVELS)
    out.append(f"<p>{escape(counts)}.</p>")
    out += [
        '<h2 id="matrix">Who may do what</h2>',
        "<p>Each exposed table, view and function, and for each request role (the anonymous role and every "
        "role the authenticator may become): the privileges it holds, and which rows they reach.</p>",
        "<table><tr><th>Object</th><th>Kind</th>"
        + "".join(f"<th>{escape(r)}</th>" for r in facts.role_names)
        + "</tr>",
    ]
    for line in matrix.build(facts):
        cells = "".join(
            f'<td><div>{escape(c.privileges)}</div><div class="rows">{escape(c.rows)}</div></td>'
            if c.privileges
            else '<td class="none">none</td>'
            for c in line.cells
        )
        out.append(f"<tr><td><code>{escape(line.object)}</code></td>{_cell(line.kind)}{cells}</tr>")
    out += ["</table>", "</body></html>", ""]
    return "\n".join(out)
