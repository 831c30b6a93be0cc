"""The person's data (GDPR): what the portal holds about them (art. 15), erasure on request
(art. 17) and anonymisation of contacts once the retention period after their last case has run
out.

``PERSONAL_DATA`` is the inventory: every model that holds data about a person outside the
portal's staff, which of its fields, how a person's rows are found, and what access and erasure
do with them. ``person_export`` and ``person_erase`` cover each entry, the CRM's own directly and
the apps above the CRM (routing, governance) through the handlers they register in
``AppConfig.ready`` with ``personal_data_register`` (the CRM cannot import them). A model with a
name, e-mail or phone field that holds no such data is listed in ``NOT_PERSONAL`` with the reason;
``tests/crm/test_privacy_inventory.py`` fails when a model is in neither.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from core.masking import mask_person
from crm.models import (
    Case,
    Company,
    Contact,
    ErasureRecord,
    Feedback,
    Notification,
    Referral,
    SurveyAnswer,
    TimelineEntry,
)
from crm.services.common import CrmError, _timeline
from offers.models import Offer

if TYPE_CHECKING:
    from accounts.models import User


ANONYMISED_NAME = "Anonymiseret kontaktperson"
#: The name left on a company that had none but the person's own (registered without a CVR).
ANONYMISED_COMPANY_NAME = "Anonymiseret iværksætter"


@dataclass(frozen=True)
class PersonalData:
    """One place personal data lives: the model (``app_label.Model``), its fields, how the
    person's rows are found, and what access (``person_export``) and erasure do with them."""

    model: str
    fields: tuple[str, ...]
    found_by: str
    export: str
    erasure: str
    #: Covered by a handler the owning app registers (an app above the CRM), not by this module.
    registered: bool = False


#: Every place the portal keeps data about a person who is not one of its users.
PERSONAL_DATA: list[PersonalData] = [
    PersonalData(
        "crm.Contact",
        ("name", "email", "phone", "role", "consent_at", "consent_version"),
        "the e-mail address, at every company",
        "contacts",
        "anonymised: the name replaced, e-mail, phone and role blanked",
    ),
    PersonalData(
        "crm.Company",
        ("name",),
        "the contact's company; without a CVR it is named after the person",
        "contacts[].company",
        "a company without CVR named after the person is renamed",
    ),
    PersonalData(
        "crm.Case",
        ("needs", "outcome_text"),
        "the contact's cases",
        "contacts[].cases",
        "the person's name, any e-mail address and phone number masked in the free text",
    ),
    PersonalData(
        "crm.TimelineEntry",
        ("text", "payload"),
        "the contact's cases (the payload keeps the details a request gave)",
        "contacts[].cases[].timeline",
        "masked in the text and every string of the payload, the names a request gave too",
    ),
    PersonalData(
        "crm.Referral",
        ("note", "outcome"),
        "the contact's cases",
        "contacts[].cases[].referrals",
        "masked",
    ),
    PersonalData(
        "crm.Feedback",
        ("comment",),
        "the contact's cases",
        "contacts[].cases[].feedback",
        "masked",
    ),
    PersonalData(
        "crm.SurveyAnswer",
        ("contacted", "usefulness", "result", "additionality"),
        "the contact's cases (answers are categories, no free text, no address)",
        "contacts[].cases[].survey",
        "kept: categories that say nothing about the person once the contact is anonymised",
    ),
    PersonalData(
        "crm.Notification",
        ("recipient", "subject", "body", "headers"),
        "the recipient address, the contact's cases, and e-mails without a case that name the "
        "person (the hubs' overdue digests list an entrepreneur's company by their name)",
        "notifications",
        "sent to the person: unsent ones dropped, all blanked; about the person: masked",
    ),
    PersonalData(
        "crm.ErasureRecord",
        ("email_hash",),
        "the salted hash of the address",
        "erasures",
        "kept: the proof that the erasure was done, without the address",
    ),
    PersonalData(
        "admin.LogEntry",
        ("object_repr",),
        "entries about the person's contact and company (their name is the object's label)",
        "admin_log",
        "the label replaced by the anonymised name",
    ),
    PersonalData(
        "offers.Offer",
        ("contact_email", "contact_phone"),
        "an offer's published contact address",
        "offers",
        "the contact address and phone blanked (the editors give the offer a new contact)",
    ),
    PersonalData(
        "offers.HistoricalOffer",
        ("contact_email", "contact_phone"),
        "the offers' change history (django-simple-history) with the address",
        "offers",
        "blanked in every historical version",
    ),
    PersonalData(
        "routing.GuidanceRequest",
        ("request_fingerprint", "matches"),
        "the contact's cases (the fingerprint is a hash of what the person submitted; the "
        "matches' reasons quote their words)",
        "guidance_requests",
        "the fingerprint and the matches blanked; the status link shows only the masked public "
        "timeline",
        registered=True,
    ),
    PersonalData(
        "routing.RepeatRequest",
        ("request_fingerprint", "matches", "token"),
        "the requests the contact sent to a company's existing case",
        "repeat_requests",
        "the fingerprint, the matches and the status link blanked",
        registered=True,
    ),
    PersonalData(
        "governance.SavedSearch",
        ("email", "query_string"),
        "the e-mail address",
        "saved_searches",
        "deleted, so no digest goes out again; their e-mails in the outbox are blanked",
        registered=True,
    ),
    PersonalData(
        "governance.DigestDelivery",
        ("saved_search", "notification"),
        "the person's saved searches",
        "saved_searches[].deliveries",
        "deleted with the saved search",
        registered=True,
    ),
    PersonalData(
        "governance.PageFeedback",
        ("comment",),
        "comments that name the person (anonymous; addresses and phones are masked on entry)",
        "page_feedback",
        "the person's name masked",
        registered=True,
    ),
]

#: Models with a name, e-mail or phone field that hold no data about a person outside the staff.
NOT_PERSONAL: dict[str, str] = {
    "accounts.User": "the portal's own staff; their accounts are managed by the administrators",
    "auth.Group": "role names",
    "auth.Permission": "permission names",
    "axes.AccessAttempt": "staff login attempts, kept for the lockout only",
    "axes.AccessFailureLog": "staff login failures, kept for the lockout only",
    "axes.AccessLog": "staff logins",
    "offers.Region": "place names",
    "offers.Municipality": "place names",
    "offers.StrengthPosition": "names of business strongholds",
    "offers.Theme": "theme names",
    "offers.Organisation": "organisations and their functional mailboxes",
    "portal.Heartbeat": "names of background processes",
    "partners.Partner": "organisations that embed the portal",
    "partners.ApiKey": "names of a partner's API keys (what a key is for)",
    "crm.CvrRegisterEntry": (
        "a copy of the CVR register's open data on companies, replaced whole by each load: what "
        "the register itself publishes (a sole trader's name included), corrected or erased at "
        "the source and gone here with the next load"
    ),
}


@dataclass(frozen=True)
class Person:
    """Who a request for access or erasure is about: the address and the names they go by."""

    email: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class PersonalDataHandler:
    key: str
    export: Callable[[Person], list[dict[str, Any]]]
    erase: Callable[[Person], int]


_HANDLERS: dict[str, PersonalDataHandler] = {}


def personal_data_register(
    model: str,
    *,
    key: str,
    export: Callable[[Person], list[dict[str, Any]]],
    erase: Callable[[Person], int],
) -> None:
    """An app above the CRM covers one ``PERSONAL_DATA`` entry (``registered=True``) of its own:
    ``export`` lists what it holds about the person (under ``key``), ``erase`` removes it in the
    erasure's transaction and returns how many rows it changed."""
    if not any(entry.model == model and entry.registered for entry in PERSONAL_DATA):
        raise ValueError(f"{model} is not a registered entry of crm.services.privacy.PERSONAL_DATA")
    _HANDLERS[model] = PersonalDataHandler(key=key, export=export, erase=erase)


def personal_data_handlers() -> dict[str, PersonalDataHandler]:
    return dict(_HANDLERS)


def email_hash(email: str) -> str:
    """A salted hash of an address: proves an erasure later without keeping the address."""
    return salted_hmac("crm.erasure", email.strip().lower(), algorithm="sha256").hexdigest()


def _scrub(email: str) -> int:
    unsent = Notification.objects.filter(
        recipient__iexact=email,
        status__in=[Notification.Status.PENDING, Notification.Status.SENDING],
    ).update(status=Notification.Status.FAILED, last_error="persondata slettet")
    scrubbed = Notification.objects.filter(recipient__iexact=email).update(
        recipient="", subject="[slettet]", body="[slettet]", headers={}
    )
    return max(unsent, scrubbed)


def _contact_anonymise(contact: Contact, *, action: str, actor: User | None) -> int:
    email = contact.email
    _mask_case_texts(contact)
    _admin_log_relabel(Contact, contact.pk, ANONYMISED_NAME)
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
    # Their cases, and the cases a repeat request of theirs was attached to (crm.services.repeats).
    attached = TimelineEntry.objects.filter(
        action="crm.case.repeat_request", payload__contact=contact.pk
    ).values("case_id")
    cases = list(Case.objects.select_for_update().filter(Q(contact=contact) | Q(pk__in=attached)))
    names = _names_of(contact, cases)

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
    # E-mails about several cases (a hub's overdue digest) have no case, but name the company,
    # which for someone without a CVR is the person.
    for notification in _caseless_mails_naming(names).only("pk", "subject", "body"):
        subject, body = masked(notification.subject), masked(notification.body)
        if (subject, body) != (notification.subject, notification.body):
            Notification.objects.filter(pk=notification.pk).update(subject=subject, body=body)
    company = contact.company
    if not company.cvr and company.name.casefold() in {name.casefold() for name in names}:
        company.name = ANONYMISED_COMPANY_NAME
        company.save(update_fields=["name"])
        _admin_log_relabel(Company, company.pk, str(company))


def _names_of(contact: Contact, cases: list[Case]) -> list[str]:
    """The contact's name and any other name a request of theirs gave (``submitted_contact``)."""
    names = [contact.name]
    given_by_them = Q(action="crm.case.created") | Q(
        action="crm.case.repeat_request", payload__contact=contact.pk
    )
    for payload in TimelineEntry.objects.filter(given_by_them, case__in=cases).values_list(
        "payload", flat=True
    ):
        given = payload.get("submitted_contact") if isinstance(payload, dict) else None
        if isinstance(given, dict) and isinstance(given.get("name"), str) and given["name"]:
            names.append(given["name"])
    return [name for name in dict.fromkeys(names) if name.strip()]


def _caseless_mails_naming(names: list[str]) -> QuerySet[Notification]:
    mentions = Q()
    for name in names:
        if len(name.strip()) >= 3:
            mentions |= Q(body__icontains=name.strip()) | Q(subject__icontains=name.strip())
    if not mentions:
        return Notification.objects.none()
    return Notification.objects.filter(mentions, case__isnull=True)


def _admin_log_relabel(model: type[Contact] | type[Company], pk: int, label: str) -> int:
    """The admin's log keeps each object's label as it was (a contact's label is their name)."""
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_id=str(pk)
    ).update(object_repr=label[:200])


def _offers_forget(email: str) -> int:
    """An address published as an offer's contact goes, from the offer and from its history."""
    history = Offer.history.model.objects.filter(contact_email__iexact=email).update(
        contact_email="", contact_phone=""
    )
    current = Offer.objects.filter(contact_email__iexact=email).update(
        contact_email="", contact_phone=""
    )
    return int(history) + current


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

    Covers every entry of ``PERSONAL_DATA``. The cases, their outcomes and statistics stay; the
    person's name, e-mail and phone go, and so do the e-mails the portal sent them, their saved
    searches (no more digests) and the labels the admin's log keeps.
    """
    email = (email or "").strip()
    if not email or "@" not in email:
        raise CrmError(_("Angiv en gyldig e-mailadresse."), field="email")
    contacts = list(
        Contact.objects.select_for_update().filter(anonymised_at__isnull=True).with_email(email)
    )
    person = Person(email=email, names=tuple(dict.fromkeys(c.name for c in contacts)))
    # The apps above the CRM first: they find the person's rows through the cases, before the
    # contacts are anonymised.
    for handler in _HANDLERS.values():
        handler.erase(person)
    notifications = _scrub(email)
    cases = 0
    for contact in contacts:
        cases += _contact_anonymise(contact, action="crm.contact.erased", actor=None)
    _offers_forget(email)
    return ErasureRecord.objects.create(
        email_hash=email_hash(email),
        reason=ErasureRecord.Reason.REQUEST,
        contacts=len(contacts),
        cases=cases,
        notifications=notifications,
        erased_by=erased_by[:150],
    )


def person_export(*, email: str) -> dict[str, Any]:
    """Everything the portal holds about the person with this address (GDPR art. 15): every
    entry of ``PERSONAL_DATA``, under the key its ``export`` names."""
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
            answer = SurveyAnswer.objects.filter(case=case).first()
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
                            "data": entry.payload,
                            "public": entry.is_public,
                        }
                        for entry in sorted(case.timeline.all(), key=lambda e: (e.at, e.pk))
                    ],
                    "referrals": [
                        {
                            "to": referral.target_label,
                            "status": referral.status,
                            "note": referral.note,
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
                    "survey": (
                        {
                            "contacted": answer.contacted,
                            "usefulness": answer.usefulness,
                            "result": answer.result,
                            "additionality": answer.additionality,
                            "answered_at": answer.answered_at.isoformat(),
                        }
                        if answer
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
    contact_ids = [str(contact.pk) for contact in contacts]
    result["admin_log"] = [
        {
            "at": entry.action_time.isoformat(),
            "object": entry.object_repr,
            "change": entry.get_change_message(),
        }
        for entry in LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Contact), object_id__in=contact_ids
        ).order_by("action_time", "pk")
    ]
    result["erasures"] = [
        {"at": record.erased_at.isoformat(), "reason": record.reason}
        for record in ErasureRecord.objects.filter(email_hash=email_hash(email)).order_by("pk")
    ]
    result["offers"] = [
        {"offer": offer.external_id, "title": offer.title, "contact_phone": offer.contact_phone}
        for offer in Offer.objects.filter(contact_email__iexact=email.strip()).order_by("pk")
    ]
    person = Person(email=email.strip(), names=tuple(dict.fromkeys(c.name for c in contacts)))
    for handler in _HANDLERS.values():
        result[handler.key] = handler.export(person)
    return result
