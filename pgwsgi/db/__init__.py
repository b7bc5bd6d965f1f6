"""The db stage, the only package doing I/O on request SQL: the pool, and each request's one transaction.

`run` executes a plan's statements in one transaction (checks before commit in
`checks`); `scan_keys` reads the keys of a body too large to parse in Python.
"""

from pgwsgi.db.pool import Database
from pgwsgi.db.transaction import NO_RESULT, TxResult, run, scan_keys

__all__ = ["NO_RESULT", "Database", "TxResult", "run", "scan_keys"]
