"""The saved-search e-mails, in Danish: what the confirmation and the weekly digest show.

They are written to the CRM's outbox (``governance.services``), which sends them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
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


def confirmation_context(saved: SavedSearch) -> dict[str, Any]:
    """What governance/email/saved_search_confirmation_*.txt show."""
    with translation.override("da"):
        summary = alerts.describe(saved.query_string, today=timezone.localdate())
    return {
        "summary": summary,
        "confirm_url": confirm_url(saved),
        "days": tokens.CONFIRMATION_MAX_AGE.days,
    }


def digest_context(delivery: DigestDelivery) -> dict[str, Any]:
    """What governance/email/saved_search_digest_*.txt show: the week's offers, in order."""
    saved = delivery.saved_search
    by_id = {
        offer.pk: offer
        for offer in Offer.objects.filter(pk__in=delivery.offer_ids).only(
            "id", "external_id", "title", "summary", "created_at", "published_at"
        )
    }
    offers = [by_id[pk] for pk in delivery.offer_ids if pk in by_id]
    with translation.override("da"):
        summary = alerts.describe(saved.query_string, today=timezone.localdate())
    return {
        "summary": summary,
        "offers": [
            {
                "offer": offer,
                "url": _link(offer.get_absolute_url()),
                "is_new": _is_new(offer, delivery.window_start),
            }
            for offer in offers
        ],
        "unsubscribe_url": unsubscribe_url(saved),
        "week": week_number(delivery.week),
    }


def digest_headers(saved: SavedSearch) -> dict[str, str]:
    # One click from the mail program (RFC 8058): it POSTs to the same link.
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(saved)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def week_number(week: str) -> int:
    """The week number of an ISO week such as "2026-W07" (7)."""
    return int(week.split("-W")[1])


def _is_new(offer: Offer, since: dt.datetime) -> bool:
    first_shown = offer.published_at or offer.created_at
    return first_shown > since
