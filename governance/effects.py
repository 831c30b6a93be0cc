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
from django.utils.formats import number_format

from evaluation import estimators
from evaluation.models import EffectEstimate, Indicator


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
    def estimate_text(self) -> str:
        return _number(self.result.estimate, self.indicator)

    @property
    def interval_text(self) -> str:
        low, high = self.result.ci_low, self.result.ci_high
        if low is None or high is None:
            return ""
        return f"{_number(low, self.indicator)} til {_number(high, self.indicator)}"


def _number(value: float | None, indicator: str) -> str:
    if value is None:
        return ""
    # Jobs in tenths of a full-time employee; kroner in whole kroner.
    decimals = 1 if indicator == Indicator.EMPLOYMENT else 0
    # number_format cuts off decimals; round first so 2.75 shows as 2,8.
    rounded = round(value, decimals)
    return number_format(rounded, decimal_pos=decimals, use_l10n=True, force_grouping=True)


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
