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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urlencode

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Expression,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
)
from django.db.models.functions import Coalesce
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
FACETS = ("theme", "level", "phase", "size", "industry", "region", "price", "operator")
FILTERS = (*FACETS, "municipality")

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
                 WHERE ot.offer_id = o.id), '')
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
    theme_ids = ARRAY(
        SELECT ot.theme_id FROM offers_offer_themes ot
        WHERE ot.offer_id = o.id ORDER BY ot.theme_id
    ),
    reach_regions = CASE WHEN o.nationwide THEN '{}'::smallint[] ELSE ARRAY(
        SELECT r FROM unnest(o.regions) AS r
        UNION
        SELECT m.region_id FROM offers_municipality m WHERE m.code = ANY(o.municipalities)
        ORDER BY 1
    )::smallint[] END
FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[])
    AS v(id, search_text, a, b, c, d)
WHERE o.id = v.id
"""


def _refresh_batch(ids: list[int], known_words: list[str]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_SOURCE_SQL, [ids])
        rows = cursor.fetchall()
    # Words of these offers count as catalogue words at once, so a new offer's own compounds
    # split by its own vocabulary ("Eksportrådgivning" in the title, "rådgivning" in the text).
    batch_words = {
        word for row in rows for text in row[1:] for word in words_in(text or "") if len(word) > 3
    }
    splitter = CompoundSplitter([*known_words, *batch_words])
    columns: list[list[Any]] = [[], [], [], [], [], []]
    for (
        offer_id,
        title,
        summary,
        description,
        expected_result,
        owner,
        operator,
        themes,
    ) in rows:
        body = f"{description}\n{expected_result}"
        organisations = owner if owner == operator else f"{owner}\n{operator}"
        weighted = {
            "a": [title, *splitter.parts_of_text(title)],
            "b": [summary, themes, *splitter.parts_of_text(f"{summary} {themes}")],
            "c": [body, *splitter.parts_of_text(body)],
            "d": [organisations, *splitter.parts_of_text(organisations)],
        }
        texts = {key: " ".join(part for part in parts if part) for key, parts in weighted.items()}
        values = (offer_id, "\n".join(texts.values()), *texts.values())
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    with connection.cursor() as cursor:
        cursor.execute(_UPDATE_SQL, columns)


_TERMS_SQL = """
INSERT INTO offers_offersearchterm (word, lexeme, documents)
SELECT w.word, w.lexeme, count(*)
FROM offers_offer o
CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector('simple', o.search_text))) AS t(word)
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
        WHERE t.word %% w.word AND similarity(t.word, w.word) >= %s
        ORDER BY similarity(t.word, w.word) DESC, t.documents DESC, t.word
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
            parts.append(
                "SELECT 'part', word, '', '', '' FROM offers_offersearchterm WHERE word = ANY(%s)"
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
            prepared.municipality_labels[int(key)] = f"{label} Kommune"
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


def _plain(text: str) -> SearchQuery:
    return SearchQuery(text, config=SEARCH_CONFIG, search_type="plain")


def _text_query(
    q: str, words: Sequence[str], prepared: _Prepared
) -> tuple[SearchQuery | None, dict[str, str]]:
    """The tsquery for ``q`` and the corrections it made.

    Each word matches itself, or all parts of its compound, or (when the catalogue does not know
    it) the closest catalogue word; words are ANDed. Text with websearch syntax (quotes, -word,
    or) goes to websearch_to_tsquery unchanged.
    """
    if not words_in(q):
        return None, {}  # empty, or only punctuation: nothing to search for
    if not words:
        if _WEBSEARCH_SYNTAX.search(q):
            return SearchQuery(q, config=SEARCH_CONFIG, search_type="websearch"), {}
        return None, {}
    splitter = CompoundSplitter(prepared.catalogue_parts)
    corrections: dict[str, str] = {}
    query: SearchQuery | None = None
    for word in words:
        stem, known, closest = prepared.words.get(word, (word, True, None))
        if stem is None:
            continue  # a stop word, which the index does not hold
        alternatives = _plain(word)
        parts = splitter.split(word)
        if parts:
            alternatives = alternatives | _plain(" ".join(parts))
        elif not known and closest and closest != word:
            corrections[word] = closest
            alternatives = alternatives | _plain(closest)
        query = alternatives if query is None else query & alternatives
    return query, corrections


def _title_match(query: SearchQuery) -> Func:
    """1 when the query matches the title (weight A) of the stored vector, else 0."""
    title_vector = Func(
        F("search_vector"),
        template="ts_filter(%(expressions)s, '{a}')",
        output_field=SearchVectorField(),
    )
    return Func(
        title_vector,
        query,
        template="(%(expressions)s)::int",
        arg_joiner=" @@ ",
        output_field=IntegerField(),
    )


def _rank(query: SearchQuery) -> Expression:
    # Cover density, scaled to [0, 1) by normalisation 32, plus 1 for a title match: an offer
    # whose title matches always ranks above one that only mentions the words in its text.
    density = SearchRank(F("search_vector"), query, cover_density=True, normalization=32)
    return ExpressionWrapper(density + _title_match(query), output_field=FloatField())


# --- Filters ------------------------------------------------------------------------------------


def _conditions(search: OfferSearch, prepared: _Prepared) -> dict[str, Q]:
    """One condition per active filter (values that matched nothing are left out)."""
    conditions: dict[str, Q] = {}
    theme_ids = [prepared.theme_ids[s] for s in search.theme if s in prepared.theme_ids]
    if search.theme:
        conditions["theme"] = Q(theme_ids__overlap=theme_ids)
    if search.level:
        conditions["level"] = Q(level__in=search.level)
    if search.phase:
        conditions["phase"] = Q(phases__overlap=list(search.phase))
    if search.size:
        conditions["size"] = Q(company_sizes__overlap=list(search.size))
    if search.industry:
        # No industries listed means every industry.
        conditions["industry"] = Q(industries__len=0) | Q(industries__overlap=list(search.industry))
    if search.region:
        regions = [code for code in search.region if code in prepared.region_labels]
        conditions["region"] = Q(nationwide=True) | Q(reach_regions__overlap=regions)
    if search.price:
        conditions["price"] = Q(price__in=search.price)
    if search.operator:
        operator_ids = [
            prepared.operator_ids[s] for s in search.operator if s in prepared.operator_ids
        ]
        conditions["operator"] = Q(operator_id__in=operator_ids)
    if search.municipality:
        codes = [code for code in search.municipality if code in prepared.municipality_regions]
        regions = sorted({prepared.municipality_regions[code] for code in codes})
        conditions["municipality"] = (
            Q(nationwide=True) | Q(municipalities__overlap=codes) | Q(regions__overlap=regions)
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

_FACET_COLUMNS = (
    "id",
    "level",
    "price",
    "operator_id",
    "nationwide",
    "phases",
    "company_sizes",
    "industries",
    "reach_regions",
    "theme_ids",
)


def _facet_sql(base: QuerySet[Offer], conditions: dict[str, Q]) -> tuple[str, list[Any]]:
    flags = {
        f"f_{name}": ExpressionWrapper(condition, output_field=BooleanField())
        for name, condition in conditions.items()
        if name in FACETS
    }
    inner = base.annotate(**flags).order_by().values(*_FACET_COLUMNS, *flags)
    inner_sql, inner_params = inner.query.sql_with_params()
    misses = " + ".join(f"(NOT {flag})::int" for flag in flags) or "0"

    def where(name: str) -> str:
        # Rows passing every filter, plus rows failing only this facet's own filter.
        flag = f"f_{name}"
        if flag in flags:
            return f"(s.misses = 0 OR (s.misses = 1 AND NOT s.{flag}))"
        return "s.misses = 0"

    # Each branch: facet, value, label, English label, order, count. Only our own SQL is
    # interpolated; every user value travels in inner_params.
    sql = f"""
WITH base AS ({inner_sql}),
scored AS (SELECT b.*, {misses} AS misses FROM base b)
SELECT 'total', '', '', '', 0, count(*) FROM scored s WHERE s.misses = 0
UNION ALL
SELECT 'theme', t.slug, t.name, t.name_en, t.position * 100000 + t.id, count(x.id)
FROM offers_theme t
LEFT JOIN (SELECT s.id, unnest(s.theme_ids) AS theme_id FROM scored s WHERE {where("theme")}) x
    ON x.theme_id = t.id
GROUP BY t.id
UNION ALL
SELECT 'theme_id', t.slug, t.name, t.name_en, t.id, 0 FROM offers_theme t
UNION ALL
SELECT 'level', s.level, '', '', 0, count(*) FROM scored s WHERE {where("level")} GROUP BY 2
UNION ALL
SELECT 'price', s.price, '', '', 0, count(*) FROM scored s WHERE {where("price")} GROUP BY 2
UNION ALL
SELECT 'phase', p, '', '', 0, count(*)
FROM scored s CROSS JOIN LATERAL unnest(s.phases) AS p WHERE {where("phase")} GROUP BY 2
UNION ALL
SELECT 'size', z, '', '', 0, count(*)
FROM scored s CROSS JOIN LATERAL unnest(s.company_sizes) AS z WHERE {where("size")} GROUP BY 2
UNION ALL
SELECT 'industry', coalesce(i, '*'), '', '', 0, count(*)
FROM scored s LEFT JOIN LATERAL unnest(s.industries) AS i ON true
WHERE {where("industry")} GROUP BY 2
UNION ALL
SELECT 'region', r.code::text, r.name, '', r.code, count(x.id)
FROM offers_region r
LEFT JOIN (
    SELECT s.id, unnest(s.reach_regions) AS code FROM scored s
    WHERE NOT s.nationwide AND {where("region")}
) x ON x.code = r.code
GROUP BY r.code
UNION ALL
SELECT 'region', '*', '', '', 0, count(*) FROM scored s WHERE s.nationwide AND {where("region")}
UNION ALL
SELECT 'operator', o.slug, o.name, '', 0, count(*)
FROM scored s JOIN offers_organisation o ON o.id = s.operator_id
WHERE {where("operator")} GROUP BY o.id
"""  # noqa: S608
    return sql, list(inner_params)


def _facets(
    base: QuerySet[Offer],
    conditions: dict[str, Q],
    search: OfferSearch,
    prepared: _Prepared,
) -> tuple[int, dict[str, list[FacetValue]], dict[int, tuple[str, str]], dict[int, str]]:
    sql, params = _facet_sql(base, conditions)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()

    english = get_language() == "en"
    total = 0
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    order: dict[str, dict[str, int]] = defaultdict(dict)
    theme_labels: dict[int, tuple[str, str]] = {}
    region_labels: dict[int, str] = {}
    for facet, value, label, label_en, position, count in rows:
        if facet == "total":
            total = count
            continue
        if facet == "theme_id":
            theme_labels[position] = (value, label_en if english and label_en else label)
            continue
        counts[facet][value] = count
        if label:
            labels[facet][value] = label_en if english and label_en else label
        order[facet][value] = position
        if facet == "region" and value != "*":
            region_labels[int(value)] = label

    facets: dict[str, list[FacetValue]] = {}
    for name in FACETS:
        facet_counts = counts.get(name, {})
        selected = set(search.values(name))
        # Offers for the whole country (or every industry) count for each region (industry).
        everywhere = facet_counts.pop("*", 0)
        values: list[FacetValue] = []
        if name in CHOICE_LABELS:
            for value, label in CHOICE_LABELS[name].items():
                count = facet_counts.get(value, 0) + everywhere
                values.append(FacetValue(value, str(label), count, value in selected))
        elif name == "operator":
            names = {**prepared.operator_labels, **labels[name]}
            for value in {*facet_counts, *selected}:
                if value in names:
                    count = facet_counts.get(value, 0)
                    values.append(FacetValue(value, names[value], count, value in selected))
            values.sort(key=lambda v: (-v.count, v.label))
        else:
            for value in sorted(facet_counts, key=lambda v: order[name][v]):
                count = facet_counts[value] + everywhere
                label = labels[name].get(value, value)
                values.append(FacetValue(value, label, count, value in selected))
        facets[name] = values
    return total, facets, theme_labels, region_labels


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
    words = _query_words(search.q)
    text_query, corrections = _text_query(search.q, words, resolved)

    base = Offer.objects.published()
    if not search.include_closed:
        base = base.open_on(today)
    if text_query is not None:
        base = base.filter(search_vector=text_query)
    conditions = _conditions(search, resolved)
    if "municipality" in conditions:
        base = base.filter(conditions["municipality"])

    total, facets, theme_labels, region_labels = _facets(base, conditions, search, resolved)
    num_pages = max(1, math.ceil(total / PAGE_SIZE))
    if clamp_page and search.page > num_pages:
        search = search.on_page(num_pages)

    offers: list[Offer] = []
    if total and search.page <= num_pages:
        matching = base
        for name, condition in conditions.items():
            if name != "municipality":
                matching = matching.filter(condition)
        offset = (search.page - 1) * PAGE_SIZE
        offers = list(
            _ordered(matching, search.sort, text_query)
            .select_related("owner", "operator")
            .defer(
                "description",
                "expected_result",
                "how_to_apply",
                "search_text",
                "search_vector",
                "owner__address",
                "operator__address",
            )[offset : offset + PAGE_SIZE]
        )

    return SearchResult(
        search=search,
        offers=offers,
        total=total,
        num_pages=num_pages,
        facets=facets,
        active_filters=_active_filters(search, resolved),
        corrections=corrections,
        unknown=unknown,
        theme_labels=theme_labels,
        region_labels=region_labels,
    )


def _ordered(
    offers: QuerySet[Offer], sort: Sort, text_query: SearchQuery | None
) -> QuerySet[Offer]:
    if sort == "deadline":
        return offers.order_by(F("application_deadline").asc(nulls_last=True), "title", "pk")
    if sort == "newest":
        return offers.order_by(Coalesce("published_at", "created_at").desc(), "-pk")
    if text_query is None:
        return offers.order_by("title", "pk")
    return offers.annotate(rank=_rank(text_query)).order_by("-rank", "title", "pk")


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
