"""Service standards compared with figures computed by hand from the fixture below."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from core.time import add_months
from crm.models import Feedback, Referral
from governance.service_standards import service_standards
from offers.models import Organisation
from tests.crm.factories import CaseFactory

CPH = ZoneInfo("Europe/Copenhagen")
MARCH = dt.date(2026, 3, 1)
APRIL = dt.date(2026, 4, 1)
TODAY = dt.date(2026, 4, 15)


def at(text: str) -> dt.datetime:
    """A Danish local time such as "2026-03-02 09:00"."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=CPH)


def case(hub, created, responded=None, due="2026-03-31"):
    return CaseFactory(
        hub=hub,
        created_at=at(created),
        first_responded_at=at(responded) if responded else None,
        first_response_due=dt.date.fromisoformat(due),
    )


def referral(case_, status, completed=None):
    return Referral.objects.create(
        case=case_,
        operator=Organisation.objects.get(slug="eksportraadet"),
        status=status,
        completed_at=at(completed) if completed else None,
    )


def rating(case_, value, given):
    return Feedback.objects.create(case=case_, rating=value, created_at=at(given))


@pytest.fixture
def hubs(db):
    return (
        Organisation.objects.get(slug="vaeksthus-midtjylland"),
        Organisation.objects.get(slug="vaeksthus-nordjylland"),
    )


@pytest.fixture
def fixture_cases(hubs):
    midt, nord = hubs
    # Midtjylland, March: first responses after 6, 48 and 120 hours; one never answered.
    c1 = case(midt, "2026-03-02 09:00", "2026-03-02 15:00", due="2026-03-04")  # 6 h, on time
    c2 = case(midt, "2026-03-03 10:00", "2026-03-05 10:00", due="2026-03-05")  # 48 h, on the day
    c3 = case(midt, "2026-03-04 12:00", "2026-03-09 12:00", due="2026-03-06")  # 120 h, late
    case(midt, "2026-03-10 08:00", due="2026-03-12")  # no answer, deadline passed
    # 00:30 on 1 April in Denmark is still 31 March in UTC: it belongs to April.
    case(midt, "2026-04-01 00:30", "2026-04-01 02:30", due="2026-04-02")  # 2 h, on time
    # Nordjylland, March: 1, 25, 24 and 30 hours, all on time; one still inside its deadline.
    b1 = case(nord, "2026-03-16 09:00", "2026-03-16 10:00", due="2026-03-18")
    case(nord, "2026-03-16 11:00", "2026-03-17 12:00", due="2026-03-18")
    case(nord, "2026-03-17 09:00", due="2026-04-20")  # not decided yet on 15 April
    case(nord, "2026-03-18 09:00", "2026-03-19 09:00", due="2026-03-20")
    case(nord, "2026-03-18 10:00", "2026-03-19 16:00", due="2026-03-20")
    # Referrals: only completed ones count, in the month they were completed.
    referral(c1, "completed", "2026-03-20 10:00")
    referral(c1, "completed", "2026-04-02 10:00")
    referral(c2, "proposed")
    referral(b1, "completed", "2026-03-31 23:30")  # 21:30 UTC: still March in Denmark
    referral(b1, "declined", "2026-03-25 10:00")
    # Ratings in the month they were given.
    rating(c1, 4, "2026-03-25 12:00")
    rating(c2, 5, "2026-03-26 12:00")
    rating(c3, 2, "2026-04-05 12:00")
    rating(b1, 3, "2026-03-30 12:00")
    return hubs


def _by(rows):
    return {(row.hub_name, row.month): row for row in rows}


def test_it_computes_every_monthly_figure_per_hub(fixture_cases):
    rows = _by(service_standards(first_month=MARCH, last_month=APRIL, today=TODAY))

    midt_march = rows[("Væksthus Midtjylland", MARCH)]
    assert midt_march.received == 4
    assert midt_march.responded == 3
    assert midt_march.median_hours == pytest.approx(48.0)  # median of 6, 48, 120
    assert (midt_march.within_promise, midt_march.decided) == (2, 4)
    assert midt_march.within_promise_share == pytest.approx(0.5)
    assert midt_march.referrals_completed == 1
    assert midt_march.rating_mean == pytest.approx(4.5)
    assert midt_march.ratings == 2

    midt_april = rows[("Væksthus Midtjylland", APRIL)]
    assert midt_april.received == 1
    assert midt_april.median_hours == pytest.approx(2.0)
    assert (midt_april.within_promise, midt_april.decided) == (1, 1)
    assert midt_april.referrals_completed == 1
    assert (midt_april.rating_mean, midt_april.ratings) == (pytest.approx(2.0), 1)

    nord_march = rows[("Væksthus Nordjylland", MARCH)]
    assert nord_march.received == 5
    assert nord_march.responded == 4
    assert nord_march.median_hours == pytest.approx(24.5)  # between 24 and 25 of 1, 24, 25, 30
    assert (nord_march.within_promise, nord_march.decided) == (4, 4)
    assert nord_march.referrals_completed == 1
    assert (nord_march.rating_mean, nord_march.ratings) == (pytest.approx(3.0), 1)

    assert set(rows) == {
        ("Væksthus Midtjylland", MARCH),
        ("Væksthus Midtjylland", APRIL),
        ("Væksthus Nordjylland", MARCH),
    }


def test_it_computes_period_figures_from_all_cases_not_from_monthly_medians(fixture_cases):
    rows = _by(service_standards(first_month=MARCH, last_month=APRIL, today=TODAY, by_month=False))

    midt = rows[("Væksthus Midtjylland", MARCH)]
    assert midt.received == 5
    assert midt.median_hours == pytest.approx(27.0)  # median of 2, 6, 48, 120
    assert (midt.within_promise, midt.decided) == (3, 5)
    assert midt.referrals_completed == 2
    assert midt.rating_mean == pytest.approx(11 / 3)
    assert midt.ratings == 3
    nord = rows[("Væksthus Nordjylland", MARCH)]
    assert (nord.received, nord.median_hours, nord.ratings) == (5, pytest.approx(24.5), 1)


def test_it_counts_a_case_not_yet_due_once_its_deadline_passes(fixture_cases):
    later = dt.date(2026, 4, 21)
    rows = _by(service_standards(first_month=MARCH, last_month=MARCH, today=later))
    nord = rows[("Væksthus Nordjylland", MARCH)]
    assert (nord.within_promise, nord.decided) == (4, 5)


def test_it_limits_the_figures_to_one_hub(fixture_cases):
    midt, _nord = fixture_cases
    rows = service_standards(first_month=MARCH, last_month=APRIL, today=TODAY, hub_id=midt.pk)
    assert {row.hub_name for row in rows} == {"Væksthus Midtjylland"}


def test_it_shows_analysts_the_figures_per_month_and_for_the_period(
    client, make_user, fixture_cases, django_assert_max_num_queries
):
    client.force_login(make_user("ana", organisation="erhvervsstyrelsen", role="Analytiker"))
    with django_assert_max_num_queries(8):
        response = client.get("/analyse/servicestandarder/", {"fra": "2026-03", "til": "2026-04"})

    assert response.status_code == 200
    assert list(response.context["months"]) == [APRIL, MARCH]
    body = response.content.decode()
    assert "Median for første svar (arbejdsdage)" in body
    assert "timer" not in body
    assert '50 % <span class="weight-normal">(2 af 4)</span>' in body
    assert '4,5 <span class="weight-normal">(n = 2)</span>' in body
    midt_march = next(
        r for r in response.context["months"][MARCH] if r.hub_name.endswith("dtjylland")
    )
    assert midt_march.median_working_days == 2.0  # of 0, 2 and 3 working days
    # The period's median for Midtjylland, of 0, 2, 3 (March) and 0 (April).
    midt_period = next(r for r in response.context["totals"] if r.hub_name.endswith("dtjylland"))
    assert midt_period.median_working_days == 1.0


def test_each_table_scrolls_in_a_region_named_by_its_own_caption(client, make_user, fixture_cases):
    client.force_login(make_user("ana", organisation="erhvervsstyrelsen", role="Analytiker"))
    body = client.get("/analyse/servicestandarder/", {"fra": "2026-03", "til": "2026-04"}).text

    regions = re.findall(
        r'<div class="table--responsive-scroll" tabindex="0" role="region" '
        r'aria-labelledby="([^"]*)">\s*<table[^>]*>\s*<caption id="([^"]*)">([^<]+)</caption>',
        body,
    )
    assert [(label, caption) for label, _same, caption in regions][:3] == [
        ("standards-period", "Hele perioden, marts 2026 – april 2026"),
        ("standards-2026-04", "April 2026"),
        ("standards-2026-03", "Marts 2026"),
    ]
    assert all(label == same for label, same, _caption in regions)


def test_it_filters_the_analyst_page_on_one_hub(client, make_user, fixture_cases):
    client.force_login(make_user("ana", organisation="erhvervsstyrelsen", role="Analytiker"))
    response = client.get(
        "/analyse/servicestandarder/",
        {"fra": "2026-03", "til": "2026-04", "vaeksthus": "vaeksthus-nordjylland"},
    )
    assert {row.hub_name for row in response.context["totals"]} == {"Væksthus Nordjylland"}
    assert "Væksthus Midtjylland</th>" not in response.content.decode()


@pytest.mark.parametrize("role", ["Rådgiver", "Redaktør"])
def test_it_refuses_the_analyst_page_to_other_roles(client, make_user, fixture_cases, role):
    client.force_login(make_user("x", organisation="vaeksthus-midtjylland", role=role))
    assert client.get("/analyse/servicestandarder/").status_code == 403


def test_the_public_summary_covers_the_last_three_complete_months(client, hubs):
    midt, nord = hubs
    today = timezone.localdate()
    last_month = add_months(today.replace(day=1), -1)
    noon = dt.time(12, 0)

    def local(day: dt.date, hours: int = 0) -> str:
        moment = dt.datetime.combine(day, noon) + dt.timedelta(hours=hours)
        return moment.isoformat(sep=" ", timespec="minutes")

    for index in range(6):
        answered = case(midt, local(last_month), local(last_month, 3 + index), due="2099-01-01")
        rating(answered, 4 if index % 2 else 5, local(last_month, 24))
    for _ in range(2):
        answered = case(nord, local(last_month), local(last_month, 10), due="2099-01-01")
        rating(answered, 1, local(last_month, 24))
    case(midt, local(today.replace(day=1)))  # this month: not in the summary yet
    case(midt, local(add_months(last_month, -3)))  # four months ago: too old

    response = client.get("/servicestandarder/")

    assert response.status_code == 200
    rows = {row.hub_name: row for row in response.context["hubs"]}
    assert rows["Væksthus Midtjylland"].received == 6
    assert rows["Væksthus Midtjylland"].median_working_days is not None
    body = response.content.decode()
    assert '4,5 <span class="weight-normal">(6 svar)</span>' in body
    # Nordjylland has two cases and two ratings: no share, time or mean from so few.
    assert rows["Væksthus Nordjylland"].within_promise_percent is None
    assert rows["Væksthus Nordjylland"].median_working_days is None
    assert rows["Væksthus Nordjylland"].rating_mean is None
    assert "Færre end 5 svar" in body and "Færre end 5 sager" in body
    assert "100 %" in body
    assert "2 arbejdsdage" in body


def test_the_time_to_first_response_is_counted_in_working_days_like_the_promise(fixture_cases):
    rows = _by(service_standards(first_month=MARCH, last_month=APRIL, today=TODAY))

    # Midtjylland, March: the same day (0), Tuesday to Thursday (2), Wednesday to Monday (3).
    assert rows[("Væksthus Midtjylland", MARCH)].median_working_days == 2.0
    # 00:30 on a working day counts from that day; answered at 02:30: the same working day.
    assert rows[("Væksthus Midtjylland", APRIL)].median_working_days == 0.0


def test_the_public_figures_follow_one_small_numbers_rule(fixture_cases):
    rows = _by(service_standards(first_month=MARCH, last_month=APRIL, today=TODAY))
    midt = rows[("Væksthus Midtjylland", MARCH)]  # 4 cases, 3 answered, 2 ratings

    shown = midt.public(min_count=3)
    hidden = midt.public(min_count=5)

    assert (shown.within_promise_percent, shown.median_working_days) == (50.0, 2)
    assert shown.rating_mean is None and shown.ratings is None  # 2 ratings < 3
    assert (hidden.within_promise_percent, hidden.median_working_days, hidden.decided) == (
        None,
        None,
        None,
    )
    assert hidden.received == 4  # a count of requests is no share of a few
