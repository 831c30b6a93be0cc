"""Background jobs: saved-search e-mails and the monthly catalogue snapshot.

Scheduled in ``CELERY_BEAT_SCHEDULE``. The e-mails go through the CRM's outbox (``crm.outbox``):
written with the rows they describe, sent after commit, retried with its backoff while the mail
server is down, and a digest never twice for the same search and week (the outbox's dedupe_key).
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from governance import quarterly_reports, services
from governance.models import SavedSearch

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def send_saved_search_confirmation(saved_search_id: int) -> bool:
    """Queue a pending search's confirmation if none is queued (the request queues it itself;
    this serves messages enqueued before the outbox carried confirmations)."""
    return services.saved_search_confirmation_queue(saved_search_id=saved_search_id)


@shared_task(acks_late=True, soft_time_limit=5 * 60, time_limit=6 * 60)
def send_weekly_digests() -> int:
    """The Monday job: one digest task per confirmed saved search for this ISO week."""
    week = services.iso_week(timezone.localdate())
    ids = list(SavedSearch.objects.active().order_by("pk").values_list("pk", flat=True))
    for saved_search_id in ids:
        send_saved_search_digest.delay(saved_search_id, week)
    return len(ids)


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def send_saved_search_digest(saved_search_id: int, week: str) -> bool:
    """Work out (or find) this week's digest of one search and send it if there is news."""
    return services.saved_search_digest_send(saved_search_id=saved_search_id, week=week)


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


@shared_task(acks_late=True, soft_time_limit=20 * 60, time_limit=25 * 60)
def quarterly_reports_send() -> int:
    """Every morning: on the quarter's first working day, last quarter's reports and e-mails."""
    return quarterly_reports.quarterly_reports_send(today=timezone.localdate())
