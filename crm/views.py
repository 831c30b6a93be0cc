"""The company's survey after its case was closed: a public page behind a signed link.

Opening the link (GET) never records anything, since mail scanners open links too; the answer is
the POST. An altered or unknown link answers 404 and an expired one 410, each with a page that
says so in plain words.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.privatepage import private_page
from core.ratelimit import over_limit, ratelimited
from crm.forms import SurveyForm
from crm.models import Case, SurveyAnswer
from crm.services import CrmError, survey_answer_submit
from crm.survey import SurveyLinkExpired, SurveyLinkInvalid, survey_case_id
from offers.hub_terms import HUB_TERM

SURVEY_RATE = "20/h"


def _message(request: HttpRequest, *, title: str, text: str, status: int = 200) -> HttpResponse:
    return render(request, "crm/survey_message.html", {"title": title, "text": text}, status=status)


@private_page
@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, token: str) -> HttpResponse:
    """/tilfredshed/<token>/: four questions, answered once."""
    try:
        case_id = survey_case_id(token)
    except SurveyLinkExpired:
        return _message(
            request,
            title=_("Linket er udløbet"),
            text=_(
                "Linket til spørgeskemaet virker kun i %(days)s dage. Tak for din interesse – du "
                "kan stadig skrive til dit %(hub)s, hvis du vil fortælle os noget."
            )
            % {"days": settings.SURVEY_LINK_DAYS, "hub": HUB_TERM.one},
            status=410,
        )
    except SurveyLinkInvalid:
        return _message(
            request,
            title=_("Linket virker ikke"),
            text=_(
                "Vi kan ikke finde spørgeskemaet. Tjek, at du har fået hele linket med fra "
                "e-mailen."
            ),
            status=404,
        )
    case = Case.objects.select_related("hub").filter(pk=case_id).first()
    if case is None or case.is_open:
        return _message(
            request,
            title=_("Linket virker ikke"),
            text=_("Vi kan ikke finde spørgeskemaet."),
            status=404,
        )
    thanks = _message(
        request,
        title=_("Tak for dine svar"),
        text=_("Dine svar er sendt til %(hub)s. De hjælper os med at blive bedre.")
        % {"hub": case.hub.name},
    )
    if SurveyAnswer.objects.filter(case=case).exists():
        return thanks
    form = SurveyForm()
    if request.method == "POST":
        if over_limit(request, group="crm:survey", rate=SURVEY_RATE):
            return ratelimited(request)
        form = SurveyForm(request.POST)
        if form.is_valid():
            try:
                survey_answer_submit(case=case, **form.cleaned_data)
            except CrmError as error:
                field = error.field if error.field in form.fields else None
                form.add_error(field, error.message)
            else:
                return redirect("crm:survey", token=token)
    return render(request, "crm/survey.html", {"form": form, "case": case, "hub": case.hub})
