"""`pgwsgi audit`: the role, grant and row-level security set-up behind the API, checked.

run.audit(config) reads the catalog as the authenticator and returns a Report;
report.as_text / as_json and page.as_html print it (docs/security.md).
"""

from pgwsgi.audit.model import RULES, Finding
from pgwsgi.audit.run import Report, audit, check

__all__ = ["RULES", "Finding", "Report", "audit", "check"]
