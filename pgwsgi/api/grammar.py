"""PostgREST's query-string grammar (docs/postgrest-inventory.md §3): filters, logic trees and parameter keys.

`Parser` is the whole grammar: it adds the rules of filters (`[not.]op.value`),
logic trees and parameter keys to the field, select and order rules of
`grammar_fields.py`; the parsec-style machinery it runs on is in `parsing.py`.
`run`, `run_as` and `filter_value` are the entry points used by `querystring.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal, TypeVar

from .grammar_fields import FieldParser
from .model import Condition, Field, Filter, LogicTree, Operator, OpExpr
from .parsing import (
    DELIM,
    MAX_DEPTH,
    QUOTED,
    Consumed,
    Empty,
    Fail,
    TooDeep,
    run_parser,
    show_char,
    show_str,
    unescape,
)

T = TypeVar("T")

SIMPLE_OPS: tuple[Operator, ...] = ("neq", "cs", "cd", "ov", "sl", "sr", "nxr", "nxl", "adj")
QUANT_OPS: tuple[Operator, ...] = ("eq", "gte", "gt", "lte", "lt", "like", "ilike", "match", "imatch")
FTS_OPS: tuple[Operator, ...] = ("fts", "plfts", "phfts", "wfts")
IS_VALUES = ("null", "not_null", "true", "false", "unknown")

LABEL_OPERATOR = "operator (eq, gt, ...)"
LABEL_IS = "isVal: (null, not_null, true, false, unknown)"
LABEL_NOT = "negation operator (not)"
LABEL_LOGIC_OP = "logic operator (and, or)"

_UNTIL_COMMA_PAREN = re.compile(r"[^,)]*")
_PG_ARRAY = re.compile(r"\{[^{}]*\}")
_UNTIL_BRACES = re.compile(r"[^{}]*")
_OP_WORD = re.compile(r"([a-z]+)(?:\((any|all)\))?\.")
# Operator word -> the operator, for the fast path (a lookup that also gives the word its type).
_FAST_SIMPLE: dict[str, Operator] = {op: op for op in (*SIMPLE_OPS, "isdistinct")}
_FAST_QUANT: dict[str, Operator] = {op: op for op in QUANT_OPS}
_MODIFIERS: dict[str | None, Literal["any", "all"] | None] = {None: None, "any": "any", "all": "all"}


class Parser(FieldParser):
    """The query-string grammar: filters, logic trees and keys on top of the field rules."""

    __slots__ = ()

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
        except Empty:
            self.relabel_merge(LABEL_OPERATOR, prior)
            if negated:
                raise Consumed() from None
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
                    except Empty:
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
                    return OpExpr(word, self.single_val(logic), language=lang)
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
                    return OpExpr(word, self.single_val(logic))
                self.note(k, (DELIM,))
                break
            self.note_lit(q, word)
        for word in QUANT_OPS:
            if s.startswith(word, q):
                k = q + len(word)
                mod: Literal["any", "all"] | None = None
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
                    return OpExpr(word, self.single_val(logic), modifier=mod)
                self.note(k, (DELIM,))
                break
            self.note_lit(q, word)
        self.i = q
        raise Empty()

    def _operation_fast(self, logic: bool) -> OpExpr | None:
        """The common operators without error bookkeeping. An operator word is always
        followed by `.` or `(`, so whatever succeeds here succeeds identically below."""
        s, q = self.s, self.i
        m = _OP_WORD.match(s, q)
        if m is None:
            return None
        word, mod, k = m.group(1), m.group(2), m.end()
        op = _FAST_QUANT.get(word) or (_FAST_SIMPLE.get(word) if mod is None else None)
        if op is None:
            return None
        self.i = k
        self.clear()
        return OpExpr(op, self.single_val(logic), modifier=_MODIFIERS[mod])

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
            m = QUOTED.match(s, p)
            if m is not None:
                e = m.end()
                if e == n or s[e] in ",)":
                    self.i = e
                    self.clear()
                    return unescape(m.group(1))
                self.note(e + 1, un=show_char(s[e]))
            else:
                self.note(n, (show_str("\\"), show_str('"')))
        elif p < n and s[p] == "{":
            m = _PG_ARRAY.match(s, p)
            if m is not None:
                self.i = m.end()
                self.clear()
                return m.group()
            matched = _UNTIL_BRACES.match(s, p + 1)
            e = matched.end() if matched else p + 1
            self.note(e, (show_str("}"),))
        matched = _UNTIL_COMMA_PAREN.match(s, p)
        e = matched.end() if matched else p
        self.i = e
        if e > p:
            self.clear()
        self.note(e)
        return s[p:e]

    def is_val(self) -> str:
        s, p = self.s, self.i
        for word in IS_VALUES:
            seg = s[p : p + len(word)]
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
        raise Consumed()  # "is." was consumed

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
            m = QUOTED.match(s, p)
            if m is not None:
                e = m.end()
                if e == n or s[e] in ",)":
                    self.i = e
                    self.clear()
                    return unescape(m.group(1))
                self.note(e + 1, un=show_char(s[e]))
            else:
                self.note(n, (show_str("\\"), show_str('"')))
        matched = _UNTIL_COMMA_PAREN.match(s, p)
        e = matched.end() if matched else p
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
        except Fail:
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
        op: Literal["and", "or"]
        if s.startswith("and", q):
            op, self.i = "and", q + 3
        elif s.startswith("or", q):
            op, self.i = "or", q + 2
        else:
            prior = self.save()
            self.note_lit(q, "and")
            self.note_lit(q, "or")
            self.relabel_merge(LABEL_LOGIC_OP, prior)
            raise Consumed() if negated else Empty()
        self.clear()
        self.lexeme_char("(", True)
        if depth >= MAX_DEPTH:
            raise TooDeep(self.i)
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
        return LogicTree(op, tuple(children), negated)

    def _logic_child(self, depth: int) -> Condition:
        try:
            return self.logic_tree(depth + 1)
        except Empty:
            raise Consumed() from None

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
    return run_parser(name, Parser(text), parse)


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
    except Empty:
        if allow_plain:
            return None
        raise p.error(f"failed to parse filter ({text})") from None
    except Consumed:
        raise p.error(f"failed to parse filter ({text})") from None
