"""Working days for the first-response promise and the reminder ladder: no weekends, no Danish
public holidays.

Pure: no ORM, no settings. The rule, as promised to companies on the status page:

- A request that arrives on a working day before 16:00 (Danish time) counts from that day, so with
  two working days a request on Monday at 10:00 is due Wednesday.
- A request after 16:00, or on a weekend or holiday, counts from the next working day: Monday at
  17:00 is due Thursday, Saturday is due Wednesday.

Besides the official public holidays, 5 June (Grundlovsdag), 24 December and 31 December count as
closed, because public offices, the Væksthuse included, are closed then.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import holidays

from core.time import COPENHAGEN

CUT_OFF = dt.time(16, 0)
_OFFICES_CLOSED = {(6, 5), (12, 24), (12, 31)}


@cache
def _holidays(year: int) -> frozenset[dt.date]:
    official = holidays.country_holidays("DK", years=year)
    closed = {dt.date(year, month, day) for month, day in _OFFICES_CLOSED}
    return frozenset(official) | closed


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def next_working_day(day: dt.date) -> dt.date:
    """The first working day strictly after ``day``."""
    day += dt.timedelta(days=1)
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def first_counting_day(start: dt.datetime) -> dt.date:
    """The working day a request arriving at ``start`` counts from (see the module rule)."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    local = start.astimezone(COPENHAGEN)
    day = local.date()
    if is_working_day(day) and local.time() < CUT_OFF:
        return day
    return next_working_day(day)


def add_working_days(start: dt.datetime, days: int) -> dt.date:
    """The date by which a request arriving at ``start`` must have had its first response."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = first_counting_day(start)
    for _ in range(days):
        day = next_working_day(day)
    return day


def working_days_after(day: dt.date, days: int) -> dt.date:
    """The ``days``-th working day after ``day`` (``day`` itself when ``days`` is 0)."""
    if days < 0:
        raise ValueError("days must not be negative")
    for _ in range(days):
        day = next_working_day(day)
    return day


def latest_day_reached(today: dt.date, days: int) -> dt.date:
    """The latest day whose ``days``-th working day after it has come by ``today``.

    A step of the reminder ladder due ``days`` working days after a date is due today for every
    date up to and including this one, so one comparison in SQL finds them all.
    ``working_days_after`` never goes backwards as the date moves on, so walking back from
    ``today`` stops at the first date that qualifies.
    """
    day = today
    while working_days_after(day, days) > today:
        day -= dt.timedelta(days=1)
    return day


def working_days_taken(start: dt.datetime, end: dt.datetime) -> int:
    """Working days from a request arriving at ``start`` to its answer at ``end``.

    0 when answered on the day the request counts from (or before it), 1 on the next working day,
    and so on: the measure the promise is made in, so an answer is within a promise of ``n``
    working days exactly when this is at most ``n`` (the same as on or before
    ``add_working_days(start, n)``).
    """
    if end.tzinfo is None:
        raise ValueError("end must be timezone-aware")
    day = first_counting_day(start)
    answered = end.astimezone(COPENHAGEN).date()
    taken = 0
    while day < answered:
        day = next_working_day(day)
        if day <= answered:
            taken += 1
    return taken
