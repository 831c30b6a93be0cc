"""The company's answer to the survey after its case was closed."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from crm.models import Case, Notification, SurveyAnswer, TimelineEntry
from crm.notifications import notification_queue
from crm.services.common import CrmError, _admin_url, _lock, _timeline


def survey_answer_summary(answer: SurveyAnswer) -> str:
    """The answer in one line of Danish, as the adviser and the hub read it."""
    with override("da"):
        return _(
            "Kontaktet: %(contacted)s. Udbytte: %(usefulness)s af 5. Resultat: %(result)s. "
            "Ville have gjort det uden hjælpen: %(additionality)s."
        ) % {
            "contacted": _("ja") if answer.contacted else _("nej"),
            "usefulness": answer.usefulness,
            "result": answer.get_result_display(),
            "additionality": answer.get_additionality_display(),
        }


@transaction.atomic
def survey_answer_submit(
    *, case: Case, contacted: bool, usefulness: int, result: str, additionality: str
) -> SurveyAnswer:
    """Store the company's answer, once, and pass it on to the adviser (or the hub)."""
    case = _lock(case)
    if case.is_open:
        raise CrmError(_("Sagen er ikke lukket endnu."))
    if SurveyAnswer.objects.filter(case=case).exists():
        raise CrmError(_("Der er allerede svaret på spørgeskemaet for denne sag."))
    if not isinstance(usefulness, int) or not 1 <= usefulness <= 5:
        raise CrmError(_("Vælg et tal fra 1 til 5."), field="usefulness")
    if result not in SurveyAnswer.Result.values:
        raise CrmError(_("Vælg, hvad der kom ud af det."), field="result")
    if additionality not in SurveyAnswer.Additionality.values:
        raise CrmError(_("Vælg et svar."), field="additionality")
    try:
        with transaction.atomic():
            answer = SurveyAnswer.objects.create(
                case=case,
                contacted=bool(contacted),
                usefulness=usefulness,
                result=result,
                additionality=additionality,
                answered_at=timezone.now(),
            )
    except IntegrityError:
        raise CrmError(_("Der er allerede svaret på spørgeskemaet for denne sag.")) from None
    summary = survey_answer_summary(answer)
    _timeline(
        case,
        kind=TimelineEntry.Kind.SURVEY,
        action="crm.survey.answered",
        actor=None,
        text=summary,
        payload={
            "contacted": answer.contacted,
            "usefulness": answer.usefulness,
            "result": answer.result,
            "additionality": answer.additionality,
        },
        at=answer.answered_at,
    )
    adviser = case.adviser
    to_adviser = bool(adviser is not None and adviser.is_active and adviser.email)
    notification_queue(
        kind=Notification.Kind.SURVEY_ANSWERED,
        recipient=adviser.email if to_adviser and adviser is not None else case.hub.inbox_email,
        template="survey_answered",
        context={
            "case": case,
            "summary": summary,
            "url": _admin_url(case),
            "site_url": settings.SITE_URL,
        },
        case=case,
    )
    return answer
