"""Fuzzy string sets: a port of the Haskell library fuzzyset 0.2.4, which PostgREST uses for its hints.

PostgREST pins ``fuzzyset >= 0.2.4 && < 0.3`` and picks its "Perhaps you meant ..." suggestions with
``fromList``, ``get``, ``getOne`` and ``getOneWithMinScore``. To give the same suggestion with the same score,
this module follows that version step by step (laserpants/fuzzyset-haskell at commit 1575389, version 0.2.4),
including its quirks: items are added last to first, the duplicate check looks at the original values, and
ties keep the iteration order of a Haskell ``HashMap Int``.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from collections.abc import Iterable

DEFAULT_MIN_SCORE = 0.33  # what getOne and get use
_LEVENSHTEIN_POOL = 50  # only the best 50 cosine matches are rescored by edit distance


def _lower(text: str) -> str:
    # Data.Text.toLower maps each character on its own (no final-sigma rule, unlike str.lower()).
    return "".join(ch.lower() for ch in text)


def _is_space(ch: str) -> bool:
    # Data.Char.isSpace: ASCII whitespace and NBSP below U+0378, the Zs category above it.
    if ord(ch) <= 0x377:
        return ch in " \t\n\v\f\r\xa0"
    return unicodedata.category(ch) == "Zs"


def _normalized(text: str) -> str:
    # Util.normalized: lowercase, then keep only isAlphaNum (letters L*, numbers N*), spaces and commas.
    return "".join(ch for ch in _lower(text) if ch == "," or unicodedata.category(ch)[0] in "LN" or _is_space(ch))


def _gram_vector(text: str, size: int) -> Counter[str]:
    """How often each SIZE-character substring occurs in the normalized TEXT enclosed in hyphens."""
    padded = "-" + _normalized(text) + "-"
    return Counter(padded[i : i + size] for i in range(len(padded) - size + 1))


def _norm(vector: Counter[str]) -> float:
    # Summed as integers first, then one square root, as Util.norm does.
    return math.sqrt(sum(count * count for count in vector.values()))


def _similarity(s: str, t: str) -> float:
    """text-metrics' levenshteinNorm: 1 - distance / longer length (1 for a zero distance)."""
    previous = list(range(len(t) + 1))
    for i, a in enumerate(s, 1):
        current = [i]
        for j, b in enumerate(t, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    distance = previous[-1]
    longest = max(len(s), len(t))
    # The library computes an exact Ratio and rounds once; (longest - d) / longest rounds the same way.
    return 1.0 if distance == 0 else (longest - distance) / longest


def _hashmap_order(index: int) -> tuple[int, ...]:
    # A HashMap Int iterates by its trie: hash (= the Int itself) in 5-bit chunks, lowest chunk first.
    # Ties in score keep this order, so e.g. index 32 comes right after index 0.
    return tuple((index >> shift) & 31 for shift in range(0, 64, 5))


class FuzzySet:
    """A set of strings that can be searched for approximate matches (Data.FuzzySet)."""

    def __init__(
        self,
        values: Iterable[str] = (),
        *,
        gram_size_lower: int = 2,
        gram_size_upper: int = 3,
        use_levenshtein: bool = True,
    ) -> None:
        """Build a set as ``Fuzzy.fromList`` does; the keyword defaults are the library's ``defaultSet``."""
        if gram_size_lower < 2:
            raise ValueError("gram size must be at least 2")
        self._sizes = range(gram_size_lower, gram_size_upper + 1)
        self._levenshtein = use_levenshtein
        self._exact: dict[str, str] = {}  # lowercased entry -> entry as given
        self._originals: set[str] = set()  # the dict's values, for the duplicate check
        self._entries: list[str] = []  # lowercased entry per item index
        self._magnitudes: dict[int, list[float]] = {n: [] for n in self._sizes}
        self._grams: dict[str, list[tuple[int, int]]] = {}  # gram -> (item index, count) pairs
        # fromList = foldr (flip add) defaultSet: the last value is added first.
        for value in reversed(list(values)):
            self.add(value)

    def add(self, value: str) -> bool:
        """Add VALUE as ``addToSet`` does; return whether it was added."""
        key = _lower(value)
        # The library tests `key `elem` exactSet`, which searches the map's values (the original
        # spellings), so "Films" twice is stored twice while "films" twice is stored once.
        if key in self._originals:
            return False
        index = len(self._entries)
        self._entries.append(key)
        for size in self._sizes:
            vector = _gram_vector(key, size)
            self._magnitudes[size].append(_norm(vector))
            for gram, count in vector.items():
                self._grams.setdefault(gram, []).append((index, count))
        if key in self._exact:  # only reachable when the new spelling differs; it replaces the old one
            self._originals.discard(self._exact[key])
        self._exact[key] = value
        self._originals.add(value)
        return True

    def get(self, query: str, min_score: float = DEFAULT_MIN_SCORE) -> list[tuple[float, str]]:
        """Matches for QUERY scoring at least MIN_SCORE, best first (``get`` / ``getWithMinScore``)."""
        key = _lower(query)
        if key in self._exact:  # an exact (case-insensitive) hit wins outright, whatever the minimum
            return [(1.0, self._exact[key])]
        # The largest gram size that yields anything decides; smaller sizes are only a fallback.
        for size in reversed(self._sizes):
            found = self._get_matches(key, min_score, size)
            if found:
                return found
        return []

    def get_one(self, query: str, min_score: float = DEFAULT_MIN_SCORE) -> str | None:
        """The best match for QUERY, or None (``getOne`` / ``getOneWithMinScore``)."""
        found = self.get(query, min_score)
        return found[0][1] if found else None

    def _get_matches(self, query: str, min_score: float, size: int) -> list[tuple[float, str]]:
        """Internal.getMatches: cosine similarity of gram vectors, then optionally edit-distance rescoring."""
        vector = _gram_vector(query, size)
        dots: dict[int, int] = {}
        for gram, count in vector.items():
            for index, other in self._grams.get(gram, ()):
                dots[index] = dots.get(index, 0) + other * count
        query_magnitude = _norm(vector)
        magnitudes = self._magnitudes[size]
        scored = [
            (dots[i] / (query_magnitude * magnitudes[i]), self._entries[i]) for i in sorted(dots, key=_hashmap_order)
        ]
        scored.sort(key=lambda pair: -pair[0])  # stable, like Data.List.sortBy
        if self._levenshtein:
            # The (lowercased, not normalized) query is compared with the lowercased entries.
            scored = [(_similarity(query, entry), entry) for _, entry in scored[:_LEVENSHTEIN_POOL]]
            scored.sort(key=lambda pair: -pair[0])
        return [(score, self._exact.get(entry, "")) for score, entry in scored if score >= min_score]
