"""Celery tasks of effect measurement (queue ``effects``, routed by module in settings)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from evaluation import services
from evaluation.exceptions import EvaluationError

logger = logging.getLogger(__name__)


@shared_task(
    acks_late=True,
    # One offer takes seconds; the first task of a run in a process also reads the panel.
    time_limit=30 * 60,
    soft_time_limit=25 * 60,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
)
def effects_compute_offer(run_id: int, offer_id: int) -> bool:
    """One offer of a run. A second delivery of the same message finds it done and does nothing."""
    return services.effects_compute_offer(run_id=run_id, offer_id=offer_id)


@shared_task(acks_late=True, time_limit=5 * 60, soft_time_limit=4 * 60)
def effects_sweep_stale() -> tuple[int, int]:
    """Every ten minutes: offers of active runs that lost their worker or message."""
    return services.effects_sweep_stale(now=timezone.now())


@shared_task(acks_late=True, time_limit=10 * 60, soft_time_limit=9 * 60)
def effects_compute_all() -> int | None:
    """The weekly recomputation: a new run over every offer with participants."""
    try:
        run = services.effects_compute()
    except EvaluationError as exc:
        # Usually a run still going; the next week tries again.
        logger.warning("weekly effect run not started: %s", exc)
        return None
    return run.pk
