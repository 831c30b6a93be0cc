"""The needs vocabulary: what a company's words and an offer's texts are about, as concepts.

Pure Python on plain data (no Django), so ``routing.matching`` can use it and tests need no
database. The vocabulary is data that editors extend: ``routing/data/needs_vocabulary.json``
(described in ``docs/matching.md``). Each concept ("export", "funding", "cyber security") has
Danish word beginnings found in needs and offers alike, extra words found only in needs
(colloquial Danish, common typos, English), extra words found only in offers, the catalogue themes
it implies, the DB07 main groups an industry concept names, and a weight (how much it says).

Rules decided here:

- Text is compared lower-cased with runs of white space as one space.
- A vocabulary word matches where a word of the text begins with it ("eksport" finds
  "eksportere"). A word of five letters or more also matches inside a compound
  ("fødevareeksport"), unless it is written with a leading ``^``, which pins it to the start of
  a word. A word ending in a space must be followed by one ("^ai " does not find "aid").
- An offer's concept is strong where it is found in the title (1.0), the summary or expected
  result (0.8), and weaker where it is found only in the description (0.4).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

VOCABULARY_FILE = Path(__file__).resolve().parent / "data" / "needs_vocabulary.json"

#: How strongly an offer is about a concept, by where its text says so.
TITLE_STRENGTH = 1.0
SUMMARY_STRENGTH = 0.8
DESCRIPTION_STRENGTH = 0.4
#: Only this much of a description is read: what an offer is about is said early, and the
#: time to read an offer stays bounded (about a millisecond per 2,000 characters).
DESCRIPTION_SCAN_CHARS = 1500
#: Words this short only ever match at the start of a word.
INFIX_MIN_LENGTH = 5

_SPACE = re.compile(r"\s+")
#: The matcher's name for the phrases that say no need (``not_needs``).
_NOT_A_NEED = "\x00not a need"
_PREFIX = 3
# Words as the matchers see them: letters and digits, joined by hyphens ("e-handel", "nis2").
_WORDS = re.compile(r"\w+(?:-\w+)*")


@dataclass(frozen=True, slots=True, kw_only=True)
class Concept:
    """One thing a company can need or be."""

    id: str
    label_da: str
    label_en: str
    themes: tuple[str, ...]
    groups: tuple[str, ...]
    weight: float
    search: tuple[str, ...]
    #: Says what a company is (an industry), not what it needs.
    is_industry: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferConcepts:
    """What an offer is about: concept id → strength (0-1), and the DB07 groups it names."""

    strength: Mapping[str, float]
    groups: frozenset[str]
    #: Region codes of the places the title or summary names ("Midtjysk Lånefond": 1082).
    regions: frozenset[int] = frozenset()


class _Matcher:
    """Finds vocabulary words in a text: each word's start, and for compound parts every place
    inside a word, is looked up by its first letters (a regular expression of several hundred
    alternatives is a hundred times slower)."""

    def __init__(self, words: Mapping[str, tuple[str, ...]]) -> None:
        self._concepts_of: dict[str, tuple[str, ...]] = {}
        for concept, entries in words.items():
            for entry in entries:
                key = entry.lower()
                if concept not in self._concepts_of.get(key, ()):
                    self._concepts_of[key] = (*self._concepts_of.get(key, ()), concept)
        # First three letters (all of a shorter word) → (word, pinned to a word's start, key),
        # longest word first, so the longest word at a place wins ("eksportkredit" over
        # "eksport").
        self._by_start: dict[str, list[tuple[str, bool, str]]] = {}
        for key in sorted(self._concepts_of, key=lambda k: (-len(k.lstrip("^")), k.lstrip("^"), k)):
            body = key.lstrip("^")
            if not body.strip():
                continue
            pinned = key.startswith("^") or len(body.strip()) < INFIX_MIN_LENGTH
            self._by_start.setdefault(body[:_PREFIX], []).append((body, pinned, key))

    def find(self, text: str) -> dict[str, list[str]]:
        """Concept id → the words of ``text`` (as written there) that say it, in order."""
        found: dict[str, list[str]] = {}
        padded = text + " "
        by_start = self._by_start
        for word in _WORDS.finditer(text):
            start, end = word.span()
            # A word's start; inside a word only where a compound part of five letters fits.
            for position in range(start, max(start + 1, end - INFIX_MIN_LENGTH + 1)):
                entries = by_start.get(text[position : position + _PREFIX], ())
                short = by_start.get(text[position : position + 2], ()) if position == start else ()
                if not entries and not short:
                    continue
                at_start = position == start
                matched = ""
                for body, pinned, key in (*entries, *short):
                    if matched and body != matched:
                        # The longest word at a place wins; the same word written pinned
                        # ("^investor") and unpinned ("investor") for two concepts says both.
                        break
                    if (pinned and not at_start) or not padded.startswith(body, position):
                        continue
                    matched = body
                    hit = _whole_word(text, position, position + len(body.rstrip()))
                    for concept in self._concepts_of[key]:
                        words = found.setdefault(concept, [])
                        if hit not in words:
                            words.append(hit)
        return found


def _whole_word(text: str, start: int, end: int) -> str:
    """The text's words around a hit, from the start of its first word to the end of its last."""
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "-"):
        start -= 1
    while end < len(text) and (text[end].isalnum() or text[end] == "-"):
        end += 1
    return text[start:end].strip()


def normalise(text: str) -> str:
    return _SPACE.sub(" ", text.lower()).strip()


def _as_written(text: str, word: str) -> str:
    """``word`` (found in ``normalise(text)``) as ``text`` spells it: its first occurrence as a
    whole word, case as written, any run of spaces as one; ``word`` itself if not found."""
    pattern = r"\s+".join(re.escape(part) for part in word.split(" "))
    found = re.search(rf"(?<![\w-]){pattern}(?![\w-])", text, re.IGNORECASE)
    return _SPACE.sub(" ", found.group(0)) if found else word


class Vocabulary:
    """The concepts, and two matchers: needs (every word) and offers (Danish and offer words)."""

    def __init__(self, data: Mapping[str, object]) -> None:
        concepts = data.get("concepts") or []
        groups = data.get("groups") or {}
        if not isinstance(concepts, list) or not isinstance(groups, dict):
            msg = "the vocabulary needs a list of concepts and a map of groups"
            raise ValueError(msg)
        self.concepts: dict[str, Concept] = {}
        need_words: dict[str, tuple[str, ...]] = {}
        offer_words: dict[str, tuple[str, ...]] = {}
        for entry in concepts:
            concept = Concept(
                id=str(entry["id"]),
                label_da=str(entry["label"]["da"]),
                label_en=str(entry["label"]["en"]),
                themes=tuple(entry.get("themes", ())),
                groups=tuple(str(g) for g in entry.get("groups", ())),
                weight=float(entry.get("weight", 1)),
                search=tuple(entry.get("search", ())),
                is_industry=entry.get("kind") == "industry",
            )
            if concept.id in self.concepts:
                msg = f"the concept {concept.id!r} is in the vocabulary twice"
                raise ValueError(msg)
            self.concepts[concept.id] = concept
            words = tuple(entry.get("words", ()))
            need_words[concept.id] = (*words, *entry.get("need", ()))
            offer_words[concept.id] = (*words, *entry.get("offer", ()))
        self.group_labels: dict[str, tuple[str, str]] = {
            str(code): (str(names["da"]), str(names["en"])) for code, names in groups.items()
        }
        places = data.get("places") or {}
        if not isinstance(places, dict):
            msg = "the vocabulary's places map words to region codes"
            raise ValueError(msg)
        self._places = _Matcher(
            {
                str(code): tuple(w for w, c in places.items() if c == code)
                for code in set(places.values())
            }
        )
        # Phrases that say no need, found only to hide the shorter words at their place ("vi
        # leder efter en grund" is no need of leadership).
        not_needs = data.get("not_needs") or []
        if not isinstance(not_needs, list):
            msg = "the vocabulary's not_needs is a list of phrases"
            raise ValueError(msg)
        self._needs = _Matcher({**need_words, _NOT_A_NEED: tuple(str(w) for w in not_needs)})
        self._offers = _Matcher(offer_words)
        self.need_concepts = lru_cache(maxsize=2048)(self._need_concepts)
        self.offer_concepts = lru_cache(maxsize=20000)(self._offer_concepts)

    def _need_concepts(self, needs: str) -> Mapping[str, tuple[str, ...]]:
        """Concept id → the words of the needs text that say it, spelt as the company wrote
        them ("Tyskland", not the lower-cased "tyskland" the matcher reads)."""
        return {
            c: tuple(_as_written(needs, word) for word in words)
            for c, words in self._needs.find(normalise(needs)).items()
            if c != _NOT_A_NEED
        }

    def _offer_concepts(
        self, title: str, summary: str, expected_result: str, description: str
    ) -> OfferConcepts:
        strength: dict[str, float] = {}
        for text, weight in (
            (description[:DESCRIPTION_SCAN_CHARS], DESCRIPTION_STRENGTH),
            (f"{summary} \n {expected_result}", SUMMARY_STRENGTH),
            (title, TITLE_STRENGTH),
        ):
            for concept in self._offers.find(normalise(text)):
                strength[concept] = max(strength.get(concept, 0.0), weight)
        groups = frozenset(
            group
            for concept, value in strength.items()
            if value >= SUMMARY_STRENGTH
            for group in self.concepts[concept].groups
        )
        named = self._places.find(normalise(f"{title} \n {summary}"))
        return OfferConcepts(
            strength=strength, groups=groups, regions=frozenset(int(code) for code in named)
        )

    def implied_themes(self, concepts: Iterable[str]) -> tuple[str, ...]:
        """The catalogue themes the concepts imply, in the vocabulary's order."""
        themes: dict[str, None] = {}
        for concept in concepts:
            for theme in self.concepts[concept].themes:
                themes.setdefault(theme, None)
        return tuple(themes)

    def expansion(self, text: str) -> list[str]:
        """The Danish search words of the concepts a text is about ("sell abroad" → eksport)."""
        words: dict[str, None] = {}
        for concept in self.need_concepts(text):
            for word in self.concepts[concept].search:
                words.setdefault(word, None)
        return list(words)


def load_vocabulary(path: Path = VOCABULARY_FILE) -> Vocabulary:
    return Vocabulary(json.loads(path.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def _file_data() -> str:
    return VOCABULARY_FILE.read_text(encoding="utf-8")


def load_vocabulary_data() -> dict[str, Any]:
    """The vocabulary file's data (a fresh copy, free to change)."""
    data: dict[str, Any] = json.loads(_file_data())
    return data


#: Where an added word is found: the key of the concept's list it joins.
ADDED_WORD_LISTS = ("need", "words", "offer")


def merged(
    data: Mapping[str, Any], added: Iterable[tuple[str, str, str, str, str]]
) -> dict[str, Any]:
    """The vocabulary data with words added: ``(concept, word, where, label_da, label_en)``,
    ``where`` one of :data:`ADDED_WORD_LISTS`. A word for a concept the data lacks makes a new
    concept (weight 1, no themes) labelled by the first row that gives labels."""
    result = dict(data)
    concepts = [dict(entry) for entry in data.get("concepts") or []]
    by_id = {str(entry["id"]): entry for entry in concepts}
    for concept, word, where, label_da, label_en in added:
        if where not in ADDED_WORD_LISTS or not word.strip("^ "):
            continue
        entry = by_id.get(concept)
        if entry is None:
            entry = {"id": concept, "label": {"da": concept, "en": concept}, "weight": 1}
            by_id[concept] = entry
            concepts.append(entry)
        if label_da and label_en and entry["label"] == {"da": concept, "en": concept}:
            entry["label"] = {"da": label_da, "en": label_en}
        words = list(entry.get(where, ()))
        if word not in words:
            entry[where] = [*words, word]
    result["concepts"] = concepts
    return result


@lru_cache(maxsize=1)
def default_vocabulary() -> Vocabulary:
    """The vocabulary in ``routing/data/needs_vocabulary.json``, read once per process."""
    return load_vocabulary()
