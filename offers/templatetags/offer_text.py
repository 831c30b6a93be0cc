"""Template filters for an offer's free text that the portal can say in the reader's language."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language, gettext, ngettext

from offers.durations import Duration, parse_duration

register = template.Library()


def _number(value: str) -> str:
    """A number as written in Danish ("1,5"), in the active language's notation."""
    return value if (get_language() or "da").startswith("da") else value.replace(",", ".")


def _unit(duration: Duration, span: str) -> str:
    count = round(duration.count) if duration.count >= 1 else 2  # "0,5 år" reads as plural
    words = {
        "hour": ngettext("%(span)s time", "%(span)s timer", count),
        "day": ngettext("%(span)s dag", "%(span)s dage", count),
        "working_day": ngettext("%(span)s arbejdsdag", "%(span)s arbejdsdage", count),
        "week": ngettext("%(span)s uge", "%(span)s uger", count),
        "month": ngettext("%(span)s måned", "%(span)s måneder", count),
        "year": ngettext("%(span)s år", "%(span)s år", count),
    }
    return words[duration.unit] % {"span": span}


def worded_duration(duration: Duration) -> str:
    """``duration`` in the active language: "3–4 months", "up to 40 days", "1–5 days per course"."""
    span = _number(duration.low)
    if duration.high:
        span = f"{span}–{_number(duration.high)}"
    text = _unit(duration, span)
    if duration.qualifier:
        qualified = {
            "up_to": gettext("op til %(duration)s"),
            "about": gettext("ca. %(duration)s"),
            "at_least": gettext("mindst %(duration)s"),
        }
        text = qualified[duration.qualifier] % {"duration": text}
    if duration.per:
        per = {
            "course": gettext("%(duration)s pr. kursus"),
            "programme": gettext("%(duration)s pr. forløb"),
            "meeting": gettext("%(duration)s pr. møde"),
            "project": gettext("%(duration)s pr. projekt"),
        }
        text = per[duration.per] % {"duration": text}
    return text


@register.filter
def duration_in_language(text: str) -> dict[str, str]:
    """``{"text": …, "lang": …}``: the duration in the page's language when the portal can read
    it, else as the editor wrote it with ``lang`` "da" (for a ``lang`` attribute)."""
    language = get_language() or "da"
    if language.startswith("da"):
        return {"text": text, "lang": ""}
    duration = parse_duration(text)
    if duration is None:
        return {"text": text, "lang": "da"}
    worded = worded_duration(duration)
    if text[:1].isupper():
        worded = worded[:1].upper() + worded[1:]
    return {"text": worded, "lang": ""}
