"""Public effects pages and the analyst's view of runs and diagnostics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.parsing import parse_int
from evaluation import disclosure
from evaluation.charts import ForestPlot, PlotInput, forest_plot
from evaluation.estimators import COVARIATES, INDICATORS
from evaluation.models import EffectEstimate, EffectRollup, EffectRun, EffectRunOffer
from evaluation.presentation import (
    COVARIATE_LABELS,
    EXTRA_LABELS,
    INDICATOR_LABELS,
    INDICATOR_UNITS,
    NO_DATA,
    TOO_FEW,
    format_effect,
    format_extra,
    format_smd,
    format_supported,
    plain_sentence,
    supported_step,
)
from evaluation.querysets import may_analyse
from offers.models import Level, Offer, Theme

OFFERS_PER_PAGE = 25
PUBLIC_OFFER_STATUSES = (Offer.Status.PUBLISHED, Offer.Status.ARCHIVED)


@dataclass(frozen=True, slots=True)
class EffectLine:
    """One row of an effects table, formatted, with where its name links to."""

    label: str
    url: str
    unit: str
    status: str
    effect: str
    interval: str
    participants: int | None  # None: not shown (below the threshold, or no figure)
    controls: int | None
    extra: str
    naive: str
    note: str
    sentence: str = ""
    label_lang: str = ""  # "da" when the label is an offer's Danish title

    @property
    def measured(self) -> bool:
        return self.status == "ok"


def _line(
    item: EffectEstimate | EffectRollup,
    label: str,
    url: str = "",
    *,
    sentence: bool = False,
    label_lang: str = "",
) -> EffectLine:
    indicator = item.indicator
    step = supported_step(item.ci_low, item.ci_high, indicator)
    counts = disclosure.public_counts(
        item.status, item.n_treated, item.n_control, min_treated=settings.EFFECT_MIN_TREATED
    )
    if item.status == "ok":
        note = ""
    elif item.status == "too_few":
        note = str(TOO_FEW)
    else:
        note = str(NO_DATA)
    return EffectLine(
        label=label,
        url=url,
        unit=str(INDICATOR_UNITS[indicator]),
        status=item.status,
        # Rounded to what the interval supports, as on the growth agreements' pages: a few dozen
        # companies do not know a revenue effect to the thousand kroner.
        effect=format_supported(item.estimate, indicator, step),
        interval=(
            _("%(low)s til %(high)s")
            % {
                "low": format_supported(item.ci_low, indicator, step),
                "high": format_supported(item.ci_high, indicator, step),
            }
            if item.ci_low is not None and item.ci_high is not None
            else "–"
        ),
        participants=counts["n_treated"],
        controls=counts["n_control"],
        extra=format_extra(item.extra, indicator) if indicator in EXTRA_LABELS else "",
        naive=format_effect(item.naive_estimate, indicator),
        note=note,
        sentence=(
            plain_sentence(
                label, item.estimate, item.ci_low, item.ci_high, indicator, name_lang=label_lang
            )
            if sentence and item.status == "ok"
            else ""
        ),
        label_lang=label_lang,
    )


def _plot(
    chart_id: str,
    title: str,
    indicator: str,
    items: Sequence[tuple[str, EffectEstimate | EffectRollup]],
) -> ForestPlot:
    return forest_plot(
        chart_id=chart_id,
        title=title,
        indicator=indicator,
        rows=[
            PlotInput(
                label=label,
                status=item.status,
                estimate=item.estimate,
                ci_low=item.ci_low,
                ci_high=item.ci_high,
                note=str(TOO_FEW).lower() if item.status == "too_few" else str(NO_DATA).lower(),
            )
            for label, item in items
        ],
    )


def _section(
    key: str,
    heading: str,
    intro: str,
    first_heading: str,
    caption: str,
    indicator: str,
    items: Sequence[tuple[str, EffectEstimate | EffectRollup, str]],
    page: Page[EffectEstimate] | None = None,
) -> dict[str, Any]:
    """One part of /effekter/ (levels, themes or offers): its chart and its table.

    Offers come with a plain sentence each; those without a measured effect are listed apart, so
    the table and the chart hold only what was measured.
    """
    offers = page is not None
    # Offers are named by their Danish titles, levels and themes in the reader's language.
    lang = "da" if offers else ""
    lines = [_line(item, name, url, sentence=offers, label_lang=lang) for name, item, url in items]
    measured = [(n, i) for n, i, _u in items if not offers or i.status == "ok"]
    return {
        "key": key,
        "heading": heading,
        "intro": intro,
        "first_heading": first_heading,
        "caption": caption,
        "label_lang": lang,
        "lines": [line for line in lines if not offers or line.measured],
        "unmeasured": [line for line in lines if offers and not line.measured],
        "chart": _plot(f"chart-{key}", heading, indicator, measured),
        # Only the offers are compared with the naive estimate; only they run over pages.
        "show_naive": page is not None,
        "page": page,
    }


def _offer_url(offer: Offer, indicator: str) -> str:
    """The offer's effects page, keeping the indicator the reader chose."""
    url = f"/effekter/{offer.external_id}/"
    return url if indicator == "employment" else f"{url}?indikator={indicator}"


def _indicator(request: HttpRequest) -> str:
    value = request.GET.get("indikator", "employment")
    return value if value in INDICATORS else "employment"


def _indicator_order() -> Case:
    return Case(
        *[When(indicator=name, then=Value(i)) for i, name in enumerate(INDICATORS)],
        output_field=IntegerField(),
    )


def _common(indicator: str) -> dict[str, Any]:
    return {
        "indicator": indicator,
        "indicator_label": INDICATOR_LABELS[indicator],
        "indicator_unit": INDICATOR_UNITS[indicator],
        "extra_label": EXTRA_LABELS.get(indicator),
        "indicator_choices": [(name, INDICATOR_LABELS[name]) for name in INDICATORS],
        "min_treated": settings.EFFECT_MIN_TREATED,
    }


@require_GET
def effects(request: HttpRequest) -> HttpResponse:
    """/effekter/: effects per level, theme and offer for one indicator, with the method."""
    indicator = _indicator(request)
    rollups = list(
        EffectRollup.objects.published()
        .filter(indicator=indicator, dimension__in=["level", "theme"])
        .select_related("run")
        .order_by("dimension", "label")
    )
    level_order = {value: i for i, value in enumerate(Level.values)}
    levels = sorted(
        (r for r in rollups if r.dimension == "level"), key=lambda r: level_order.get(r.key, 9)
    )
    level_labels = dict(Level.choices)
    themes = [r for r in rollups if r.dimension == "theme"]
    offers_page = Paginator(
        EffectEstimate.objects.published()
        .pooled()
        .filter(indicator=indicator, offer__status__in=PUBLIC_OFFER_STATUSES)
        .select_related("offer", "run")
        # Largest measured effect first; a withheld estimate must not order anything (it would
        # tell what it is), so only published figures sort, and the rest follow by title.
        .order_by(
            Case(When(status="ok", then=F("estimate"))).desc(nulls_last=True),
            "offer__title",
            "offer__pk",
        ),
        OFFERS_PER_PAGE,
    ).get_page(request.GET.get("side"))
    offer_items = [(item.offer.title, item) for item in offers_page]
    level_items = [(str(level_labels.get(r.key, r.label)), r) for r in levels]
    # The run stored the Danish theme name; the page speaks the reader's language.
    english: dict[str, str] = {}
    if themes and get_language() == "en":
        english = dict(Theme.objects.exclude(name_en="").values_list("slug", "name_en"))
    theme_items = [(english.get(r.key, r.label), r) for r in themes]
    latest = max((r.run.finished_at for r in rollups if r.run.finished_at), default=None)
    label = INDICATOR_LABELS[indicator]
    sections = [
        _section(
            "levels",
            _("%(indicator)s efter niveau") % {"indicator": label},
            _("Stat, regioner og kommuner: alle deres målte tilbud lagt sammen."),
            _("Niveau"),
            _("%(indicator)s: effekt pr. deltager efter niveau") % {"indicator": label},
            indicator,
            [(name, r, "") for name, r in level_items],
        ),
        _section(
            "themes",
            _("%(indicator)s efter tema") % {"indicator": label},
            _("Et tilbud med flere temaer tæller med under hvert af dem."),
            _("Tema"),
            _("%(indicator)s: effekt pr. deltager efter tema") % {"indicator": label},
            indicator,
            [(name, r, "") for name, r in theme_items],
        ),
        _section(
            "offers",
            _("%(indicator)s efter tilbud") % {"indicator": label},
            _("Vælg et tilbud for at se effekten på alle indikatorer og for hvert år."),
            _("Tilbud"),
            _("%(indicator)s: effekt pr. deltager efter tilbud") % {"indicator": label},
            indicator,
            [(title, item, _offer_url(item.offer, indicator)) for title, item in offer_items],
            page=offers_page,
        ),
    ]
    context = {
        **_common(indicator),
        "latest": latest,
        "has_results": bool(rollups or offer_items),
        "sections": [section for section in sections if section["lines"] or section["unmeasured"]],
    }
    return render(request, "evaluation/effects.html", context)


@require_GET
def offer_effects(request: HttpRequest, external_id: str) -> HttpResponse:
    """/effekter/<external_id>/: one offer's effect on every indicator, and per year."""
    offer = (
        Offer.objects.filter(external_id=external_id, status__in=PUBLIC_OFFER_STATUSES)
        .select_related("operator")
        .first()
    )
    if offer is None:
        raise Http404(_("Tilbuddet findes ikke."))
    indicator = _indicator(request)
    estimates = list(
        EffectEstimate.objects.published()
        .for_offer(offer)
        .select_related("run")
        .order_by("cohort_year", _indicator_order())
    )
    pooled = [e for e in estimates if e.cohort_year is None]
    cohorts = [e for e in estimates if e.cohort_year is not None and e.indicator == indicator]
    chosen = next((e for e in pooled if e.indicator == indicator), None)
    rows: list[tuple[str, EffectEstimate]] = [
        (_("Deltog i %(year)s") % {"year": e.cohort_year}, e) for e in cohorts
    ]
    if chosen is not None:
        rows.append((_("Alle år samlet"), chosen))
    context = {
        **_common(indicator),
        "offer": offer,
        "measured": bool(pooled),
        "reason": pooled[0].reason if pooled and all(p.status != "ok" for p in pooled) else "",
        "summary": [_line(e, str(INDICATOR_LABELS[e.indicator])) for e in pooled],
        "cohorts": [_line(e, label) for label, e in rows],
        "cohorts_chart": _plot(
            "chart-cohorts",
            _("%(indicator)s efter deltagelsesår") % {"indicator": INDICATOR_LABELS[indicator]},
            indicator,
            rows,
        ),
        "run": pooled[0].run if pooled else None,
    }
    return render(request, "evaluation/offer_detail.html", context)


# --- analysts -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Diagnostics:
    """One offer of a run for analysts; every count is None (shown "færre end k") below k."""

    item: EffectRunOffer
    employment: EffectEstimate | None
    balance: list[tuple[str, str, str, bool]]
    participants: int | None
    with_panel: int | None
    in_measurement: int | None
    controls: int | None
    unmatched: int | None


def _diagnostics(
    items: Page[EffectRunOffer], estimates: dict[int, EffectEstimate]
) -> list[Diagnostics]:
    result = []
    for item in items:
        estimate = estimates.get(item.offer_id)
        balance = []
        for covariate in COVARIATES:
            smd = (estimate.balance or {}).get(covariate, {}) if estimate else {}
            after = smd.get("after")
            balance.append(
                (
                    str(COVARIATE_LABELS[covariate]),
                    format_smd(smd.get("before")),
                    format_smd(after),
                    after is not None and abs(after) > 0.1,
                )
            )
        minimum = settings.EFFECT_MIN_TREATED
        counts = (
            disclosure.public_counts(
                estimate.status, estimate.n_treated, estimate.n_control, min_treated=minimum
            )
            if estimate
            else None
        )
        result.append(
            Diagnostics(
                item=item,
                employment=estimate,
                balance=balance,
                participants=disclosure.shown_count(item.participants, min_treated=minimum),
                with_panel=disclosure.shown_count(
                    item.participants_with_panel, min_treated=minimum
                ),
                in_measurement=counts["n_treated"] if counts else None,
                controls=counts["n_control"] if counts else None,
                # Analysts see it when it is not a small group; the public never does.
                unmatched=disclosure.shown_count(
                    estimate.n_unmatched if estimate and estimate.status == "ok" else None,
                    min_treated=minimum,
                ),
            )
        )
    return result


@login_required
@require_GET
def analysis(request: HttpRequest) -> HttpResponse:
    """/analyse/effekter/: runs with parameters, progress and timings; diagnostics per offer."""
    if not may_analyse(request.user):
        raise PermissionDenied
    visible = EffectRun.objects.visible_to(request.user)
    runs = list(visible[:20])
    selected = runs[0] if runs else None
    run_id = request.GET.get("run", "")
    wanted = parse_int(run_id)
    if wanted is not None:
        selected = (
            next((r for r in runs if r.pk == wanted), None) or visible.filter(pk=wanted).first()
        )
    page = None
    rows: list[Diagnostics] = []
    if selected is not None:
        items: QuerySet[EffectRunOffer] = (
            EffectRunOffer.objects.filter(run=selected)
            .select_related("offer")
            .order_by("offer__title", "offer_id")
        )
        page = Paginator(items, OFFERS_PER_PAGE).get_page(request.GET.get("side"))
        estimates = {
            e.offer_id: e
            for e in EffectEstimate.objects.filter(
                run=selected,
                cohort_year__isnull=True,
                indicator="employment",
                offer_id__in=[item.offer_id for item in page],
            )
        }
        rows = _diagnostics(page, estimates)
    context = {
        "runs": runs,
        "selected": selected,
        "page": page,
        "rows": rows,
        "covariates": [COVARIATE_LABELS[c] for c in COVARIATES],
        "min_treated": settings.EFFECT_MIN_TREATED,
    }
    return render(request, "evaluation/analysis.html", context)
