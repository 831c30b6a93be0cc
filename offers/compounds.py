"""Split Danish compound words into the words they are made of.

PostgreSQL's ``danish`` text search configuration stems words but keeps a compound as one lexeme,
so a company searching "rådgivning" would not find "Eksportrådgivning". The catalogue therefore
indexes the parts of every compound as well, and the search splits compound query words the same
way (so "eksportrådgivning" also finds "rådgivning om eksport").

Splitting is lexicon-based: a word is split only when it can be covered completely by known
words, optionally joined by the Danish linking letters ``s`` and ``e`` ("virksomhed-s-udvikling"),
with the last part allowed an inflection ("eksport-rådet"). Two lexicons are used:

- the built-in list in ``offers/data/compound_words.txt``: curated base words that are never split
  themselves ("forretning" stays whole rather than becoming "for" + "retning");
- words seen in the catalogue: they widen coverage but may be compounds themselves, so they are
  split again, must be at least four letters and are never stop words.

Among the possible splits the one with the fewest parts wins, then the one using most base words.
Pure Python: no ORM, no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

WORD_LIST = Path(__file__).resolve().parent / "data" / "compound_words.txt"

# Shortest word considered for splitting: two parts of at least three letters each.
MIN_COMPOUND_LENGTH = 6
MIN_BASE_PART = 2
MIN_CATALOGUE_PART = 4
LINKING_LETTERS = frozenset("se")
# Inflections the last part may carry ("rådgivningen", "virksomheder", "modellerne"); longest
# first so the shortest remaining stem that is a known word wins only when nothing longer does.
INFLECTIONS = (
    "ernes",
    "erne",
    "enes",
    "ene",
    "ers",
    "ens",
    "ets",
    "er",
    "en",
    "et",
    "es",
    "e",
    "n",
    "s",
    "r",
    "t",
)

# The Snowball Danish stop words (the list PostgreSQL's danish configuration uses). They are never
# parts: "overskud" must not be read as "over" + "skud".
STOP_WORDS = frozenset(
    [
        "og",
        "i",
        "jeg",
        "det",
        "at",
        "en",
        "den",
        "til",
        "er",
        "som",
        "på",
        "de",
        "med",
        "han",
        "af",
        "for",
        "ikke",
        "der",
        "var",
        "mig",
        "sig",
        "men",
        "et",
        "har",
        "om",
        "vi",
        "min",
        "havde",
        "ham",
        "hun",
        "nu",
        "over",
        "da",
        "fra",
        "du",
        "ud",
        "sin",
        "dem",
        "os",
        "op",
        "man",
        "hans",
        "hvor",
        "eller",
        "hvad",
        "skal",
        "selv",
        "her",
        "alle",
        "vil",
        "blev",
        "kunne",
        "ind",
        "når",
        "være",
        "dog",
        "noget",
        "ville",
        "jo",
        "deres",
        "efter",
        "ned",
        "skulle",
        "denne",
        "end",
        "dette",
        "mit",
        "også",
        "under",
        "have",
        "dig",
        "anden",
        "hende",
        "mine",
        "alt",
        "meget",
        "sit",
        "sine",
        "vor",
        "mod",
        "disse",
        "hvis",
        "din",
        "nogle",
        "hos",
        "blive",
        "mange",
        "ad",
        "bliver",
        "hendes",
        "været",
        "thi",
        "jer",
        "sådan",
    ]
)

_WORD = re.compile(r"[^\W\d_]+")


@cache
def default_lexicon() -> frozenset[str]:
    """The built-in base words (read once per process)."""
    words = set()
    for line in WORD_LIST.read_text(encoding="utf-8").splitlines():
        word = line.strip().lower()
        if word and not word.startswith("#"):
            words.add(word)
    return frozenset(words)


def words_in(text: str) -> list[str]:
    """The lower-case alphabetic words of ``text`` (digits and punctuation separate words)."""
    return _WORD.findall(text.lower())


class CompoundSplitter:
    """Splits compounds with the base lexicon plus words seen in the catalogue.

    One instance memoises its answers, so reuse it for a batch of text.
    """

    def __init__(
        self, catalogue_words: Iterable[str] = (), *, base: frozenset[str] | None = None
    ) -> None:
        self.base = default_lexicon() if base is None else base
        self.catalogue = frozenset(
            word
            for word in (w.lower() for w in catalogue_words)
            if len(word) >= MIN_CATALOGUE_PART
            and word.isalpha()
            and word not in STOP_WORDS
            and word not in self.base
        )
        self._memo: dict[str, list[str]] = {}

    def split(self, word: str) -> list[str]:
        """The parts of ``word`` in base form, or ``[]`` when it is not a known compound.

        >>> CompoundSplitter().split("eksportrådgivning")
        ['eksport', 'rådgivning']
        """
        word = word.lower()
        cached = self._memo.get(word)
        if cached is not None:
            return cached
        parts = self._split(word)
        self._memo[word] = parts
        return parts

    def parts_of_text(self, text: str) -> list[str]:
        """Every part of every compound in ``text``, in order (duplicates kept)."""
        parts: list[str] = []
        for word in words_in(text):
            parts.extend(self.split(word))
        return parts

    def _split(self, word: str) -> list[str]:
        if len(word) < MIN_COMPOUND_LENGTH or word in self.base or not word.isalpha():
            return []
        best = _best_split(word, self.base, self.catalogue)
        if best is None:
            return []
        leaves: list[str] = []
        for part in best:
            # A catalogue word may be a compound itself ("eksportrådgivning" in
            # "eksportrådgivningsforløb"); its own parts are what a search needs.
            sub = self._split(part) if part in self.catalogue else []
            leaves.extend(sub or [part])
        return leaves


def _known(part: str, base: frozenset[str], catalogue: frozenset[str]) -> int | None:
    """0 for a base word, 1 for a catalogue word, None when unknown or too short."""
    if part in base and len(part) >= MIN_BASE_PART and part not in STOP_WORDS:
        return 0
    if part in catalogue:
        return 1
    return None


def _last_part(
    part: str, base: frozenset[str], catalogue: frozenset[str]
) -> tuple[str, int] | None:
    """The final part as a known word, allowing an inflection (and a doubled consonant).

    A base word wins over a catalogue word: "partnere" is read as the base word "partner".
    """
    candidates = [part]
    for ending in INFLECTIONS:
        if len(part) > len(ending) and part.endswith(ending):
            stem = part[: -len(ending)]
            candidates.append(stem)
            # "modeller" = "model" + a doubled "l" + "er".
            if len(stem) >= 2 and stem[-1] == stem[-2]:
                candidates.append(stem[:-1])
    found = [
        (kind, stem) for stem in candidates if (kind := _known(stem, base, catalogue)) is not None
    ]
    if not found:
        return None
    kind, stem = min(found, key=lambda item: item[0])
    return stem, kind


# A candidate split: (number of parts, number of catalogue parts, parts).
_Split = tuple[int, int, tuple[str, ...]]


def _best_split(word: str, base: frozenset[str], catalogue: frozenset[str]) -> list[str] | None:
    length = len(word)
    memo: dict[int, _Split | None] = {}

    def from_position(start: int) -> _Split | None:
        """The best cover of word[start:] by known parts (at least one part)."""
        if start in memo:
            return memo[start]
        best: _Split | None = None
        tail = _last_part(word[start:], base, catalogue) if start > 0 else None
        if tail is not None:
            best = (1, tail[1], (tail[0],))
        for end in range(start + MIN_BASE_PART, length - MIN_BASE_PART + 1):
            part = word[start:end]
            kind = _known(part, base, catalogue)
            nexts = []
            if kind is not None:
                nexts.append(end)
                if word[end] in LINKING_LETTERS:
                    nexts.append(end + 1)
            elif word[end] == "s":
                # A word ending in -e links with -s- in its place: "samarbejd-s-partner".
                part = part + "e"
                kind = _known(part, base, catalogue)
                if kind is not None:
                    nexts.append(end + 1)
            for following in nexts:
                if following >= length:
                    continue
                rest = from_position(following)
                if rest is None:
                    continue
                candidate = (rest[0] + 1, rest[1] + (kind or 0), (part, *rest[2]))
                if best is None or candidate[:2] < best[:2]:
                    best = candidate
        memo[start] = best
        return best

    result = from_position(0)
    if result is None or result[0] < 2:
        return None
    return list(result[2])
