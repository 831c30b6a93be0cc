"""The case page: the case, its timeline and referrals, and the quick forms an adviser uses."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from crm.admin.display import deadline_badge
from crm.forms import (
    AssignForm,
    CloseForm,
    NoteForm,
    ReferralForm,
    ReferralOutcomeForm,
    ReopenForm,
    TakeForm,
    TransferForm,
    TransitionForm,
)
from crm.models import Case, Referral, TimelineEntry
from crm.permissions import may_take, sees_contact_of, sees_texts_of
from crm.suggestions import suggestions_worded


def case_forms(request: HttpRequest, case: Case, bound: str | None) -> dict[str, Any]:
    """The quick forms by name; the one named ``bound`` holds the posted data."""

    def data(name: str) -> Any:
        return request.POST if bound == name else None

    offers_url = reverse("admin:crm_case_offers", args=[case.pk])
    return {
        "take": TakeForm(data("take"), prefix="take"),
        # Until the company has been answered, the next activity is most often the call.
        "note": NoteForm(
            data("note"),
            prefix="note",
            initial={"kind": TimelineEntry.Kind.CALL} if case.first_responded_at is None else None,
        ),
        "transition": TransitionForm(data("transition"), prefix="transition", case=case),
        "refer": ReferralForm(data("refer"), prefix="refer", autocomplete_url=offers_url),
        "assign": AssignForm(data("assign"), prefix="assign", case=case),
        "transfer": TransferForm(data("transfer"), prefix="transfer", case=case),
        "close": CloseForm(data("close"), prefix="close", case=case),
        "reopen": ReopenForm(data("reopen"), prefix="reopen"),
    }


def case_page_context(
    user: Any,
    case: Case,
    forms_by_name: dict[str, Any],
    *,
    editable: bool,
    failed: str | None,
) -> dict[str, Any]:
    """What the case page shows of ``case`` to ``user`` (the admin adds its own context)."""
    referrals = list(case.referrals.select_related("offer", "operator", "created_by"))
    for referral in referrals:
        key = f"referral-{referral.pk}"
        if key not in forms_by_name:
            forms_by_name[key] = ReferralOutcomeForm(prefix=key)
        referral.outcome_form = forms_by_name[key]  # type: ignore[attr-defined]
    timeline = list(case.timeline.select_related("actor")[:200])
    sees_contact = sees_contact_of(user, case)
    return {
        "title": f"{case.reference} · {case.company.name}",
        "subtitle": None,
        "case": case,
        "today": timezone.localdate(),
        "deadline": deadline_badge(case, timezone.localdate()),
        "editable": editable and case.is_open,
        "reopenable": editable and not case.is_open,
        "read_only_reason": None if editable else case.hub.name,
        "sees_contact": sees_contact,
        "submitted_contact": submitted_contact(case, timeline) if sees_contact else None,
        "contact_url": reverse("admin:crm_contact_change", args=[case.contact_id]),
        "sees_texts": sees_texts_of(user, case),
        "timeline": timeline,
        "referrals": referrals,
        "matches": suggestions_worded(
            list(case.case_offers.select_related("offer__operator")[:10])
        ),
        # A suggestion already referred to (and not declined) gets no second "refer" button.
        "referred_offer_ids": {
            r.offer_id for r in referrals if r.offer_id and r.status != Referral.Status.DECLINED
        },
        # After a referral the next step is usually closing: its form is open, outcome preset.
        "close_ready": any(r.status != Referral.Status.DECLINED for r in referrals),
        "forms": forms_by_name,
        "failed": failed,
        "failed_errors": error_messages(forms_by_name, failed),
        "takeable": may_take(user, case),
        "history_url": reverse("admin:crm_case_history", args=[case.pk]),
        "company_url": reverse("admin:crm_company_change", args=[case.company_id]),
    }


def submitted_contact(case: Case, timeline: list[TimelineEntry]) -> dict[str, str] | None:
    """The contact details given with the request when they differ from the stored contact's.

    A request never changes a known person (``contact_find_or_create``); the adviser sees what
    was given here and confirms a change on the contact's page (``contact_update``).
    """
    if case.contact.is_anonymised:
        return None
    for entry in timeline:
        if not isinstance(entry.payload, dict):
            continue
        # A repeat request by the case's own contact says what they gave this time.
        repeat = entry.action == "crm.case.repeat_request"
        if entry.action == "crm.case.created" or (
            repeat and entry.payload.get("contact") == case.contact_id
        ):
            given = entry.payload.get("submitted_contact")
            if isinstance(given, dict) and (
                given.get("name") != case.contact.name
                or given.get("phone") not in ("", None, case.contact.phone)
            ):
                return {key: str(given.get(key) or "") for key in ("name", "email", "phone")}
    return None


def error_messages(forms_by_name: dict[str, Any], failed: str | None) -> list[str]:
    """Every error of the form that failed, for the summary at the top of the page."""
    if failed is None:
        return []
    found = [
        form for name, form in forms_by_name.items() if name == failed or name.startswith(failed)
    ]
    return [str(message) for form in found for errors in form.errors.values() for message in errors]
