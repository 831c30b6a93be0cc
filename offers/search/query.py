"""What a catalogue search asks: its parameters, the words of its text, and its filters.

``prepare_search`` resolves a search's slugs, codes and words in one SQL query (query 1 of
``run_search``): which query words are unknown and the closest known word (pg_trgm), and which
substrings of the query words are catalogue words (for splitting compound query words).

Geography rule (filter and facet alike): an offer is available in a region when it is nationwide,
lists that region, or lists a municipality in it; it is available in a municipality when it is
nationwide, lists that municipality, or lists its region.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urlencode

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.db import connection
from django.db.models import (
    BigIntegerField,
    Expression,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    Value,
)
from django.db.models.expressions import Combinable, CombinedExpression
from django.db.models.lookups import GreaterThan
from django.utils.translation import get_language

from offers.compounds import CompoundSplitter, words_in
from offers.models import municipality_name
from offers.search.index import SEARCH_CONFIG, facet_mask

PAGE_SIZE = 20
MAX_QUERY_LENGTH = 200
# Words beyond this are still matched, but not expanded (compounds) or corrected (typos).
MAX_EXPANDED_WORDS = 10
# pg_trgm similarity a known word needs to replace an unknown query word.
MIN_SIMILARITY = 0.4

Sort = Literal["relevance", "deadline", "newest"]
SORTS: tuple[Sort, ...] = ("relevance", "deadline", "newest")
# Every filter has facet counts.
FACETS = (
    "theme",
    "level",
    "phase",
    "size",
    "industry",
    "region",
    "price",
    "operator",
    "municipality",
)
FILTERS = FACETS


def municipality_label(code: int, name: str) -> str:
    """How a municipality is named in chips and facets: "Vejle Kommune"."""
    return municipality_name(code, name)


# websearch_to_tsquery syntax a user may type on purpose: "exact phrase", -exclude, or.
_WEBSEARCH_SYNTAX = re.compile(r"\"|(?:^|\s)-\w|\s(?:or|OR)\s")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --- What was asked -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferSearch:
    """Validated search parameters: OR within one filter, AND across filters."""

    q: str = ""
    theme: tuple[str, ...] = ()
    level: tuple[str, ...] = ()
    phase: tuple[str, ...] = ()
    size: tuple[str, ...] = ()
    industry: tuple[str, ...] = ()
    region: tuple[int, ...] = ()
    municipality: tuple[int, ...] = ()
    price: tuple[str, ...] = ()
    operator: tuple[str, ...] = ()
    include_closed: bool = False
    sort: Sort = "relevance"
    page: int = 1

    def values(self, name: str) -> tuple[str, ...]:
        """A filter's values as they appear in a URL."""
        return tuple(str(value) for value in getattr(self, name))

    def params(self) -> list[tuple[str, str]]:
        """The search as query-string pairs, defaults left out (page 1, relevance, open only)."""
        pairs: list[tuple[str, str]] = []
        if self.q:
            pairs.append(("q", self.q))
        for name in FILTERS:
            pairs.extend((name, value) for value in self.values(name))
        if self.include_closed:
            pairs.append(("include_closed", "1"))
        if self.sort != "relevance":
            pairs.append(("sort", self.sort))
        if self.page != 1:
            pairs.append(("page", str(self.page)))
        return pairs

    def querystring(self) -> str:
        return urlencode(self.params())

    def without(self, name: str, value: str | None = None) -> OfferSearch:
        """This search with one filter value (or the text, or the closed toggle) removed."""
        if name == "q":
            return replace(self, q="", page=1)
        if name == "include_closed":
            return replace(self, include_closed=False, page=1)
        kept = tuple(v for v in getattr(self, name) if value is not None and str(v) != value)
        changes: dict[str, Any] = {name: kept, "page": 1}
        return replace(self, **changes)

    def on_page(self, page: int) -> OfferSearch:
        return replace(self, page=page)

    @property
    def has_filters(self) -> bool:
        return any(getattr(self, name) for name in FILTERS)


# --- Preparing a search (query 1) ---------------------------------------------------------------


@dataclass
class Prepared:
    theme_ids: dict[str, int] = field(default_factory=dict)
    theme_labels: dict[str, str] = field(default_factory=dict)
    operator_ids: dict[str, int] = field(default_factory=dict)
    operator_labels: dict[str, str] = field(default_factory=dict)
    region_labels: dict[int, str] = field(default_factory=dict)
    municipality_regions: dict[int, int] = field(default_factory=dict)
    municipality_labels: dict[int, str] = field(default_factory=dict)
    # Per query word: its stem (None for a stop word), whether the catalogue knows it, and the
    # closest catalogue word when it does not.
    words: dict[str, tuple[str | None, bool, str | None]] = field(default_factory=dict)
    catalogue_parts: set[str] = field(default_factory=set)


_PREPARE_WORDS_SQL = """
SELECT 'word', w.word, s.stem, (s.stem IS NULL OR k.known)::text,
    CASE WHEN s.stem IS NOT NULL AND NOT k.known THEN (
        SELECT t.word FROM offers_offersearchterm t
        WHERE lower(t.word) %% w.word AND similarity(lower(t.word), w.word) >= %s
        ORDER BY similarity(lower(t.word), w.word) DESC, t.documents DESC, t.word
        LIMIT 1
    ) END
FROM unnest(%s::text[]) AS w(word)
CROSS JOIN LATERAL (
    SELECT (tsvector_to_array(to_tsvector('danish', w.word)))[1] AS stem
) AS s
CROSS JOIN LATERAL (
    SELECT EXISTS (SELECT 1 FROM offers_offersearchterm t WHERE t.lexeme = s.stem) AS known
) AS k
"""


def _substrings(word: str) -> set[str]:
    return {
        word[start:end]
        for start in range(len(word))
        for end in range(start + 4, len(word) + 1)
        if end - start < len(word)
    }


def _prepare(search: OfferSearch, words: Sequence[str]) -> Prepared:
    parts: list[str] = []
    params: list[Any] = []
    if search.theme:
        parts.append(
            "SELECT 'theme', slug, id::text, name, name_en FROM offers_theme WHERE slug = ANY(%s)"
        )
        params.append(list(search.theme))
    if search.operator:
        parts.append(
            "SELECT 'operator', slug, id::text, name, '' FROM offers_organisation"
            " WHERE slug = ANY(%s)"
        )
        params.append(list(search.operator))
    if search.region:
        parts.append(
            "SELECT 'region', code::text, '', name, '' FROM offers_region WHERE code = ANY(%s)"
        )
        params.append(list(search.region))
    if search.municipality:
        parts.append(
            "SELECT 'municipality', code::text, region_id::text, name, ''"
            " FROM offers_municipality WHERE code = ANY(%s)"
        )
        params.append(list(search.municipality))
    if words:
        parts.append(_PREPARE_WORDS_SQL)
        params.extend([MIN_SIMILARITY, list(words)])
        candidates = sorted({s for word in words for s in _substrings(word)})
        if candidates:
            # A join with the unique index on word (see the trigram index's comment).
            parts.append(
                "SELECT 'part', t.word, '', '', '' FROM unnest(%s::text[]) AS c(word)"
                " JOIN offers_offersearchterm t ON t.word = c.word"
            )
            params.append(candidates)
    prepared = Prepared()
    if not parts:
        return prepared
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(f"({part})" for part in parts), params)
        rows = cursor.fetchall()
    english = get_language() == "en"
    for kind, key, extra, label, label_en in rows:
        if kind == "theme":
            prepared.theme_ids[key] = int(extra)
            prepared.theme_labels[key] = label_en if english and label_en else label
        elif kind == "operator":
            prepared.operator_ids[key] = int(extra)
            prepared.operator_labels[key] = label
        elif kind == "region":
            prepared.region_labels[int(key)] = label
        elif kind == "municipality":
            prepared.municipality_regions[int(key)] = int(extra)
            prepared.municipality_labels[int(key)] = municipality_label(int(key), label)
        elif kind == "word":
            prepared.words[key] = (extra, label == "true", label_en)
        elif kind == "part":
            prepared.catalogue_parts.add(key)
    return prepared


# --- The text query -----------------------------------------------------------------------------


def clean_query_text(text: str) -> str:
    """User text without control characters (PostgreSQL refuses NUL) and extra spaces."""
    return " ".join(_CONTROL_CHARACTERS.sub(" ", text).split())


def query_words(q: str) -> list[str]:
    if not q or _WEBSEARCH_SYNTAX.search(q):
        return []
    seen: dict[str, None] = {}
    for word in words_in(q):
        seen.setdefault(word, None)
    return list(seen)[:MAX_EXPANDED_WORDS]


@dataclass(frozen=True)
class TextQuery:
    query: SearchQuery
    # The same query restricted to the title (weight A), for the title bonus in the rank.
    title_query: SearchQuery | None
    corrections: dict[str, str]


def _raw(expression: str) -> SearchQuery:
    return SearchQuery(expression, config=SEARCH_CONFIG, search_type="raw")


#: Functions that give extra words for a query (letters only; others are ignored), each ORed
#: with the query. An app above ``offers`` registers one at start-up (``routing`` expands an
#: English query through its needs vocabulary: "export" also finds "eksport").
query_expanders: list[Callable[[str], Sequence[str]]] = []


def text_query(q: str, words: Sequence[str], prepared: Prepared) -> TextQuery | None:
    """The tsquery for ``q``, or None when there is nothing to search for.

    Each word matches itself, or all parts of its compound, or (when the catalogue does not know
    it) the closest catalogue word; words are ANDed. Text with websearch syntax (quotes, -word,
    or) goes to websearch_to_tsquery unchanged.

    The plain case is written for to_tsquery directly: every term is letters only (see
    ``words_in`` and the word list), so no user text can be read as tsquery syntax.
    """
    if not words_in(q):
        return None  # empty, or only punctuation
    if not words and _WEBSEARCH_SYNTAX.search(q):
        query = SearchQuery(q, config=SEARCH_CONFIG, search_type="websearch")
        return TextQuery(query, None, {})
    extra = list(dict.fromkeys(w for expand in query_expanders for w in expand(q) if w.isalpha()))
    if not words and not extra:
        return None
    splitter = CompoundSplitter(prepared.catalogue_parts)
    corrections: dict[str, str] = {}
    groups: list[list[list[str]]] = []
    for word in words:
        stem, known, closest = prepared.words.get(word, (word, True, None))
        if stem is None:
            continue  # a stop word, which the index does not hold
        alternatives = [[word]]
        parts = [part for part in splitter.split(word) if part.isalpha()]
        if parts:
            alternatives.append(parts)
        elif not known and closest and closest != word and closest.isalpha():
            corrections[word] = closest
            alternatives.append([closest])
        groups.append(alternatives)
    if not groups and not extra:
        return None

    def expression(suffix: str) -> str:
        query = " & ".join(
            "("
            + " | ".join("(" + " & ".join(t + suffix for t in terms) + ")" for terms in group)
            + ")"
            for group in groups
        )
        if not extra:
            return query
        expanded = " | ".join(word + suffix for word in extra)
        return f"({query}) | {expanded}" if query else expanded

    return TextQuery(_raw(expression("")), _raw(expression(":A")), corrections)


def text_rank(text: TextQuery) -> Expression:
    # ts_rank with the A > B > C > D weights, scaled to [0, 1) by normalisation 32, plus 1 for a
    # title match: an offer whose title matches always ranks above one that only mentions the
    # words in its text. Not ts_rank_cd: cover density cost about twice as much per matching
    # offer in benchmarks/search.py, and with the title tier deciding the top of the list the
    # word proximity it adds changed little.
    density = SearchRank(F("search_vector"), text.query, normalization=32)
    if text.title_query is not None:
        title_match: Expression = Func(
            F("search_vector"),
            text.title_query,
            template="(%(expressions)s)::int",
            arg_joiner=" @@ ",
            output_field=IntegerField(),
        )
    else:
        title_vector = Func(
            F("search_vector"),
            template="ts_filter(%(expressions)s, '{a}')",
            output_field=SearchVectorField(),
        )
        title_match = Func(
            title_vector,
            text.query,
            template="(%(expressions)s)::int",
            arg_joiner=" @@ ",
            output_field=IntegerField(),
        )
    return ExpressionWrapper(density + title_match, output_field=FloatField())


# --- Filters ------------------------------------------------------------------------------------


def _has_bits(mask: int) -> Q:
    # The mask as a bigint, as the column is: a bare int is bound as a 4-byte integer, which a
    # mask of the higher bits overflows when PostgreSQL binds the parameters itself.
    bits = CombinedExpression(
        F("facet_bits"), Combinable.BITAND, Value(mask, output_field=BigIntegerField())
    )
    return Q(GreaterThan(bits, 0))


def filter_conditions(search: OfferSearch, prepared: Prepared) -> dict[str, Q]:
    """One condition per active filter (values that matched nothing are left out).

    The fixed-vocabulary filters test the same facet bits the counts are made from, so a filter
    means exactly what its count says: an offer without industries counts (and matches) for
    every industry, and a nationwide offer for every region.
    """
    conditions: dict[str, Q] = {}
    if search.theme:
        themes = [prepared.theme_ids[s] for s in search.theme if s in prepared.theme_ids]
        conditions["theme"] = Q(theme_ids__overlap=themes)
    for name in ("level", "phase", "size", "price"):
        values = search.values(name)
        if values:
            conditions[name] = _has_bits(facet_mask(name, values))
    if search.industry:
        conditions["industry"] = _has_bits(facet_mask("industry", ["*", *search.industry]))
    if search.region:
        regions = [str(c) for c in search.region if c in prepared.region_labels]
        conditions["region"] = _has_bits(facet_mask("region", ["*", *regions]))
    if search.operator:
        operators = [
            prepared.operator_ids[s] for s in search.operator if s in prepared.operator_ids
        ]
        conditions["operator"] = Q(operator_id__in=operators)
    if search.municipality:
        municipalities = [c for c in search.municipality if c in prepared.municipality_regions]
        regions_of = sorted({prepared.municipality_regions[c] for c in municipalities})
        conditions["municipality"] = (
            Q(nationwide=True)
            | Q(municipalities__overlap=municipalities)
            | Q(regions__overlap=regions_of)
        )
    return conditions


def _unknown(search: OfferSearch, prepared: Prepared) -> dict[str, list[str]]:
    unknown = {
        "theme": [s for s in search.theme if s not in prepared.theme_ids],
        "operator": [s for s in search.operator if s not in prepared.operator_ids],
        "region": [str(c) for c in search.region if c not in prepared.region_labels],
        "municipality": [
            str(c) for c in search.municipality if c not in prepared.municipality_regions
        ],
    }
    return {name: values for name, values in unknown.items() if values}


def drop_unknown(search: OfferSearch, unknown: dict[str, list[str]]) -> OfferSearch:
    changes: dict[str, Any] = {}
    for name, values in unknown.items():
        changes[name] = tuple(v for v in getattr(search, name) if str(v) not in values)
    return replace(search, **changes) if changes else search


def prepare_search(search: OfferSearch) -> tuple[OfferSearch, Prepared, dict[str, list[str]]]:
    """Resolve a search's slugs, codes and words (query 1; none when nothing needs resolving).

    Returns the search, what was resolved, and the values that match nothing, per filter (the
    API answers 400 for those; the page drops them with a notice).
    """
    q = clean_query_text(search.q)[:MAX_QUERY_LENGTH]
    if q != search.q:
        search = replace(search, q=q)
    prepared = _prepare(search, query_words(q))
    return search, prepared, _unknown(search, prepared)
