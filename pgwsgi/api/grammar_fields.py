"""PostgREST's rules for naming columns: fields, JSON paths, select items and order terms.

Part of the query-string grammar (docs/postgrest-inventory.md §3), built on the parsec-style
`Cursor` of `parsing.py` (read its docstring for the conventions). `FieldParser`
holds the rules of `select` and `order`; filters, logic trees and parameter
keys build on it in `grammar.py`, whose `Parser` is the one to use.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal, TypeVar

from .model import Field, JsonStep, OrderTerm, SelectField, SelectItem, SelectRelation
from .parsing import (
    DELIM,
    DIGITS,
    MAX_DEPTH,
    WS,
    Consumed,
    Cursor,
    Empty,
    Fail,
    TooDeep,
    show_char,
    show_str,
)

AGGREGATES = ("sum", "avg", "count", "max", "min")

LABEL_FIELD = "field name (* or [a..z0..9_$])"
LABEL_JSON_KEY = "any non reserved character different from: .,>()"

_JSON_KEY_CHARS = re.compile(r"[^(\-:.,>)]+")

_Join = Literal["inner", "left"]
_Direction = Literal["asc", "desc"]
_Nulls = Literal["first", "last"]
_W = TypeVar("_W", bound=str)

_JOINS: dict[str, _Join] = {"left": "left", "inner": "inner"}
_DIRECTIONS: tuple[_Direction, ...] = ("asc", "desc")
_NULLS: dict[str, _Nulls] = {"nullsfirst": "first", "nullslast": "last"}


class FieldParser(Cursor):
    """The rules that name columns, and the `select` and `order` lists made of them."""

    __slots__ = ()

    # -- fields and JSON paths -------------------------------------------------------------

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
                    raise Consumed()
                parts.append(s[j + 1 : k].strip())
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
            raise Empty()
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
            arrow: Literal["->", "->>"]
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
            steps.append(JsonStep(arrow, self._json_operand()))

    def _json_operand(self) -> str | int:
        s, n = self.s, self.n
        q = self.i
        # try pJIdx: an integer, if followed by "->", "::", ".", ",", ")" or the end. PostgREST
        # omits ")", which silently makes `rel(data->0)` a key "0"; an index is what is meant.
        j = q + 1 if q < n and s[q] == "-" else q
        k = j
        while k < n and s[k] in DIGITS:
            k += 1
        # Python refuses int() of more than 4300 digits; such a number is no usable index anyway.
        if j < k <= j + 4000:
            matched = WS.match(s, k)  # as everywhere else, blanks before a separator are fine
            end = matched.end() if matched else k
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
            except Consumed:
                self.i = q
                raise Consumed() from None
        e = self._json_key_end(q)
        if e == q:
            self.note(q, (LABEL_JSON_KEY,))
            raise Consumed()  # the arrow was consumed
        self.i = e
        self.clear()
        try:
            return self._dash_chain(s[q:e].strip(), self._json_key_end, ())
        except Consumed:
            self.i = q
            raise

    def field(self) -> Field:
        """`pField`: name plus JSON path, with surrounding whitespace."""
        moved = self.ws()
        try:
            name = self.field_name()
        except Empty:
            if moved:
                raise Consumed() from None
            raise
        path = self.json_path()
        self.ws()
        return Field(name, path)

    # -- select ------------------------------------------------------------------------------

    def forest(self, depth: int) -> list[SelectItem]:
        """`pFieldForest`: comma-separated select items, possibly none."""
        s = self.s
        items: list[SelectItem] = []
        # PostgREST rejects blanks in `rel( )` and after a closing `)`; accept them.
        matched = WS.match(s, self.i)
        j = matched.end() if matched else self.i
        if j > self.i and (j == self.n or s[j] == ")"):
            self.i = j
            self.clear()
        try:
            items.append(self.select_item(depth))
        except Empty:
            return items
        while True:
            self.ws()
            if self.i < self.n and s[self.i] == ",":
                self.i += 1
                self.clear()
                self.ws()
                try:
                    items.append(self.select_item(depth))
                except Empty:
                    raise Consumed() from None
                continue
            self.note(self.i, (show_str(","),))
            return items

    def select_item(self, depth: int) -> SelectItem:
        p = self.i
        try:
            name, hint, join = self._spread_header()
        except Fail:
            self.i = p
        else:
            return SelectRelation(name, None, hint, join, True, self._children(depth))
        try:
            alias, name, hint, join = self._relation_header()
        except Fail:
            self.i = p
        else:
            return SelectRelation(name, alias, hint, join, False, self._children(depth))
        return self._select_field()

    def _children(self, depth: int) -> tuple[SelectItem, ...]:
        if depth >= MAX_DEPTH:
            raise TooDeep(self.i)
        self.char("(", True)
        items = self.forest(depth + 1)
        self.char(")", True)
        return tuple(items)

    def _spread_header(self) -> tuple[str, str | None, _Join | None]:
        self.ws()
        q = self.i
        if not self.s.startswith("...", q):
            self.note_lit(q, "...")
            raise Empty()
        self.i = q + 3
        self.clear()
        name = self._name_consumed()
        hint, join = self._embed_params()
        self._lookahead_paren()
        return name, hint, join

    def _relation_header(self) -> tuple[str | None, str, str | None, _Join | None]:
        self.ws()
        alias = self._alias()
        name = self._name_consumed()
        if name == "count":
            # A relation can never be named count: `count()` is the aggregate.
            raise Consumed()
        hint, join = self._embed_params()
        self._lookahead_paren()
        return alias, name, hint, join

    def _name_consumed(self) -> str:
        try:
            return self.field_name()
        except Empty:
            raise Consumed() from None

    def _lookahead_paren(self) -> None:
        if self.i < self.n and self.s[self.i] == "(":
            return
        self.note(self.i, (show_str("("),))
        raise Consumed()

    def _embed_params(self) -> tuple[str | None, _Join | None]:
        s = self.s
        hint: str | None = None
        join: _Join | None = None
        for _ in range(2):
            if self.i < self.n and s[self.i] == "!":
                self.i += 1
                self.clear()
                quoted = self.i < self.n and s[self.i] == '"'
                value = self._name_consumed()
                kind = None if quoted else _JOINS.get(value)
                if kind is not None:
                    join = join or kind
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
        except Fail:
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
        matched = WS.match(self.s, self.i)
        j = matched.end() if matched else self.i
        if j == self.n or self.s[j] in "),":
            if j > self.i:
                self.i = j
                self.clear()
            return
        self.note(j, (show_str(")"), show_str(",")))
        self.note_eof(j)
        raise Consumed() if consumed or j > self.i else Empty()

    def _cast(self) -> str | None:
        if self.s.startswith("::", self.i):
            self.i += 2
            self.clear()
            try:
                return self.identifier()
            except Empty:
                raise Consumed() from None
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
            except Fail:
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
            except Fail:
                self.i = q
        else:
            self.note_lit(r, "count()")
            self.i = q
        # `[alias:]field[->json][::cast][.agg()[::cast]]`
        alias = self._alias()
        consumed = moved or self.i > q
        try:
            fld = self.field()
        except Empty:
            if consumed:
                raise Consumed() from None
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
        except Fail:
            self.i = p
        else:
            direction, nulls = self._order_modifiers()
            return OrderTerm(fld, relation, direction, nulls)
        try:
            fld = self.field()
        except Empty:
            if moved:
                raise Consumed() from None
            raise
        direction, nulls = self._order_modifiers()
        return OrderTerm(fld, None, direction, nulls)

    def _order_modifiers(self) -> tuple[_Direction | None, _Nulls | None]:
        s = self.s
        direction = self._dotted(_DIRECTIONS)
        nulls = self._dotted(("nullsfirst", "nullslast"))
        matched = WS.match(s, self.i)
        j = matched.end() if matched else self.i
        if j == self.n or s[j] == ",":
            self.i = j
            return direction, (_NULLS.get(nulls) if nulls else None)
        self.note(j, (show_str(","),))
        self.note_eof(j)
        raise Consumed()

    def _dotted(self, words: tuple[_W, ...]) -> _W | None:
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
