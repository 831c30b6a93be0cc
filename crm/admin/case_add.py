"""Opret sag: a case the company brought by phone, by e-mail or from its municipality.

The form is guarded against a second post (a double click, a reload of the POST) by
``core.once.FormOnce``: the second post goes to the case the first one opened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext

from accounts.models import User
from core.once import FormOnce
from crm import services
from crm.models import CONSENT_VERSION, Case
from offers.models import Organisation

#: Names the "Opret sag" form among the forms guarded by ``core.once``.
ONCE_SCOPE = "crm:case-add"


def form_once(user: User, form: forms.Form) -> FormOnce:
    """The claim on this post of the (valid) form."""
    return FormOnce(scope=ONCE_SCOPE, user_id=user.pk, nonce=form.cleaned_data["nonce"])


def sent_before(request: HttpRequest, sent: Any) -> HttpResponse:
    """Where a second post of the form goes instead of opening a second case.

    To the case the first post opened or, while that one is still being saved, back to the list.
    """
    if isinstance(sent, int):
        messages.info(request, gettext("Sagen var allerede oprettet."))
        return HttpResponseRedirect(reverse("admin:crm_case_change", args=[sent]))
    messages.info(request, gettext("Sagen er ved at blive oprettet. Find den i listen."))
    return HttpResponseRedirect(reverse("admin:crm_case_changelist"))


def case_register_from(form: forms.Form, *, actor: User, hub: Organisation) -> Case:
    """Open the case the valid form describes, at ``hub``; ``CrmError`` when it is refused."""
    data = form.cleaned_data
    return with_one_retry(
        lambda: services.case_register(
            actor=actor,
            hub=hub,
            source=data["source"],
            cvr=data["cvr"],
            company_name=data["company_name"],
            municipality=data["municipality"],
            industry=data["industry"] or None,
            employees=data["employees"],
            contact_name=data["contact_name"],
            contact_email=data["contact_email"],
            contact_phone=data["contact_phone"],
            consent_version=CONSENT_VERSION,
            needs=data["needs"],
            themes=data["themes"],
            assign_to_actor=data["assign_to_me"],
        )
    )


def with_one_retry(register: Callable[[], Case]) -> Case:
    """Run ``register``; once more if a concurrent request created the same new company first
    (the unique CVR), when the second run finds that company."""
    try:
        return register()
    except IntegrityError:
        pass
    try:
        return register()
    except IntegrityError as error:
        # PostgreSQL's message quotes the key (a contact's e-mail); the log gets the constraint.
        raise services.integrity_error_scrubbed(error) from None


def registered_message(case: Case, actor: User) -> str:
    return (
        gettext("Sag %(reference)s er oprettet, og du har taget den.")
        if case.adviser_id == actor.pk
        else gettext("Sag %(reference)s er oprettet.")
    ) % {"reference": case.reference}


def error_summary(form: forms.Form) -> list[tuple[str | None, str]]:
    """Each error of the form with the id of its field, so the summary can link to the field."""
    summary: list[tuple[str | None, str]] = []
    for name, errors in form.errors.items():
        field_id = (form[name].id_for_label or form[name].auto_id) if name in form.fields else None
        summary.extend((field_id, str(message)) for message in errors)
    return summary
