"""Reasons for a match, worded in the page's language (Danish or English, through gettext).

``routing.matching`` gives each match structured reasons (a code and its values); a request stores
them as ``explanation`` next to the Danish ``reasons`` it has always stored (the stable API field).
Pages word the stored ``explanation`` in the visitor's language; a request stored before
``explanation`` existed shows its Danish ``reasons`` as they are.

Words the company wrote are quoted as written, and an offer's own text (its result or summary) is
Danish: on an English page it is marked ``lang="da"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext, pgettext

from offers.models import Industry, Theme
from routing.matching import Reason, ReasonCode
from routing.vocabulary_store import latest_vocabulary


def _english() -> bool:
    return (get_language() or "da").startswith("en")


def _size_label(size: str) -> str:
    return {
        "micro": gettext("under 10 ansatte"),
        "small": gettext("10–49 ansatte"),
        "medium": gettext("50–249 ansatte"),
        "large": gettext("250 eller flere ansatte"),
    }.get(size, size)


def _phase_reason(phase: str) -> str:
    return {
        "idea": gettext("For virksomheder i idéfasen"),
        "startup": gettext("For virksomheder i opstartsfasen"),
        "growth": gettext("For virksomheder i vækst"),
        "established": gettext("For etablerede virksomheder"),
    }.get(phase, "")


def _join(items: Sequence[str]) -> str:
    """Join as prose: "a", "a og b", "a, b og c" ("and" in English)."""
    if len(items) <= 1:
        return "".join(items)
    # Translators: joins the last two items of a list, "eksport og messer".
    and_word = pgettext("list", "og")
    return f"{', '.join(items[:-1])} {and_word} {items[-1]}"


def _quoted(words: Iterable[str]) -> str:
    # Translators: how a word the company wrote is quoted; in English “%(word)s”.
    return _join([pgettext("quoted word", "»%(word)s«") % {"word": word} for word in words])


def theme_names() -> dict[str, tuple[str, str]]:
    """Theme slug → (Danish name, English name), as reasons word them."""
    return {
        slug: (name.lower(), (name_en or name).lower())
        for slug, name, name_en in Theme.objects.values_list("slug", "name", "name_en")
    }


def reason_text(
    reason: Reason, *, themes: Mapping[str, tuple[str, str]] | None = None, html: bool = False
) -> str:
    """One reason in the active language. With ``html``, Danish offer text on an English page is
    wrapped in ``<span lang="da">`` (the result is then safe HTML)."""
    english = _english()
    vocabulary = latest_vocabulary()
    values = reason.values
    code = reason.code
    if code == ReasonCode.ORIGIN:
        return gettext("Det tilbud, du spurgte om")
    if code == ReasonCode.NEED_WORDS:
        return gettext("Svarer på det, du skriver: %(words)s") % {"words": _quoted(values)}
    if code == ReasonCode.TOPICS:
        labels = [
            (concept.label_en if english else concept.label_da)
            for value in values
            if (concept := vocabulary.concepts.get(value)) is not None
        ]
        return gettext("Handler om %(topics)s") % {"topics": _join(labels)}
    if code == ReasonCode.THEMES:
        names = themes or {}
        labels = [names[v][1 if english else 0] if v in names else v for v in values]
        return gettext("Matcher dit behov: %(themes)s") % {"themes": _join(labels)}
    if code == ReasonCode.TEXT:
        return gettext("Matcher det, du skriver om dit behov")
    if code in (ReasonCode.RESULT, ReasonCode.SUMMARY):
        template = (
            gettext("Det får du ud af det: %(text)s")
            if code == ReasonCode.RESULT
            else gettext("Tilbuddet: %(text)s")
        )
        text = values[0] if values else ""
        if html and english:
            return format_html(
                template.replace("%(text)s", '<span lang="da">{}</span>'),
                text,
            )
        return template % {"text": text}
    if code == ReasonCode.INDUSTRY_GROUP:
        pair = vocabulary.group_labels.get(values[0] if values else "")
        group = (pair[1] if english else pair[0]) if pair else (values[0] if values else "")
        return gettext("Målrettet %(group)s") % {"group": group}
    if code == ReasonCode.INDUSTRY:
        section = values[0] if values else ""
        label = dict(Industry.choices).get(section, section)
        return gettext("Målrettet din branche: %(industry)s") % {"industry": str(label).lower()}
    if code in (ReasonCode.MUNICIPALITY, ReasonCode.REGION):
        if values and values[0]:
            return gettext("Tilbydes i %(place)s") % {"place": values[0]}
        if code == ReasonCode.MUNICIPALITY:
            return gettext("Tilbydes i din kommune")
        return gettext("Tilbydes i din region")
    if code == ReasonCode.NATIONWIDE:
        return gettext("Tilbydes i hele landet")
    if code == ReasonCode.SIZE:
        return gettext("For virksomheder med %(size)s") % {
            "size": _size_label(values[0] if values else "")
        }
    if code == ReasonCode.PHASE:
        return _phase_reason(values[0] if values else "")
    if code == ReasonCode.EFFECT:
        return _effect_reason(values)
    if code == ReasonCode.DE_MINIMIS:
        return _de_minimis_reason(values)
    return ""


def _number(value: float, digits: int = 1) -> str:
    """A number as the page's language writes it: "2,1" in Danish, "2.1" in English."""
    return number_format(round(value, digits), digits, use_l10n=True, force_grouping=True)


def _effect_reason(values: Sequence[str]) -> str:
    """The measured effect (``routing.effect_ranking``): who, how much, how sure, how many."""
    try:
        scope, size, section = values[0], values[1], values[2]
        estimate, low, high = (float(v) for v in values[3:6])
        count = int(values[6])
    except (IndexError, ValueError):
        return ""
    numbers = {
        "value": _number(abs(estimate)),
        "low": _number(low),
        "high": _number(high),
        "count": _number(count, 0),
    }
    if scope == "segment":
        industry = str(dict(Industry.choices).get(section, section)).lower()
        numbers["who"] = f"{_size_label(size)}, {industry}"
        if estimate >= 0:
            template = gettext(
                "Virksomheder som din (%(who)s), der brugte tilbuddet, havde to år efter i "
                "gennemsnit %(value)s flere årsværk end sammenlignelige virksomheder "
                "(95 %% sikkerhed: %(low)s–%(high)s; %(count)s virksomheder)."
            )
        else:
            template = gettext(
                "Virksomheder som din (%(who)s), der brugte tilbuddet, havde to år efter i "
                "gennemsnit %(value)s færre årsværk end sammenlignelige virksomheder "
                "(95 %% sikkerhed: %(low)s–%(high)s; %(count)s virksomheder)."
            )
    elif estimate >= 0:
        template = gettext(
            "Virksomheder, der brugte tilbuddet, havde to år efter i gennemsnit %(value)s flere "
            "årsværk end sammenlignelige virksomheder (95 %% sikkerhed: %(low)s–%(high)s; "
            "%(count)s virksomheder)."
        )
    else:
        template = gettext(
            "Virksomheder, der brugte tilbuddet, havde to år efter i gennemsnit %(value)s færre "
            "årsværk end sammenlignelige virksomheder (95 %% sikkerhed: %(low)s–%(high)s; "
            "%(count)s virksomheder)."
        )
    return template % numbers


def _de_minimis_reason(values: Sequence[str]) -> str:
    try:
        aid, headroom, ceiling = (float(v) for v in values[:3])
    except ValueError:
        return ""
    return gettext(
        "Tilbuddet er de minimis-støtte på %(aid)s kr., og din virksomhed har kun %(headroom)s kr. "
        "tilbage under loftet på %(ceiling)s euro over tre år"
    ) % {
        "aid": _number(aid, 0),
        "headroom": _number(max(headroom, 0.0), 0),
        "ceiling": _number(ceiling, 0),
    }


def reasons_text(
    reasons: Iterable[Reason], *, themes: Mapping[str, tuple[str, str]] | None = None
) -> list[str]:
    """The reasons as plain text in the active language (what a request stores, in Danish)."""
    return [text for reason in reasons if (text := reason_text(reason, themes=themes))]


def reasons_of(stored: Mapping[str, Any]) -> list[Reason] | None:
    """The structured reasons of a stored match, or None for one stored before they existed
    (or with a code this version does not know)."""
    explanation = stored.get("explanation")
    if not isinstance(explanation, list):
        return None
    reasons = []
    for item in explanation:
        try:
            reasons.append(
                Reason(ReasonCode(item["code"]), tuple(str(v) for v in item.get("values", ())))
            )
        except (KeyError, TypeError, ValueError):
            return None
    return reasons


def stored_reasons_html(
    matches: Iterable[Mapping[str, Any]], themes: Mapping[str, tuple[str, str]] | None = None
) -> list[list[str | SafeString]]:
    """Per stored match, its reasons worded in the active language (the stored Danish ones for a
    match stored before reasons were structured)."""
    worded: list[list[str | SafeString]] = []
    names = themes if themes is not None else theme_names()
    for stored in matches:
        reasons = reasons_of(stored)
        if reasons is None:
            worded.append(list(stored.get("reasons") or []))
            continue
        worded.append([text for r in reasons if (text := reason_text(r, themes=names, html=True))])
    return worded
