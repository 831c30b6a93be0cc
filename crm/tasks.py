"""Background jobs of the CRM: sending the outbox, the overdue digest, contact retention.

Routed to the ``notifications`` queue by module (``CELERY_TASK_ROUTES``); scheduled in
``CELERY_BEAT_SCHEDULE``.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from celery import shared_task
from celery.app.task import Task
from django.core.mail import EmailMessage
from django.db.models import F, Q
from django.utils import timezone

from crm.models import Notification

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# A claim older than this belongs to a worker that died mid-send; the sweep may take it over.
STALE_CLAIM = timedelta(minutes=10)
SWEEP_AGE = timedelta(minutes=1)
SWEEP_BATCH = 500

# Errors after which trying again later may succeed: the server was busy or unreachable.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    smtplib.SMTPHeloError,
    smtplib.SMTPDataError,
    smtplib.SMTPResponseException,
    TimeoutError,
    ConnectionError,
)
# Never worth retrying: the address or the message itself was refused.
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPNotSupportedError,
)


def _claim(notification_id: int) -> Notification | None:
    """Take the row for this worker; None when someone else has it or it is done."""
    now = timezone.now()
    claimed = Notification.objects.filter(
        Q(status=Notification.Status.PENDING)
        | Q(status=Notification.Status.SENDING, claimed_at__lt=now - STALE_CLAIM),
        pk=notification_id,
    ).update(status=Notification.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return None
    return Notification.objects.get(pk=notification_id)


def _release(notification: Notification, *, status: str, error: BaseException) -> None:
    # The class name and SMTP code only: messages may echo the recipient's address.
    code = getattr(error, "smtp_code", "")
    Notification.objects.filter(pk=notification.pk).update(
        status=status, last_error=f"{type(error).__name__} {code}".strip()[:200]
    )


@shared_task(bind=True, acks_late=True, max_retries=MAX_ATTEMPTS, time_limit=60, soft_time_limit=45)
def notification_send(self: Task, notification_id: int) -> str:
    """Send one outbox row. Idempotent: a sent or claimed row is left alone."""
    notification = _claim(notification_id)
    if notification is None:
        return "skipped"
    message = EmailMessage(
        subject=notification.subject, body=notification.body, to=[notification.recipient]
    )
    try:
        message.send()
    except PERMANENT_ERRORS as error:
        _release(notification, status=Notification.Status.FAILED, error=error)
        logger.warning("notification %s refused: %s", notification.pk, type(error).__name__)
        return "failed"
    except TRANSIENT_ERRORS as error:
        final = notification.attempts >= MAX_ATTEMPTS
        status = Notification.Status.FAILED if final else Notification.Status.PENDING
        _release(notification, status=status, error=error)
        logger.warning(
            "notification %s attempt %s failed: %s",
            notification.pk,
            notification.attempts,
            type(error).__name__,
        )
        if final:
            return "failed"
        raise self.retry(countdown=min(30 * 2 ** (notification.attempts - 1), 3600)) from None
    Notification.objects.filter(pk=notification.pk).update(
        status=Notification.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return "sent"


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def notifications_sweep() -> int:
    """Enqueue outbox rows that were never sent: the broker was down, or a worker died."""
    from crm.notifications import enqueue

    now = timezone.now()
    ids = list(
        Notification.objects.filter(
            Q(status=Notification.Status.PENDING, created_at__lt=now - SWEEP_AGE)
            | Q(status=Notification.Status.SENDING, claimed_at__lt=now - STALE_CLAIM)
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    return sum(1 for notification_id in ids if enqueue(notification_id))


@shared_task(acks_late=True, time_limit=300, soft_time_limit=240)
def cases_overdue_digest() -> int:
    """E-mail each hub the cases that have passed their first-response date (once a day)."""
    from crm.services import overdue_digests_queue

    return overdue_digests_queue(day=timezone.localdate())


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700)
def contacts_retention() -> int:
    """Anonymise the contacts of cases closed longer ago than the retention period."""
    from crm.services import contacts_anonymise_expired

    return contacts_anonymise_expired(now=timezone.now())
