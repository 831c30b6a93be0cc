"""How a case's status and deadline look, in the queue and on the case page."""

from __future__ import annotations

import datetime as dt

from django.utils.html import format_html
from django.utils.translation import gettext

from crm.models import Case


def status_badge(case: Case) -> str:
    return format_html(
        '<span class="crm-status crm-status--{}">{}</span>',
        case.status,
        case.get_status_display(),
    )


def deadline_badge(case: Case, today: dt.date) -> str:
    if not case.is_open:
        return format_html('<span class="crm-badge">{}</span>', gettext("Lukket"))
    due = case.first_response_due
    if case.first_responded_at is not None:
        return format_html('<span class="crm-badge crm-badge--done">{}</span>', gettext("Besvaret"))
    if due < today:
        # The word carries the meaning, the colour only repeats it.
        return format_html(
            '<span class="crm-badge crm-badge--overdue">{} · {}</span>',
            gettext("Overskredet"),
            due.strftime("%d.%m.%Y"),
        )
    return format_html(
        '<span class="crm-badge crm-badge--due">{} {}</span>',
        gettext("Frist"),
        due.strftime("%d.%m.%Y"),
    )


def adviser_label(user: object) -> str:
    """A user as advisers know each other: the full name, else the username."""
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return str(full or getattr(user, "username", ""))
