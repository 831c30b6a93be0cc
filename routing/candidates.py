"""Load the offers worth scoring for a guidance request, from PostgreSQL.

The database does what it is good at: it drops every offer the company cannot use (closed,
another place, phase, size or industry), keeps those that share a chosen theme or whose text
matches the needs, ranks the needs text against each offer's stored search vector in Danish and
hands back a bounded list. ``routing.matching`` then scores and explains on plain data.

The needs are free text ("Vi vil gerne eksportere til Tyskland og har brug for kapital"), so the
words are ORed: PostgreSQL's ``websearch`` syntax would AND them and find almost nothing. Each word
is reduced to letters and digits before it reaches the database, so no input can inject query
operators; the ``danish`` configuration drops stop words and stems the rest. Compound words are
split the way the catalogue indexes them (``offers.compounds``), so "eksportrådgivning" in the
needs also finds an offer about "rådgivning".

Only informative words count (:func:`informative_terms`). A stem the catalogue does not contain
cannot match, and a stem found in a large share of the catalogue ("virksomhed", "rådgivning",
"forløb") says nothing about which offer fits, while it would make most offers "match the text"
and cost a rank computation each. ``ts_rank_cd`` has no notion of how common a word is, so this is
also what keeps the text reason ("Matcher det, du skriver om dit behov") meaningful. The word
frequencies come from the catalogue's word list (``offers.OfferSearchTerm``, rebuilt by
``offers.search.refresh_search_vectors``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    F,
    FloatField,
    Func,
    Q,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from offers.compounds import CompoundSplitter
from offers.models import Offer, Theme
from routing.matching import (
    INDUSTRY_BONUS,
    LOCAL_BONUS,
    REGIONAL_BONUS,
    TEXT_RANK_HALF,
    TEXT_WEIGHT,
    THEME_WEIGHT,
    CompanyProfile,
    OfferCandidate,
    size_class,
)

#: At most this many offers reach the pure scoring, best first by the score computed in SQL
#: (:func:`_pool_score`). On 200 varied requests over 10,000 offers the shown top ten were the
#: same as with a pool of 5,000 (``benchmarks/routing.py`` data).
CANDIDATE_LIMIT = 120
#: Words of the needs text used for ranking; a longer text adds little and costs time.
MAX_QUERY_WORDS = 40
#: A stem in more than this share of the catalogue is too common to tell offers apart ...
COMMON_SHARE = 0.2
#: ... unless the catalogue is small: below this many offers per stem nothing is too common.
COMMON_MIN_DOCUMENTS = 50
#: When every known stem is common, the rarest few still count, so a need is never ignored.
RAREST_KEPT = 2

_WORD = re.compile(r"\w+", re.UNICODE)


def needs_words(needs: str) -> list[str]:
    """The distinct words of a needs text and the parts of its compounds, lower-cased, letters
    and digits only, in order."""
    # A splitter per call: its memo must not grow with every visitor's words in a long process.
    splitter = CompoundSplitter()
    words: dict[str, None] = {}
    for word in _WORD.findall(needs.lower()):
        cleaned = word.replace("_", "")
        if len(cleaned) < 2:
            continue
        for part in (cleaned, *splitter.split(cleaned)):
            words.setdefault(part, None)
        if len(words) >= MAX_QUERY_WORDS:
            break
    return list(words)[:MAX_QUERY_WORDS]


_TERMS_SQL = """
SELECT q.lexeme, coalesce(sum(t.documents), 0),
       (SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = 'offers_offer'::regclass)
FROM unnest(tsvector_to_array(to_tsvector('danish', %s))) AS q(lexeme)
LEFT JOIN offers_offersearchterm t ON t.lexeme = q.lexeme
GROUP BY q.lexeme
"""


def informative_terms(needs: str) -> list[str]:
    """The Danish stems of the needs worth matching on, rarest first.

    Known to the catalogue and in at most :data:`COMMON_SHARE` of it (the catalogue's size is
    PostgreSQL's row estimate: a threshold needs no exact count); when none qualifies, the
    :data:`RAREST_KEPT` rarest known stems.
    """
    words = needs_words(needs)
    if not words:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_TERMS_SQL, [" ".join(words)])
        rows = cursor.fetchall()
    known = sorted((int(documents), lexeme) for lexeme, documents, _size in rows if documents)
    if not known:
        return []
    catalogue_size = float(rows[0][2] or 0)
    limit = max(COMMON_MIN_DOCUMENTS, COMMON_SHARE * catalogue_size)
    informative = [lexeme for documents, lexeme in known if documents <= limit]
    return informative or [lexeme for _documents, lexeme in known[:RAREST_KEPT]]


def terms_tsquery(terms: Sequence[str]) -> str:
    """``to_tsquery`` text ORing already-stemmed terms (letters and digits only, so quoting
    each is enough)."""
    return " | ".join(f"'{term}'" for term in terms)


def terms_query(terms: Sequence[str]) -> SearchQuery | None:
    """An OR query of already-stemmed terms (the ``simple`` configuration does not stem again)."""
    if not terms:
        return None
    return SearchQuery(terms_tsquery(terms), config="simple", search_type="raw")


def load_candidates(
    company: CompanyProfile,
    *,
    day: dt.date,
    limit: int = CANDIDATE_LIMIT,
    theme_slugs: Mapping[int, str] | None = None,
) -> list[OfferCandidate]:
    """The open, eligible offers that fit a chosen theme or the needs text, as plain data.

    ``theme_slugs`` (theme id → slug) saves a query when the caller has the themes already.

    Ranking is the expensive part: a free-text need often shares a word with much of the
    catalogue, and ``ts_rank_cd`` over thousands of offers costs more than everything else. So:

    1. The offers whose text matches come from the GIN index on the search vector, as ids.
       PostgreSQL prices ``@@`` as nearly free and would rather test every row (measured at
       10,000 offers: about 50 ms against 3 ms through the index, because each test unpacks the
       stored vector), so sequential scans are switched off for this one small statement
       (``SET LOCAL``, reset right after).
    2. The pool: eligible offers sharing a chosen theme or among those ids, ordered by how many
       chosen themes they cover, then by ``ts_rank`` (a fraction of the cost of
       ``ts_rank_cd``), then ``external_id``; at most ``limit``. In the same statement only the
       pool is ranked with ``ts_rank_cd`` (cover density, as ``routing.matching`` expects).

    Theme overlap reads the offer's denormalised ``theme_ids`` (kept by
    ``offers.search.refresh_search_vectors``, like the search vector itself). The company's
    ``origin_offer_id`` (the offer page it came from) is always in the pool when eligible.
    """
    themes = (
        dict(theme_slugs)
        if theme_slugs is not None
        else dict(Theme.objects.values_list("id", "slug"))
    )
    chosen_ids = sorted(pk for pk, slug in themes.items() if slug in set(company.themes))
    terms = informative_terms(company.needs_text)
    query = terms_query(terms)
    origin_offer_id = company.origin_offer_id

    relevant = Q(theme_ids__overlap=chosen_ids) if chosen_ids else Q(pk__in=[])
    if query is not None:
        relevant |= Q(_AnyOf(F("pk"), RawSQL("%s::bigint[]", (_text_matches(terms),))))
    if origin_offer_id:
        relevant |= Q(external_id=origin_offer_id)
    pool = (
        Offer.objects.published()
        .open_on(day)
        .filter(*_eligibility(company))
        .filter(relevant)
        .annotate(
            is_origin=Q(external_id=origin_offer_id or ""),
            pool_score=_pool_score(company, chosen_ids, query),
        )
        .order_by("-is_origin", "-pool_score", "external_id")
        .values("pk")[:limit]
    )
    text_rank = (
        SearchRank(F("search_vector"), query, cover_density=True)
        if query is not None
        else Value(0.0, output_field=FloatField())
    )
    rows = (
        Offer.objects.filter(pk__in=pool)
        .order_by()
        .annotate(text_rank=Coalesce(text_rank, 0.0, output_field=FloatField()))
        .values_list(
            "external_id",
            "title",
            "theme_ids",
            "phases",
            "company_sizes",
            "industries",
            "nationwide",
            "regions",
            "municipalities",
            "text_rank",
        )
    )
    candidates = [
        OfferCandidate(
            external_id=external_id,
            title=title,
            themes=tuple(sorted(themes[pk] for pk in theme_ids or () if pk in themes)),
            phases=tuple(phases),
            company_sizes=tuple(sizes),
            industries=tuple(industries),
            nationwide=nationwide,
            region_codes=tuple(regions),
            municipality_codes=tuple(municipalities),
            is_open=True,
            text_rank=float(rank),
        )
        for (
            external_id,
            title,
            theme_ids,
            phases,
            sizes,
            industries,
            nationwide,
            regions,
            municipalities,
            rank,
        ) in rows
    ]
    chosen = set(company.themes)
    candidates.sort(
        key=lambda c: (
            c.external_id != origin_offer_id,
            -len(chosen.intersection(c.themes)),
            -c.text_rank,
            c.external_id,
        )
    )
    return candidates


class _AnyOf(Func):
    """``id = ANY(%s)``: one array parameter however many ids there are."""

    arg_joiner = " = ANY("
    template = "(%(expressions)s))"
    output_field = BooleanField()


_TEXT_MATCHES_SQL = """
SELECT coalesce(array_agg(id), '{}')::text FROM offers_offer
WHERE status = 'published' AND search_vector @@ to_tsquery('simple', %s)
"""


def _text_matches(terms: Sequence[str]) -> str:
    """Ids of the published offers matching any of ``terms``, read through the GIN index.

    Returned as PostgreSQL array text ("{12,40,77}"): it goes straight back into the next
    statement as one parameter, so thousands of ids cost no Python work on the way.
    """
    # Inside the submission's transaction no savepoint is needed: the setting is reset below,
    # and an error here rolls the whole transaction back anyway.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(_TEXT_MATCHES_SQL, [terms_tsquery(terms)])
        (ids,) = cursor.fetchone()
        cursor.execute("SET LOCAL enable_seqscan TO DEFAULT")
    return str(ids)


def _pool_score(
    company: CompanyProfile, chosen_ids: Sequence[int], query: SearchQuery | None
) -> Any:
    """The score of ``routing.matching.score`` as SQL, so cutting the pool keeps the best offers.

    The same weights and bonuses; only the text part uses ``ts_rank`` for ``ts_rank_cd`` (a
    fraction of the cost over many matching offers), so the order is very close to the final one
    and the pool's cut falls far below the offers that are shown.
    """
    theme_fit: Any = Value(0.0, output_field=FloatField())
    if chosen_ids:
        theme_fit = _count_of([Q(theme_ids__contains=[pk]) for pk in chosen_ids]) * Value(
            THEME_WEIGHT / len(set(company.themes))
        )
    text: Any = Value(0.0, output_field=FloatField())
    if query is not None:
        rank = SearchRank(F("search_vector"), query)
        text = Value(TEXT_WEIGHT) * rank / (rank + Value(TEXT_RANK_HALF))
    bonus: Any = Value(0.0, output_field=FloatField())
    if company.municipality_code is not None:
        local = Q(municipalities__overlap=[company.municipality_code])
        regional = (
            Q(regions__overlap=[company.region_code]) if company.region_code is not None else None
        )
        place_bonus = [When(local, then=Value(LOCAL_BONUS))]
        if regional is not None:
            place_bonus.append(When(regional, then=Value(REGIONAL_BONUS)))
        bonus = bonus + Case(*place_bonus, default=Value(0.0), output_field=FloatField())
    if company.industry:
        bonus = bonus + Case(
            When(industries__contains=[company.industry], then=Value(INDUSTRY_BONUS)),
            default=Value(0.0),
            output_field=FloatField(),
        )
    return theme_fit + text + bonus


def _count_of(conditions: list[Q]) -> Any:
    """SQL for how many of ``conditions`` hold: 0 when there are none."""
    total: Any = Value(0)
    for condition in conditions:
        total = total + Case(When(condition, then=Value(1)), default=Value(0))
    return total


def _eligibility(company: CompanyProfile) -> Sequence[Q]:
    """The hard rules of ``routing.matching.eligibility_failures``, as SQL."""
    place = Q(nationwide=True)
    if company.municipality_code is not None:
        place |= Q(municipalities__overlap=[company.municipality_code])
        if company.region_code is not None:
            place |= Q(regions__overlap=[company.region_code])
    rules = [place]
    if company.phase:
        rules.append(Q(phases=[]) | Q(phases__contains=[company.phase]))
    size = size_class(company.employees)
    if size:
        rules.append(Q(company_sizes=[]) | Q(company_sizes__contains=[size]))
    industry_open = Q(industries=[])
    rules.append(
        industry_open | Q(industries__contains=[company.industry])
        if company.industry
        else industry_open
    )
    return rules
