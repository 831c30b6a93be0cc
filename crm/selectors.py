"""Reads other apps and commands build on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from core.time import COPENHAGEN
from crm.models import Case, Referral, TimelineEntry
from offers.models import Offer


def case_public_timeline(case: Case) -> QuerySet[TimelineEntry]:
    """What the company sees on its private status page, oldest first; never internal notes."""
    return case.public_timeline()


def completed_offer_referrals() -> Iterator[tuple[str, str, int]]:
    """(CVR, offer external_id, year) for each completed referral to an offer.

    A completed referral is a participation for the effect measurement; companies without a CVR
    cannot be followed in the register and are left out. The year is the completion year.
    """
    rows = (
        Referral.objects.filter(
            status=Referral.Status.COMPLETED,
            offer__isnull=False,
            case__company__cvr__isnull=False,
        )
        .order_by("completed_at", "pk")
        .values_list("case__company__cvr", "offer__external_id", "completed_at")
    )
    seen: set[tuple[str, str, int]] = set()
    for cvr, external_id, completed_at in rows.iterator(chunk_size=2000):
        if cvr is None or completed_at is None:  # excluded by the filter and the constraint
            continue
        row = (cvr, external_id, completed_at.astimezone(COPENHAGEN).year)
        if row not in seen:
            seen.add(row)
            yield row


def offers_suggested_for(case: Case, *, term: str = "", limit: int = 20) -> list[Offer]:
    """Open offers to refer the case to, by relevance: the offers the matching suggested for the
    case (best first), then, for a search term, the offers whose text matches it best (stemmed
    full text, or the term in the title), then those matching the case's themes and place."""
    from django.contrib.postgres.search import SearchQuery, SearchRank
    from django.db.models import (
        BooleanField,
        Exists,
        ExpressionWrapper,
        OuterRef,
        Q,
        Subquery,
        Value,
    )
    from django.db.models.functions import Coalesce
    from django.utils import timezone

    from crm.models import CaseOffer

    offers = Offer.objects.published().open_on(timezone.localdate())
    term = term.strip()[:100]
    relevance: Any = Value(0.0)
    if term:
        query = SearchQuery(term, config="danish", search_type="plain")
        offers = offers.filter(
            Q(title__icontains=term) | Q(external_id__icontains=term) | Q(search_vector=query)
        )
        relevance = SearchRank("search_vector", query)
    theme_ids = [theme.pk for theme in case.themes.all()]
    in_place = Q(nationwide=True)
    municipality = case.company.municipality
    if municipality is not None:
        in_place |= Q(regions__contains=[municipality.region_id]) | Q(
            municipalities__contains=[municipality.code]
        )
    suggested = CaseOffer.objects.filter(case=case, offer_id=OuterRef("pk")).values("score")[:1]
    return list(
        offers.annotate(
            suggested=Coalesce(Subquery(suggested), Value(-1.0)),
            relevance=relevance,
            theme_match=Exists(
                Offer.themes.through.objects.filter(offer_id=OuterRef("pk"), theme_id__in=theme_ids)
            ),
            place_match=ExpressionWrapper(in_place, output_field=BooleanField()),
        )
        .select_related("operator")
        .order_by("-suggested", "-relevance", "-theme_match", "-place_match", "title")[:limit]
    )
    return list(
        offers.annotate(
            theme_match=Exists(
                Offer.themes.through.objects.filter(offer_id=OuterRef("pk"), theme_id__in=theme_ids)
            ),
            place_match=ExpressionWrapper(in_place, output_field=BooleanField()),
        )
        .select_related("operator")
        .order_by("-theme_match", "-place_match", "title")[:limit]
    )
