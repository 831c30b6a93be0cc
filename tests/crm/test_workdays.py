import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from crm.workdays import add_working_days, is_working_day

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
