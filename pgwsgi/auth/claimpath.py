"""`jwt-role-claim-key`: where the role lives in the JWT claims (A-ROLE-PATH, A-ROLE-PATH-OLD).

Two syntaxes, tried in this order, as PostgREST v16 does:

* RFC 9535 JSONPath starting with `$` (`$.role`, `$['https://x/role'].key`,
  `$.roles[?(@ == 'author')]`, `$.roles[?search(@, '^au')]`): auth/jsonpath.py.
* The deprecated pre-v16 DSL: `.key`, `."quoted key"`, `[idx]` and one final
  filter `[?(@ OP "str")]` with OP one of `==`, `!=`, `^==`, `==^`, `*==`.

`compile_role_path(text)` returns a `RolePath`; `RolePath.first(claims)` gives the
first value found or the default.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pgwsgi.auth.jsonpath import JsonPathError, compile_jsonpath


@dataclass(frozen=True)
class RolePath:
    """A compiled `jwt-role-claim-key`."""

    text: str
    deprecated: bool
    _run: Callable[[Any], list]
    canonical: str = ""  # deprecated paths: the form PostgREST prints in its warning

    def find(self, claims: Any) -> list[Any]:
        """Every value the path selects, in PostgREST's order."""
        return self._run(claims)

    def first(self, claims: Any, default: Any = None) -> Any:
        """The first selected value (JSON null included), else `default`."""
        found = self._run(claims)
        return found[0] if found else default


def compile_role_path(text: str) -> RolePath:
    """Parse `text` as JSONPath, else as the deprecated DSL; ValueError if neither."""
    try:
        return RolePath(text, False, compile_jsonpath(text))
    except JsonPathError as exc:
        jsonpath_error = exc
    try:
        run, canonical = _parse_deprecated(text)
        return RolePath(text, True, run, canonical)
    except JsonPathError as exc:
        reason = jsonpath_error if text.startswith("$") else exc
        raise ValueError(f"failed to parse role-claim-key value ({text}): {reason}") from None


_OLD_OPS: dict[str, Callable[[str, str], bool]] = {
    # PostgREST tries `==^` before `==`, so order matters here too.
    "==^": lambda pat, s: s.endswith(pat),
    "==": lambda pat, s: s == pat,
    "!=": lambda pat, s: s != pat,
    "^==": lambda pat, s: s.startswith(pat),
    "*==": lambda pat, s: pat in s,
}


_OLD_STEP = re.compile(
    r"""
    \.(?:(?P<key>[\w$@]+)|"(?P<qkey>[^"]*)")
  | \[(?P<idx>[0-9]+)\]
  | \[\?\(@\s*(?P<op>==\^|==|!=|\^==|\*==)\s*"(?P<pat>[^"]*)"\)\]\Z
""",
    re.VERBOSE,
)


def _parse_deprecated(text: str) -> tuple[Callable[[Any], list], str]:
    steps: list[tuple[str, Any]] = []
    i = 0
    while i < len(text):
        m = _OLD_STEP.match(text, i)
        if not m:
            raise JsonPathError(f"unexpected input at position {i}")
        if m["idx"] is not None:
            steps.append(("idx", int(m["idx"])))
        elif m["op"] is not None:
            steps.append(("filter", (m["op"], m["pat"])))
        else:
            steps.append(("key", m["key"] if m["key"] is not None else m["qkey"]))
        i = m.end()
    if not steps:
        raise JsonPathError("empty path")

    def run(claims: Any) -> list:
        value = claims
        for kind, arg in steps:
            if (kind == "key" and isinstance(value, dict) and arg in value) or (
                kind == "idx" and isinstance(value, list) and arg < len(value)
            ):
                value = value[arg]
            elif kind == "filter" and isinstance(value, list):
                op, pattern = arg
                hits = [v for v in value if isinstance(v, str) and _OLD_OPS[op](pattern, v)]
                return hits[:1]
            else:
                return []
        return [value]

    return run, "".join(_dump_step(kind, arg) for kind, arg in steps)


def _dump_step(kind: str, arg: Any) -> str:
    if kind == "key":
        return "." + json.dumps(arg, ensure_ascii=False)
    if kind == "idx":
        return f"[{arg}]"
    return f"[?(@ {arg[0]} {json.dumps(arg[1], ensure_ascii=False)})]"
