"""The person's data (GDPR): what the CRM holds about them (art. 15), erasure on request (art. 17)
and anonymisation of contacts once the retention period after their last case has run out."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from core.masking import mask_person
from crm.models import Case, Contact, ErasureRecord, Feedback, Notification, Referral, TimelineEntry
from crm.services.common import CrmError, _timeline

if TYPE_CHECKING:
    from accounts.models import User


ANONYMISED_NAME = "Anonymiseret kontaktperson"
#: The name left on a company that had none but the person's own (registered without a CVR).
ANONYMISED_COMPANY_NAME = "Anonymiseret iværksætter"


def email_hash(email: str) -> str:
    """A salted hash of an address: proves an erasure later without keeping the address."""
    return salted_hmac("crm.erasure", email.strip().lower(), algorithm="sha256").hexdigest()


def _scrub(email: str) -> int:
    unsent = Notification.objects.filter(
        recipient__iexact=email,
        status__in=[Notification.Status.PENDING, Notification.Status.SENDING],
    ).update(status=Notification.Status.FAILED, last_error="persondata slettet")
    scrubbed = Notification.objects.filter(recipient__iexact=email).update(
        recipient="", subject="[slettet]", body="[slettet]"
    )
    return max(unsent, scrubbed)


def _contact_anonymise(contact: Contact, *, action: str, actor: User | None) -> int:
    email = contact.email
    _mask_case_texts(contact)
    contact.name = ANONYMISED_NAME
    contact.email = ""
    contact.phone = ""
    contact.role = ""
    contact.anonymised_at = timezone.now()
    contact.save(update_fields=["name", "email", "phone", "role", "anonymised_at"])
    cases = list(Case.objects.filter(contact=contact))
    for case in cases:
        _timeline(
            case,
            kind=TimelineEntry.Kind.PRIVACY,
            action=action,
            actor=actor,
            text=str(_("Kontaktpersonens oplysninger er anonymiseret.")),
            payload={"contact": contact.pk},
        )
    _scrub(email)
    return len(cases)


def _mask_case_texts(contact: Contact) -> None:
    """Mask the person in the free text of their cases: their name, e-mail address and phone
    number, and any other e-mail address or phone number (``core.masking``). Needs, notes (and
    the copies in the timeline's data), referrals, outcomes, feedback and the e-mails sent about
    the cases keep what they say about the business; a company registered under the person's own
    name (no CVR: not started yet) loses that name too."""
    names = [contact.name]

    def masked(text: str) -> str:
        return mask_person(text, names=names) if text else text

    def masked_data(value: Any) -> Any:
        if isinstance(value, str):
            return masked(value)
        if isinstance(value, list):
            return [masked_data(item) for item in value]
        if isinstance(value, dict):
            return {key: masked_data(item) for key, item in value.items()}
        return value

    cases = list(Case.objects.select_for_update().filter(contact=contact))
    for case in cases:
        needs, outcome_text = masked(case.needs), masked(case.outcome_text)
        if (needs, outcome_text) != (case.needs, case.outcome_text):
            case.needs, case.outcome_text = needs, outcome_text
            case.save(update_fields=["needs", "outcome_text"])
    entries = TimelineEntry.objects.select_for_update().filter(case__in=cases)
    for entry in entries.only("pk", "text", "payload"):
        text, payload = masked(entry.text), masked_data(entry.payload)
        if (text, payload) != (entry.text, entry.payload):
            TimelineEntry.objects.filter(pk=entry.pk).update(text=text, payload=payload)
    for referral in Referral.objects.select_for_update().filter(case__in=cases):
        note, outcome = masked(referral.note), masked(referral.outcome)
        if (note, outcome) != (referral.note, referral.outcome):
            Referral.objects.filter(pk=referral.pk).update(note=note, outcome=outcome)
    for feedback in Feedback.objects.filter(case__in=cases).exclude(comment=""):
        comment = masked(feedback.comment)
        if comment != feedback.comment:
            Feedback.objects.filter(pk=feedback.pk).update(comment=comment)
    for notification in Notification.objects.filter(case__in=cases).only("pk", "subject", "body"):
        subject, body = masked(notification.subject), masked(notification.body)
        if (subject, body) != (notification.subject, notification.body):
            Notification.objects.filter(pk=notification.pk).update(subject=subject, body=body)
    company = contact.company
    if not company.cvr and company.name.casefold() == contact.name.casefold():
        company.name = ANONYMISED_COMPANY_NAME
        company.save(update_fields=["name"])


def contact_cutoff(now: dt.datetime) -> dt.datetime:
    return now - relativedelta(months=settings.CONTACT_RETENTION_MONTHS)


def contacts_anonymise_expired(*, now: dt.datetime, batch: int = 500) -> int:
    """Anonymise contacts whose every case closed before the retention period; cases remain."""
    cutoff = contact_cutoff(now)
    kept = Case.objects.filter(contact_id=OuterRef("pk")).filter(
        ~Q(status=Case.Status.CLOSED) | Q(closed_at__gte=cutoff)
    )
    expired = (
        Contact.objects.filter(anonymised_at__isnull=True)
        .filter(Exists(Case.objects.filter(contact_id=OuterRef("pk"))))
        .exclude(Exists(kept))
    )
    done = 0
    while True:
        ids = list(expired.order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return done
        for contact_id in ids:
            with transaction.atomic():
                contact = Contact.objects.select_for_update().get(pk=contact_id)
                if contact.anonymised_at is not None:
                    continue
                hashed = email_hash(contact.email) if contact.email else ""
                cases = _contact_anonymise(contact, action="crm.contact.anonymised", actor=None)
                ErasureRecord.objects.create(
                    email_hash=hashed,
                    reason=ErasureRecord.Reason.RETENTION,
                    contacts=1,
                    cases=cases,
                    erased_by="contacts_retention",
                )
                done += 1


@transaction.atomic
def person_erase(*, email: str, erased_by: str) -> ErasureRecord:
    """Anonymise every contact with this address, at every company, and record that it was done.

    The cases, their outcomes and statistics stay; the person's name, e-mail and phone go, and so
    do the e-mails the portal sent them.
    """
    email = (email or "").strip()
    if not email or "@" not in email:
        raise CrmError(_("Angiv en gyldig e-mailadresse."), field="email")
    contacts = list(
        Contact.objects.select_for_update().filter(anonymised_at__isnull=True).with_email(email)
    )
    notifications = _scrub(email)
    cases = 0
    for contact in contacts:
        cases += _contact_anonymise(contact, action="crm.contact.erased", actor=None)
    return ErasureRecord.objects.create(
        email_hash=email_hash(email),
        reason=ErasureRecord.Reason.REQUEST,
        contacts=len(contacts),
        cases=cases,
        notifications=notifications,
        erased_by=erased_by[:150],
    )


def person_export(*, email: str) -> dict[str, Any]:
    """Everything the CRM holds about the person with this e-mail address (GDPR art. 15)."""
    contacts = list(
        Contact.objects.with_email(email).select_related("company").order_by("created_at", "pk")
    )
    result: dict[str, Any] = {"email": email.strip(), "contacts": []}
    for contact in contacts:
        cases = []
        for case in (
            Case.objects.filter(contact=contact)
            .select_related("hub", "adviser")
            .prefetch_related("themes", "timeline", "referrals__offer", "referrals__operator")
            .order_by("created_at", "pk")
        ):
            feedback = Feedback.objects.filter(case=case).first()
            cases.append(
                {
                    "reference": case.reference,
                    "hub": case.hub.name,
                    "status": case.status,
                    "source": case.source,
                    "needs": case.needs,
                    "themes": [theme.slug for theme in case.themes.all()],
                    "created_at": case.created_at.isoformat(),
                    "first_response_due": case.first_response_due.isoformat(),
                    "closed_at": case.closed_at.isoformat() if case.closed_at else None,
                    "outcome": case.outcome,
                    "outcome_text": case.outcome_text,
                    "timeline": [
                        {
                            "at": entry.at.isoformat(),
                            "action": entry.action,
                            "text": entry.text,
                            "public": entry.is_public,
                        }
                        for entry in sorted(case.timeline.all(), key=lambda e: (e.at, e.pk))
                    ],
                    "referrals": [
                        {
                            "to": referral.target_label,
                            "status": referral.status,
                            "outcome": referral.outcome,
                        }
                        for referral in case.referrals.all()
                    ],
                    "feedback": (
                        {
                            "rating": feedback.rating,
                            "comment": feedback.comment,
                            "created_at": feedback.created_at.isoformat(),
                        }
                        if feedback
                        else None
                    ),
                }
            )
        result["contacts"].append(
            {
                "name": contact.name,
                "email": contact.email,
                "phone": contact.phone,
                "role": contact.role,
                "company": {"name": contact.company.name, "cvr": contact.company.cvr},
                "consent_at": contact.consent_at.isoformat() if contact.consent_at else None,
                "consent_version": contact.consent_version,
                "created_at": contact.created_at.isoformat(),
                "cases": cases,
            }
        )
    result["notifications"] = [
        {
            "sent_at": n.sent_at.isoformat() if n.sent_at else None,
            "subject": n.subject,
            "body": n.body,
            "status": n.status,
        }
        for n in Notification.objects.filter(recipient__iexact=email.strip()).order_by("pk")
    ]
    return result
