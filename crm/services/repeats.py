"""Repeat requests: a company that asks again while its case is open, or soon after it closed.

A new guidance request from a company (the same CVR; without a CVR, the same contact e-mail on a
company without CVR) that has a case at the same hub, open or closed at most
``REPEAT_REQUEST_DAYS`` calendar days ago, is attached to that case instead of opening a silent
second one (``case_repeat_find`` and ``case_repeat_attach``):

- the case gets an internal timeline entry with the new need and the new suggestions (the offers
  matched are added to the case's offers, the themes to its themes), and a public one;
- a closed case reopens (to "assigned" when it has an adviser, else "new") with the reason
  "ny henvendelse"; its first response stays what it was, as does the first-response date;
- the adviser is told by e-mail, or the hub's inbox when the case has none or the adviser is
  away (``Absence``).

When the hub differs (the request is routed to another Væksthus than the company's case), a new
case opens at the new hub as usual, and both cases are flagged as related: each gets an internal
timeline entry naming the other (``cases_related_flag``). Hubs do not take over each other's
cases by routing; the shared history shows both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import override
from stdnum.dk import cvr as cvr_number

from core.time import COPENHAGEN
from crm.models import Case, Company, Contact, Notification, TimelineEntry
from crm.outbox import notification_queue
from crm.services.absences import absence_of
from crm.services.common import _admin_url, _lock, _reopen, _suggest_offers, _timeline
from offers.models import Offer, Organisation, Theme

#: The reason a closed case reopens on a repeat request (timeline payload).
REOPEN_REASON = "ny henvendelse"


def _company_cases(*, cvr: str | None, email: str) -> Any:
    """The cases of the company a request comes from: by CVR, or without one by e-mail."""
    if cvr:
        compact = cvr_number.compact(cvr)
        if not cvr_number.is_valid(compact):
            return Case.objects.none()
        return Case.objects.filter(company__cvr=compact)
    email = (email or "").strip()
    if not email:
        return Case.objects.none()
    contacts = Contact.objects.with_email(email).filter(company__cvr__isnull=True)
    return Case.objects.filter(company__cvr__isnull=True, contact__in=contacts.values("pk"))


def _recent(cases: Any, *, now: dt.datetime) -> Any:
    since = now - dt.timedelta(days=settings.REPEAT_REQUEST_DAYS)
    return cases.filter(~Q(status=Case.Status.CLOSED) | Q(closed_at__gte=since))


def case_repeat_find(
    *, cvr: str | None, email: str, hub: Organisation, now: dt.datetime
) -> Case | None:
    """The case a new request from this company at ``hub`` belongs to: its open case there (the
    newest), else the one closed last within the window; None for a new case."""
    cases = _recent(_company_cases(cvr=cvr, email=email).filter(hub=hub), now=now)
    found = cases.exclude(status=Case.Status.CLOSED).order_by("-created_at", "-id").first()
    return found or cases.order_by("-closed_at", "-id").first()


def cases_related_elsewhere(
    *, cvr: str | None, email: str, hub: Organisation, now: dt.datetime
) -> list[Case]:
    """The company's open or recently closed cases at other hubs (a new case is flagged)."""
    cases = _company_cases(cvr=cvr, email=email).exclude(hub=hub)
    return list(_recent(cases, now=now).select_related("hub").order_by("-created_at", "-id")[:5])


# No savepoint of its own (two statements fewer per request): a caller inside a transaction must
# not catch an error from here and carry on in it; the error rolls back to the caller's nearest
# savepoint or its whole transaction (the guidance request's, retried whole).
@transaction.atomic(savepoint=False)
def case_repeat_attach(
    *,
    case: Case,
    contact: Contact,
    needs: str,
    themes: Iterable[Theme],
    offers: Iterable[Offer],
    payload: dict[str, Any],
    now: dt.datetime,
) -> Case:
    """Attach a repeat request to ``case`` (see the module): entries, reopening, the e-mail."""
    case = _lock(case)
    needs = (needs or "").strip()
    reopened = not case.is_open
    previous_outcome = case.outcome
    if reopened:
        _reopen(case)
    offers = list(offers)
    case.themes.add(*themes)
    _suggest_offers(case, offers, payload=payload)
    with override("da"):
        suggestions = ", ".join(offer.title for offer in offers) or "–"
        text = _("Ny henvendelse fra %(name)s:\n%(needs)s\n\nNye forslag: %(offers)s") % {
            "name": contact.name,
            "needs": needs,
            "offers": suggestions,
        }
        public = (
            _("Sagen er genåbnet: ny henvendelse.")
            if reopened
            else _("Vi har modtaget din nye henvendelse og lagt den på denne sag.")
        )
    _timeline(
        case,
        kind=TimelineEntry.Kind.CREATED,
        action="crm.case.repeat_request",
        actor=None,
        text=text,
        payload={**payload, "needs": needs, "contact": contact.pk, "reopened": reopened},
        at=now,
    )
    _timeline(
        case,
        kind=TimelineEntry.Kind.STATUS_CHANGE,
        action="crm.case.reopened" if reopened else "crm.case.repeat_request_received",
        actor=None,
        text=public,
        payload=(
            {"reason": REOPEN_REASON, "previous_outcome": previous_outcome, "to": case.status}
            if reopened
            else {}
        ),
        is_public=True,
        at=now,
    )
    adviser = case.adviser
    to_adviser = bool(
        adviser is not None
        and adviser.is_active
        and adviser.email
        and absence_of(adviser, now.astimezone(COPENHAGEN).date()) is None
    )
    notification_queue(
        kind=Notification.Kind.REPEAT_REQUEST,
        recipient=adviser.email if to_adviser and adviser is not None else case.hub.inbox_email,
        template="repeat_request",
        context={
            "case": case,
            "company": case.company,
            "contact": contact,
            "needs": needs,
            "offers": offers,
            "reopened": reopened,
            "url": _admin_url(case),
        },
        case=case,
    )
    return case


@transaction.atomic
def cases_related_flag(*, case: Case, related: Iterable[Case]) -> None:
    """Note on the new ``case`` and on each ``related`` case of the company at another hub that
    the other exists (internal entries: the adviser sees the shared history)."""
    for other in related:
        with override("da"):
            _timeline(
                case,
                kind=TimelineEntry.Kind.NOTE,
                action="crm.case.related",
                actor=None,
                text=_("Virksomheden har også sag %(reference)s hos %(hub)s.")
                % {"reference": other.reference, "hub": other.hub.name},
                payload={"related": other.pk},
            )
            _timeline(
                other,
                kind=TimelineEntry.Kind.NOTE,
                action="crm.case.related",
                actor=None,
                text=_("Virksomheden har sendt en ny henvendelse, sag %(reference)s hos %(hub)s.")
                % {"reference": case.reference, "hub": case.hub.name},
                payload={"related": case.pk},
            )


@transaction.atomic
def company_discard_unused(company: Company) -> bool:
    """Delete a company created for a request that went to an existing case instead, with its
    contacts, when nothing refers to it; whether it was deleted."""
    if Case.objects.filter(company=company).exists():
        return False
    Contact.objects.filter(company=company).delete()
    company.delete()
    return True
