"""The response-time promise: the hubs' daily digest of overdue cases, each with the step of the
reminder ladder it has reached."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction

from crm.models import Case, Notification
from crm.notifications import notification_queue
from offers.models import Organisation


def overdue_digests_queue(*, day: dt.date) -> int:
    """Queue one e-mail per hub listing its overdue cases; at most one per hub and day."""
    queued = 0
    for hub in Organisation.objects.hubs().exclude(inbox_email="").order_by("slug"):
        with transaction.atomic():
            cases = list(
                Case.objects.filter(hub=hub)
                .overdue_on(day)
                .select_related("company", "adviser")
                # Where each case stands on the reminder ladder (crm.services.followup).
                .prefetch_related("follow_ups")
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
