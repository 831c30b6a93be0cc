"""Offers, rules and submissions for the routing tests."""

from __future__ import annotations

import itertools
from typing import Any

import factory

from core.cvr import valid_cvrs
from offers.models import Municipality, Offer, Organisation, Theme
from offers.search import refresh_search_vectors
from routing.forms import GuidanceSubmission
from routing.models import RoutingRule
from tests.offers import factories as offers_factories

ALL_PHASES = ["idea", "startup", "growth", "established"]
ALL_SIZES = ["micro", "small", "medium", "large"]

_cvrs = valid_cvrs(start=7_100_000)


def next_cvr() -> str:
    return next(_cvrs)


class OfferFactory(offers_factories.OfferFactory):
    """A published, nationwide offer open to everyone; call ``index_offers()`` after creating."""

    _index_on_create = False

    external_id = factory.Sequence(lambda n: f"routing-test-offer-{n}")
    phases = factory.LazyFunction(lambda: list(ALL_PHASES))
    company_sizes = factory.LazyFunction(lambda: list(ALL_SIZES))


def index_offers() -> None:
    """Compute the stored search vectors the way the catalogue does."""
    refresh_search_vectors()


def export_offers_that_cannot_be_combined(prefix: str = "") -> None:
    """Two nationwide export offers, ``<prefix>eksportstart`` and ``<prefix>eksportklar``,
    that cannot be combined, and a capital offer; indexed."""
    OfferFactory(
        external_id=f"{prefix}eksportstart",
        title="Eksportstart – kom i gang med eksport",
        summary="Rådgivning til små virksomheder, der vil eksportere for første gang.",
        expected_result="I har en plan for jeres første eksportmarked.",
        themes=["export"],
    )
    OfferFactory(
        external_id=f"{prefix}eksportklar",
        title="Eksportklar – sparring om de første skridt",
        summary="Sparring om eksport.",
        themes=["export"],
    )
    OfferFactory(external_id=f"{prefix}kapital", title="Lån til vækst", themes=["capital"])
    Offer.objects.get(external_id=f"{prefix}eksportstart").cannot_combine_with.add(
        Offer.objects.get(external_id=f"{prefix}eksportklar")
    )
    index_offers()


def rule(**values: Any) -> RoutingRule:
    defaults: dict[str, Any] = {"priority": 100, "reason": "Driftsaftale"}
    defaults.update(values)
    if isinstance(defaults.get("hub"), str):
        defaults["hub"] = Organisation.objects.get(slug=defaults["hub"])
    if isinstance(defaults.get("municipality"), int):
        defaults["municipality"] = Municipality.objects.get(code=defaults["municipality"])
    if isinstance(defaults.get("theme"), str):
        defaults["theme"] = Theme.objects.get(slug=defaults["theme"])
    return RoutingRule.objects.create(**defaults)


def business_region(*codes: int, slug: str = "business-region-trekanten") -> Organisation:
    """A business region (``Organisation`` of that kind) whose members are the municipalities
    with these codes."""
    region = Organisation.objects.create(
        slug=slug,
        name="Business Region Trekanten",
        kind="business_region",
        level="municipality",
    )
    region.member_municipalities.set(Municipality.objects.filter(code__in=codes))
    return region


_emails = itertools.count(1)


def _request(**changes: Any) -> dict[str, Any]:
    """A growing manufacturer in Vejle that wants to export, as both kinds of request hold it."""
    values: dict[str, Any] = {
        "cvr": next_cvr(),
        "company_name": "Vejle Maskinfabrik ApS",
        "needs": "Vi vil gerne eksportere vores maskiner til Tyskland.",
        "phase": "growth",
        "employees": 25,
        "industry": "C",
        "contact_name": "Mette Hansen",
        "contact_email": f"mette{next(_emails)}@example.dk",
        "contact_phone": "+45 12 34 56 78",
        "consent": True,
    }
    values.update(changes)
    return values


def submission(**changes: Any) -> GuidanceSubmission:
    """A valid request from a growing manufacturer in Vejle that wants to export."""
    municipality = Municipality.objects.select_related("region").get(code=630)
    themes = tuple(Theme.objects.filter(slug="export"))
    return GuidanceSubmission(
        **_request(**{"municipality": municipality, "themes": themes, **changes})
    )


def form_data(**changes: Any) -> dict[str, Any]:
    """What a company posts to /vejledning/ or the API (API field names)."""
    return _request(**{"municipality": 630, "themes": ["export"], **changes})
