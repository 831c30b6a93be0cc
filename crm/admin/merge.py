"""Merge two companies that are the same business: choose them in the company list (the action
"Slå sammen"), see the preview of what moves and what is kept from which record, confirm.

The work is ``services.company_merge``; who may is ``services.may_merge`` (a superuser, or an
adviser of the hub that owns both). Anyone else gets a 404 for a company they cannot edit and a
403 for a pair they may not merge, on the preview and on a crafted POST alike.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.parsing import parse_int
from crm import services
from crm.models import Company

#: What the preview counts on each record, with its Danish label.
COUNTED = (
    ("contacts", _("Kontaktpersoner")),
    ("cases", _("Sager")),
    ("timeline", _("Hændelser i forløbet")),
    ("referrals", _("Henvisninger")),
    ("survey_answers", _("Svar på spørgeskema")),
    ("feedback", _("Tilbagemeldinger")),
)


def merge_url(kept: int, duplicate: int) -> str:
    return reverse("admin:crm_company_merge") + f"?kept={kept}&duplicate={duplicate}"


def _company(request: HttpRequest, value: str | None) -> Company:
    pk = parse_int(value or "", max_digits=12)
    company = (
        Company.objects.editable_by(request.user).select_related("municipality").filter(pk=pk)
        if pk is not None
        else Company.objects.none()
    ).first()
    if company is None:
        raise Http404
    return company


def merge_view(request: HttpRequest, *, admin_context: dict[str, Any]) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    kept = _company(request, source.get("kept"))
    duplicate = _company(request, source.get("duplicate"))
    if not services.may_merge(request.user, kept, duplicate):
        raise PermissionDenied
    plan = services.company_merge_plan(kept=kept, duplicate=duplicate)
    if request.method == "POST" and not plan.error:
        name = duplicate.name
        try:
            merged = services.company_merge(kept=kept, duplicate=duplicate, actor=request.user)
        except services.CrmError as error:
            plan.error = error.message
        else:
            LogEntry.objects.log_actions(
                user_id=int(request.user.pk or 0),
                queryset=[merged],
                action_flag=CHANGE,
                change_message=f"Merged company #{duplicate.pk} into #{merged.pk}",
                single_object=True,
            )
            messages.success(
                request,
                gettext("%(duplicate)s er slået sammen med %(kept)s.")
                % {"duplicate": name, "kept": merged.name},
            )
            return HttpResponseRedirect(reverse("admin:crm_company_change", args=[merged.pk]))
    for fact in plan.facts:
        choices = dict(getattr(Company._meta.get_field(fact.name), "choices", None) or ())
        for side in ("kept", "duplicate", "result"):
            value = getattr(fact, side)
            setattr(fact, f"{side}_shown", choices.get(value, value))
    rows = [
        {
            "label": label,
            "kept": plan.counts["kept"][key],
            "duplicate": plan.counts["duplicate"][key],
            "total": plan.counts["kept"][key]
            + plan.counts["duplicate"][key]
            - (len(plan.joined_contacts) if key == "contacts" else 0),
        }
        for key, label in COUNTED
    ]
    context = {
        **admin_context,
        "title": gettext("Slå virksomheder sammen"),
        "plan": plan,
        "rows": rows,
        "swap_url": merge_url(duplicate.pk, kept.pk),
    }
    return TemplateResponse(request, "admin/crm/company/merge.html", context)
