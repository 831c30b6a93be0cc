"""The transactional outbox for e-mail: write a row with the change, send it after commit.

``notification_queue`` is called inside a service's transaction. The row commits (or rolls back)
with the change; only after commit is a Celery task asked to send it. If Redis is down the request
still succeeds, the row waits as ``pending``, and ``crm.tasks.notifications_sweep`` sends it later.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from crm.models import Case, Notification

logger = logging.getLogger(__name__)

BROKER_ERRORS: tuple[type[BaseException], ...] = (KombuOperationalError, RedisError, OSError)


def render_message(
    template: str, context: dict[str, Any], *, language: str = "da"
) -> tuple[str, str]:
    """Subject and body of ``crm/email/<template>_subject.txt`` / ``_body.txt``, in Danish
    unless ``language`` says otherwise (the company's receipt follows the language it used)."""
    with translation.override(language):
        subject = render_to_string(f"crm/email/{template}_subject.txt", context)
        body = render_to_string(f"crm/email/{template}_body.txt", context)
    return " ".join(subject.split()), body.strip() + "\n"


def notification_queue(
    *,
    kind: Notification.Kind,
    recipient: str,
    template: str,
    context: dict[str, Any],
    case: Case | None = None,
    dedupe_key: str | None = None,
    language: str = "da",
) -> Notification | None:
    """Write an outbox row in the caller's transaction and enqueue it once that commits.

    Returns None when there is nobody to write to, or when ``dedupe_key`` was already queued.
    """
    if not recipient:
        return None
    if dedupe_key and Notification.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    subject, body = render_message(template, context, language=language)
    notification = Notification.objects.create(
        kind=kind,
        case=case,
        recipient=recipient,
        subject=subject[:250],
        body=body,
        dedupe_key=dedupe_key,
    )
    transaction.on_commit(partial(enqueue, notification.pk))
    return notification


def enqueue(notification_id: int) -> bool:
    """Ask a worker to send the notification; never raise, the row is safe in the outbox."""
    from crm.tasks import notification_send

    try:
        notification_send.delay(notification_id)
    except BROKER_ERRORS as error:
        # Only the id and the error class: the row holds an address and a name.
        logger.warning(
            "notification %s left for the sweep: broker unavailable (%s)",
            notification_id,
            type(error).__name__,
        )
        return False
    return True
