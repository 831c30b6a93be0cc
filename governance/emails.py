"""The saved-search e-mails, in Danish: the confirmation and the weekly digest."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone, translation

from governance import alerts, tokens
from governance.models import DigestDelivery, SavedSearch
from offers.models import Offer


def _link(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def confirm_url(saved: SavedSearch) -> str:
    return _link(f"/gemte-soegninger/bekraeft/{tokens.confirmation_token(saved.pk)}/")


def unsubscribe_url(saved: SavedSearch) -> str:
    return _link(f"/gemte-soegninger/afmeld/{tokens.unsubscribe_token(saved.pk)}/")


def confirmation_message(saved: SavedSearch) -> EmailMessage:
    with translation.override("da"):
        summary = alerts.describe(saved.query_string, today=timezone.localdate())
        body = render_to_string(
            "governance/email/confirm_saved_search.txt",
            {
                "summary": summary,
                "confirm_url": confirm_url(saved),
                "days": tokens.CONFIRMATION_MAX_AGE.days,
            },
        )
        subject = "Bekræft din gemte søgning på Erhvervsfremmeportalen"
    return EmailMessage(subject=subject, body=body, to=[saved.email])


def digest_message(delivery: DigestDelivery) -> EmailMessage:
    saved = delivery.saved_search
    by_id = {
        offer.pk: offer
        for offer in Offer.objects.filter(pk__in=delivery.offer_ids).only(
            "id", "external_id", "title", "summary", "created_at", "published_at"
        )
    }
    offers = [by_id[pk] for pk in delivery.offer_ids if pk in by_id]
    unsubscribe = unsubscribe_url(saved)
    with translation.override("da"):
        summary = alerts.describe(saved.query_string, today=timezone.localdate())
        body = render_to_string(
            "governance/email/digest.txt",
            {
                "summary": summary,
                "offers": [
                    {
                        "offer": offer,
                        "url": _link(offer.get_absolute_url()),
                        "is_new": _is_new(offer, delivery.window_start),
                    }
                    for offer in offers
                ],
                "unsubscribe_url": unsubscribe,
                "week": week_number(delivery.week),
            },
        )
        subject = f"Nye og ændrede tilbud i din gemte søgning (uge {week_number(delivery.week)})"
    return EmailMessage(
        subject=subject,
        body=body,
        to=[saved.email],
        headers={
            # One click from the mail program (RFC 8058): it POSTs to the same link.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def week_number(week: str) -> int:
    """The week number of an ISO week such as "2026-W07" (7)."""
    return int(week.split("-W")[1])


def _is_new(offer: Offer, since: dt.datetime) -> bool:
    first_shown = offer.published_at or offer.created_at
    return first_shown > since
