"""Reads of published effects that other apps use (routing's "what works" ranking)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection

from evaluation.apps import PUBLISHED_EFFECTS_VERSION_SQL
from evaluation.models import EffectEstimate, EffectSegment
from routing import effect_ranking
from routing.matching import SIZE_CLASSES, size_class
from routing.reasons import reason_text

if TYPE_CHECKING:
    from crm.models import Company
    from offers.models import Offer


@dataclass(frozen=True, slots=True)
class _Published:
    """Every published employment effect a match may use, kept per process under a version."""

    version: tuple[str, int]
    #: (size band index, DB07 section) -> external id -> the segment's shrunk effect.
    segments: dict[tuple[int, str], dict[str, effect_ranking.Evidence]]
    #: external id -> the offer's overall effect (enough participants and controls).
    overall: dict[str, effect_ranking.Evidence]


_published: _Published | None = None
_published_lock = threading.Lock()


def _published_effects() -> _Published:
    """The published effects, read again only when a run has been published since (one small
    query per match instead of two joins over the estimates)."""
    global _published  # one copy per process, replaced whole
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {PUBLISHED_EFFECTS_VERSION_SQL}")
        (run_version,) = cursor.fetchone()
    version = (str(run_version), int(settings.EFFECT_MIN_TREATED))
    kept = _published
    if kept is not None and kept.version == version:
        return kept
    with _published_lock:
        kept = _published
        if kept is not None and kept.version == version:
            return kept
        segments: dict[tuple[int, str], dict[str, effect_ranking.Evidence]] = {}
        rows = EffectSegment.objects.published().filter(
            indicator="employment", industry_classification="db07"
        )
        for external_id, band, section, estimate, low, high, n in rows.values_list(
            "offer__external_id",
            "size_band",
            "industry_section",
            "shrunk_estimate",
            "shrunk_ci_low",
            "shrunk_ci_high",
            "n_treated",
        ):
            if not 0 <= band < len(SIZE_CLASSES):
                continue
            segments.setdefault((band, section), {})[external_id] = effect_ranking.Evidence(
                estimate=estimate,
                ci_low=low,
                ci_high=high,
                n_treated=n,
                scope=effect_ranking.SEGMENT,
                size=SIZE_CLASSES[band],
                section=section,
            )
        overall = {
            external_id: effect_ranking.Evidence(
                estimate=estimate, ci_low=low, ci_high=high, n_treated=n, scope=effect_ranking.OFFER
            )
            for external_id, estimate, low, high, n in EffectEstimate.objects.published()
            .pooled()
            .filter(
                indicator="employment",
                status="ok",
                n_treated__gte=settings.EFFECT_MIN_TREATED,
                n_control__gte=settings.EFFECT_MIN_TREATED,
            )
            .values_list("offer__external_id", "estimate", "ci_low", "ci_high", "n_treated")
        }
        _published = _Published(version=version, segments=segments, overall=overall)
        return _published


def effect_evidence(
    size: str | None, section: str | None, external_ids: list[str]
) -> dict[str, effect_ranking.Evidence]:
    """The published employment effect of each offer for the segment (size class x DB07
    section), or the offer's overall effect where the segment is not shown; offers without a
    published effect are left out."""
    found: dict[str, effect_ranking.Evidence] = {}
    if not external_ids:
        return found
    published = _published_effects()
    if size in SIZE_CLASSES and section:
        segment = published.segments.get((SIZE_CLASSES.index(size), section), {})
        for external_id in external_ids:
            evidence = segment.get(external_id)
            if evidence is not None:
                found[external_id] = evidence
    for external_id in external_ids:
        if external_id not in found and external_id in published.overall:
            found[external_id] = published.overall[external_id]
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
