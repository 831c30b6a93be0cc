"""Background jobs of the CRM: sending the outbox, the overdue digest, the reminder ladder and
the survey, contact retention.

Routed to the ``notifications`` queue by module (``CELERY_TASK_ROUTES``); scheduled in
``CELERY_BEAT_SCHEDULE``.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from crm import outbox


@shared_task(
    acks_late=True, time_limit=outbox.SEND_TIME_LIMIT, soft_time_limit=outbox.SEND_SOFT_TIME_LIMIT
)
def notification_send(notification_id: int) -> str:
    """Send one outbox row (``crm.outbox.notification_send``); retries come from the sweep."""
    return outbox.notification_send(notification_id=notification_id)


@shared_task(
    acks_late=True, time_limit=outbox.SEND_TIME_LIMIT, soft_time_limit=outbox.SEND_SOFT_TIME_LIMIT
)
def notifications_send(notification_ids: list[int]) -> list[str]:
    """Send the outbox rows one transaction wrote (``crm.outbox.notifications_send``; the
    publisher sets the time limits for their number: ``crm.outbox.notifications_enqueue``).
    Each row is claimed on its own, so a row another worker took, or a repeated delivery, is
    skipped; a row whose send fails is left to the sweep, and the next is still sent."""
    return outbox.notifications_send(notification_ids)


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def notifications_sweep() -> int:
    """Hand the broker the outbox rows that are due (``crm.outbox.notifications_sweep``)."""
    return outbox.notifications_sweep()


@shared_task(acks_late=True, time_limit=300, soft_time_limit=240)
def cases_overdue_digest() -> int:
    """E-mail each hub the cases that have passed their first-response date (once a day)."""
    from crm.services import overdue_digests_queue

    return overdue_digests_queue(day=timezone.localdate())


@shared_task(acks_late=True, time_limit=900, soft_time_limit=840)
def cases_follow_up() -> dict[str, int]:
    """The reminder ladder, the reminders about referrals without the operator's answer and the
    surveys (``crm.services.followup``), once a day; running it again the same day does nothing
    twice."""
    from crm.services import followup_run

    return followup_run(now=timezone.now())


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700)
def contacts_retention() -> int:
    """Anonymise the contacts of cases closed longer ago than the retention period."""
    from crm.services import contacts_anonymise_expired

    return contacts_anonymise_expired(now=timezone.now())
