"""How effects are written for people: labels, units and Danish number formats."""

from __future__ import annotations

import math
from typing import Final

from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from evaluation.estimators import COVARIATES, INDICATORS

INDICATOR_LABELS: Final[dict[str, Promise]] = {
    "employment": _("Beskæftigelse"),
    "revenue": _("Omsætning"),
    "value_added": _("Værditilvækst"),
    "export": _("Eksport"),
    "productivity": _("Produktivitet"),
}
# What one unit of the effect is, for column headings ("Effekt pr. deltager (…)").
INDICATOR_UNITS: Final[dict[str, Promise]] = {
    "employment": _("fuldtidsansatte"),
    "revenue": _("kr."),
    "value_added": _("kr."),
    "export": _("kr."),
    "productivity": _("kr. værditilvækst pr. fuldtidsansat"),
}
# The effect summed over the participants: "extra jobs" and so on. Productivity has none.
EXTRA_LABELS: Final[dict[str, Promise]] = {
    "employment": _("ekstra fuldtidsjob i alt"),
    "revenue": _("ekstra omsætning i alt"),
    "value_added": _("ekstra værditilvækst i alt"),
    "export": _("ekstra eksport i alt"),
}
COVARIATE_LABELS: Final[dict[str, Promise]] = {
    "employees": _("Fuldtidsansatte året før"),
    "revenue": _("Omsætning året før"),
    "employees_trend": _("Udvikling i ansatte (to år før → året før)"),
    "revenue_trend": _("Udvikling i omsætning (to år før → året før)"),
}
TOO_FEW: Final = _("For få deltagere til at måle")
NO_DATA: Final = _("Ingen data")

assert set(INDICATOR_LABELS) == set(INDICATORS)
assert set(COVARIATE_LABELS) == set(COVARIATES)

_MILLION: Final = 1_000_000


def is_amount(indicator: str) -> bool:
    return indicator in {"revenue", "value_added", "export", "productivity"}


def format_effect(value: float | None, indicator: str, *, signed: bool = True) -> str:
    """An effect per participant: FTE with one decimal, kroner in whole thousands."""
    if value is None or not math.isfinite(value):
        return "–"
    if is_amount(indicator):
        text = number_format(round(value, -3), 0, use_l10n=True, force_grouping=True)
        text = f"{text} {_('kr.')}"
    else:
        text = number_format(value, 1, use_l10n=True, force_grouping=True)
    return _with_sign(value, text) if signed else text.replace("-", "−")


def format_extra(value: float | None, indicator: str) -> str:
    """Effect × participants: whole FTE jobs, or millions of kroner."""
    if value is None or not math.isfinite(value):
        return "–"
    if is_amount(indicator):
        millions = number_format(value / _MILLION, 1, use_l10n=True, force_grouping=True)
        return _with_sign(value, f"{millions} {_('mio. kr.')}")
    return _with_sign(value, number_format(round(value), 0, use_l10n=True, force_grouping=True))


def format_interval(low: float | None, high: float | None, indicator: str) -> str:
    if low is None or high is None:
        return "–"
    return f"{format_effect(low, indicator)} {_('til')} {format_effect(high, indicator)}"


def format_smd(value: float | None) -> str:
    if value is None:
        return "–"
    return _with_sign(value, number_format(value, 2, use_l10n=True))


def _with_sign(value: float, text: str) -> str:
    """A typographic minus, and a plus so "+1,5" reads as a gain; what rounds to 0 has none."""
    text = text.lstrip("-")
    if not any(character in "123456789" for character in text):
        return text
    return ("−" if value < 0 else "+") + text
