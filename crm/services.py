"""Every change to the CRM goes through one of these functions.

Each is keyword-only, runs in one transaction, writes the case's timeline entry in that same
transaction, and raises ``CrmError`` with a message that can be shown to the user as it is.
Notifications are written to the outbox (``crm.notifications``) in the same transaction and sent
after commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from core.masking import mask_person
from core.time import COPENHAGEN
from crm.models import (
    Case,
    CaseOffer,
    Company,
    Contact,
    ErasureRecord,
    Feedback,
    Notification,
    Referral,
    TimelineEntry,
    normalise_cvr,
    validate_cvr,
)
from crm.notifications import notification_queue
from crm.workdays import add_working_days
from offers.models import CompanySize, Industry, Municipality, Offer, Organisation, Theme

if TYPE_CHECKING:
    from accounts.models import User

ANONYMISED_NAME = "Anonymiseret kontaktperson"
#: The name left on a company that had none but the person's own (registered without a CVR).
ANONYMISED_COMPANY_NAME = "Anonymiseret iværksætter"


class CrmError(Exception):
    """A change the CRM refuses, with a Danish message safe to show; ``field`` names the input."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# Moves ``case_transition`` allows. Assignment and closing have their own services (they need an
# adviser and an outcome), so "assigned" and "closed" are reached only through those.
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    Case.Status.NEW: set(),
    Case.Status.ASSIGNED: {Case.Status.IN_PROGRESS, Case.Status.REFERRED},
    Case.Status.IN_PROGRESS: {Case.Status.REFERRED},
    Case.Status.REFERRED: {Case.Status.IN_PROGRESS},
    Case.Status.CLOSED: set(),
}


def _timeline(
    case: Case,
    *,
    kind: str,
    action: str,
    actor: User | None,
    text: str = "",
    payload: dict[str, Any] | None = None,
    is_public: bool = False,
    at: dt.datetime | None = None,
) -> TimelineEntry:
    return TimelineEntry.objects.create(
        case=case,
        kind=kind,
        action=action,
        actor=actor,
        text=text,
        payload=payload or {},
        is_public=is_public,
        at=at or timezone.now(),
    )


def _lock(case: Case) -> Case:
    """The case row, locked for this transaction, so concurrent changes queue up."""
    return (
        Case.objects.select_for_update().select_related("hub", "company", "contact").get(pk=case.pk)
    )


def _require_open(case: Case) -> None:
    if not case.is_open:
        raise CrmError(_("Sagen er lukket og kan ikke ændres."))


def _mark_first_response(case: Case, *, at: dt.datetime) -> list[str]:
    if case.first_responded_at is None:
        case.first_responded_at = at
        return ["first_responded_at"]
    return []


def _adviser_name(user: User) -> str:
    return user.get_full_name() or user.get_username()


def _admin_url(case: Case) -> str:
    return settings.SITE_URL + reverse("admin:crm_case_change", args=[case.pk])


# --- Companies and contacts -------------------------------------------------------------------


@transaction.atomic
def company_find_or_create(
    *,
    cvr: str | None,
    name: str,
    municipality: Municipality | None,
    industry: str | None,
    employees: int | None,
    industry_classification: str = "DB07",
) -> Company:
    """The company with this CVR, or a new one.

    An existing company keeps the facts it has: only blank facts are filled in from the request,
    because what is stored was either typed by an adviser or came from an earlier request, and a
    form filled in by a visitor must not overwrite what an adviser has checked. Without a CVR
    (someone who has not started a company yet) a new company is always created.
    """
    name = (name or "").strip()
    if not name:
        raise CrmError(_("Skriv virksomhedens navn."), field="company_name")
    if industry and industry not in Industry.values:
        raise CrmError(_("Ukendt branche."), field="industry")
    if employees is not None and employees < 0:
        raise CrmError(_("Antal ansatte kan ikke være negativt."), field="employees")
    size = CompanySize.for_employees(employees)
    if cvr:
        cvr = normalise_cvr(cvr)
        try:
            validate_cvr(cvr)
        except ValidationError as error:
            raise CrmError(error.messages[0], field="cvr") from None
        company = Company.objects.select_for_update().filter(cvr=cvr).first()
        if company is not None:
            changed: list[str] = []
            facts: dict[str, Any] = {
                "municipality": municipality,
                "industry": industry or "",
                "employees": employees,
                "size_class": size.value if size else "",
            }
            for field, value in facts.items():
                if value not in (None, "") and getattr(company, field) in (None, ""):
                    setattr(company, field, value)
                    changed.append(field)
            if changed:
                company.save(update_fields=[*changed, "updated_at"])
            return company
    return Company.objects.create(
        cvr=cvr or None,
        name=name,
        municipality=municipality,
        industry=industry or "",
        industry_classification=industry_classification,
        employees=employees,
        size_class=size.value if size else "",
    )


@transaction.atomic
def contact_find_or_create(
    *,
    company: Company,
    name: str,
    email: str,
    phone: str,
    consent_version: str,
    keep_details: bool = False,
) -> Contact:
    """The company's contact with this e-mail (any case), or a new one; consent is recorded now.

    An existing contact gets the name and phone given, unless ``keep_details``: an adviser who
    registers a case for a person known only to other hubs must not rewrite what they keep.
    """
    name, email, phone = (name or "").strip(), (email or "").strip(), (phone or "").strip()
    if not name:
        raise CrmError(_("Skriv kontaktpersonens navn."), field="contact_name")
    if not email:
        raise CrmError(_("Skriv en e-mailadresse."), field="contact_email")
    now = timezone.now()
    contact = (
        Contact.objects.select_for_update()
        .filter(company=company, anonymised_at__isnull=True)
        .with_email(email)
        .first()
    )
    if contact is None:
        return Contact.objects.create(
            company=company,
            name=name,
            email=email,
            phone=phone,
            consent_at=now,
            consent_version=consent_version,
        )
    if not keep_details:
        contact.name = name
        if phone:
            contact.phone = phone
    contact.consent_at = now
    contact.consent_version = consent_version
    contact.save(update_fields=["name", "phone", "consent_at", "consent_version"])
    return contact


# --- Cases ------------------------------------------------------------------------------------


def _next_reference(now: dt.datetime) -> str:
    # A sequence never hands out a number twice, even to concurrent transactions; a rolled-back
    # transaction leaves a gap, which is fine for a reference.
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('crm_case_reference_seq')")
        (number,) = cursor.fetchone()
    return f"EF-{now.astimezone(COPENHAGEN).year}-{number:06d}"


@transaction.atomic
def case_create(
    *,
    company: Company,
    contact: Contact,
    hub: Organisation,
    needs: str,
    themes: Iterable[Theme],
    source: Case.Source | str,
    actor: User | None = None,
    payload: dict[str, Any] | None = None,
    offers: Iterable[Offer] = (),
) -> Case:
    """Open a case for the hub, with its first timeline entry and the matched offers.

    ``payload`` is stored on the ``crm.case.created`` entry (matched offers, routing reason, ...);
    a ``payload["matches"]`` list of ``{"external_id", "score", "reasons"}`` gives each offer in
    ``offers`` its score and reasons.
    """
    needs = (needs or "").strip()
    if not needs:
        raise CrmError(_("Beskriv, hvad virksomheden har brug for hjælp til."), field="needs")
    if hub.kind != Organisation.Kind.BUSINESS_HUB:
        raise CrmError(_("En sag kan kun ligge hos et Væksthus."), field="hub")
    if contact.company_id != company.pk:
        raise CrmError(_("Kontaktpersonen hører ikke til virksomheden."), field="contact")
    if source not in Case.Source.values:
        raise CrmError(_("Ukendt kilde."), field="source")
    now = timezone.now()
    payload = dict(payload or {})
    case = Case.objects.create(
        reference=_next_reference(now),
        company=company,
        contact=contact,
        hub=hub,
        needs=needs,
        source=source,
        first_response_due=add_working_days(now, settings.FIRST_RESPONSE_WORKING_DAYS),
        created_at=now,
    )
    case.themes.set(list(themes))
    scores = {
        str(match.get("external_id")): match
        for match in payload.get("matches", [])
        if isinstance(match, dict)
    }
    CaseOffer.objects.bulk_create(
        [
            CaseOffer(
                case=case,
                offer=offer,
                score=float(scores.get(offer.external_id, {}).get("score") or 0),
                reasons=list(scores.get(offer.external_id, {}).get("reasons") or []),
            )
            for offer in offers
        ],
        ignore_conflicts=True,
    )
    _timeline(
        case,
        kind=TimelineEntry.Kind.CREATED,
        action="crm.case.created",
        actor=actor,
        text=str(_("Henvendelsen er modtaget af %(hub)s.") % {"hub": hub.name}),
        payload=payload,
        is_public=True,
        at=now,
    )
    notification_queue(
        kind=Notification.Kind.CASE_CREATED,
        recipient=hub.inbox_email,
        template="case_created",
        context={"case": case, "hub": hub, "company": company, "url": _admin_url(case)},
        case=case,
    )
    return case


@transaction.atomic
def case_assign(*, case: Case, adviser: User, actor: User | None) -> Case:
    """Give the case to an adviser of its hub ("take the case" is assigning it to oneself)."""
    case = _lock(case)
    _require_open(case)
    if (
        not adviser.is_active
        or adviser.organisation_id != case.hub_id
        or not (adviser.is_adviser or adviser.is_superuser)
    ):
        raise CrmError(
            _("Sagen kan kun tildeles en rådgiver i %(hub)s.") % {"hub": case.hub.name},
            field="adviser",
        )
    if case.adviser_id == adviser.pk:
        raise CrmError(_("Sagen er allerede tildelt %(name)s.") % {"name": _adviser_name(adviser)})
    now = timezone.now()
    previous = case.adviser_id
    case.adviser = adviser
    fields = ["adviser", *_mark_first_response(case, at=now)]
    if case.status == Case.Status.NEW:
        case.status = Case.Status.ASSIGNED
        fields.append("status")
    case.save(update_fields=fields)
    _timeline(
        case,
        kind=TimelineEntry.Kind.ASSIGNMENT,
        action="crm.case.assigned",
        actor=actor,
        text=str(_("En rådgiver har taget din sag.")),
        payload={"adviser": adviser.pk, "previous_adviser": previous},
        is_public=True,
        at=now,
    )
    contact = case.contact
    if not contact.is_anonymised:
        notification_queue(
            kind=Notification.Kind.CASE_ASSIGNED,
            recipient=contact.email,
            template="case_assigned",
            context={
                "case": case,
                "contact": contact,
                "adviser_name": _adviser_name(adviser),
                "adviser_email": adviser.email,
                "hub": case.hub,
            },
            case=case,
        )
    return case


@transaction.atomic
def case_transfer(*, case: Case, hub: Organisation, reason: str, actor: User | None) -> Case:
    """Move the case to another Væksthus, which starts it afresh without an adviser.

    The first-response date stays: it is what the company was promised.
    """
    reason = (reason or "").strip()
    if not reason:
        raise CrmError(_("Skriv, hvorfor sagen overdrages."), field="reason")
    case = _lock(case)
    _require_open(case)
    if hub.kind != Organisation.Kind.BUSINESS_HUB:
        raise CrmError(_("En sag kan kun overdrages til et Væksthus."), field="hub")
    if hub.pk == case.hub_id:
        raise CrmError(_("Sagen ligger allerede hos %(hub)s.") % {"hub": hub.name}, field="hub")
    previous = case.hub
    case.hub = hub
    case.adviser = None
    case.status = Case.Status.NEW
    case.save(update_fields=["hub", "adviser", "status"])
    _timeline(
        case,
        kind=TimelineEntry.Kind.TRANSFER,
        action="crm.case.transferred",
        actor=actor,
        text=reason,
        payload={"from_hub": previous.slug, "to_hub": hub.slug},
    )
    notification_queue(
        kind=Notification.Kind.CASE_CREATED,
        recipient=hub.inbox_email,
        template="case_transferred",
        context={
            "case": case,
            "hub": hub,
            "previous_hub": previous,
            "company": case.company,
            "reason": reason,
            "url": _admin_url(case),
        },
        case=case,
    )
    return case


@transaction.atomic
def case_transition(*, case: Case, status: str, actor: User | None, text: str = "") -> Case:
    """Move the case to another status along the allowed path (not to closed: see case_close)."""
    case = _lock(case)
    if status == Case.Status.CLOSED:
        raise CrmError(_("Luk sagen med et udfald."), field="status")
    if status == Case.Status.ASSIGNED:
        raise CrmError(_("Tildel sagen til en rådgiver i stedet."), field="status")
    if status not in ALLOWED_TRANSITIONS.get(case.status, set()):
        raise CrmError(
            _("En sag med status »%(current)s« kan ikke skifte til »%(target)s«.")
            % {
                "current": case.get_status_display(),
                "target": dict(Case.Status.choices).get(status, status),
            },
            field="status",
        )
    previous = case.status
    case.status = status
    case.save(update_fields=["status"])
    _timeline(
        case,
        kind=TimelineEntry.Kind.STATUS_CHANGE,
        action="crm.case.status_changed",
        actor=actor,
        text=str(_("Sagens status er nu: %(status)s.") % {"status": case.get_status_display()}),
        payload={"from": previous, "to": status, "note": (text or "").strip()},
        is_public=True,
    )
    return case


@transaction.atomic
def case_note_add(
    *,
    case: Case,
    kind: str,
    text: str,
    actor: User | None,
    at: dt.datetime | None = None,
) -> TimelineEntry:
    """Record a note, meeting, call or e-mail; the first one answers the first-response promise."""
    if kind not in TimelineEntry.ACTIVITY_KINDS:
        raise CrmError(_("Vælg notat, møde, opkald eller e-mail."), field="kind")
    text = (text or "").strip()
    if not text:
        raise CrmError(_("Skriv, hvad der skete."), field="text")
    case = _lock(case)
    _require_open(case)
    now = timezone.now()
    if at is not None and at > now:
        raise CrmError(_("Tidspunktet kan ikke ligge i fremtiden."), field="at")
    fields = _mark_first_response(case, at=now)
    if fields:
        case.save(update_fields=fields)
    return _timeline(
        case, kind=kind, action=f"crm.case.{kind}", actor=actor, text=text, at=at or now
    )


@transaction.atomic
def case_close(*, case: Case, outcome: str, outcome_text: str = "", actor: User | None) -> Case:
    """Close the case with its outcome; only an open case can be closed."""
    if outcome not in Case.Outcome.values:
        raise CrmError(_("Vælg sagens udfald."), field="outcome")
    case = _lock(case)
    _require_open(case)
    now = timezone.now()
    case.status = Case.Status.CLOSED
    case.outcome = outcome
    case.outcome_text = (outcome_text or "").strip()
    case.closed_at = now
    case.save(update_fields=["status", "outcome", "outcome_text", "closed_at"])
    _timeline(
        case,
        kind=TimelineEntry.Kind.CLOSED,
        action="crm.case.closed",
        actor=actor,
        text=str(_("Sagen er lukket: %(outcome)s.") % {"outcome": case.get_outcome_display()}),
        payload={"outcome": outcome},
        is_public=True,
        at=now,
    )
    return case


# --- Referrals --------------------------------------------------------------------------------


@transaction.atomic
def referral_create(
    *,
    case: Case,
    offer: Offer | None = None,
    operator: Organisation | None = None,
    note: str = "",
    actor: User | None,
) -> Referral:
    """Refer the company to an offer and/or an operator; the case becomes "referred"."""
    if offer is None and operator is None:
        raise CrmError(_("Vælg et tilbud eller en operatør."), field="offer")
    case = _lock(case)
    _require_open(case)
    if case.adviser_id is None:
        raise CrmError(_("Tag sagen, før du henviser virksomheden."))
    if (
        offer is not None
        and case.referrals.filter(offer=offer).exclude(status=Referral.Status.DECLINED).exists()
    ):
        raise CrmError(_("Virksomheden er allerede henvist til dette tilbud."), field="offer")
    now = timezone.now()
    referral = Referral.objects.create(
        case=case,
        offer=offer,
        operator=operator if operator is not None else (offer.operator if offer else None),
        note=(note or "").strip(),
        created_by=actor,
        created_at=now,
    )
    fields = _mark_first_response(case, at=now)
    previous = case.status
    if case.status != Case.Status.REFERRED:
        case.status = Case.Status.REFERRED
        fields.append("status")
    if fields:
        case.save(update_fields=fields)
    _timeline(
        case,
        kind=TimelineEntry.Kind.REFERRAL,
        action="crm.referral.created",
        actor=actor,
        text=str(_("Du er henvist til: %(target)s.") % {"target": referral.target_label}),
        payload={
            "referral": referral.pk,
            "offer": offer.external_id if offer else None,
            "operator": referral.operator.slug if referral.operator else None,
            "from": previous,
            "note": referral.note,
        },
        is_public=True,
        at=now,
    )
    return referral


def _lock_referral(referral: Referral) -> Referral:
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("case", "offer", "operator")
        .get(pk=referral.pk)
    )


@transaction.atomic
def referral_accept(*, referral: Referral, actor: User | None) -> Referral:
    referral = _lock_referral(referral)
    if referral.status != Referral.Status.PROPOSED:
        raise CrmError(_("Kun en foreslået henvisning kan accepteres."))
    referral.status = Referral.Status.ACCEPTED
    referral.save(update_fields=["status"])
    _timeline(
        referral.case,
        kind=TimelineEntry.Kind.REFERRAL,
        action="crm.referral.accepted",
        actor=actor,
        text=str(
            _("Henvisningen til %(target)s er accepteret.") % {"target": referral.target_label}
        ),
        payload={"referral": referral.pk},
    )
    return referral


def _referral_finish(
    referral: Referral, *, status: str, outcome: str, actor: User | None
) -> Referral:
    outcome = (outcome or "").strip()
    if not outcome:
        raise CrmError(_("Skriv, hvordan henvisningen endte."), field="outcome")
    referral = _lock_referral(referral)
    if referral.status not in (Referral.Status.PROPOSED, Referral.Status.ACCEPTED):
        raise CrmError(_("Henvisningen er allerede afsluttet."))
    referral.status = status
    referral.outcome = outcome
    referral.completed_at = timezone.now()
    referral.save(update_fields=["status", "outcome", "completed_at"])
    _timeline(
        referral.case,
        kind=TimelineEntry.Kind.REFERRAL,
        action=f"crm.referral.{status}",
        actor=actor,
        text=outcome,
        payload={"referral": referral.pk, "status": status},
        at=referral.completed_at,
    )
    return referral


@transaction.atomic
def referral_complete(*, referral: Referral, outcome: str, actor: User | None) -> Referral:
    """The company used the offer: a participation the effect measurement counts."""
    return _referral_finish(
        referral, status=Referral.Status.COMPLETED, outcome=outcome, actor=actor
    )


@transaction.atomic
def referral_decline(*, referral: Referral, outcome: str, actor: User | None) -> Referral:
    return _referral_finish(referral, status=Referral.Status.DECLINED, outcome=outcome, actor=actor)


# --- Feedback ---------------------------------------------------------------------------------


@transaction.atomic
def feedback_submit(*, case: Case, rating: int, comment: str = "") -> Feedback:
    """The company's rating of a closed case, once."""
    case = _lock(case)
    if case.is_open:
        raise CrmError(_("Du kan give tilbagemelding, når sagen er lukket."))
    if Feedback.objects.filter(case=case).exists():
        raise CrmError(_("Der er allerede givet tilbagemelding på denne sag."))
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise CrmError(_("Vælg en bedømmelse fra 1 til 5."), field="rating")
    feedback = Feedback.objects.create(case=case, rating=rating, comment=(comment or "").strip())
    _timeline(
        case,
        kind=TimelineEntry.Kind.NOTE,
        action="crm.feedback.submitted",
        actor=None,
        text=str(_("Virksomheden har givet tilbagemelding.")),
        payload={"rating": rating},
    )
    return feedback


# --- Response-time promise --------------------------------------------------------------------


def overdue_digests_queue(*, day: dt.date) -> int:
    """Queue one e-mail per hub listing its overdue cases; at most one per hub and day."""
    queued = 0
    for hub in Organisation.objects.hubs().exclude(inbox_email="").order_by("slug"):
        with transaction.atomic():
            cases = list(
                Case.objects.filter(hub=hub)
                .overdue_on(day)
                .select_related("company", "adviser")
                .order_by("first_response_due", "id")[:500]
            )
            if not cases:
                continue
            notification = notification_queue(
                kind=Notification.Kind.OVERDUE_DIGEST,
                recipient=hub.inbox_email,
                template="overdue_digest",
                context={
                    "hub": hub,
                    "cases": cases,
                    "day": day,
                    "site_url": settings.SITE_URL,
                },
                dedupe_key=f"overdue:{hub.slug}:{day.isoformat()}",
            )
            queued += notification is not None
    return queued


# --- Privacy ----------------------------------------------------------------------------------


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


# --- Cases an adviser opens by hand -----------------------------------------------------------

#: How a case an adviser registers came in. Web cases come only from the guidance request flow.
CASE_SOURCES_BY_HAND = (Case.Source.PHONE, Case.Source.EMAIL, Case.Source.MUNICIPAL_REFERRAL)


@transaction.atomic
def case_register(
    *,
    actor: User,
    hub: Organisation,
    source: Case.Source | str,
    cvr: str | None,
    company_name: str,
    municipality: Municipality | None,
    industry: str | None,
    employees: int | None,
    contact_name: str,
    contact_email: str,
    contact_phone: str,
    consent_version: str,
    needs: str,
    themes: Iterable[Theme],
    assign_to_actor: bool,
) -> Case:
    """Open a case a company brought to an adviser by phone, by e-mail or through its municipality.

    It takes the path of a guidance request from the portal (company and contact found or
    created, ``case_create``, and ``case_assign`` when the adviser takes the case), so its
    reference, first timeline entry, first-response date and hub notification are the same. The
    consent is the one the adviser confirms the company gave; the first entry names the adviser.
    """
    if source not in CASE_SOURCES_BY_HAND:
        raise CrmError(_("Vælg, hvordan virksomheden henvendte sig."), field="source")
    if not consent_version:
        raise CrmError(
            _("Virksomheden skal sige ja til, at oplysningerne registreres."), field="consent"
        )
    if not actor.is_active or not (
        actor.is_superuser or (actor.is_adviser and actor.organisation_id == hub.pk)
    ):
        raise CrmError(_("Du kan kun oprette sager i dit eget Væksthus."), field="hub")
    name = (company_name or "").strip()
    if not name and cvr:
        # A company the CRM already knows needs no name typed again; it keeps the one it has.
        known = Company.objects.filter(cvr=normalise_cvr(cvr)).values_list("name", flat=True)
        name = known.first() or ""
    company = company_find_or_create(
        cvr=cvr or None,
        name=name,
        municipality=municipality,
        industry=industry,
        employees=employees,
    )
    # A person already registered only by other hubs keeps the name and phone those hubs have.
    known_here = actor.is_superuser or (
        Contact.objects.visible_to(actor).filter(company=company).with_email(contact_email).exists()
    )
    contact = contact_find_or_create(
        company=company,
        name=contact_name,
        email=contact_email,
        phone=contact_phone,
        consent_version=consent_version,
        keep_details=not known_here,
    )
    case = case_create(
        company=company,
        contact=contact,
        hub=hub,
        needs=needs,
        themes=themes,
        source=source,
        actor=actor,
        payload={
            "channel": str(source),
            "consent": {"version": consent_version, "confirmed_by": actor.pk},
        },
    )
    if assign_to_actor:
        case = case_assign(case=case, adviser=actor, actor=actor)
    return case
