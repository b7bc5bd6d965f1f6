"""RFC 9535 JSONPath, the subset PostgREST's JSONPath library understands, over JSON values.

Name, index, slice and wildcard selectors, descendant segments, filters with
`||`, `&&`, `!`, parentheses, comparisons and existence tests, and the
`search()` and `match()` functions. Objects are visited in sorted key order, as
PostgREST's (aeson's) maps are. `compile_jsonpath(text)` gives a function from a
JSON value to the list of values the path selects; `JsonPathError` says why a
text is not such a path. jsonpath-rfc9535 was tried in its place and differs on
nested equality, negated literals, the regex dialect and error positions (see
tests/unit/test_claimpath.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

_T = TypeVar("_T")

_MISSING: Any = object()
_SPACES = " \t\n\r"
_MAX_INT = 9007199254740991
_INT = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_OPS = (">=", "<=", ">", "<", "!=", "==")
_ESC = r"\\[bfnrt/\\]|\\u[0-9a-fA-F]{4}"
_QUOTED = re.compile(rf"'((?:[^'\\\x00-\x1f]|\\'|{_ESC})*)'|\"((?:[^\"\\\x00-\x1f]|\\\"|{_ESC})*)\"")

Node = Callable[[Any, Any], list]  # (current value, root) -> node list


class JsonPathError(Exception):
    """The JSONPath grammar does not match at this position."""


def compile_jsonpath(text: str) -> Callable[[Any], list[Any]]:
    """TEXT as a function from a JSON value to the values it selects; JsonPathError if it is no path."""
    return _JsonPathParser(text).parse()


# --- value helpers -----------------------------------------------------------------------------


def _children(value: Any) -> list[Any]:
    # PostgREST's JSON objects iterate in key order (aeson KeyMap is a sorted map),
    # not insertion order; mimic it so "first match" picks the same value.
    if isinstance(value, dict):
        return [value[k] for k in sorted(value)]
    if isinstance(value, list):
        return list(value)
    return []


def _descendants(value: Any) -> list[Any]:
    if not isinstance(value, (dict, list)):
        return []
    out = [value]
    for child in _children(value):
        out.extend(_descendants(child))
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _json_equal(a: Any, b: Any) -> bool:
    # Python's `True == 1` must not leak into JSON comparisons.
    if _is_number(a) and _is_number(b):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return a == b


def _compare(op: str, a: Any, b: Any) -> bool:
    """RFC 9535 comparison; `_MISSING` stands for an empty node list."""
    if op == "==":
        return (a is _MISSING and b is _MISSING) or (a is not _MISSING and b is not _MISSING and _json_equal(a, b))
    if op == "!=":
        return not _compare("==", a, b)
    if op == ">":
        return _compare("<", b, a)
    if op == "<=":
        return _compare("<", a, b) or _compare("==", a, b)
    if op == ">=":
        return _compare("<", b, a) or _compare("==", a, b)
    if isinstance(a, str) and isinstance(b, str):
        return a < b
    return _is_number(a) and _is_number(b) and a < b


def _regex(pattern: str) -> re.Pattern | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


# --- RFC 9535 JSONPath -------------------------------------------------------------------------


class _JsonPathParser:
    """Recursive descent over the RFC 9535 grammar; `JsonPathError` means no match here."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    # low-level helpers
    def peek(self, lit: str) -> bool:
        return self.s.startswith(lit, self.i)

    def eat(self, lit: str) -> bool:
        if self.s.startswith(lit, self.i):
            self.i += len(lit)
            return True
        return False

    def expect(self, lit: str) -> None:
        if not self.eat(lit):
            raise JsonPathError(f"expected {lit!r} at position {self.i}")

    def spaces(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in _SPACES:
            self.i += 1

    def spaced(self, parse: Callable[[], _T]) -> _T:
        """PARSE after optional blank space."""
        self.spaces()
        return parse()

    def after(self, lit: str, parse: Callable[[], _T]) -> _T:
        """PARSE after LIT, both preceded by optional blank space (a separator or an operator)."""
        self.spaces()
        self.expect(lit)
        self.spaces()
        return parse()

    def expect_then(self, lit: str, value: _T) -> _T:
        """VALUE, once LIT is read."""
        self.expect(lit)
        return value

    def attempt(self, fn: Callable[[], Any]) -> Any:
        """Run a sub-parser; on failure rewind and return `_MISSING`."""
        start = self.i
        try:
            return fn()
        except JsonPathError:
            self.i = start
            return _MISSING

    def many(self, fn: Callable[[], Any]) -> list:
        """Apply a sub-parser as often as it matches."""
        out = []
        while (got := self.attempt(fn)) is not _MISSING:
            out.append(got)
        return out

    def first_of(self, *fns: Callable[[], Any]) -> Any:
        for fn in fns:
            got = self.attempt(fn)
            if got is not _MISSING:
                return got
        raise JsonPathError(f"unexpected input at position {self.i}")

    # grammar
    def parse(self) -> Callable[[Any], list]:
        if not self.peek("$"):
            raise JsonPathError("a JSONPath starts with '$'")
        query = self.query()
        if self.i != len(self.s):
            raise JsonPathError(f"unexpected input at position {self.i}")
        return lambda claims: query(claims, claims)

    def query(self) -> Node:
        """`$` or `@` followed by segments; evaluates to a node list."""
        if self.eat("$"):
            from_root = True
        elif self.eat("@"):
            from_root = False
        else:
            raise JsonPathError("expected '$' or '@'")
        segments = self.many(lambda: self.spaced(self.segment))

        def run(cur: Any, root: Any) -> list:
            nodes = [root if from_root else cur]
            for seg in segments:
                nodes = [out for node in nodes for out in seg(node, root)]
            return nodes

        return run

    def segment(self) -> Node:
        descendant = self.eat("..")
        if self.peek("["):
            sel = self.bracketed()
        else:
            if not descendant:
                self.expect(".")
            sel = _wildcard if self.eat("*") else _member(self.member_name())
        if descendant:
            return lambda cur, root: [out for d in _descendants(cur) for out in sel(d, root)]
        return sel

    def member_name(self) -> str:
        start = self.i
        if self.i < len(self.s) and _name_first(self.s[self.i]):
            self.i += 1
            while self.i < len(self.s) and (_name_first(self.s[self.i]) or self.s[self.i].isalnum()):
                self.i += 1
            return self.s[start : self.i]
        raise JsonPathError(f"expected a member name at position {self.i}")

    def bracketed(self) -> Node:
        self.expect("[")
        self.spaces()
        sels = [self.selector()]
        sels += self.many(lambda: self.after(",", self.selector))
        self.spaces()
        self.expect("]")
        if len(sels) == 1:
            return sels[0]
        return lambda cur, root: [out for sel in sels for out in sel(cur, root)]

    def selector(self) -> Node:
        return self.first_of(
            self.name_selector,
            self.slice_selector,
            self.index_selector,
            lambda: self.expect_then("*", _wildcard),
            self.filter_selector,
        )

    def name_selector(self) -> Node:
        return _member(self.quoted())

    def index_selector(self) -> Node:
        idx = self.integer()

        def run(cur: Any, root: Any) -> list:
            if not isinstance(cur, list):
                return []
            i = idx if idx >= 0 else idx + len(cur)
            return [cur[i]] if 0 <= i < len(cur) else []

        return run

    def slice_selector(self) -> Node:
        start = self.attempt(self.integer)
        self.spaces()
        self.expect(":")
        self.spaces()
        end = self.attempt(self.integer)
        self.spaces()
        step = 1
        if self.eat(":"):
            self.spaces()
            got = self.attempt(self.integer)
            step = 1 if got is _MISSING else got
        s0 = None if start is _MISSING else start
        e0 = None if end is _MISSING else end
        # Python's slice clamping and negative-step rules are exactly RFC 9535's.
        return lambda cur, root: cur[s0:e0:step] if isinstance(cur, list) and step else []

    def integer(self) -> int:
        m = _INT.match(self.s, self.i)
        if not m:
            raise JsonPathError(f"expected an integer at position {self.i}")
        digits = m.group().lstrip("-")
        if (len(digits) > 1 and digits[0] == "0") or m.group().startswith("-0"):
            raise JsonPathError(f"leading zero at position {self.i}")
        value = int(m.group())
        if abs(value) > _MAX_INT:
            raise JsonPathError(f"integer out of range at position {self.i}")
        self.i = m.end()
        return value

    def quoted(self) -> str:
        m = _QUOTED.match(self.s, self.i)
        if not m:
            raise JsonPathError(f"expected a quoted string at position {self.i}")
        self.i = m.end()
        body = m.group(1) if m.group(1) is not None else m.group(2)
        if m.group(1) is not None:  # re-quote a single-quoted body as a JSON string
            body = body.replace("\\'", "'").replace('"', '\\"')
        try:
            return json.loads(f'"{body}"')
        except ValueError:
            raise JsonPathError(f"bad escape in string before position {self.i}") from None

    # filters
    def filter_selector(self) -> Node:
        self.expect("?")
        self.spaces()
        cond = self.logical_or()

        def run(cur: Any, root: Any) -> list:
            return [child for child in _children(cur) if cond(child, root)]

        return run

    def logical_or(self) -> Callable[[Any, Any], bool]:
        terms = [self.logical_and()]
        terms += self.many(lambda: self.after("||", self.logical_and))
        return lambda cur, root: any(t(cur, root) for t in terms)

    def logical_and(self) -> Callable[[Any, Any], bool]:
        terms = [self.basic()]
        terms += self.many(lambda: self.after("&&", self.basic))
        return lambda cur, root: all(t(cur, root) for t in terms)

    def basic(self) -> Callable[[Any, Any], bool]:
        return self.first_of(self.paren, self.comparison, self.test)

    def negation(self) -> bool:
        if self.eat("!"):
            self.spaces()
            return True
        return False

    def paren(self) -> Callable[[Any, Any], bool]:
        neg = self.negation()
        self.expect("(")
        self.spaces()
        inner = self.logical_or()
        self.spaces()
        self.expect(")")
        return (lambda cur, root: not inner(cur, root)) if neg else inner

    def test(self) -> Callable[[Any, Any], bool]:
        neg = self.negation()
        fn = self.attempt(self.function)
        if fn is _MISSING:
            q = self.query()

            def fn(cur: Any, root: Any) -> bool:
                return bool(q(cur, root))

        return (lambda cur, root: not fn(cur, root)) if neg else fn

    def comparison(self) -> Callable[[Any, Any], bool]:
        left = self.comparable()
        self.spaces()
        op = next((o for o in _OPS if self.eat(o)), None)
        if op is None:
            raise JsonPathError(f"expected a comparison operator at position {self.i}")
        self.spaces()
        right = self.comparable()
        return lambda cur, root: _compare(op, left(cur, root), right(cur, root))

    def comparable(self) -> Callable[[Any, Any], Any]:
        lit = self.attempt(self.literal)
        if lit is not _MISSING:
            return lambda cur, root: lit
        return self.singular_query()

    def literal(self) -> Any:
        if self.peek("'") or self.peek('"'):
            return self.quoted()
        for word, value in (("true", True), ("false", False), ("null", None)):
            if self.eat(word):
                return value
        m = _NUMBER.match(self.s, self.i)
        if not m:
            raise JsonPathError(f"expected a literal at position {self.i}")
        self.i = m.end()
        text = m.group()
        return int(text) if text.lstrip("-").isdigit() else float(text)

    def singular_query(self) -> Callable[[Any, Any], Any]:
        """`@`/`$` with name and index segments only; `_MISSING` when nothing is there."""
        if self.eat("$"):
            from_root = True
        elif self.eat("@"):
            from_root = False
        else:
            raise JsonPathError(f"expected a singular query at position {self.i}")
        steps: list[str | int] = self.many(lambda: self.spaced(self.singular_step))

        def run(cur: Any, root: Any) -> Any:
            value = root if from_root else cur
            for step in steps:
                if isinstance(step, str) and isinstance(value, dict) and step in value:
                    value = value[step]
                elif isinstance(step, int) and isinstance(value, list):
                    i = step if step >= 0 else step + len(value)
                    if not 0 <= i < len(value):
                        return _MISSING
                    value = value[i]
                else:
                    return _MISSING
            return value

        return run

    def singular_step(self) -> str | int:
        if self.eat("["):
            step = self.first_of(self.quoted, self.integer)
            self.expect("]")
            return step
        self.expect(".")
        return self.member_name()

    def function(self) -> Callable[[Any, Any], bool]:
        name = next((n for n in ("search", "match") if self.eat(n + "(")), None)
        if name is None:
            raise JsonPathError(f"expected search() or match() at position {self.i}")
        self.spaces()
        arg1 = self.function_arg()
        self.spaces()
        self.expect(",")
        self.spaces()
        arg2 = self.function_arg()
        self.spaces()
        self.expect(")")
        full = name == "match"
        cache: dict[str, re.Pattern | None] = {}

        def run(cur: Any, root: Any) -> bool:
            text, pattern = arg1(cur, root), arg2(cur, root)
            if not (isinstance(text, str) and isinstance(pattern, str)):
                return False
            if pattern not in cache:
                cache[pattern] = _regex(pattern)
            rx = cache[pattern]
            if rx is None:  # an invalid regex matches nothing rather than failing the request
                return False
            return bool(rx.fullmatch(text) if full else rx.search(text))

        return run

    def function_arg(self) -> Callable[[Any, Any], Any]:
        """A literal, or a query that must select exactly one node (its value)."""
        lit = self.attempt(self.literal)
        if lit is not _MISSING:
            return lambda cur, root: lit
        q = self.query()

        def run(cur: Any, root: Any) -> Any:
            nodes = q(cur, root)
            return nodes[0] if len(nodes) == 1 else _MISSING

        return run


def _name_first(c: str) -> bool:
    return c.isalpha() or c == "_" or (ord(c) >= 0x80 and not 0xD800 <= ord(c) <= 0xDFFF)


def _wildcard(cur: Any, root: Any) -> list:
    return _children(cur)


def _member(key: str) -> Node:
    def run(cur: Any, root: Any) -> list:
        return [cur[key]] if isinstance(cur, dict) and key in cur else []

    return run


# --- deprecated pre-v16 DSL --------------------------------------------------------------------
