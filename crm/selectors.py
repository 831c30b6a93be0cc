"""Reads other apps and commands build on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from core.time import COPENHAGEN
from crm.models import Case, Contact, Feedback, Notification, Referral, TimelineEntry
from offers.models import Offer


def case_public_timeline(case: Case) -> QuerySet[TimelineEntry]:
    """What the company sees on its private status page, oldest first; never internal notes."""
    return case.public_timeline()


def completed_offer_referrals() -> Iterator[tuple[str, str, int]]:
    """(CVR, offer external_id, year) for each completed referral to an offer.

    A completed referral is a participation for the effect measurement; companies without a CVR
    cannot be followed in the register and are left out. The year is the completion year.
    """
    rows = (
        Referral.objects.filter(
            status=Referral.Status.COMPLETED,
            offer__isnull=False,
            case__company__cvr__isnull=False,
        )
        .order_by("completed_at", "pk")
        .values_list("case__company__cvr", "offer__external_id", "completed_at")
    )
    seen: set[tuple[str, str, int]] = set()
    for cvr, external_id, completed_at in rows.iterator(chunk_size=2000):
        if cvr is None or completed_at is None:  # excluded by the filter and the constraint
            continue
        row = (cvr, external_id, completed_at.astimezone(COPENHAGEN).year)
        if row not in seen:
            seen.add(row)
            yield row


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


def offers_suggested_for(case: Case, *, term: str = "", limit: int = 20) -> list[Offer]:
    """Open offers to refer the case to: those matching its themes and the company's place first."""
    from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
    from django.utils import timezone

    offers = Offer.objects.published().open_on(timezone.localdate())
    term = term.strip()
    if term:
        offers = offers.filter(Q(title__icontains=term) | Q(external_id__icontains=term))
    theme_ids = [theme.pk for theme in case.themes.all()]
    in_place = Q(nationwide=True)
    municipality = case.company.municipality
    if municipality is not None:
        in_place |= Q(regions__contains=[municipality.region_id]) | Q(
            municipalities__contains=[municipality.code]
        )
    return list(
        offers.annotate(
            theme_match=Exists(
                Offer.themes.through.objects.filter(offer_id=OuterRef("pk"), theme_id__in=theme_ids)
            ),
            place_match=ExpressionWrapper(in_place, output_field=BooleanField()),
        )
        .select_related("operator")
        .order_by("-theme_match", "-place_match", "title")[:limit]
    )
