import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from crm.workdays import (
    add_working_days,
    is_working_day,
    latest_day_reached,
    working_days_after,
)

CPH = ZoneInfo("Europe/Copenhagen")


def at(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=CPH)


@pytest.mark.parametrize(
    ("start", "due"),
    [
        # Monday morning: Monday counts, two working days later is Wednesday.
        (at(2026, 3, 2, 10), dt.date(2026, 3, 4)),
        # Monday after 16:00 counts from Tuesday.
        (at(2026, 3, 2, 17), dt.date(2026, 3, 5)),
        # Thursday morning skips the weekend.
        (at(2026, 3, 5, 9), dt.date(2026, 3, 9)),
        # Saturday counts from Monday.
        (at(2026, 3, 7, 11), dt.date(2026, 3, 11)),
        # Wednesday before Easter: Maundy Thursday, Good Friday and Easter Monday are closed.
        (at(2026, 4, 1, 9), dt.date(2026, 4, 8)),
        # 23 December: Christmas Eve, Christmas Day, Boxing Day and the weekend are closed.
        (at(2026, 12, 23, 9), dt.date(2026, 12, 29)),
        # Grundlovsdag (5 June 2026, a Friday) is closed.
        (at(2026, 6, 4, 9), dt.date(2026, 6, 9)),
    ],
)
def test_it_promises_a_first_response_within_two_working_days(start, due):
    assert add_working_days(start, 2) == due


def test_it_reads_the_cut_off_in_danish_time_not_utc():
    # 15:30 UTC on a winter Monday is 16:30 in Copenhagen: after the cut-off.
    start = dt.datetime(2026, 3, 2, 15, 30, tzinfo=dt.UTC)
    assert add_working_days(start, 2) == dt.date(2026, 3, 5)


def test_it_knows_ascension_day_and_whit_monday_are_holidays():
    assert not is_working_day(dt.date(2026, 5, 14))
    assert not is_working_day(dt.date(2026, 5, 25))
    assert is_working_day(dt.date(2026, 5, 15))


def test_it_refuses_a_naive_datetime():
    with pytest.raises(ValueError):
        add_working_days(dt.datetime(2026, 3, 2, 10), 2)  # noqa: DTZ001


@pytest.mark.parametrize(
    ("day", "days", "expected"),
    [
        (dt.date(2026, 12, 23), 0, dt.date(2026, 12, 23)),
        # Christmas Eve and Day, Boxing Day (a Saturday) and the Sunday are closed.
        (dt.date(2026, 12, 23), 1, dt.date(2026, 12, 28)),
        # New Year's Eve and Day and the weekend.
        (dt.date(2026, 12, 30), 3, dt.date(2027, 1, 6)),
        # From a Saturday the first working day is Monday.
        (dt.date(2026, 3, 7), 1, dt.date(2026, 3, 9)),
    ],
)
def test_it_counts_working_days_after_a_date(day, days, expected):
    assert working_days_after(day, days) == expected


@pytest.mark.parametrize(
    ("today", "days", "latest"),
    [
        # On Monday 28 December a step one working day after its date is due for every date up
        # to Wednesday 23 December, the last working day before Christmas.
        (dt.date(2026, 12, 28), 1, dt.date(2026, 12, 27)),
        (dt.date(2026, 12, 29), 1, dt.date(2026, 12, 28)),
        # Nothing comes due on a closed day: on Christmas Day the latest date is still 22 Dec.
        (dt.date(2026, 12, 25), 1, dt.date(2026, 12, 22)),
        (dt.date(2026, 12, 30), 0, dt.date(2026, 12, 30)),
    ],
)
def test_it_finds_the_latest_date_a_step_has_come_due_for(today, days, latest):
    assert latest_day_reached(today, days) == latest
    assert working_days_after(latest, days) <= today
    assert working_days_after(latest + dt.timedelta(days=1), days) > today


def test_it_counts_the_working_days_an_answer_took() -> None:
    from crm.workdays import add_working_days, working_days_taken

    monday_10 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=CPH)
    assert working_days_taken(monday_10, monday_10 + dt.timedelta(hours=5)) == 0
    assert working_days_taken(monday_10, dt.datetime(2026, 3, 3, 8, 0, tzinfo=CPH)) == 1
    # Friday 17:00 counts from Monday; answered Monday is the same working day.
    friday_17 = dt.datetime(2026, 3, 6, 17, 0, tzinfo=CPH)
    assert working_days_taken(friday_17, dt.datetime(2026, 3, 9, 15, 0, tzinfo=CPH)) == 0
    assert working_days_taken(friday_17, dt.datetime(2026, 3, 7, 9, 0, tzinfo=CPH)) == 0
    # Easter: from Wednesday 1 April to Tuesday 7 April 2026 is one working day.
    wednesday = dt.datetime(2026, 4, 1, 10, 0, tzinfo=CPH)
    assert working_days_taken(wednesday, dt.datetime(2026, 4, 7, 10, 0, tzinfo=CPH)) == 1
    # Within the promise exactly when answered by the due date.
    due = add_working_days(monday_10, 2)
    at_due = dt.datetime.combine(due, dt.time(15, 0), tzinfo=CPH)
    assert working_days_taken(monday_10, at_due) == 2
