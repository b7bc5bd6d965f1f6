"""Parsec-style parsing machinery for PostgREST's query-string grammar.

The PostgREST rules (`grammar.py`, `grammar_fields.py`) are a hand-written
recursive-descent parser over one string. It follows the structure of
PostgREST's Parsec parsers (`ApiRequest/QueryParams.hs`) closely enough that its
error reports look the same: a failure records *where* it happened and what
would have been accepted there, alternatives that fail without consuming input
merge their expectations, and the furthest failure wins. That is why every
optional element of a rule "notes" what it expected when it was absent: it is
cheap on success and gives the parsec-style `unexpected "x" expecting ...`
details on failure.

This module holds what does not depend on PostgREST's rules: the `Cursor`
with its error bookkeeping and lexical pieces, the failure exceptions, parsec's
message formatting (including Haskell's `show` of tokens) and `run_parser`,
which turns a failure into PGRST100.

Conventions inside a `Cursor` and the rules built on it:
- `self.i` is the cursor. A method that raises `Empty` has not moved it; a
  method that raises `Consumed` leaves it anywhere (the caller backtracks or
  gives up). This mirrors Parsec's empty/consumed errors, which decide whether
  an alternative (`<|>`) is still tried.
- `clear()` is called after input is consumed: like Parsec, errors noted before
  a consumed token are no longer relevant.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TypeVar

from pgwsgi.errors import ApiError, parse_error

T = TypeVar("T")
C = TypeVar("C", bound="Cursor")

# Embeds and logic trees nest by recursion; bound it so hostile input yields a
# PGRST100 instead of a RecursionError.
MAX_DEPTH = 100

DELIM = "delimiter (.)"
EOF = "end of input"

DIGITS = frozenset("0123456789")
_IDENT_EXTRA = frozenset("_ $")
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_QUOTED_BODY = re.compile(r'(?:[^"\\]|\\.)*', re.DOTALL)
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)
WS = re.compile(r"[ \t]*")

# -- Haskell `show`, used by parsec to print tokens ----------------------------

_CTRL = (
    "NUL",
    "SOH",
    "STX",
    "ETX",
    "EOT",
    "ENQ",
    "ACK",
    "a",
    "b",
    "t",
    "n",
    "v",
    "f",
    "r",
    "SO",
    "SI",
    "DLE",
    "DC1",
    "DC2",
    "DC3",
    "DC4",
    "NAK",
    "SYN",
    "ETB",
    "CAN",
    "EM",
    "SUB",
    "ESC",
    "FS",
    "GS",
    "RS",
    "US",
)


def _lit_char(c: str) -> str:
    o = ord(c)
    if o > 127:
        return f"\\{o}"
    if o == 127:
        return "\\DEL"
    if c == "\\":
        return "\\\\"
    if o < 32:
        return "\\" + _CTRL[o]
    return c


@functools.lru_cache(maxsize=1024)
def show_str(text: str) -> str:
    """Haskell's `show` of a String: how parsec prints expected/unexpected tokens.

    Cached: the parser notes what it expected at every step, mostly the same few tokens.
    """
    return '"' + "".join('\\"' if c == '"' else _lit_char(c) for c in text) + '"'


@functools.lru_cache(maxsize=1024)
def show_char(c: str) -> str:
    """Haskell's `show` of a Char: how `notFollowedBy`/`eof` print the unexpected token."""
    return "'" + ("\\'" if c == "'" else _lit_char(c)) + "'"


def unescape(body: str) -> str:
    """The body of a `"..."` token: a backslash takes the next character literally."""
    return _UNESCAPE.sub(r"\1", body) if "\\" in body else body


def _commas_or(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


def _nub(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for x in items:
        if x and x not in seen:
            seen.add(x)
            out.append(x)
    return out


def _line_col(text: str, pos: int) -> tuple[int, int]:
    # Parsec's SourcePos arithmetic: tabs advance to the next multiple of 8.
    line, col = 1, 1
    for c in text[:pos]:
        if c == "\n":
            line, col = line + 1, 1
        elif c == "\t":
            col = col + 8 - ((col - 1) % 8)
        else:
            col += 1
    return line, col


# -- failures and the cursor -------------------------------------------------


class Fail(Exception):
    """The current alternative failed; the parser's error state says why."""


class Empty(Fail):
    """Failed without consuming input: an enclosing alternative may still be tried."""


class Consumed(Fail):
    """Failed after consuming input: only an enclosing `try` backtracks."""


class TooDeep(Exception):
    """Nesting passed `MAX_DEPTH` at `pos`; reported as such rather than as a syntax error."""

    def __init__(self, pos: int) -> None:
        super().__init__(pos)
        self.pos = pos


_AT = object()  # e_sys placeholder: "the character at the error position"

_ErrState = tuple[int, object, list[str], list[str]]


class Cursor:
    """A cursor over one parameter's text, with parsec-style error bookkeeping and the lexical pieces."""

    __slots__ = ("s", "n", "i", "e_pos", "e_sys", "e_un", "e_exp")

    def __init__(self, text: str) -> None:
        self.s = text
        self.n = len(text)
        self.i = 0
        self.e_pos = -1
        self.e_sys: object = None
        self.e_un: list[str] = []
        self.e_exp: list[str] = []

    # -- error bookkeeping ----------------------------------------------------

    def clear(self) -> None:
        self.e_pos = -1

    def note(self, pos: int, exp: tuple[str, ...] = (), sys: object = _AT, un: str | None = None) -> None:
        """Record that at `pos` one of `exp` would have been accepted (furthest position wins)."""
        if pos < self.e_pos:
            return
        if pos > self.e_pos:
            self.e_pos, self.e_sys, self.e_un, self.e_exp = pos, None, [], []
        if self.e_sys is None:
            self.e_sys = sys
        if un is not None:
            self.e_un.append(un)
        if exp:
            self.e_exp.extend(exp)

    def note_lit(self, pos: int, word: str) -> None:
        """A failed `string word` at `pos`: parsec reports the first mismatching char at `pos`."""
        if pos < self.e_pos:
            return
        sys: object = None
        if pos > self.e_pos or self.e_sys is None:
            s, n = self.s, self.n
            k = 0
            while k < len(word) and pos + k < n and s[pos + k] == word[k]:
                k += 1
            sys = pos + k  # resolved to the character there only if an error is reported
        self.note(pos, (show_str(word),), sys=sys)

    def note_eof(self, pos: int, *exp: str) -> None:
        """`eof`/`lookAhead` alternatives failed at `pos`: parsec prints the char as 'c'."""
        self.note(pos, (*exp, EOF), un=show_char(self.s[pos]) if pos < self.n else None)

    def show_at(self, pos: int) -> str:
        return show_str(self.s[pos]) if pos < self.n else ""

    def save(self) -> _ErrState:
        state = (self.e_pos, self.e_sys, self.e_un, self.e_exp)
        self.clear()
        return state

    def relabel_merge(self, label: str, prior: _ErrState) -> None:
        """Parsec's `<?>` on an empty failure, then merging with the errors noted before it."""
        if self.e_pos >= 0:
            self.e_exp = [label]
        pp, ps, pu, pe = prior
        if pp < 0:
            return
        if self.e_pos < pp:
            self.e_pos, self.e_sys, self.e_un, self.e_exp = pp, ps, list(pu), list(pe)
        elif self.e_pos == pp:
            if ps is not None:
                self.e_sys = ps
            self.e_un = list(pu) + self.e_un
            self.e_exp = list(pe) + self.e_exp

    def error(self, label: str) -> ApiError:
        pos = max(self.e_pos, 0)
        line, col = _line_col(self.s, pos)
        un = _nub(self.e_un)
        if un:
            parts = ["unexpected " + _commas_or(un)]
        else:
            sys = self.e_sys
            if sys is _AT or sys is None:
                sys = self.show_at(pos)
            elif isinstance(sys, int):
                sys = self.show_at(sys)
            parts = ["unexpected " + (str(sys) or EOF)]
        exp = _nub(self.e_exp)
        if exp:
            parts.append("expecting " + _commas_or(exp))
        return parse_error(f'"{label}" (line {line}, column {col})', " ".join(parts))

    # -- lexical pieces -----------------------------------------------------------

    def ws(self) -> bool:
        """`many (oneOf " \\t")`; returns whether anything was consumed."""
        matched = WS.match(self.s, self.i)
        j = matched.end() if matched else self.i
        if j > self.i:
            self.i = j
            self.clear()
            return True
        return False

    def expect_eof(self) -> None:
        if self.i < self.n:
            self.note_eof(self.i)
            raise Consumed()

    def char(self, c: str, consumed: bool) -> None:
        """`char c`; `consumed` says whether the enclosing parser already took input."""
        if self.i < self.n and self.s[self.i] == c:
            self.i += 1
            self.clear()
            return
        self.note(self.i, (show_str(c),))
        raise Consumed() if consumed else Empty()

    def lexeme_char(self, c: str, consumed: bool) -> None:
        moved = self.ws()
        self.char(c, consumed or moved)
        self.ws()

    def delimiter(self, consumed: bool) -> None:
        if self.i < self.n and self.s[self.i] == ".":
            self.i += 1
            self.clear()
            return
        self.note(self.i, (DELIM,))
        raise Consumed() if consumed else Empty()

    def _ident_end(self, j: int) -> int:
        s, n = self.s, self.n
        while j < n:
            c = s[j]
            if c.isalpha() or c in DIGITS or c in _IDENT_EXTRA:
                j += 1
            else:
                break
        return j

    def identifier(self) -> str:
        """`pIdentifier`: letters, digits, `_`, space, `$`; surrounding spaces stripped."""
        p = self.i
        j = self._ident_end(p)
        if j == p:
            self.note(p, ("letter", "digit"))
            raise Empty()
        self.i = j
        self.clear()
        self.note(j, ("letter", "digit"))
        return self.s[p:j].strip(" ")

    def quoted(self) -> str:
        """`"..."` with backslash escapes; the cursor is on the opening quote."""
        m = QUOTED.match(self.s, self.i)
        if m is None:
            # Only an unterminated quote gets here: parsec fails at the end of input.
            matched = _QUOTED_BODY.match(self.s, self.i + 1)
            stop = matched.end() if matched else self.i + 1
            self.i = self.n
            self.clear()
            if stop < self.n:  # a lone backslash at the very end: nothing can follow it
                self.note(self.n)
            else:
                self.note(self.n, (show_str("\\"), show_str('"')))
            raise Consumed()
        self.i = m.end()
        self.clear()
        return unescape(m.group(1))


# -- running a parser ---------------------------------------------------------


def run_parser(name: str, parser: C, parse: Callable[[C], T]) -> T:
    """Run `parse` on `parser`; any failure becomes PGRST100 `"<name>" (line l, column c)`."""
    try:
        return parse(parser)
    except Fail:
        raise parser.error(name) from None
    except TooDeep as exc:
        line, col = _line_col(parser.s, exc.pos)
        raise parse_error(
            f'"{name}" (line {line}, column {col})', f"nesting deeper than {MAX_DEPTH} levels is not supported"
        ) from None
    except RecursionError:
        raise parse_error(f'"{name}" (line 1, column 1)', "input nested too deeply") from None
