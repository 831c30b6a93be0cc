"""Catalogue search: one implementation behind /tilbud/, the offers API and saved-search alerts.

Keeping the search data fresh
-----------------------------
``refresh_search_vectors`` recomputes everything the search derives from an offer. Every write
path must call it after it has saved (the contract):

- after saving an offer or changing its themes: ``refresh_search_vectors(offer_ids=[offer.pk])``
  (the admin after ``save_related``, the importer once for all imported rows, the API);
- after renaming a theme: ``refresh_search_vectors(theme_ids=[theme.pk])``;
- after renaming an organisation: ``refresh_search_vectors(organisation_ids=[org.pk])``;
- with no arguments it refreshes the whole catalogue (and rebuilds the word list from scratch).

What is indexed, and with which weight (``ts_rank_cd`` weighs A > B > C > D):

- A: the title;
- B: the summary and the theme names (a theme is a strong statement of what the offer is about);
- C: the description and the expected result;
- D: the owner's and operator's names (so "Eksportrådet" finds their offers, ranked low).

Each weight class also gets the parts of its compound words (see ``offers.compounds``), because
the ``danish`` configuration keeps "eksportrådgivning" as one lexeme.

Searching
---------
``run_search(search, today=...)`` answers an ``OfferSearch`` in at most three SQL queries:

1. *prepare* (only when there is text or a theme/operator/region/municipality filter): resolves
   slugs and codes, tells which query words are unknown and the closest known word (pg_trgm), and
   which substrings of the query words are catalogue words (for splitting compound query words);
2. *facets*: the total and every facet's counts in one statement (disjunctive faceting: each
   facet's counts apply all the other active filters, so ticking a theme does not zero the other
   themes);
3. *results*: one page of offers with owner and operator.

Geography rule (filter and facet alike): an offer is available in a region when it is nationwide,
lists that region, or lists a municipality in it; it is available in a municipality when it is
nationwide, lists that municipality, or lists its region.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urlencode

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Expression,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    PositiveSmallIntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from offers.compounds import CompoundSplitter, words_in
from offers.models import (
    CompanySize,
    Industry,
    Level,
    Offer,
    OfferSearchTerm,
    Phase,
    Price,
    municipality_name,
)

SEARCH_CONFIG = "danish"
PAGE_SIZE = 20
MAX_QUERY_LENGTH = 200
# Words beyond this are still matched, but not expanded (compounds) or corrected (typos).
MAX_EXPANDED_WORDS = 10
# pg_trgm similarity a known word needs to replace an unknown query word.
MIN_SIMILARITY = 0.4
REFRESH_BATCH = 2000

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

# Facet bits: the fixed-vocabulary facets of an offer in one bigint (``Offer.facet_bits``), one
# bit per value, so counting them is a handful of integer tests per offer (no unnest) and each
# filter is one bitwise AND. "*" marks an offer for every industry / the whole country, which
# counts for (and matches) each industry / region. Themes and operators are data, not a fixed
# vocabulary, and use ``theme_ids`` and ``operator_id``.
REGION_CODES = (1081, 1082, 1083, 1084, 1085)
FACET_BITS: tuple[tuple[str, str], ...] = (
    *(("level", value) for value in Level.values),
    *(("price", value) for value in Price.values),
    *(("phase", value) for value in Phase.values),
    *(("size", value) for value in CompanySize.values),
    ("industry", "*"),
    *(("industry", value) for value in Industry.values),
    ("region", "*"),
    *(("region", str(code)) for code in REGION_CODES),
)
_BIT = {pair: index for index, pair in enumerate(FACET_BITS)}
# Which facet a row that fails exactly one filter failed (0: none), as stored in ``scored.fail``.
_FACET_NUMBERS = {name: number for number, name in enumerate(FILTERS, start=1)}


def municipality_label(code: int, name: str) -> str:
    """How a municipality is named in chips and facets: "Vejle Kommune"."""
    return municipality_name(code, name)


def facet_mask(facet: str, values: Iterable[str]) -> int:
    """The bits of ``values`` of one facet (unknown values have none)."""
    mask = 0
    for value in values:
        bit = _BIT.get((facet, value))
        if bit is not None:
            mask |= 1 << bit
    return mask


def facet_bits(
    *,
    level: str,
    price: str,
    phases: Iterable[str],
    company_sizes: Iterable[str],
    industries: Sequence[str],
    nationwide: bool,
    reach: Iterable[int],
) -> int:
    """An offer's facet bits; ``reach`` = the regions of a non-nationwide offer."""
    return (
        facet_mask("level", [level])
        | facet_mask("price", [price])
        | facet_mask("phase", phases)
        | facet_mask("size", company_sizes)
        | facet_mask("industry", industries or ["*"])
        | facet_mask("region", ["*"] if nationwide else [str(code) for code in reach])
    )


CHOICE_LABELS: dict[str, dict[str, StrOrPromise]] = {
    "level": dict(Level.choices),
    "phase": dict(Phase.choices),
    "size": dict(CompanySize.choices),
    "industry": dict(Industry.choices),
    "price": dict(Price.choices),
}

# websearch_to_tsquery syntax a user may type on purpose: "exact phrase", -exclude, or.
_WEBSEARCH_SYNTAX = re.compile(r"\"|(?:^|\s)-\w|\s(?:or|OR)\s")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --- Keeping the search data fresh -------------------------------------------------------------


def refresh_search_vectors(
    *,
    offer_ids: Iterable[int] | None = None,
    theme_ids: Iterable[int] | None = None,
    organisation_ids: Iterable[int] | None = None,
) -> int:
    """Recompute the search text, vector and facet columns of offers; return how many.

    With no arguments, every offer (and the word list is rebuilt from scratch). Otherwise the
    offers named, plus those with any of the themes, plus those owned or operated by any of the
    organisations. See the module docstring for when each write path must call it.
    """
    selectors = (offer_ids, theme_ids, organisation_ids)
    everything = all(selector is None for selector in selectors)
    offers = Offer.objects.all()
    if not everything:
        condition = Q(pk__in=list(offer_ids or ()))
        if theme_ids is not None:
            condition |= Q(themes__in=list(theme_ids))
        if organisation_ids is not None:
            organisation_ids = list(organisation_ids)
            condition |= Q(owner_id__in=organisation_ids) | Q(operator_id__in=organisation_ids)
        offers = offers.filter(condition)
    ids = sorted(set(offers.values_list("pk", flat=True)))
    if not ids:
        return 0

    with transaction.atomic():
        known_words = (
            [] if everything else list(OfferSearchTerm.objects.values_list("word", flat=True))
        )
        for start in range(0, len(ids), REFRESH_BATCH):
            _refresh_batch(ids[start : start + REFRESH_BATCH], known_words)
        _refresh_terms(None if everything else ids)
    return len(ids)


_SOURCE_SQL = """
SELECT o.id, o.title, o.summary, o.description, o.expected_result,
       owner.name, operator.name,
       coalesce((SELECT string_agg(t.name, ' ' ORDER BY t.id)
                 FROM offers_offer_themes ot JOIN offers_theme t ON t.id = ot.theme_id
                 WHERE ot.offer_id = o.id), ''),
       ARRAY(SELECT ot.theme_id FROM offers_offer_themes ot
             WHERE ot.offer_id = o.id ORDER BY ot.theme_id),
       ARRAY(SELECT r FROM unnest(o.regions) AS r
             UNION
             SELECT m.region_id FROM offers_municipality m WHERE m.code = ANY(o.municipalities)
             ORDER BY 1),
       o.level, o.price, o.phases, o.company_sizes, o.industries, o.nationwide
FROM offers_offer o
JOIN offers_organisation owner ON owner.id = o.owner_id
JOIN offers_organisation operator ON operator.id = o.operator_id
WHERE o.id = ANY(%s)
"""

_UPDATE_SQL = """
UPDATE offers_offer AS o SET
    search_text = v.search_text,
    search_vector =
        setweight(to_tsvector('danish', v.a), 'A')
        || setweight(to_tsvector('danish', v.b), 'B')
        || setweight(to_tsvector('danish', v.c), 'C')
        || setweight(to_tsvector('danish', v.d), 'D'),
    theme_ids = v.theme_ids::bigint[],
    reach_regions = v.reach_regions::smallint[],
    facet_bits = v.facet_bits
FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
            %s::text[], %s::text[], %s::bigint[])
    AS v(id, search_text, a, b, c, d, theme_ids, reach_regions, facet_bits)
WHERE o.id = v.id
"""


def _array_literal(values: Iterable[int]) -> str:
    # Arrays travel as text: unnest() of a two-dimensional parameter would flatten it.
    return "{" + ",".join(str(int(value)) for value in values) + "}"


def _refresh_batch(ids: list[int], known_words: list[str]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_SOURCE_SQL, [ids])
        rows = cursor.fetchall()
    # Words of these offers count as catalogue words at once, so a new offer's own compounds
    # split by its own vocabulary ("Eksportrådgivning" in the title, "rådgivning" in the text).
    batch_words = {
        word for row in rows for text in row[1:8] for word in words_in(text or "") if len(word) > 3
    }
    splitter = CompoundSplitter([*known_words, *batch_words])
    columns: list[list[Any]] = [[] for _ in range(9)]
    for row in rows:
        (offer_id, title, summary, description, expected_result, owner, operator, themes) = row[:8]
        theme_ids, reach, level, price, phases, sizes, industries, nationwide = row[8:]
        body = f"{description}\n{expected_result}"
        organisations = owner if owner == operator else f"{owner}\n{operator}"
        parts = {
            "a": splitter.parts_of_text(title),
            "b": splitter.parts_of_text(f"{summary} {themes}"),
            "c": splitter.parts_of_text(body),
            "d": splitter.parts_of_text(organisations),
        }
        own = {"a": [title], "b": [summary, themes], "c": [body], "d": [organisations]}
        texts = [" ".join(t for t in [*own[key], *parts[key]] if t) for key in "abcd"]
        # search_text keeps only what the offer's own columns lack (names and compound parts),
        # so the rows the search reads stay narrow.
        extra = " ".join([themes, organisations, *(p for key in "abcd" for p in parts[key])])
        bits = facet_bits(
            level=level,
            price=price,
            phases=phases,
            company_sizes=sizes,
            industries=industries,
            nationwide=nationwide,
            reach=reach,
        )
        values = (
            offer_id,
            extra,
            *texts,
            _array_literal(theme_ids),
            _array_literal([] if nationwide else reach),
            bits,
        )
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    with connection.cursor() as cursor:
        cursor.execute(_UPDATE_SQL, columns)


_TERMS_SQL = """
INSERT INTO offers_offersearchterm (word, lexeme, documents)
SELECT w.word, w.lexeme, count(*)
FROM offers_offer o
CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector('simple', concat_ws(' ',
    o.title, o.summary, o.description, o.expected_result, o.search_text)))) AS t(word)
CROSS JOIN LATERAL (
    SELECT t.word, (tsvector_to_array(to_tsvector('danish', t.word)))[1] AS lexeme
) AS w
WHERE o.status = 'published' {only}
  AND char_length(w.word) BETWEEN 3 AND 100
  AND w.word ~ '^[[:alpha:]]+$'
  AND w.lexeme IS NOT NULL
GROUP BY w.word, w.lexeme
ON CONFLICT (word) DO NOTHING
"""


def _refresh_terms(ids: list[int] | None) -> None:
    """The words of published offers, for typo correction and spelling suggestions.

    Only published text goes in: a suggestion must never reveal a draft. A partial refresh adds
    new words (a word that disappeared lingers until the next full refresh, which is harmless:
    correcting to it simply finds nothing more).
    """
    with connection.cursor() as cursor:
        if ids is None:
            cursor.execute("DELETE FROM offers_offersearchterm")
            cursor.execute(_TERMS_SQL.format(only=""))
        else:
            cursor.execute(_TERMS_SQL.format(only="AND o.id = ANY(%s)"), [ids])


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


# --- What was found -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass(frozen=True)
class ActiveFilter:
    """A chip on the results page: what is filtered on, and the search without it."""

    name: str
    value: str
    label: str
    without: OfferSearch


@dataclass
class SearchResult:
    search: OfferSearch
    offers: list[Offer]
    total: int
    num_pages: int
    facets: dict[str, list[FacetValue]]
    active_filters: list[ActiveFilter]
    # Query words that were unknown, with the known word searched for as well.
    corrections: dict[str, str] = field(default_factory=dict)
    # Values that match nothing in the catalogue, per filter (the page ignores them).
    unknown: dict[str, list[str]] = field(default_factory=dict)
    theme_labels: dict[int, tuple[str, str]] = field(default_factory=dict)
    region_labels: dict[int, str] = field(default_factory=dict)

    @property
    def page(self) -> int:
        return self.search.page

    @property
    def suggestion(self) -> str | None:
        """The query with its misspelt words corrected ("Mente du: digitalisering?")."""
        if not self.corrections:
            return None
        return _replace_words(self.search.q, self.corrections)

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages

    def themes_of(self, offer: Offer) -> list[tuple[str, str]]:
        """(slug, label) of an offer's themes, from the facet query (no query per offer)."""
        return [self.theme_labels[i] for i in offer.theme_ids if i in self.theme_labels]


def _replace_words(text: str, replacements: dict[str, str]) -> str:
    def swap(match: re.Match[str]) -> str:
        return replacements.get(match.group(0).lower(), match.group(0))

    return re.sub(r"[^\W\d_]+", swap, text)


# --- Preparing a search (query 1) ---------------------------------------------------------------


@dataclass
class _Prepared:
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


def _prepare(search: OfferSearch, words: Sequence[str]) -> _Prepared:
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
    prepared = _Prepared()
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


def _query_words(q: str) -> list[str]:
    if not q or _WEBSEARCH_SYNTAX.search(q):
        return []
    seen: dict[str, None] = {}
    for word in words_in(q):
        seen.setdefault(word, None)
    return list(seen)[:MAX_EXPANDED_WORDS]


@dataclass(frozen=True)
class _TextQuery:
    query: SearchQuery
    # The same query restricted to the title (weight A), for the title bonus in the rank.
    title_query: SearchQuery | None
    corrections: dict[str, str]


def _raw(expression: str) -> SearchQuery:
    return SearchQuery(expression, config=SEARCH_CONFIG, search_type="raw")


def _text_query(q: str, words: Sequence[str], prepared: _Prepared) -> _TextQuery | None:
    """The tsquery for ``q``, or None when there is nothing to search for.

    Each word matches itself, or all parts of its compound, or (when the catalogue does not know
    it) the closest catalogue word; words are ANDed. Text with websearch syntax (quotes, -word,
    or) goes to websearch_to_tsquery unchanged.

    The plain case is written for to_tsquery directly: every term is letters only (see
    ``words_in`` and the word list), so no user text can be read as tsquery syntax.
    """
    if not words_in(q):
        return None  # empty, or only punctuation
    if not words:
        if _WEBSEARCH_SYNTAX.search(q):
            query = SearchQuery(q, config=SEARCH_CONFIG, search_type="websearch")
            return _TextQuery(query, None, {})
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
    if not groups:
        return None

    def expression(suffix: str) -> str:
        return " & ".join(
            "("
            + " | ".join("(" + " & ".join(t + suffix for t in terms) + ")" for terms in group)
            + ")"
            for group in groups
        )

    return _TextQuery(_raw(expression("")), _raw(expression(":A")), corrections)


def _rank(text: _TextQuery) -> Expression:
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
    return Q(GreaterThan(F("facet_bits").bitand(mask), 0))


def _conditions(search: OfferSearch, prepared: _Prepared) -> dict[str, Q]:
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


def _unknown(search: OfferSearch, prepared: _Prepared) -> dict[str, list[str]]:
    unknown = {
        "theme": [s for s in search.theme if s not in prepared.theme_ids],
        "operator": [s for s in search.operator if s not in prepared.operator_ids],
        "region": [str(c) for c in search.region if c not in prepared.region_labels],
        "municipality": [
            str(c) for c in search.municipality if c not in prepared.municipality_regions
        ],
    }
    return {name: values for name, values in unknown.items() if values}


def _drop_unknown(search: OfferSearch, unknown: dict[str, list[str]]) -> OfferSearch:
    changes: dict[str, Any] = {}
    for name, values in unknown.items():
        changes[name] = tuple(v for v in getattr(search, name) if str(v) not in values)
    return replace(search, **changes) if changes else search


# --- Facet counts (query 2) ---------------------------------------------------------------------

# How each sort order reads the columns of ``scored`` (our own SQL, never user text).
_ORDER_SQL = {
    "rank": "s.sort_rank DESC, s.title, s.id",
    "title": "s.title, s.id",
    "deadline": "s.application_deadline ASC NULLS LAST, s.title, s.id",
    "newest": "s.sort_newest DESC, s.id DESC",
}


def _order_key(sort: Sort, text: _TextQuery | None) -> str:
    if sort in ("deadline", "newest"):
        return sort
    return "rank" if text is not None else "title"


def _facet_sql(
    base: QuerySet[Offer],
    conditions: dict[str, Q],
    *,
    order: str,
    text: _TextQuery | None,
    offset: int,
    clamp: bool,
) -> tuple[str, list[Any]]:
    """One statement: facet counts, the total, the page's ids, theme, region and municipality
    names.

    Disjunctive faceting in one pass over the matching offers: a row that passes every filter
    counts for all its facet values; a row that fails exactly one facet's filter counts for that
    facet's values only (ticking a second theme widens the search, so each theme's count ignores
    the theme filter); a row failing two or more counts nowhere. Rows are grouped by the facet
    they failed (``fail``, 0 for none) and the caller adds group 0 and the facet's own group.

    Municipalities are counted without pairing every offer with 98 municipalities: an offer is
    available in municipality m when it is nationwide (the "region *" bit of group 0; a
    nationwide offer never fails the municipality filter), lists m's region, or lists m itself.
    Only non-nationwide rows are looked at, through ``listed_codes`` (their regions and
    municipalities in one array): rows with the same codes are counted together first (most
    local offers list one municipality), then each distinct array is unnested once and counts
    for each region it lists and each municipality whose region it does not also list (so an
    offer listing both Vejle and Region Syddanmark counts once for Vejle, and a code listed
    twice counts once). Region and municipality codes never overlap (1081-1085 against
    101-860), so the caller adds, per municipality, the nationwide count, its region's count and
    its own.

    The bit counts are only read for group 0 and the bit facets' own groups, so rows that fail
    the theme, operator or municipality filter skip them.
    """
    flags = {
        f"f_{name}": ExpressionWrapper(condition, output_field=BooleanField())
        for name, condition in conditions.items()
        if name in FACETS
    }
    codes = ArrayField(PositiveSmallIntegerField())
    listed_codes = Case(
        When(nationwide=True, then=Value(None)),
        default=Func(
            F("regions"),
            F("municipalities"),
            template="(%(expressions)s)",
            arg_joiner=" || ",
            output_field=codes,
        ),
        output_field=codes,
    )
    sort_keys: dict[str, Any] = {}
    if order == "rank" and text is not None:
        sort_keys["sort_rank"] = _rank(text)
    if order == "newest":
        sort_keys["sort_newest"] = Coalesce("published_at", "created_at")
    columns = [
        "id",
        "facet_bits",
        "theme_ids",
        "operator_id",
        "listed_codes",
        "title",
        "application_deadline",
        *flags,
        *sort_keys,
    ]
    inner = (
        base.annotate(listed_codes=listed_codes, **flags, **sort_keys).order_by().values(*columns)
    )
    inner_sql, inner_params = inner.query.sql_with_params()
    misses = " + ".join(f"(NOT {flag})::int" for flag in flags) or "0"
    fail = (
        "CASE "
        + " ".join(f"WHEN NOT {flag} THEN {_FACET_NUMBERS[flag[2:]]}" for flag in flags)
        + " ELSE 0 END"
        if flags
        else "0"
    )
    bit_counts = ", ".join(
        f"count(*) FILTER (WHERE s.facet_bits & {1 << bit} <> 0)" for bit in range(len(FACET_BITS))
    )
    offset_sql = "%s"
    offset_params: list[int] = [offset]
    if clamp:
        # A page past the end shows the last page.
        offset_sql = (
            "LEAST(%s, (SELECT greatest(count(*) - 1, 0) / %s * %s"
            " FROM scored s WHERE s.misses = 0))"
        )
        offset_params = [offset, PAGE_SIZE, PAGE_SIZE]
    theme, operator = _FACET_NUMBERS["theme"], _FACET_NUMBERS["operator"]
    municipality = _FACET_NUMBERS["municipality"]
    without_bits = f"{theme}, {operator}, {municipality}"

    # Rows: kind, group (fail), key, slug, name, English name, count, bit counts. Only our own
    # SQL is interpolated; every user value travels in the parameters.
    sql = f"""
WITH base AS ({inner_sql}),
scored AS (
    SELECT * FROM (
        SELECT b.*, {misses} AS misses, {fail} AS fail FROM base b
    ) AS b WHERE b.misses <= 1
)
SELECT 'bits', s.fail, 0, '', '', '', count(*), ARRAY[{bit_counts}]
FROM scored s WHERE s.fail NOT IN ({without_bits}) GROUP BY s.fail
UNION ALL
SELECT 'theme', s.fail, t.theme_id, '', '', '', count(*), NULL
FROM scored s CROSS JOIN LATERAL unnest(s.theme_ids) AS t(theme_id)
WHERE s.fail IN (0, {theme}) GROUP BY s.fail, t.theme_id
UNION ALL
SELECT 'operator', s.fail, o.id, o.slug, o.name, '', count(*), NULL
FROM scored s JOIN offers_organisation o ON o.id = s.operator_id
WHERE s.fail IN (0, {operator}) GROUP BY s.fail, o.id
UNION ALL
SELECT 'geography', a.fail, g.code, '', '', '', sum(a.offers)::bigint, NULL
FROM (
    SELECT s.fail, s.listed_codes, count(*) AS offers FROM scored s
    WHERE s.fail IN (0, {municipality}) AND s.listed_codes IS NOT NULL
    GROUP BY s.fail, s.listed_codes
) AS a
CROSS JOIN LATERAL (SELECT DISTINCT unnest(a.listed_codes)) AS g(code)
LEFT JOIN offers_municipality m ON m.code = g.code
WHERE m.code IS NULL OR NOT m.region_id = ANY(a.listed_codes)
GROUP BY a.fail, g.code
UNION ALL
SELECT 'page', row_number() OVER (), p.id, '', '', '', 0, NULL
FROM (
    SELECT s.id FROM scored s WHERE s.misses = 0
    ORDER BY {_ORDER_SQL[order]} LIMIT {PAGE_SIZE} OFFSET {offset_sql}
) AS p
UNION ALL
SELECT 'theme_name', t.position, t.id, t.slug, t.name, t.name_en, 0, NULL FROM offers_theme t
UNION ALL
SELECT 'region_name', 0, r.code, '', r.name, '', 0, NULL FROM offers_region r
UNION ALL
SELECT 'municipality_name', row_number() OVER (ORDER BY m.name, m.code), m.code,
    m.region_id::text, m.name, '', 0, NULL
FROM offers_municipality m
"""  # noqa: S608
    return sql, [*inner_params, *offset_params]


@dataclass
class _Counted:
    total: int
    facets: dict[str, list[FacetValue]]
    page_ids: list[int]
    theme_labels: dict[int, tuple[str, str]]
    region_labels: dict[int, str]


def _count(
    base: QuerySet[Offer],
    conditions: dict[str, Q],
    search: OfferSearch,
    prepared: _Prepared,
    *,
    text: _TextQuery | None,
    clamp: bool,
) -> _Counted:
    """The total, the facet counts and the ids of the page asked for (query 2)."""
    sql, params = _facet_sql(
        base,
        conditions,
        order=_order_key(search.sort, text),
        text=text,
        offset=(search.page - 1) * PAGE_SIZE,
        clamp=clamp,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()

    english = get_language() == "en"
    total = 0
    bits: dict[int, list[int]] = {}
    theme_counts: dict[int, dict[int, int]] = defaultdict(dict)
    operator_counts: dict[int, dict[str, int]] = defaultdict(dict)
    operator_names: dict[str, str] = dict(prepared.operator_labels)
    page: list[tuple[int, int]] = []
    themes: list[tuple[int, int, str, str]] = []
    region_labels: dict[int, str] = {}
    geography: dict[int, dict[int, int]] = defaultdict(dict)
    municipalities: list[tuple[int, int, int, str]] = []
    for kind, group, key, slug, name, name_en, count, bit_counts in rows:
        if kind == "bits":
            bits[group] = bit_counts
            if group == 0:
                total = count
        elif kind == "theme":
            theme_counts[group][key] = count
        elif kind == "operator":
            operator_counts[group][slug] = count
            operator_names[slug] = name
        elif kind == "page":
            page.append((group, key))
        elif kind == "theme_name":
            themes.append((group, key, slug, name_en if english and name_en else name))
        elif kind == "region_name":
            region_labels[key] = name
        elif kind == "geography":
            geography[group][key] = count
        elif kind == "municipality_name":
            municipalities.append((group, key, int(slug), name))
    themes.sort()
    municipalities.sort()
    theme_labels = {theme_id: (slug, label) for _p, theme_id, slug, label in themes}

    def merged(name: str, groups: Mapping[int, Mapping[Any, int]]) -> dict[Any, int]:
        # Offers passing every filter, plus those failing only this facet's filter.
        totals: dict[Any, int] = defaultdict(int)
        for group in (0, _FACET_NUMBERS[name]):
            for value, count in groups.get(group, {}).items():
                totals[value] += count
        return totals

    bit_groups = {
        group: {FACET_BITS[bit]: count for bit, count in enumerate(counts)}
        for group, counts in bits.items()
    }
    facets: dict[str, list[FacetValue]] = {}
    for name in FACETS:
        selected = set(search.values(name))
        if name == "theme":
            counts = merged(name, theme_counts)
            choices = [(theme_id, slug, label) for theme_id, (slug, label) in theme_labels.items()]
            facets[name] = [
                FacetValue(slug, label, counts.get(theme_id, 0), slug in selected)
                for theme_id, slug, label in choices
            ]
            continue
        if name == "operator":
            counts = merged(name, operator_counts)
            values = [
                FacetValue(slug, operator_names[slug], counts.get(slug, 0), slug in selected)
                for slug in {*counts, *selected}
                if slug in operator_names
            ]
            facets[name] = sorted(values, key=lambda v: (-v.count, v.label))
            continue
        if name == "municipality":
            # Nationwide offers (the "region *" bit), those listing the municipality's region,
            # and those listing the municipality but not its region (see ``_facet_sql``).
            nationwide = bit_groups.get(0, {}).get(("region", "*"), 0)
            listed = merged(name, geography)
            facets[name] = [
                FacetValue(
                    str(code),
                    municipality_label(code, label),
                    nationwide + listed.get(region, 0) + listed.get(code, 0),
                    str(code) in selected,
                )
                for _position, code, region, label in municipalities
            ]
            continue
        counts = merged(name, bit_groups)
        # Offers for the whole country (or every industry) count for each region (industry).
        everywhere = counts.get((name, "*"), 0)
        if name == "region":
            labels = {str(code): label for code, label in sorted(region_labels.items())}
        else:
            labels = {value: str(label) for value, label in CHOICE_LABELS[name].items()}
        facets[name] = [
            FacetValue(value, label, counts.get((name, value), 0) + everywhere, value in selected)
            for value, label in labels.items()
        ]
    page_ids = [offer_id for _position, offer_id in sorted(page)]
    return _Counted(total, facets, page_ids, theme_labels, region_labels)


# --- Running a search ---------------------------------------------------------------------------


def prepare_search(search: OfferSearch) -> tuple[OfferSearch, _Prepared, dict[str, list[str]]]:
    """Resolve a search's slugs, codes and words (query 1; none when nothing needs resolving).

    Returns the search, what was resolved, and the values that match nothing, per filter (the
    API answers 400 for those; the page drops them with a notice).
    """
    q = clean_query_text(search.q)[:MAX_QUERY_LENGTH]
    if q != search.q:
        search = replace(search, q=q)
    prepared = _prepare(search, _query_words(q))
    return search, prepared, _unknown(search, prepared)


def run_search(
    search: OfferSearch,
    *,
    today: dt.date,
    clamp_page: bool = True,
    prepared: tuple[OfferSearch, _Prepared, dict[str, list[str]]] | None = None,
) -> SearchResult:
    """Answer a search: one page of offers, the total and the facet counts.

    Values that match nothing are dropped. A page past the last one becomes the last page
    (``clamp_page``) or an empty page.
    """
    search, resolved, unknown = prepared or prepare_search(search)
    search = _drop_unknown(search, unknown)
    text = _text_query(search.q, _query_words(search.q), resolved)

    base = Offer.objects.published()
    if not search.include_closed:
        base = base.open_on(today)
    if text is not None:
        base = base.filter(search_vector=text.query)
    conditions = _conditions(search, resolved)

    counted = _count(base, conditions, search, resolved, text=text, clamp=clamp_page)
    num_pages = max(1, math.ceil(counted.total / PAGE_SIZE))
    if clamp_page and search.page > num_pages:
        search = search.on_page(num_pages)

    offers: list[Offer] = []
    if counted.page_ids:
        # Query 3: the page's offers by primary key; the ranking happened in query 2.
        by_id = (
            Offer.objects.select_related("owner", "operator")
            .defer(
                "description",
                "expected_result",
                "how_to_apply",
                "search_text",
                "search_vector",
                "owner__address",
                "operator__address",
            )
            .in_bulk(counted.page_ids)
        )
        offers = [by_id[pk] for pk in counted.page_ids if pk in by_id]

    return SearchResult(
        search=search,
        offers=offers,
        total=counted.total,
        num_pages=num_pages,
        facets=counted.facets,
        active_filters=_active_filters(search, resolved),
        corrections=text.corrections if text else {},
        unknown=unknown,
        theme_labels=counted.theme_labels,
        region_labels=counted.region_labels,
    )


def _active_filters(search: OfferSearch, prepared: _Prepared) -> list[ActiveFilter]:
    chips: list[ActiveFilter] = []
    if search.q:
        chips.append(ActiveFilter("q", search.q, f"“{search.q}”", search.without("q")))
    lookups: dict[str, dict[Any, str]] = {
        "theme": prepared.theme_labels,
        "operator": prepared.operator_labels,
        "region": prepared.region_labels,
        "municipality": prepared.municipality_labels,
        **{name: {k: str(v) for k, v in labels.items()} for name, labels in CHOICE_LABELS.items()},
    }
    for name in FILTERS:
        for value in getattr(search, name):
            label = lookups[name].get(value, str(value))
            chips.append(ActiveFilter(name, str(value), label, search.without(name, str(value))))
    if search.include_closed:
        chips.append(
            ActiveFilter(
                "include_closed",
                "1",
                str(_("Også lukkede tilbud")),
                search.without("include_closed"),
            )
        )
    return chips
