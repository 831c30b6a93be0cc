"""Reads of published effects that other apps use (routing's "what works" ranking)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.conf import settings

from evaluation.models import EffectEstimate, EffectSegment
from routing import effect_ranking
from routing.matching import SIZE_CLASSES, size_class
from routing.reasons import reason_text

if TYPE_CHECKING:
    from crm.models import Company
    from offers.models import Offer


def effect_evidence(
    size: str | None, section: str | None, external_ids: list[str]
) -> dict[str, effect_ranking.Evidence]:
    """The published employment effect of each offer for the segment (size class x DB07
    section), or the offer's overall effect where the segment is not shown; offers without a
    published effect are left out. Two queries."""
    found: dict[str, effect_ranking.Evidence] = {}
    if not external_ids:
        return found
    if size in SIZE_CLASSES and section:
        rows = EffectSegment.objects.published().filter(
            indicator="employment",
            size_band=SIZE_CLASSES.index(size),
            industry_classification="db07",
            industry_section=section,
            offer__external_id__in=external_ids,
        )
        for external_id, estimate, low, high, n in rows.values_list(
            "offer__external_id", "shrunk_estimate", "shrunk_ci_low", "shrunk_ci_high", "n_treated"
        ):
            found[external_id] = effect_ranking.Evidence(
                estimate=estimate,
                ci_low=low,
                ci_high=high,
                n_treated=n,
                scope=effect_ranking.SEGMENT,
                size=size,
                section=section,
            )
    rest = [e for e in external_ids if e not in found]
    if rest:
        overall = (
            EffectEstimate.objects.published()
            .pooled()
            .filter(
                indicator="employment",
                status="ok",
                n_treated__gte=settings.EFFECT_MIN_TREATED,
                n_control__gte=settings.EFFECT_MIN_TREATED,
                offer__external_id__in=rest,
            )
            .values_list("offer__external_id", "estimate", "ci_low", "ci_high", "n_treated")
        )
        for external_id, estimate, low, high, n in overall:
            found[external_id] = effect_ranking.Evidence(
                estimate=estimate, ci_low=low, ci_high=high, n_treated=n, scope=effect_ranking.OFFER
            )
    return found


def effect_notes(company: Company, offers: Sequence[Offer]) -> dict[int, str]:
    """For the adviser's offer picker: each offer's measured effect for companies like this one,
    worded as the company's reasons word it (``crm.offer_notes``)."""
    size = company.size_class or size_class(company.employees)
    section = company.industry if company.industry_classification.lower() == "db07" else ""
    by_external_id = {offer.external_id: offer.pk for offer in offers}
    evidence = effect_evidence(size or None, section or None, list(by_external_id))
    return {
        by_external_id[external_id]: reason_text(found.reason())
        for external_id, found in evidence.items()
    }
