"""What a new web process prepares before it takes its first request (``gunicorn.conf.py``).

A process builds much of what it needs on first use: the catalogue copy that guidance requests
are matched on (``routing.catalogue``), the needs vocabulary, the translations, the compiled
templates, the URL resolver, the year's public holidays. On a busy machine the first guidance
request of a new process spent several seconds on that (4.8 s in-process, 10 s under load), and
each of its threads could build the catalogue copy at the same time. Done here, before the
process accepts a connection, no visitor waits for it: until it is ready the other processes
take the traffic.

Nothing here writes. Every step is a help, never a need: one that fails (PostgreSQL not reachable
yet, say) is logged by its error class and left for the first request to do, as before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.db import connections
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone, translation

logger = logging.getLogger(__name__)

#: Templates a guidance request renders (the hub's notice and the company's receipt).
MAIL_TEMPLATES = (
    "crm/email/case_created_subject.txt",
    "crm/email/case_created_body.txt",
    "routing/email/request_receipt_subject.txt",
    "routing/email/request_receipt_body.txt",
)


def _translations() -> None:
    for language in ("da", "en"):
        with translation.override(language):
            translation.gettext("Tilbud")


def _urls_and_templates() -> None:
    reverse("admin:crm_case_change", args=[1])
    for name in MAIL_TEMPLATES:
        get_template(name)


def _working_days() -> None:
    from django.conf import settings

    from crm.workdays import add_working_days

    add_working_days(timezone.now(), settings.FIRST_RESPONSE_WORKING_DAYS)


def _matching() -> None:
    """One matching for a made-up company: the catalogue copy at the current version, the needs
    vocabulary, the compound splitter and the postings of a common word."""
    from routing.matching import CompanyProfile
    from routing.services import profile_match

    profile = CompanyProfile(
        municipality_code=None,
        region_code=None,
        phase=None,
        employees=None,
        industry=None,
        themes=(),
        needs_text="eksport rådgivning finansiering",
    )
    profile_match(profile=profile, day=timezone.localdate())


def _broker() -> None:
    """The connection a guidance request's e-mails are handed to the broker on (the first
    publish of a process otherwise opens it while the visitor waits)."""
    from celery import current_app

    with current_app.producer_or_acquire() as producer:
        producer.connection.default_channel  # noqa: B018 - connects


STEPS: tuple[tuple[str, Callable[[], None]], ...] = (
    ("translations", _translations),
    ("urls and templates", _urls_and_templates),
    ("working days", _working_days),
    ("matching", _matching),
    ("broker", _broker),
)


def warm_up() -> dict[str, float]:
    """Run every step; returns the seconds each one that succeeded took."""
    took: dict[str, float] = {}
    for name, step in STEPS:
        started = time.perf_counter()
        try:
            step()
        except Exception as error:  # a warm-up must never stop a process
            logger.warning("warm-up step %s skipped: %s", name, type(error).__name__)
            continue
        took[name] = time.perf_counter() - started
    # The request threads open their own connections; this one is not theirs to reuse.
    connections.close_all()
    return took
