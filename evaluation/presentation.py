"""How effects are written for people: labels, units and Danish number formats."""

from __future__ import annotations

import math
from typing import Final

from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
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
        text = _("%(amount)s kr.") % {"amount": text}
    else:
        text = number_format(value, 1, use_l10n=True, force_grouping=True)
    return _with_sign(value, text) if signed else text.replace("-", "−")


def supported_step(low: float | None, high: float | None, indicator: str) -> float:
    """The rounding the data supports: two significant digits of the interval's half-width.

    An interval of ±1.9 million kroner makes "1.233.004" false precision; rounded to 100.000 it
    says what the data knows. Never finer than the usual display (0.1 FTE, 1.000 kr.).
    """
    finest = 1000.0 if is_amount(indicator) else 0.1
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return finest
    half = (high - low) / 2
    if half <= 0:
        return finest
    return max(finest, 10.0 ** (math.floor(math.log10(half)) - 1))


def format_supported(value: float | None, indicator: str, step: float) -> str:
    """``value`` rounded to ``step`` (from supported_step), signed, with its unit."""
    if value is None or not math.isfinite(value):
        return "–"
    rounded = round(value / step) * step
    decimals = max(0, -math.floor(math.log10(step)))
    text = number_format(round(rounded, decimals), decimals, use_l10n=True, force_grouping=True)
    if is_amount(indicator):
        text = _("%(amount)s kr.") % {"amount": text}
    return _with_sign(rounded, text)


def format_extra(value: float | None, indicator: str) -> str:
    """Effect × participants: whole FTE jobs, or millions of kroner."""
    if value is None or not math.isfinite(value):
        return "–"
    if is_amount(indicator):
        millions = number_format(value / _MILLION, 1, use_l10n=True, force_grouping=True)
        return _with_sign(value, _("%(amount)s mio. kr.") % {"amount": millions})
    return _with_sign(value, number_format(round(value), 0, use_l10n=True, force_grouping=True))


def format_interval(low: float | None, high: float | None, indicator: str) -> str:
    if low is None or high is None:
        return "–"
    # Whole phrases to gettext: words inside an f-string never reach the translators.
    return _("%(low)s til %(high)s") % {
        "low": format_effect(low, indicator),
        "high": format_effect(high, indicator),
    }


def format_smd(value: float | None) -> str:
    if value is None:
        return "–"
    return _with_sign(value, number_format(value, 2, use_l10n=True))


def _with_sign(value: float, text: str) -> str:
    """A typographic minus, and a plus so "+1,5" reads as a gain; what rounds to 0 has none.

    The sign goes in front of the whole text: in English the unit comes first ("DKK -150,000"),
    so the number's own minus is taken out wherever it is.
    """
    text = text.replace("-", "", 1)
    if not any(character in "123456789" for character in text):
        return text
    return ("−" if value < 0 else "+") + text


# One plain sentence per measured result, for a reader who does not read intervals. The amount is
# the size of the effect without its sign; "more" or "less" says the direction.
_SENTENCES: Final[dict[str, tuple[Promise, Promise]]] = {
    "employment": (
        _(
            "Virksomheder, der brugte %(name)s, havde to år efter i gennemsnit %(amount)s flere "
            "fuldtidsansatte end lignende virksomheder."
        ),
        _(
            "Virksomheder, der brugte %(name)s, havde to år efter i gennemsnit %(amount)s færre "
            "fuldtidsansatte end lignende virksomheder."
        ),
    ),
    "revenue": (
        _(
            "Virksomheder, der brugte %(name)s, omsatte to år efter i gennemsnit for %(amount)s "
            "mere end lignende virksomheder."
        ),
        _(
            "Virksomheder, der brugte %(name)s, omsatte to år efter i gennemsnit for %(amount)s "
            "mindre end lignende virksomheder."
        ),
    ),
    "value_added": (
        _(
            "Virksomheder, der brugte %(name)s, skabte to år efter i gennemsnit %(amount)s mere "
            "i værditilvækst end lignende virksomheder."
        ),
        _(
            "Virksomheder, der brugte %(name)s, skabte to år efter i gennemsnit %(amount)s mindre "
            "i værditilvækst end lignende virksomheder."
        ),
    ),
    "export": (
        _(
            "Virksomheder, der brugte %(name)s, eksporterede to år efter i gennemsnit for "
            "%(amount)s mere end lignende virksomheder."
        ),
        _(
            "Virksomheder, der brugte %(name)s, eksporterede to år efter i gennemsnit for "
            "%(amount)s mindre end lignende virksomheder."
        ),
    ),
    "productivity": (
        _(
            "Virksomheder, der brugte %(name)s, skabte to år efter i gennemsnit %(amount)s mere "
            "i værditilvækst pr. fuldtidsansat end lignende virksomheder."
        ),
        _(
            "Virksomheder, der brugte %(name)s, skabte to år efter i gennemsnit %(amount)s mindre "
            "i værditilvækst pr. fuldtidsansat end lignende virksomheder."
        ),
    ),
}
assert set(_SENTENCES) == set(INDICATORS)


def plain_sentence(
    name: str,
    estimate: float | None,
    ci_low: float | None,
    ci_high: float | None,
    indicator: str,
    *,
    name_lang: str = "",
) -> str:
    """The measured effect in one sentence, and whether chance could explain it.

    With ``name_lang`` the sentence is HTML, safe to show, with the name marked as written in
    that language (an offer's Danish title inside an English sentence).
    """
    if estimate is None or not math.isfinite(estimate):
        return ""
    more, less = _SENTENCES[indicator]
    template = more if estimate >= 0 else less
    # Rounded as in the tables beside it (supported_step); the size only, "more"/"less" says the
    # direction.
    step = supported_step(ci_low, ci_high, indicator)
    amount = format_supported(abs(estimate), indicator, step).lstrip("+")
    uncertain = ci_low is not None and ci_high is not None and ci_low <= 0 <= ci_high
    tail = " " + str(_("Forskellen er så usikker, at den kan skyldes tilfældigheder."))
    if name_lang:
        html: SafeString = mark_safe(  # noqa: S308 - every part is escaped here
            conditional_escape(str(template))
            % {
                "name": format_html('<span lang="{}">{}</span>', name_lang, name),
                "amount": conditional_escape(amount),
            }
        )
        return html + conditional_escape(tail) if uncertain else html
    sentence = str(template) % {"name": name, "amount": amount}
    if uncertain:
        sentence += tail
    return sentence
