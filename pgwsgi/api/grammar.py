"""Low-level parsers for PostgREST's query-string grammar (inventory §3).

A hand-written recursive-descent parser over one string. It follows the
structure of PostgREST's Parsec parsers (`ApiRequest/QueryParams.hs`) closely
enough that its error reports look the same: a failure records *where* it
happened and what would have been accepted there, alternatives that fail
without consuming input merge their expectations, and the furthest failure
wins. That is why every optional element below "notes" what it expected when
it was absent: it is cheap on success and gives the parsec-style
`unexpected "x" expecting ...` details on failure.

Conventions inside `Parser`:
- `self.i` is the cursor. A method that raises `_Empty` has not moved it; a
  method that raises `_Consumed` leaves it anywhere (the caller backtracks or
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

from .model import (
    Condition,
    Field,
    Filter,
    JsonStep,
    LogicTree,
    OpExpr,
    OrderTerm,
    SelectField,
    SelectItem,
    SelectRelation,
)

T = TypeVar("T")

# Embeds and logic trees nest by recursion; bound it so hostile input yields a
# PGRST100 instead of a RecursionError.
MAX_DEPTH = 100

SIMPLE_OPS = ("neq", "cs", "cd", "ov", "sl", "sr", "nxr", "nxl", "adj")
QUANT_OPS = ("eq", "gte", "gt", "lte", "lt", "like", "ilike", "match", "imatch")
FTS_OPS = ("fts", "plfts", "phfts", "wfts")
IS_VALUES = ("null", "not_null", "true", "false", "unknown")
AGGREGATES = ("sum", "avg", "count", "max", "min")

LABEL_FIELD = "field name (* or [a..z0..9_$])"
LABEL_JSON_KEY = "any non reserved character different from: .,>()"
LABEL_OPERATOR = "operator (eq, gt, ...)"
LABEL_IS = "isVal: (null, not_null, true, false, unknown)"
LABEL_NOT = "negation operator (not)"
LABEL_LOGIC_OP = "logic operator (and, or)"
DELIM = "delimiter (.)"
EOF = "end of input"

_DIGITS = frozenset("0123456789")
_IDENT_EXTRA = frozenset("_ $")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_QUOTED_BODY = re.compile(r'(?:[^"\\]|\\.)*', re.DOTALL)
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)
_JSON_KEY_CHARS = re.compile(r"[^(\-:.,>)]+")
_UNTIL_COMMA_PAREN = re.compile(r"[^,)]*")
_PG_ARRAY = re.compile(r"\{[^{}]*\}")
_UNTIL_BRACES = re.compile(r"[^{}]*")
_WS = re.compile(r"[ \t]*")
_OP_WORD = re.compile(r"([a-z]+)(?:\((any|all)\))?\.")
_FAST_SIMPLE = frozenset(SIMPLE_OPS) | {"isdistinct"}
_FAST_QUANT = frozenset(QUANT_OPS)

# -- Haskell `show`, used by parsec to print tokens ----------------------------

_CTRL = ("NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "a", "b", "t", "n", "v", "f", "r", "SO", "SI",
         "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US")


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


def show_str(text: str) -> str:
    """Haskell's `show` of a String: how parsec prints expected/unexpected tokens."""
    return '"' + "".join('\\"' if c == '"' else _lit_char(c) for c in text) + '"'


def show_char(c: str) -> str:
    """Haskell's `show` of a Char: how `notFollowedBy`/`eof` print the unexpected token."""
    return "'" + ("\\'" if c == "'" else _lit_char(c)) + "'"


@functools.lru_cache(maxsize=256)
def _shown(word: str) -> str:
    return show_str(word)


def _unescape(body: str) -> str:
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


class _Fail(Exception):
    """The current alternative failed; the parser's error state says why."""


class _Empty(_Fail):
    """Failed without consuming input: an enclosing alternative may still be tried."""


class _Consumed(_Fail):
    """Failed after consuming input: only an enclosing `try` backtracks."""


class _TooDeep(Exception):
    def __init__(self, pos: int) -> None:
        super().__init__(pos)
        self.pos = pos


_AT = object()  # e_sys placeholder: "the character at the error position"

_ErrState = tuple[int, object, list[str], list[str]]


class Parser:
    """A cursor over one parameter's text, with parsec-style error bookkeeping."""

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
        self.note(pos, (_shown(word),), sys=sys)

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
        j = _WS.match(self.s, self.i).end()
        if j > self.i:
            self.i = j
            self.clear()
            return True
        return False

    def expect_eof(self) -> None:
        if self.i < self.n:
            self.note_eof(self.i)
            raise _Consumed()

    def char(self, c: str, consumed: bool) -> None:
        """`char c`; `consumed` says whether the enclosing parser already took input."""
        if self.i < self.n and self.s[self.i] == c:
            self.i += 1
            self.clear()
            return
        self.note(self.i, (show_str(c),))
        raise _Consumed() if consumed else _Empty()

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
        raise _Consumed() if consumed else _Empty()

    def _ident_end(self, j: int) -> int:
        s, n = self.s, self.n
        while j < n:
            c = s[j]
            if c.isalpha() or c in _DIGITS or c in _IDENT_EXTRA:
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
            raise _Empty()
        self.i = j
        self.clear()
        self.note(j, ("letter", "digit"))
        return self.s[p:j].strip(" ")

    def quoted(self) -> str:
        """`"..."` with backslash escapes; the cursor is on the opening quote."""
        m = _QUOTED.match(self.s, self.i)
        if m is None:
            # Only an unterminated quote gets here: parsec fails at the end of input.
            stop = _QUOTED_BODY.match(self.s, self.i + 1).end()
            self.i = self.n
            self.clear()
            if stop < self.n:  # a lone backslash at the very end: nothing can follow it
                self.note(self.n)
            else:
                self.note(self.n, (show_str("\\"), show_str('"')))
            raise _Consumed()
        self.i = m.end()
        self.clear()
        return _unescape(m.group(1))

    def _dash_chain(self, first: str, scan: Callable[[int], int], exp: tuple[str, ...]) -> str:
        """`sepByDash`: pieces joined by `-` not followed by `>`. The first piece is already read."""
        s, n = self.s, self.n
        parts = [first]
        while True:
            j = self.i
            if j < n and s[j] == "-":
                if j + 1 < n and s[j + 1] == ">":
                    self.note(j, (*exp, show_str("-")))
                    self.note(j + 2, un=show_char(">"))
                    break
                k = scan(j + 1)
                self.i = j + 1
                self.clear()
                if k == j + 1:
                    self.note(j + 1, (show_str(">"), *exp))
                    raise _Consumed()
                parts.append(s[j + 1:k].strip())
                self.i = k
                continue
            self.note(j, (*exp, show_str("-")))
            break
        return "-".join(parts) if len(parts) > 1 else parts[0]

    def field_name(self) -> str:
        """`pFieldName`: a double-quoted name or dash-joined identifiers."""
        p = self.i
        if p < self.n and self.s[p] == '"':
            return self.quoted()
        j = self._ident_end(p)
        if j == p:
            self.note(p, (LABEL_FIELD,))
            raise _Empty()
        self.i = j
        self.clear()
        return self._dash_chain(self.s[p:j].strip(" "), self._ident_end, ("letter", "digit"))

    def _json_key_end(self, j: int) -> int:
        m = _JSON_KEY_CHARS.match(self.s, j)
        return m.end() if m else j

    def json_path(self) -> tuple[JsonStep, ...]:
        s = self.s
        steps: list[JsonStep] = []
        while True:
            p = self.i
            if s.startswith("->>", p):
                arrow, q = "->>", p + 3
            elif s.startswith("->", p):
                arrow, q = "->", p + 2
            else:
                self.note_lit(p, "->>")
                self.note_lit(p, "->")
                return tuple(steps)
            self.i = q
            self.clear()
            steps.append(JsonStep(arrow, self._json_operand()))  # type: ignore[arg-type]

    def _json_operand(self) -> str | int:
        s, n = self.s, self.n
        q = self.i
        # try pJIdx: an integer, if followed by "->", "::", ".", ",", ")" or the end. PostgREST
        # omits ")", which silently makes `rel(data->0)` a key "0"; an index is what is meant.
        j = q + 1 if q < n and s[q] == "-" else q
        k = j
        while k < n and s[k] in _DIGITS:
            k += 1
        # Python refuses int() of more than 4300 digits; such a number is no usable index anyway.
        if j < k <= j + 4000:
            end = _WS.match(s, k).end()  # as everywhere else, blanks before a separator are fine
            if end == n or s.startswith(("->", "::", ".", ",", ")"), end):
                self.i = k
                self.clear()
                self.note(k, ("digit",))
                return int(s[q:k])
            self.note(k, ("digit", show_str("->"), show_str("::"), show_str("."), show_str(",")))
            self.note_eof(k)
        elif j == k > q:
            self.note(j, ("digit",))
        else:
            self.note(q, (show_str("-"), "digit"))
        # try pJKey
        if q < n and s[q] == '"':
            try:
                return self.quoted()
            except _Consumed:
                self.i = q
                raise _Consumed() from None
        e = self._json_key_end(q)
        if e == q:
            self.note(q, (LABEL_JSON_KEY,))
            raise _Consumed()  # the arrow was consumed
        self.i = e
        self.clear()
        try:
            return self._dash_chain(s[q:e].strip(), self._json_key_end, ())
        except _Consumed:
            self.i = q
            raise

    def field(self) -> Field:
        """`pField`: name plus JSON path, with surrounding whitespace."""
        moved = self.ws()
        try:
            name = self.field_name()
        except _Empty:
            if moved:
                raise _Consumed() from None
            raise
        path = self.json_path()
        self.ws()
        return Field(name, path)

    # -- filters ----------------------------------------------------------------------

    def op_expr(self, logic: bool) -> tuple[bool, OpExpr]:
        """`[not.]op[(mod)][(lang)].value`; in a logic tree values stop at `,` or `)`."""
        s, p = self.s, self.i
        negated = s.startswith("not.", p)
        if negated:
            self.i = p + 4
            self.clear()
        elif s.startswith("not", p):
            self.note(p + 3, (DELIM,))
        else:
            self.note_lit(p, "not")
        prior = self.save()
        try:
            return negated, self._operation(logic)
        except _Empty:
            self.relabel_merge(LABEL_OPERATOR, prior)
            if negated:
                raise _Consumed() from None
            raise

    def _prefixed(self, q: int, word: str) -> bool:
        """`try (string word *> pDelimiter)`; consumes on success."""
        s = self.s
        end = q + len(word)
        if s.startswith(word, q):
            if end < self.n and s[end] == ".":
                self.i = end + 1
                self.clear()
                return True
            self.note(end, (DELIM,))
        else:
            self.note_lit(q, word)
        return False

    def _operation(self, logic: bool) -> OpExpr:
        fast = self._operation_fast(logic)
        if fast is not None:
            return fast
        s, n, q = self.s, self.n, self.i
        if self._prefixed(q, "in"):
            return OpExpr("in", self.list_val())
        if self._prefixed(q, "is"):
            return OpExpr("is", self.is_val())
        if self._prefixed(q, "isdistinct"):
            return OpExpr("isdistinct", self.single_val(logic))
        for word in FTS_OPS:
            if s.startswith(word, q):
                k = q + len(word)
                lang = None
                if k < n and s[k] == "(":
                    self.i = k + 1
                    try:
                        ident = self.identifier()
                    except _Empty:
                        ident = None
                    if ident is not None:
                        if self.i < n and s[self.i] == ")":
                            lang, k = ident, self.i + 1
                        else:
                            self.note(self.i, (show_str(")"),))
                else:
                    self.note(k, (show_str("("),))
                if k < n and s[k] == ".":
                    self.i = k + 1
                    self.clear()
                    return OpExpr(word, self.single_val(logic), language=lang)  # type: ignore[arg-type]
                self.note(k, (DELIM,))
                self.i = q
                break
            self.note_lit(q, word)
        for word in SIMPLE_OPS:
            if s.startswith(word, q):
                k = q + len(word)
                if k < n and s[k] == ".":
                    self.i = k + 1
                    self.clear()
                    return OpExpr(word, self.single_val(logic))  # type: ignore[arg-type]
                self.note(k, (DELIM,))
                break
            self.note_lit(q, word)
        for word in QUANT_OPS:
            if s.startswith(word, q):
                k = q + len(word)
                mod = None
                if k < n and s[k] == "(":
                    if s.startswith("any)", k + 1):
                        mod, k = "any", k + 5
                    elif s.startswith("all)", k + 1):
                        mod, k = "all", k + 5
                    elif s.startswith(("any", "all"), k + 1):
                        self.note(k + 4, (show_str(")"),))
                    else:
                        self.note_lit(k + 1, "any")
                        self.note_lit(k + 1, "all")
                else:
                    self.note(k, (show_str("("),))
                if k < n and s[k] == ".":
                    self.i = k + 1
                    self.clear()
                    return OpExpr(word, self.single_val(logic), modifier=mod)  # type: ignore[arg-type]
                self.note(k, (DELIM,))
                break
            self.note_lit(q, word)
        self.i = q
        raise _Empty()

    def _operation_fast(self, logic: bool) -> OpExpr | None:
        """The common operators without error bookkeeping. An operator word is always
        followed by `.` or `(`, so whatever succeeds here succeeds identically below."""
        s, q = self.s, self.i
        m = _OP_WORD.match(s, q)
        if m is None:
            return None
        word, mod, k = m.group(1), m.group(2), m.end()
        if not ((mod is None and word in _FAST_SIMPLE) or word in _FAST_QUANT):
            return None
        self.i = k
        self.clear()
        return OpExpr(word, self.single_val(logic), modifier=mod)  # type: ignore[arg-type]

    def single_val(self, logic: bool) -> str:
        s, n, p = self.s, self.n, self.i
        if not logic:
            self.i = n
            if n > p:
                self.clear()
            self.note(n)
            return s[p:]
        # pLogicSingleVal: "quoted" (if followed by , or ) or end), {pg array}, or text up to , or )
        if p < n and s[p] == '"':
            m = _QUOTED.match(s, p)
            if m is not None:
                e = m.end()
                if e == n or s[e] in ",)":
                    self.i = e
                    self.clear()
                    return _unescape(m.group(1))
                self.note(e + 1, un=show_char(s[e]))
            else:
                self.note(n, (show_str("\\"), show_str('"')))
        elif p < n and s[p] == "{":
            m = _PG_ARRAY.match(s, p)
            if m is not None:
                self.i = m.end()
                self.clear()
                return m.group()
            e = _UNTIL_BRACES.match(s, p + 1).end()
            self.note(e, (show_str("}"),))
        e = _UNTIL_COMMA_PAREN.match(s, p).end()
        self.i = e
        if e > p:
            self.clear()
        self.note(e)
        return s[p:e]

    def is_val(self) -> str:
        s, p = self.s, self.i
        for word in IS_VALUES:
            seg = s[p:p + len(word)]
            if seg.isascii() and seg.lower() == word:
                self.i = p + len(word)
                self.clear()
                return word
        prior = self.save()
        for word in IS_VALUES:
            k = 0
            while k < len(word) and p + k < self.n and s[p + k].isascii() and s[p + k].lower() == word[k]:
                k += 1
            self.note(p + k, (show_str(word[k]),))
        self.relabel_merge(LABEL_IS, prior)
        raise _Consumed()  # "is." was consumed

    def list_val(self) -> tuple[str, ...]:
        """`(a,b,"c,d")` after `in.`; `()` is the empty list."""
        s, n = self.s, self.n
        self.lexeme_char("(", True)
        p = self.i
        close = s.find(")", p)
        if close >= 0 and '"' not in s[p:close]:
            # Fast path: without quotes, elements are exactly the comma-separated pieces.
            items = s[p:close].split(",")
            self.i = close
            self.clear()
        else:
            items = []
            while True:
                items.append(self._list_element())
                if self.i < n and s[self.i] == ",":
                    self.i += 1
                    self.clear()
                    continue
                self.note(self.i, (show_str(","),))
                break
        self.lexeme_char(")", True)
        if items == [""]:
            return ()
        return tuple(items)

    def _list_element(self) -> str:
        s, n, p = self.s, self.n, self.i
        if p < n and s[p] == '"':
            m = _QUOTED.match(s, p)
            if m is not None:
                e = m.end()
                if e == n or s[e] in ",)":
                    self.i = e
                    self.clear()
                    return _unescape(m.group(1))
                self.note(e + 1, un=show_char(s[e]))
            else:
                self.note(n, (show_str("\\"), show_str('"')))
        e = _UNTIL_COMMA_PAREN.match(s, p).end()
        self.i = e
        if e > p:
            self.clear()
        self.note(e)
        return s[p:e]

    # -- logic trees ----------------------------------------------------------------------

    def logic_tree(self, depth: int) -> Condition:
        """An item of a logic tree: `field.[not.]op.value` or a nested `[not.]and|or(...)`."""
        p = self.i
        try:
            fld = self.field()
            self.delimiter(True)
            negated, expr = self.op_expr(logic=True)
            return Filter(fld, expr, negated)
        except _Fail:
            self.i = p
        return self.logic_expr(depth)

    def logic_expr(self, depth: int) -> LogicTree:
        s, p = self.s, self.i
        prior = self.save()
        negated = s.startswith("not.", p)
        if negated:
            self.i = p + 4
            self.clear()
        else:
            if s.startswith("not", p):
                self.note(p + 3, (DELIM,))
            else:
                self.note_lit(p, "not")
            self.relabel_merge(LABEL_NOT, prior)
        q = self.i
        if s.startswith("and", q):
            op, self.i = "and", q + 3
        elif s.startswith("or", q):
            op, self.i = "or", q + 2
        else:
            prior = self.save()
            self.note_lit(q, "and")
            self.note_lit(q, "or")
            self.relabel_merge(LABEL_LOGIC_OP, prior)
            raise _Consumed() if negated else _Empty()
        self.clear()
        self.lexeme_char("(", True)
        if depth >= MAX_DEPTH:
            raise _TooDeep(self.i)
        children = [self._logic_child(depth)]
        while True:
            self.ws()  # PostgREST fails on blanks after e.g. `is.null`; the spec allows them
            if self.i < self.n and s[self.i] == ",":
                self.i += 1
                self.clear()
                self.ws()
                children.append(self._logic_child(depth))
                continue
            self.note(self.i, (show_str(","),))
            break
        self.char(")", True)
        self.ws()
        return LogicTree(op, tuple(children), negated)  # type: ignore[arg-type]

    def _logic_child(self, depth: int) -> Condition:
        try:
            return self.logic_tree(depth + 1)
        except _Empty:
            raise _Consumed() from None

    # -- select ------------------------------------------------------------------------------

    def forest(self, depth: int) -> list[SelectItem]:
        """`pFieldForest`: comma-separated select items, possibly none."""
        s = self.s
        items: list[SelectItem] = []
        # PostgREST rejects blanks in `rel( )` and after a closing `)`; accept them.
        j = _WS.match(s, self.i).end()
        if j > self.i and (j == self.n or s[j] == ")"):
            self.i = j
            self.clear()
        try:
            items.append(self.select_item(depth))
        except _Empty:
            return items
        while True:
            self.ws()
            if self.i < self.n and s[self.i] == ",":
                self.i += 1
                self.clear()
                self.ws()
                try:
                    items.append(self.select_item(depth))
                except _Empty:
                    raise _Consumed() from None
                continue
            self.note(self.i, (show_str(","),))
            return items

    def select_item(self, depth: int) -> SelectItem:
        p = self.i
        try:
            name, hint, join = self._spread_header()
        except _Fail:
            self.i = p
        else:
            return SelectRelation(name, None, hint, join, True, self._children(depth))  # type: ignore[arg-type]
        try:
            alias, name, hint, join = self._relation_header()
        except _Fail:
            self.i = p
        else:
            return SelectRelation(name, alias, hint, join, False, self._children(depth))  # type: ignore[arg-type]
        return self._select_field()

    def _children(self, depth: int) -> tuple[SelectItem, ...]:
        if depth >= MAX_DEPTH:
            raise _TooDeep(self.i)
        self.char("(", True)
        items = self.forest(depth + 1)
        self.char(")", True)
        return tuple(items)

    def _spread_header(self) -> tuple[str, str | None, str | None]:
        self.ws()
        q = self.i
        if not self.s.startswith("...", q):
            self.note_lit(q, "...")
            raise _Empty()
        self.i = q + 3
        self.clear()
        name = self._name_consumed()
        hint, join = self._embed_params()
        self._lookahead_paren()
        return name, hint, join

    def _relation_header(self) -> tuple[str | None, str, str | None, str | None]:
        self.ws()
        alias = self._alias()
        name = self._name_consumed()
        if name == "count":
            # A relation can never be named count: `count()` is the aggregate.
            raise _Consumed()
        hint, join = self._embed_params()
        self._lookahead_paren()
        return alias, name, hint, join

    def _name_consumed(self) -> str:
        try:
            return self.field_name()
        except _Empty:
            raise _Consumed() from None

    def _lookahead_paren(self) -> None:
        if self.i < self.n and self.s[self.i] == "(":
            return
        self.note(self.i, (show_str("("),))
        raise _Consumed()

    def _embed_params(self) -> tuple[str | None, str | None]:
        s = self.s
        hint = join = None
        for _ in range(2):
            if self.i < self.n and s[self.i] == "!":
                self.i += 1
                self.clear()
                quoted = self.i < self.n and s[self.i] == '"'
                value = self._name_consumed()
                if not quoted and value in ("left", "inner"):
                    join = join or value
                else:
                    hint = hint or value
            else:
                self.note(self.i, (show_str("!"),))
                break
        return hint, join

    def _alias(self) -> str | None:
        """`optionMaybe (try (pFieldName <* aliasSeparator))`; `::` is a cast, not an alias."""
        s, n, p = self.s, self.n, self.i
        try:
            name = self.field_name()
        except _Fail:
            self.i = p
            return None
        j = self.i
        if j < n and s[j] == ":":
            if j + 1 < n and s[j + 1] == ":":
                self.note(j + 2, un=show_char(":"))
            else:
                self.i = j + 1
                self.clear()
                self.note(j + 1, (show_str(":"),))
                return name
        else:
            self.note(j, (show_str(":"),))
        self.i = p
        return None

    def _at_end(self, consumed: bool) -> None:
        """`pEnd` of select items: followed by `)`, `,` or the end (whitespace tolerated)."""
        j = _WS.match(self.s, self.i).end()
        if j == self.n or self.s[j] in "),":
            if j > self.i:
                self.i = j
                self.clear()
            return
        self.note(j, (show_str(")"), show_str(",")))
        self.note_eof(j)
        raise _Consumed() if consumed or j > self.i else _Empty()

    def _cast(self) -> str | None:
        if self.s.startswith("::", self.i):
            self.i += 2
            self.clear()
            try:
                return self.identifier()
            except _Empty:
                raise _Consumed() from None
        self.note_lit(self.i, "::")
        return None

    def _select_field(self) -> SelectField:
        s, n = self.s, self.n
        p = self.i
        moved = self.ws()
        q = self.i
        # `*`
        if q < n and s[q] == "*":
            self.i = q + 1
            try:
                self._at_end(False)
                self.clear()
                self.ws()
                return SelectField(Field("*"))
            except _Fail:
                self.i = q
        else:
            self.note(q, (show_str("*"),))
        # `[alias:]count()[::cast]`
        alias = self._alias()
        r = self.i
        if s.startswith("count()", r):
            self.i = r + 7
            self.clear()
            try:
                agg_cast = self._cast()
                self._at_end(True)
                self.ws()
                return SelectField(Field("*"), alias, None, "count", agg_cast)
            except _Fail:
                self.i = q
        else:
            self.note_lit(r, "count()")
            self.i = q
        # `[alias:]field[->json][::cast][.agg()[::cast]]`
        alias = self._alias()
        consumed = moved or self.i > q
        try:
            fld = self.field()
        except _Empty:
            if consumed:
                raise _Consumed() from None
            self.i = p
            raise
        cast = self._cast()
        agg = self._aggregate()
        # PostgREST also parses `a::int::text`, and then ignores the second cast.
        agg_cast = self._cast()
        if agg is None:
            agg_cast = None
        self._at_end(True)
        self.ws()
        return SelectField(fld, alias, cast, agg, agg_cast)

    def _aggregate(self) -> str | None:
        """`optionMaybe (try (char '.' *> pAggregation <* string "()"))`."""
        s, p = self.s, self.i
        if not (p < self.n and s[p] == "."):
            self.note(p, (show_str("."),))
            return None
        k = p + 1
        for name in AGGREGATES:
            if s.startswith(name, k):
                if s.startswith("()", k + len(name)):
                    self.i = k + len(name) + 2
                    self.clear()
                    return name
                self.note_lit(k + len(name), "()")
                return None
        for name in AGGREGATES:
            self.note_lit(k, name)
        return None

    # -- order -------------------------------------------------------------------------------

    def order(self) -> list[OrderTerm]:
        terms = [self._order_term()]
        while self.i < self.n and self.s[self.i] == ",":
            self.i += 1
            self.clear()
            terms.append(self._order_term())
        self.note(self.i, (show_str(","),))
        self.expect_eof()
        return terms

    def _order_term(self) -> OrderTerm:
        moved = self.ws()
        p = self.i
        try:
            relation = self.field_name()
            self.char("(", True)
            fld = self.field()
            self.char(")", True)
        except _Fail:
            self.i = p
        else:
            direction, nulls = self._order_modifiers()
            return OrderTerm(fld, relation, direction, nulls)  # type: ignore[arg-type]
        try:
            fld = self.field()
        except _Empty:
            if moved:
                raise _Consumed() from None
            raise
        direction, nulls = self._order_modifiers()
        return OrderTerm(fld, None, direction, nulls)  # type: ignore[arg-type]

    def _order_modifiers(self) -> tuple[str | None, str | None]:
        s = self.s
        direction = self._dotted(("asc", "desc"))
        nulls = self._dotted(("nullsfirst", "nullslast"))
        j = _WS.match(s, self.i).end()
        if j == self.n or s[j] == ",":
            self.i = j
            return direction, ({"nullsfirst": "first", "nullslast": "last"}.get(nulls) if nulls else None)
        self.note(j, (show_str(","),))
        self.note_eof(j)
        raise _Consumed()

    def _dotted(self, words: tuple[str, ...]) -> str | None:
        s, p = self.s, self.i
        if not (p < self.n and s[p] == "."):
            self.note(p, (DELIM,))
            return None
        for w in words:
            if s.startswith(w, p + 1):
                self.i = p + 1 + len(w)
                self.clear()
                return w
        for w in words:
            self.note_lit(p + 1, w)
        return None

    # -- keys and lists of names -------------------------------------------------------------

    def tree_path(self) -> tuple[tuple[str, ...], Field]:
        """`pTreePath`: `emb.emb.col[->json]`, the whole key."""
        names = [self.field_name()]
        while self.i < self.n and self.s[self.i] == ".":
            self.i += 1
            self.clear()
            names.append(self._name_consumed())
        self.note(self.i, (DELIM,))
        path = self.json_path()
        self.expect_eof()
        return tuple(names[:-1]), Field(names[-1], path)

    def dotted_names(self) -> list[str]:
        names = [self.field_name()]
        while self.i < self.n and self.s[self.i] == ".":
            self.i += 1
            self.clear()
            names.append(self._name_consumed())
        self.note(self.i, (DELIM,))
        self.expect_eof()
        return names

    def columns(self) -> list[str]:
        """`pColumns`: comma-separated field names."""
        names = [self.field_name()]
        while True:
            self.ws()
            if self.i < self.n and self.s[self.i] == ",":
                self.i += 1
                self.clear()
                self.ws()
                names.append(self._name_consumed())
                continue
            self.note(self.i, (show_str(","),))
            break
        self.expect_eof()
        return names


def run(label: str, text: str, parse: Callable[[Parser], T]) -> T:
    """Run `parse` over `text`; any failure becomes PGRST100 `"<label> (<text>)" (line l, column c)`."""
    return run_as(f"{label} ({text})", text, parse)


def run_as(name: str, text: str, parse: Callable[[Parser], T]) -> T:
    """Like `run`, with the error's source name given whole (logic trees report `v`, parse `op+v`)."""
    p = Parser(text)
    try:
        return parse(p)
    except _Fail:
        raise p.error(name) from None
    except _TooDeep as exc:
        line, col = _line_col(text, exc.pos)
        raise parse_error(f'"{name}" (line {line}, column {col})',
                          f"nesting deeper than {MAX_DEPTH} levels is not supported") from None
    except RecursionError:
        raise parse_error(f'"{name}" (line 1, column 1)', "input nested too deeply") from None


def filter_value(text: str, *, allow_plain: bool = False) -> tuple[bool, OpExpr] | None:
    """Parse a filter's value (`[not.]op.value`, the value being the whole rest).

    With `allow_plain` (GET/HEAD on a function) a value that is not a filter returns
    None, so the caller can take it as an argument; as in PostgREST this only holds if
    the parser gave up without consuming anything: `not.`, `in.` and `is.` commit.
    """
    p = Parser(text)
    try:
        negated, expr = p.op_expr(logic=False)
        p.expect_eof()
        return negated, expr
    except _Empty:
        if allow_plain:
            return None
        raise p.error(f"failed to parse filter ({text})") from None
    except _Consumed:
        raise p.error(f"failed to parse filter ({text})") from None
