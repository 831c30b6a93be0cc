"""/analyse/: the index of the analysis pages, each with what it answers and who may open it.

Each page keeps its own access rule; the index lists only the pages the signed-in user may open,
so it never links to a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from evaluation.querysets import may_analyse
from governance.access import can_analyse
from governance.referral_report import may_read_referral_report
from offers.hub_terms import HUB_TERM
from offers.report_views import may_read_reports
from routing.views import can_read_statistics


@dataclass(frozen=True, slots=True)
class AnalysisPage:
    url_name: str
    title: Promise
    answers: Promise
    may_open: Callable[[Any], bool]


PAGES: tuple[AnalysisPage, ...] = (
    AnalysisPage(
        "routing:statistics",
        _("Henvendelser og svartider"),
        _(
            "Hvor mange virksomheder bad om vejledning, om hvad, hvorfra, og hvor hurtigt "
            "%(hubs)s svarede, måned for måned."
        ),
        can_read_statistics,
    ),
    AnalysisPage(
        "governance:service_standards_report",
        _("Servicestandarder"),
        _("Om %(hubs)s holder deres løfter om svartid og tilfredshed, pr. %(hub)s."),
        can_analyse,
    ),
    AnalysisPage(
        "governance:referral_report",
        _("Henvisninger, der ikke lykkes"),
        _(
            "Pr. operatør og tema: henvisninger, afvisninger med årsag og henvisninger uden svar. "
            "%(Hubs)s ser deres egne, ministeriet alle."
        ),
        may_read_referral_report,
    ),
    AnalysisPage(
        "offers:division_of_labour",
        _("Arbejdsdelingen"),
        _(
            "Tilbud på et andet niveau end temaets ansvarlige, overlap mellem tilbud og "
            "regionale begrænsninger."
        ),
        may_read_reports,
    ),
    AnalysisPage(
        "governance:development_report",
        _("Færre, men stærkere aktører"),
        _("Måned for måned: åbne tilbud, de operatører, der driver dem, og tilbud med overlap."),
        lambda user: can_analyse(user, editors=True),
    ),
    AnalysisPage(
        "evaluation:analysis",
        _("Effektberegninger"),
        _("Kørsler af effektmålingen med parametre, forløb og diagnostik pr. tilbud."),
        may_analyse,
    ),
    AnalysisPage(
        "governance:usage_report",
        _("Brug af portalen"),
        _("Sidevisninger og søgninger uden resultater, uden cookies og IP-adresser."),
        lambda user: can_analyse(user, editors=True),
    ),
    AnalysisPage(
        "governance:feedback_report",
        _("Tilbagemeldinger på sider"),
        _("Svar på „Fandt du det, du ledte efter?“ pr. side, med kommentarer."),
        can_analyse,
    ),
)


def pages_for(user: Any) -> list[dict[str, Any]]:
    # The hubs' generic name is data (settings.HUB_TERM), filled in where the text names it.
    terms = {"hub": HUB_TERM.one, "hubs": HUB_TERM.the_many, "Hubs": capfirst(HUB_TERM.the_many)}
    return [
        {"url": reverse(page.url_name), "title": page.title, "answers": str(page.answers) % terms}
        for page in PAGES
        if page.may_open(user)
    ]


@require_GET
@login_required
def analysis_index(request: HttpRequest) -> HttpResponse:
    pages = pages_for(request.user)
    return render(
        request,
        "governance/analyse/index.html",
        {"pages": pages},
        status=200 if pages else 403,
    )
