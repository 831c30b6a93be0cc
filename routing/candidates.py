"""Load the offers worth scoring for a guidance request, from PostgreSQL.

The database does what it is good at: it drops every offer the company cannot use (closed,
another place, phase, size or industry), keeps those that share a chosen theme or whose text
matches the needs, ranks the needs text against each offer's stored search vector in Danish and
hands back a bounded list. ``routing.matching`` then scores and explains on plain data.

The needs are free text ("Vi vil gerne eksportere til Tyskland og har brug for kapital"), so the
words are ORed: PostgreSQL's ``websearch`` syntax would AND them and find almost nothing. Each word
is reduced to letters and digits before it reaches ``to_tsquery``, so no input can inject query
operators; the ``danish`` configuration drops stop words and stems the rest. Compound words are
split the way the catalogue indexes them (``offers.compounds``), so "eksportrådgivning" in the
needs also finds an offer about "rådgivning".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import Count, Exists, F, FloatField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from offers.compounds import CompoundSplitter
from offers.models import Offer, Theme
from routing.matching import CompanyProfile, OfferCandidate, size_class

#: At most this many offers reach the pure scoring, best first by theme overlap and text rank.
CANDIDATE_LIMIT = 300
#: Words of the needs text used for ranking; a longer text adds little and costs time.
MAX_QUERY_WORDS = 40

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


def needs_query(needs: str) -> SearchQuery | None:
    """An OR query of the needs' words under the ``danish`` configuration; None if no words."""
    words = needs_words(needs)
    if not words:
        return None
    return SearchQuery(" | ".join(words), config="danish", search_type="raw")


def load_candidates(
    company: CompanyProfile,
    *,
    day: dt.date,
    limit: int = CANDIDATE_LIMIT,
) -> list[OfferCandidate]:
    """The open, eligible offers that fit a chosen theme or the needs text, as plain data.

    The company's ``origin_offer_id`` (the offer page it came from) is always loaded when
    eligible, whatever its rank.
    """
    origin_offer_id = company.origin_offer_id
    offers = Offer.objects.published().open_on(day).filter(*_eligibility(company))

    theme_links = Offer.themes.through.objects.filter(offer_id=OuterRef("pk"))
    chosen = list(company.themes)
    query = needs_query(company.needs_text)

    relevant = Q(Exists(theme_links.filter(theme__slug__in=chosen))) if chosen else Q(pk__in=[])
    if query is not None:
        relevant |= Q(search_vector=query)
    if origin_offer_id:
        relevant |= Q(external_id=origin_offer_id)
    offers = offers.filter(relevant)

    theme_hits = (
        theme_links.filter(theme__slug__in=chosen)
        .order_by()
        .values("offer_id")
        .annotate(hits=Count("*"))
        .values("hits")  # type: ignore[misc]  # django-stubs cannot see the annotation
    )
    text_rank = (
        SearchRank(F("search_vector"), query, cover_density=True)
        if query is not None
        else Value(0.0, output_field=FloatField())
    )
    rows = (
        offers.annotate(
            theme_hits=Coalesce(Subquery(theme_hits), 0),
            text_rank=Coalesce(text_rank, 0.0, output_field=FloatField()),
            theme_slugs=ArraySubquery(
                Theme.objects.filter(offers=OuterRef("pk")).order_by("slug").values("slug")
            ),
            is_origin=Q(external_id=origin_offer_id or ""),
        )
        .order_by("-is_origin", "-theme_hits", "-text_rank", "external_id")
        .values_list(
            "external_id",
            "title",
            "theme_slugs",
            "phases",
            "company_sizes",
            "industries",
            "nationwide",
            "regions",
            "municipalities",
            "text_rank",
        )[:limit]
    )
    return [
        OfferCandidate(
            external_id=external_id,
            title=title,
            themes=tuple(themes or ()),
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
            themes,
            phases,
            sizes,
            industries,
            nationwide,
            regions,
            municipalities,
            rank,
        ) in rows
    ]


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
