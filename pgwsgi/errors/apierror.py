"""`ApiError`: every failure a client can see, as the value PostgREST would send."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

JSON_CT = "application/json; charset=utf-8"


@dataclass
class ApiError(Exception):
    """An error answered to the client as `{code, message, details, hint}`.

    `code` is a PGRSTnnn code, a SQLSTATE or a code a `RAISE SQLSTATE 'PGRST'`
    chose; `headers` are sent with it and `status_text` replaces the reason phrase.
    """

    status: int
    code: str
    message: str
    details: Any = None
    hint: Any = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    status_text: str | None = None

    def __post_init__(self) -> None:
        Exception.__init__(self, f"{self.code}: {self.message}")

    def body(self, verbosity: str = "verbose") -> bytes:
        """The JSON body; `minimal` verbosity keeps only code and message."""
        if verbosity == "minimal":
            doc: dict[str, Any] = {"code": self.code, "message": self.message}
        else:
            doc = {"code": self.code, "details": self.details, "hint": self.hint, "message": self.message}
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
