"""A case's life: opened (from a guidance request or by an adviser), assigned, moved between
statuses and hubs, noted, closed, and rated by the company afterwards."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.time import COPENHAGEN
from crm.hub_words import hub_text
from crm.models import (
    Case,
    Company,
    Contact,
    Feedback,
    HubLead,
    Notification,
    Referral,
    TimelineEntry,
    normalise_cvr,
)
from crm.notifications import notification_queue
from crm.services.absences import absence_of
from crm.services.common import (
    CrmError,
    _admin_url,
    _adviser_name,
    _lock,
    _lock_in_scope,
    _mark_first_response,
    _reopen,
    _require_scope,
    _suggest_offers,
    _timeline,
)
from crm.services.companies import (
    company_find_or_create,
    contact_find_or_create,
    contact_submitted_details,
)
from crm.workdays import add_working_days
from offers.fields import danish_sort_key
from offers.models import Municipality, Offer, Organisation, Theme

if TYPE_CHECKING:
    from accounts.models import User


# Moves ``case_transition`` allows. Assignment and closing have their own services (they need an
# adviser and an outcome), so "assigned" and "closed" are reached only through those.
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    Case.Status.NEW: set(),
    Case.Status.ASSIGNED: {Case.Status.IN_PROGRESS, Case.Status.REFERRED},
    Case.Status.IN_PROGRESS: {Case.Status.REFERRED},
    Case.Status.REFERRED: {Case.Status.IN_PROGRESS},
    Case.Status.CLOSED: set(),
}


def _next_reference(now: dt.datetime) -> str:
    # A sequence never hands out a number twice, even to concurrent transactions; a rolled-back
    # transaction leaves a gap, which is fine for a reference.
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('crm_case_reference_seq')")
        (number,) = cursor.fetchone()
    return f"EF-{now.astimezone(COPENHAGEN).year}-{number:06d}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseOrigin:
    """Where a request came from beyond its ``source``: the partner (by id), the page it embedded
    the form on, the API key that sent it. Stored on the case; ``details`` on its first entry."""

    partner_id: int | None = None
    api_key_id: int | None = None
    page: str = ""
    details: dict[str, Any] = field(default_factory=dict)


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
    origin: CaseOrigin | None = None,
    language: str = "",
) -> Case:
    """Open a case for the hub, with its first timeline entry and the matched offers.

    ``language`` is the language code the company wrote in ("en-gb" is stored as "en"; one the
    portal does not speak is left out).

    ``payload`` is stored on the ``crm.case.created`` entry (matched offers, routing reason, ...);
    a ``payload["matches"]`` list of ``{"external_id", "score", "reasons"}`` gives each offer in
    ``offers`` its score and reasons.
    """
    needs = (needs or "").strip()
    if not needs:
        raise CrmError(_("Beskriv, hvad virksomheden har brug for hjælp til."), field="needs")
    if hub.kind != Organisation.Kind.BUSINESS_HUB:
        raise CrmError(hub_text(_("En sag kan kun ligge hos et %(hub)s.")), field="hub")
    if contact.company_id != company.pk:
        raise CrmError(_("Kontaktpersonen hører ikke til virksomheden."), field="contact")
    if source not in Case.Source.values:
        raise CrmError(_("Ukendt kilde."), field="source")
    now = timezone.now()
    payload = dict(payload or {})
    origin = origin or CaseOrigin()
    if origin.api_key_id is not None and origin.partner_id is None:
        raise CrmError(_("En API-nøgle hører altid til en partner."), field="source")
    if origin.details:
        payload["source"] = origin.details
    case = Case.objects.create(
        reference=_next_reference(now),
        company=company,
        contact=contact,
        hub=hub,
        needs=needs,
        source=source,
        partner_id=origin.partner_id,
        partner_api_key_id=origin.api_key_id,
        source_page=origin.page[:500],
        language=_language_code(language),
        first_response_due=add_working_days(now, settings.FIRST_RESPONSE_WORKING_DAYS),
        created_at=now,
    )
    themes = list(themes)
    case.themes.add(*themes)  # a new case: no themes to compare with, so no read first
    _suggest_offers(case, offers, payload=payload)
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
        # The themes as given: the case's own would be read back from the database.
        context={
            "case": case,
            "hub": hub,
            "company": company,
            # In the case's order (position, then name as in Danish: Æ, Ø, Å after Z).
            "themes": sorted(
                themes, key=lambda theme: (theme.position, danish_sort_key(theme.name))
            ),
            "url": _admin_url(case),
        },
        case=case,
    )
    return case


def _language_code(language: str) -> str:
    code = (language or "").strip().lower()[:2]
    return code if code in Case.Language.values else ""


@transaction.atomic
def case_assign(*, case: Case, adviser: User, actor: User | None) -> Case:
    """Give the case to an adviser of its hub ("take the case" is assigning it to oneself).

    Not a first response: the company has had no real contact yet
    (``TimelineEntry.FIRST_RESPONSE_KINDS``).
    """
    case = _lock_in_scope(case, actor)
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
    away = absence_of(adviser, timezone.localdate(now))
    if away is not None and (actor is None or actor.pk != adviser.pk):
        # An adviser away gets no new work; the case stays in the hub's queue.
        raise CrmError(
            hub_text(
                _("%(name)s er fraværende til og med %(day)s. Lad sagen blive i %(the_hub)ss kø."),
                name=_adviser_name(adviser),
                day=away.ends_on.strftime("%d.%m.%Y"),
            ),
            field="adviser",
        )
    previous = case.adviser_id
    case.adviser = adviser
    # Taking the case is no answer to the company (``is_first_response``): the ladder goes on.
    fields = ["adviser"]
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
    case = _lock_in_scope(case, actor)
    if hub.kind != Organisation.Kind.BUSINESS_HUB:
        raise CrmError(hub_text(_("En sag kan kun overdrages til et %(hub)s.")), field="hub")
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
    case = _lock_in_scope(case, actor, open_only=False)
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
    """Record a note, meeting, call or e-mail. The first meeting, call or e-mail answers the
    first-response promise, at the time it is recorded (a time given for the past cannot move the
    answer back before the deadline); a note is internal and answers nothing."""
    if kind not in TimelineEntry.ACTIVITY_KINDS:
        raise CrmError(_("Vælg notat, møde, opkald eller e-mail."), field="kind")
    text = (text or "").strip()
    if not text:
        raise CrmError(_("Skriv, hvad der skete."), field="text")
    case = _lock_in_scope(case, actor)
    now = timezone.now()
    if at is not None and at > now:
        raise CrmError(_("Tidspunktet kan ikke ligge i fremtiden."), field="at")
    fields = _mark_first_response(case, kind=kind, at=now)
    if fields:
        case.save(update_fields=fields)
    return _timeline(
        case, kind=kind, action=f"crm.case.{kind}", actor=actor, text=text, at=at or now
    )


#: The outcomes an adviser closes a case with; "not handled" is the reminder ladder's alone.
BY_HAND_OUTCOMES = tuple(
    value for value in Case.Outcome.values if value != Case.Outcome.NOT_HANDLED
)


@transaction.atomic
def case_close(*, case: Case, outcome: str, outcome_text: str = "", actor: User | None) -> Case:
    """Close the case with its outcome; only an open case can be closed."""
    if outcome not in BY_HAND_OUTCOMES:
        raise CrmError(_("Vælg sagens udfald."), field="outcome")
    case = _lock_in_scope(case, actor)
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
    _closing_mail(case)
    return case


@transaction.atomic
def case_reopen(*, case: Case, reason: str, actor: User | None) -> Case:
    """Open a closed case again ("Genåbn sag"), with the adviser's reason on the timeline.

    Only an adviser of the case's hub, the hub's lead or a superuser may; the case is open again
    everywhere (status back to "assigned" with its adviser, else "new"; no outcome, no closing
    date), so the statistics count it as open until it is closed anew. Its first-response date
    stays what the company was promised. A case that was never answered (closed by the reminder
    ladder as not handled, or closed before any contact) starts the ladder over: its steps are
    done again from that date (their earlier entries stay in the timeline). A case that was
    answered is chased as stale from now on, as the reopening is activity by a person.
    """
    reason = (reason or "").strip()
    if not reason:
        raise CrmError(_("Skriv, hvorfor sagen genåbnes."), field="reason")
    case = _lock(case)
    if not _leads_hub(actor, case):
        _require_scope(case, actor)
    if case.is_open:
        raise CrmError(_("Sagen er allerede åben."))
    now = timezone.now()
    previous_outcome = case.outcome
    _reopen(case)
    _timeline(
        case,
        kind=TimelineEntry.Kind.STATUS_CHANGE,
        action="crm.case.reopened",
        actor=actor,
        text=reason,
        payload={"reason": reason, "previous_outcome": previous_outcome, "to": case.status},
        at=now,
    )
    return case


def _leads_hub(actor: User | None, case: Case) -> bool:
    """Whether ``actor`` is the named lead of the case's hub (``HubLead``)."""
    return bool(
        actor is not None
        and actor.is_active
        and HubLead.objects.filter(hub_id=case.hub_id, lead_id=actor.pk).exists()
    )


def _closing_mail(case: Case) -> None:
    """Tell the company its case is closed and what came of it: the offers and operators it was
    referred to, with their contacts (declined referrals left out)."""
    contact = case.contact
    if contact.is_anonymised or not contact.email:
        return
    referrals = list(
        case.referrals.exclude(status=Referral.Status.DECLINED)
        .select_related("offer", "operator")
        .order_by("created_at", "id")
    )
    notification_queue(
        kind=Notification.Kind.CASE_CLOSED,
        recipient=contact.email,
        template="case_closed",
        context={
            "case": case,
            "contact": contact,
            "hub": case.hub,
            "adviser_name": _adviser_name(case.adviser) if case.adviser else "",
            "referrals": referrals,
            "survey_days": settings.SURVEY_AFTER_DAYS,
            "site_url": settings.SITE_URL,
        },
        case=case,
        dedupe_key=f"case-closed:{case.pk}",
    )


@transaction.atomic
def cases_hand_over(*, from_adviser: User, to_adviser: User, actor: User | None) -> int:
    """Give every open case of an adviser who leaves to a colleague at the same hub, in one go.

    Each case gets its timeline entry (shown to the company too) and its company an e-mail
    naming the new adviser, as when a case is assigned. Returns how many cases moved.
    """
    if to_adviser.pk == from_adviser.pk:
        raise CrmError(_("Vælg en anden rådgiver."), field="to_adviser")
    if (
        not to_adviser.is_active
        or not to_adviser.is_adviser
        or to_adviser.organisation_id is None
        or to_adviser.organisation_id != from_adviser.organisation_id
    ):
        raise CrmError(
            hub_text(_("Sagerne kan kun overdrages til en aktiv rådgiver i samme %(hub)s.")),
            field="to_adviser",
        )
    away = absence_of(to_adviser, timezone.localdate())
    if away is not None:
        raise CrmError(
            _("%(name)s er fraværende til og med %(day)s. Vælg en anden kollega.")
            % {"name": _adviser_name(to_adviser), "day": away.ends_on.strftime("%d.%m.%Y")},
            field="to_adviser",
        )
    cases = list(
        Case.objects.open()
        .filter(adviser=from_adviser)
        .select_for_update(of=("self",))
        .select_related("hub", "contact")
        .order_by("id")
    )
    for case in cases:
        _require_scope(case, actor)
    now = timezone.now()
    Case.objects.filter(pk__in=[case.pk for case in cases]).update(adviser=to_adviser)
    name = _adviser_name(to_adviser)
    for case in cases:
        case.adviser = to_adviser
        _timeline(
            case,
            kind=TimelineEntry.Kind.ASSIGNMENT,
            action="crm.case.handed_over",
            actor=actor,
            text=str(_("Din sag er overdraget til en anden rådgiver.")),
            payload={"adviser": to_adviser.pk, "previous_adviser": from_adviser.pk},
            is_public=True,
            at=now,
        )
        if not case.contact.is_anonymised:
            notification_queue(
                kind=Notification.Kind.CASE_ASSIGNED,
                recipient=case.contact.email,
                template="case_assigned",
                context={
                    "case": case,
                    "contact": case.contact,
                    "adviser_name": name,
                    "adviser_email": to_adviser.email,
                    "hub": case.hub,
                },
                case=case,
            )
    return len(cases)


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
    privacy notice is the one the adviser confirms the contact was given; the first entry names
    the adviser.
    """
    if source not in CASE_SOURCES_BY_HAND:
        raise CrmError(_("Vælg, hvordan virksomheden henvendte sig."), field="source")
    if not consent_version:
        raise CrmError(
            _("Kontaktpersonen skal have fået at vide, hvordan oplysningerne behandles."),
            field="consent",
        )
    if not actor.is_active or not (
        actor.is_superuser or (actor.is_adviser and actor.organisation_id == hub.pk)
    ):
        raise CrmError(hub_text(_("Du kan kun oprette sager i dit eget %(hub)s.")), field="hub")
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
    submitted = contact_submitted_details(
        contact, name=contact_name, email=contact_email, phone=contact_phone
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
            **submitted,
        },
    )
    if source == Case.Source.PHONE:
        # Registered during the company's own call: the adviser is talking to it, a real contact.
        case.save(
            update_fields=_mark_first_response(
                case, kind=TimelineEntry.Kind.CALL, at=case.created_at
            )
        )
    if assign_to_actor:
        case = case_assign(case=case, adviser=actor, actor=actor)
    return case


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
