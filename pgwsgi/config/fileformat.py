"""Parser for PostgREST's configuration file format (Haskell `configurator-pg`).

The grammar, as PostgREST reads it:

    # comment
    key = "string with \\" and \\\\ escapes, $(ENV_VAR) and $$ for a dollar"
    other-key = 42            # numbers, true/false/on/off, [lists, of, values]
    app.settings.jwt_exp = "3600"
    group { key = 1 }         # same as group.key = 1
    import "other.conf"       # relative to this file
    #; key = 1                # a commented-out directive

Values come back as `str`, `bool`, `int`, `float` or `list`. Only top-level
strings are interpolated, exactly as configurator-pg does. This module also holds
PostgREST's coercions of such values (and of environment strings) to text, int and
bool, and `quote`, the inverse of string parsing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Literal, TypeAlias

Value: TypeAlias = str | bool | int | float | list["Value"]
# A parsed line: `key = value`, `group { ... }` or `import "file"`, with its line number.
_Directive: TypeAlias = (
    tuple[Literal["bind"], int, str, Value]
    | tuple[Literal["group"], int, str, list["_Directive"]]
    | tuple[Literal["import"], int, str, None]
)

_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


class ConfigFileError(Exception):
    """A syntax or interpolation error, located by file and line."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"Error in config file {path}, line {line}: {message}")
        self.path, self.line, self.detail = path, line, message


def parse_file(path: str, env: Mapping[str, str] | None = None) -> dict[str, Value]:
    """Read `path` (and whatever it imports) into a flat `{dotted.key: value}` dict.

    `env` supplies `$(NAME)` interpolations that are not earlier keys of the file;
    it defaults to `os.environ`. Raises `ConfigFileError` or `OSError`.
    """
    result: dict[str, Value] = {}
    _load(path, "", result, os.environ if env is None else env, ())
    return result


def parse_text(text: str, path: str = "<string>", env: Mapping[str, str] | None = None) -> dict[str, Value]:
    """Like `parse_file` for text already in memory; imports are resolved relative to `path`."""
    result: dict[str, Value] = {}
    _apply(
        _Parser(text, path).top_level(), "", result, path, os.environ if env is None else env, (os.path.abspath(path),)
    )
    return result


def _load(path: str, prefix: str, into: dict[str, Value], env: Mapping[str, str], chain: tuple[str, ...]) -> None:
    if os.path.abspath(path) in chain:
        raise ConfigFileError(path, 1, "import cycle")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    _apply(_Parser(text, path).top_level(), prefix, into, path, env, (*chain, os.path.abspath(path)))


def _apply(
    directives: list[_Directive],
    prefix: str,
    into: dict[str, Value],
    path: str,
    env: Mapping[str, str],
    chain: tuple[str, ...],
) -> None:
    for directive in directives:
        line, name = directive[1], directive[2]
        if directive[0] == "bind":
            payload = directive[3]
            if isinstance(payload, str) and "$" in payload:
                payload = _interpolate(payload, prefix, into, env, path, line)
            into[prefix + name] = payload
        elif directive[0] == "group":
            _apply(directive[3], f"{prefix}{name}.", into, path, env, chain)
        else:  # import
            target = name if name.startswith("/") else os.path.join(os.path.dirname(path), name)
            try:
                _load(target, prefix, into, env, chain)
            except OSError as e:
                raise ConfigFileError(path, line, f"cannot import {target}: {e.strerror or e}")


def _interpolate(s: str, prefix: str, known: Mapping[str, Value], env: Mapping[str, str], path: str, line: int) -> str:
    out: list[str] = []
    i = 0
    while True:
        j = s.find("$", i)
        if j < 0:
            out.append(s[i:])
            return "".join(out)
        out.append(s[i:j])
        nxt = s[j + 1 : j + 2]
        if nxt == "$":
            out.append("$")
            i = j + 2
            continue
        end = s.find(")", j + 2)
        if nxt != "(" or end <= j + 2:
            raise ConfigFileError(path, line, "a '$' must be written '$$' or start a '$(NAME)' interpolation")
        out.append(_lookup(s[j + 2 : end], prefix, known, env, path, line))
        i = end + 1


def _lookup(name: str, prefix: str, known: Mapping[str, Value], env: Mapping[str, str], path: str, line: int) -> str:
    # configurator-pg looks at keys already bound, innermost group first, then the environment.
    parts = [p for p in prefix.split(".") if p]
    for n in range(len(parts), -1, -1):
        value = known.get(".".join([*parts[:n], name]))
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ConfigFileError(path, line, f"variable '{name}' is not a string or number")
        return format_number(value) if not isinstance(value, str) else value
    if name in env:
        return env[name]
    raise ConfigFileError(path, line, f"no such variable: '{name}'")


def format_number(n: int | float) -> str:
    """Render a number the way configurator-pg interpolates it."""
    if isinstance(n, float) and n.is_integer():
        return str(int(n))
    return str(n)


class _Parser:
    """Recursive descent over the whole text; `pos` is an index into it."""

    def __init__(self, text: str, path: str) -> None:
        self.text, self.path, self.pos = text, path, 0

    def fail(self, message: str, pos: int | None = None) -> ConfigFileError:
        where = self.pos if pos is None else pos
        return ConfigFileError(self.path, self.text.count("\n", 0, where) + 1, message)

    def peek(self, n: int = 1) -> str:
        return self.text[self.pos : self.pos + n]

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def skip_lws(self) -> None:
        """Skip white space, newlines and comments (but not `#;` directive comments)."""
        text = self.text
        while self.pos < len(text):
            c = text[self.pos]
            if c.isspace():
                self.pos += 1
            elif c == "#" and text[self.pos + 1 : self.pos + 2] != ";":
                self._skip_to_eol()
            else:
                break

    def skip_hws(self) -> None:
        while self.peek() in (" ", "\t"):
            self.pos += 1
        if self.peek() == "#":
            self._skip_to_eol()

    def _skip_to_eol(self) -> None:
        while not self.at_end() and self.peek() not in "\r\n":
            self.pos += 1

    def top_level(self) -> list[_Directive]:
        directives = self.directives(in_group=False)
        if not self.at_end():
            raise self.fail(f"unexpected {self.peek()!r}")
        return directives

    def directives(self, in_group: bool) -> list[_Directive]:
        out: list[_Directive] = []
        while True:
            self.skip_lws()
            if self.at_end() or (in_group and self.peek() == "}"):
                return out
            d = self.directive()
            if d is not None:
                out.append(d)
            self.skip_hws()
            if not (self.at_end() or self.peek() in "\r\n" or (in_group and self.peek() == "}")):
                raise self.fail(f"expected end of line, found {self.peek()!r}")

    def directive(self) -> _Directive | None:
        start = self.pos
        line = self.text.count("\n", 0, start) + 1
        if self.peek(2) == "#;":
            self.pos += 2
            self.skip_hws()
            self.directive()
            return None
        if self.text.startswith("import", self.pos) and not self._ident_char(self.pos + 6):
            self.pos += 6
            self.skip_lws()
            if self.peek() != '"':
                raise self.fail("expected a quoted file name after import")
            return ("import", line, self.string(), None)
        name = self.ident()
        self.skip_lws()
        c = self.peek()
        self.pos += 1
        if c == "=":
            self.skip_lws()
            return ("bind", line, name, self.value())
        if c == "{":
            body = self.directives(in_group=True)
            self.skip_lws()
            if self.peek() != "}":
                raise self.fail(f"missing '}}' closing group {name!r}", start)
            self.pos += 1
            return ("group", line, name, body)
        raise self.fail(f"expected '=' or '{{' after {name!r}", self.pos - 1)

    def _ident_char(self, i: int) -> bool:
        return i < len(self.text) and (self.text[i].isalnum() or self.text[i] in "_-.")

    def ident(self) -> str:
        start = self.pos
        text = self.text
        while True:
            if self.pos >= len(text) or not text[self.pos].isalpha():
                raise self.fail(
                    "expected a key (letters, digits, '_', '-', '.')"
                    if self.pos == start
                    else "a key must not end with '.'"
                )
            self.pos += 1
            while self.pos < len(text) and (text[self.pos].isalnum() or text[self.pos] in "_-"):
                self.pos += 1
            if self.peek() != ".":
                return text[start : self.pos]
            self.pos += 1

    def value(self) -> Value:
        for word, val in (("on", True), ("off", False), ("true", True), ("false", False)):
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return val
        c = self.peek()
        if c == '"':
            return self.string()
        if c == "[":
            return self.list_()
        m = _NUMBER.match(self.text, self.pos)
        if m:
            self.pos = m.end()
            if m.group(1) or m.group(2):
                return float(m.group(0))
            return int(m.group(0))
        raise self.fail(
            'expected a value: a "string", a number, true/false or a [list]' if c else "expected a value after '='"
        )

    def list_(self) -> list[Value]:
        self.pos += 1
        items: list[Value] = []
        self.skip_lws()
        if self.peek() == "]":
            self.pos += 1
            return items
        while True:
            items.append(self.value())
            self.skip_lws()
            c = self.peek()
            self.pos += 1
            if c == "]":
                return items
            if c != ",":
                raise self.fail("expected ',' or ']' in list", self.pos - 1)
            self.skip_lws()

    def string(self) -> str:
        start = self.pos
        self.pos += 1
        out: list[str] = []
        text = self.text
        while True:
            if self.pos >= len(text):
                raise self.fail("unterminated string", start)
            c = text[self.pos]
            if c == '"':
                self.pos += 1
                return "".join(out)
            if c != "\\":
                out.append(c)
                self.pos += 1
                continue
            e = text[self.pos + 1 : self.pos + 2]
            if e in _ESCAPES:
                out.append(_ESCAPES[e])
                self.pos += 2
            elif e == "u":
                out.append(self._unicode_escape())
            else:
                raise self.fail(f"invalid escape sequence '\\{e}' in string")

    def _unicode_escape(self) -> str:
        hi = self._hex4(self.pos + 2)
        self.pos += 6
        if not 0xD800 <= hi <= 0xDFFF:
            return chr(hi)
        if hi > 0xDBFF or self.peek(2) != "\\u":
            raise self.fail("invalid UTF-16 surrogates")
        lo = self._hex4(self.pos + 2)
        if not 0xDC00 <= lo <= 0xDFFF:
            raise self.fail("invalid UTF-16 surrogates")
        self.pos += 6
        return chr(((hi - 0xD800) << 10) + (lo - 0xDC00) + 0x10000)

    def _hex4(self, at: int) -> int:
        digits = self.text[at : at + 4]
        if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
            raise self.fail("expected four hex digits after '\\u'")
        return int(digits, 16)


def as_text(v: Value) -> str:
    """A value as text: booleans lower-case, numbers as configurator-pg prints them, lists comma-joined."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return format_number(v)
    if isinstance(v, list):
        return ",".join(as_text(i) for i in v)
    return v


def as_int(v: Value) -> int | None:
    """C-INT: a number or a numeric string (surrounding blanks allowed); None if it is neither."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v) if v.is_integer() else None
    s = str(v).strip()
    return int(s) if re.fullmatch(r"-?[0-9]+", s) else None


def as_bool(v: Value) -> bool | None:
    """C-BOOL: a boolean, true/false in any case once non-letters are dropped, or a number (> 0 is true)."""
    if isinstance(v, bool):
        return v
    s = as_text(v)
    letters = "".join(c for c in s if c.isalpha()).lower()
    if letters in ("true", "false"):
        return letters == "true"
    n = as_int(s)
    return None if n is None else n > 0


def quote(s: str) -> str:
    """A string literal that parses back to `s`.

    PostgREST's own dump only escapes '"'; escaping backslashes, control characters and
    '$' as well makes every value load back unchanged.
    """
    for raw, escaped in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"), ("$", "$$")):
        s = s.replace(raw, escaped)
    return f'"{s}"'
