"""``{% load effects %}{% offer_effects offer %}``: an offer's measured effect on its own page."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.utils.translation import gettext as _

from evaluation import disclosure
from evaluation.models import EffectEstimate
from evaluation.presentation import (
    EXTRA_LABELS,
    INDICATOR_LABELS,
    INDICATOR_UNITS,
    format_effect,
    format_extra,
    format_interval,
)
from offers.models import Offer

register = template.Library()


@register.filter
def count_or_fewer(value: int | None, minimum: int) -> str | int:
    """A count as shown: the number, or "færre end 20" when it is hidden or below the threshold.

    ``value`` is already what the disclosure rule lets be shown (None when hidden); the check
    against ``minimum`` is a second guard, so no template can show a small count.
    """
    shown = disclosure.shown_count(value, min_treated=int(minimum))
    if shown is None:
        return _("færre end %(minimum)s") % {"minimum": minimum}
    return shown


@register.inclusion_tag("evaluation/includes/offer_effects_box.html")
def offer_effects(offer: Offer) -> dict[str, Any]:
    """The offer's published, pooled effects: one query, nothing shown when not measured."""
    estimates = list(
        EffectEstimate.objects.published()
        .pooled()
        .for_offer(offer)
        .select_related("run")
        .order_by("indicator")
    )
    by_indicator = {e.indicator: e for e in estimates}
    rows = [
        {
            "indicator": INDICATOR_LABELS[name],
            "unit": INDICATOR_UNITS[name],
            "status": e.status,
            "effect": format_effect(e.estimate, name),
            "interval": format_interval(e.ci_low, e.ci_high, name),
            "participants": disclosure.public_counts(
                e.status, e.n_treated, e.n_control, min_treated=settings.EFFECT_MIN_TREATED
            )["n_treated"],
            "extra": format_extra(e.extra, name) if name in EXTRA_LABELS else "",
            "extra_label": EXTRA_LABELS.get(name, ""),
        }
        for name in INDICATOR_LABELS
        if (e := by_indicator.get(name)) is not None
    ]
    employment = by_indicator.get("employment")
    return {
        "min_treated": settings.EFFECT_MIN_TREATED,
        "employment_participants": disclosure.public_counts(
            employment.status,
            employment.n_treated,
            employment.n_control,
            min_treated=settings.EFFECT_MIN_TREATED,
        )["n_treated"]
        if employment
        else None,
        "offer": offer,
        "rows": rows,
        "measured": any(e.status == "ok" for e in estimates),
        "employment": employment,
        "employment_effect": format_effect(employment.estimate, "employment") if employment else "",
        "employment_interval": format_interval(employment.ci_low, employment.ci_high, "employment")
        if employment
        else "",
        "employment_extra": format_extra(employment.extra, "employment") if employment else "",
        "finished_at": estimates[0].run.finished_at if estimates else None,
    }
