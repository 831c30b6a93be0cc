"""Measured effects of the offers that carry out growth-agreement commitments.

The numbers come from the effect measurement: each offer's published, pooled estimate per
indicator, combined with the same roll-up the measurement uses per operator, level, theme and
region (``evaluation.estimators.roll_up``), so a region page and the effects pages agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from evaluation import estimators
from evaluation.models import EffectEstimate, Indicator
from evaluation.presentation import format_supported, supported_step


@dataclass(frozen=True)
class RolledUpEffect:
    indicator: str
    label: str
    result: estimators.IndicatorResult
    offers_measured: int

    @property
    def is_measured(self) -> bool:
        return self.result.status == "ok"

    @property
    def _step(self) -> float:
        return supported_step(self.result.ci_low, self.result.ci_high, self.indicator)

    @property
    def estimate_text(self) -> str:
        # Rounded to what the interval supports: one offer and 65 companies do not know a
        # revenue effect to the krone.
        return format_supported(self.result.estimate, self.indicator, self._step)

    @property
    def interval_text(self) -> str:
        low, high = self.result.ci_low, self.result.ci_high
        if low is None or high is None:
            return ""
        return _("%(low)s til %(high)s") % {
            "low": format_supported(low, self.indicator, self._step),
            "high": format_supported(high, self.indicator, self._step),
        }


def offer_effects_summary(*, offer_ids: Sequence[int]) -> list[RolledUpEffect]:
    """Per indicator, the combined effect of these offers; empty when none has been measured."""
    if not offer_ids:
        return []
    estimates = (
        EffectEstimate.objects.published()
        .pooled()
        .filter(offer_id__in=offer_ids)
        .order_by("indicator", "offer_id")
    )
    by_indicator: dict[str, list[estimators.IndicatorResult]] = defaultdict(list)
    for estimate in estimates:
        by_indicator[estimate.indicator].append(
            estimators.IndicatorResult(**estimate.result_fields())
        )
    labels = dict(Indicator.choices)
    summary = []
    for indicator in Indicator.values:
        results = by_indicator.get(indicator)
        if not results:
            continue
        combined = estimators.roll_up(results, min_treated=settings.EFFECT_MIN_TREATED)
        summary.append(
            RolledUpEffect(
                indicator=indicator,
                label=str(labels[indicator]),
                result=combined,
                offers_measured=sum(1 for result in results if result.status == "ok"),
            )
        )
    if not any(effect.is_measured for effect in summary):
        return []
    return summary
