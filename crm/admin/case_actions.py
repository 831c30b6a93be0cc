"""The quick forms of the case page: each handler calls one service and says what it did.

A handler takes the request, the (editable) case and the validated form, returns the message
shown to the adviser and written to the audit log, and lets a ``CrmError`` through to the form.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.http import Http404, HttpRequest
from django.utils.translation import gettext

from accounts.requests import acting_user
from crm import services
from crm.models import Case, Referral
from crm.services import CrmError

Action = Callable[[HttpRequest, Case, forms.Form], str]


def take(request: HttpRequest, case: Case, form: forms.Form) -> str:
    user = acting_user(request)
    services.case_assign(case=case, adviser=user, actor=user)
    return gettext("Du har taget sagen.")


def assign(request: HttpRequest, case: Case, form: forms.Form) -> str:
    adviser = form.cleaned_data["adviser"]
    services.case_assign(case=case, adviser=adviser, actor=acting_user(request))
    return gettext("Sagen er tildelt %(name)s.") % {
        "name": adviser.get_full_name() or adviser.username
    }


def note(request: HttpRequest, case: Case, form: forms.Form) -> str:
    entry = services.case_note_add(
        case=case,
        kind=form.cleaned_data["kind"],
        text=form.cleaned_data["text"],
        actor=acting_user(request),
    )
    return gettext("%(kind)s er tilføjet.") % {"kind": entry.get_kind_display()}


def transition(request: HttpRequest, case: Case, form: forms.Form) -> str:
    case = services.case_transition(
        case=case,
        status=form.cleaned_data["status"],
        actor=acting_user(request),
    )
    return gettext("Status er nu %(status)s.") % {"status": case.get_status_display()}


def refer(request: HttpRequest, case: Case, form: forms.Form) -> str:
    referral = services.referral_create(
        case=case,
        offer=form.cleaned_data.get("offer"),
        operator=form.cleaned_data.get("operator"),
        note=form.cleaned_data.get("note", ""),
        share_contact=bool(form.cleaned_data.get("share_contact")),
        actor=acting_user(request),
    )
    return gettext("Virksomheden er henvist til %(target)s.") % {"target": referral.target_label}


def transfer(request: HttpRequest, case: Case, form: forms.Form) -> str:
    hub = form.cleaned_data["hub"]
    services.case_transfer(
        case=case,
        hub=hub,
        reason=form.cleaned_data["reason"],
        actor=acting_user(request),
    )
    return gettext("Sagen er overdraget til %(hub)s.") % {"hub": hub.name}


def close(request: HttpRequest, case: Case, form: forms.Form) -> str:
    case = services.case_close(
        case=case,
        outcome=form.cleaned_data["outcome"],
        outcome_text=form.cleaned_data.get("outcome_text", ""),
        actor=acting_user(request),
    )
    return gettext("Sagen er lukket: %(outcome)s.") % {"outcome": case.get_outcome_display()}


def reopen(request: HttpRequest, case: Case, form: forms.Form) -> str:
    services.case_reopen(case=case, reason=form.cleaned_data["reason"], actor=acting_user(request))
    return gettext("Sagen er genåbnet.")


#: The quick forms by the name in their URL (``…/handling/<name>/``) and form prefix.
ACTIONS: dict[str, Action] = {
    "take": take,
    "assign": assign,
    "note": note,
    "transition": transition,
    "refer": refer,
    "transfer": transfer,
    "close": close,
    "reopen": reopen,
}


def referral_act(request: HttpRequest, referral: Referral, action: str, form: forms.Form) -> str:
    """Accept, complete or decline a referral (``…/henvisning/<id>/<action>/``); the message."""
    if action == "accept":
        services.referral_accept(referral=referral, actor=acting_user(request))
        return gettext("Henvisningen er accepteret.")
    if action not in ("complete", "decline"):
        raise Http404
    if not form.is_valid():
        raise CrmError(gettext("Skriv, hvordan henvisningen endte."), field="outcome")
    finish = services.referral_complete if action == "complete" else services.referral_decline
    finish(referral=referral, outcome=form.cleaned_data["outcome"], actor=acting_user(request))
    return (
        gettext("Henvisningen er gennemført.")
        if action == "complete"
        else gettext("Henvisningen er afvist.")
    )
