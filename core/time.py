"""Danish time: the zone every date the portal shows or decides by is read in, and month arithmetic.

Pure: no ORM, no settings. Code that decides by date takes ``now``/``today`` as a parameter;
``timezone.localdate()`` (Europe/Copenhagen in settings) is read only at the edges.
"""

from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after (or before) ``month``'s month."""
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def shift_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months, kept within the target month (31 January + 1 → 28/29 Feb)."""
    first = add_months(day, months)
    last = calendar.monthrange(first.year, first.month)[1]
    return first.replace(day=min(day.day, last))
