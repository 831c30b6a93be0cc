"""Background jobs: saved-search e-mails and the monthly catalogue snapshot.

Scheduled in ``CELERY_BEAT_SCHEDULE``. E-mails are sent only after the rows they describe are
committed, retry on transient mail-server errors and never go out twice for the same search and
week (the digest row is claimed before sending).
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib

from celery import shared_task
from django.utils import timezone

from governance import emails, services
from governance.models import DigestDelivery, SavedSearch

logger = logging.getLogger(__name__)

# Errors after which trying again later may succeed.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    smtplib.SMTPHeloError,
    smtplib.SMTPDataError,
    TimeoutError,
    ConnectionError,
)
# A claim older than this belongs to a worker that died while sending.
STALE_CLAIM = dt.timedelta(minutes=10)

_MAIL_TASK = {
    "acks_late": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 60,
    "retry_backoff_max": 60 * 60,
    "retry_jitter": True,
    "max_retries": 6,
    "soft_time_limit": 50,
    "time_limit": 60,
}


@shared_task(**_MAIL_TASK)
def send_saved_search_confirmation(saved_search_id: int) -> bool:
    """Send the confirmation e-mail once; False when it is not due (sent, confirmed or gone)."""
    now = timezone.now()
    claimed = SavedSearch.objects.filter(
        pk=saved_search_id,
        status=SavedSearch.Status.PENDING,
        confirmation_sent_at__isnull=True,
    ).update(confirmation_sent_at=now)
    if not claimed:
        return False
    saved = SavedSearch.objects.get(pk=saved_search_id)
    try:
        emails.confirmation_message(saved).send()
    except BaseException:
        # Give the claim back so the retry (or the next request) can send it.
        SavedSearch.objects.filter(pk=saved_search_id, confirmation_sent_at=now).update(
            confirmation_sent_at=None
        )
        raise
    return True


@shared_task(acks_late=True, soft_time_limit=5 * 60, time_limit=6 * 60)
def send_weekly_digests() -> int:
    """The Monday job: one digest task per confirmed saved search for this ISO week."""
    week = services.iso_week(timezone.localdate())
    ids = list(SavedSearch.objects.active().order_by("pk").values_list("pk", flat=True))
    for saved_search_id in ids:
        send_saved_search_digest.delay(saved_search_id, week)
    return len(ids)


@shared_task(**_MAIL_TASK)
def send_saved_search_digest(saved_search_id: int, week: str) -> bool:
    """Work out (or find) this week's digest of one search and send it if there is news."""
    delivery = services.saved_search_digest_prepare(saved_search_id=saved_search_id, week=week)
    if delivery is None or not delivery.offer_ids or delivery.sent_at is not None:
        return False
    if not services.digest_claim(delivery_id=delivery.pk, stale_after=STALE_CLAIM):
        return False
    try:
        message = emails.digest_message(
            DigestDelivery.objects.select_related("saved_search").get(pk=delivery.pk)
        )
        message.send()
    except BaseException:
        services.digest_release(delivery_id=delivery.pk)
        raise
    services.digest_mark_sent(delivery_id=delivery.pk)
    return True


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def expire_unconfirmed_saved_searches() -> int:
    """Daily: delete e-mail addresses whose confirmation link expired unused."""
    deleted = services.saved_searches_expire()
    if deleted:
        logger.info("Deleted %d unconfirmed saved searches", deleted)
    return deleted


@shared_task(acks_late=True, soft_time_limit=10 * 60, time_limit=11 * 60)
def snapshot_catalogue() -> int:
    """Monthly: record offers, operators and overlaps for the trend page (once per month)."""
    snapshot = services.catalogue_snapshot_take(month=timezone.localdate())
    return snapshot.pk
