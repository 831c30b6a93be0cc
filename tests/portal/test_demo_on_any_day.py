"""``seed_demo`` gives a plausible demo on whatever day it runs, not only the day it was written."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from core.time import shift_months
from crm.models import Case
from governance.models import CatalogueSnapshot, GrowthAgreement
from offers import demo as offers_demo
from offers.models import Offer
from portal.management.commands import seed_demo
from routing.statistics import guidance_statistics

pytestmark = pytest.mark.django_db

CPH = ZoneInfo("Europe/Copenhagen")


def _catalogue_on(day: dt.date) -> tuple[int, int]:
    published = Offer.objects.published()
    open_offers = published.open_on(day).count()
    stale = published.stale_on(day, settings.OFFER_STALE_MONTHS).count()
    return open_offers, stale


def test_the_demo_catalogue_looks_the_same_loaded_months_later(time_machine) -> None:
    time_machine.move_to(dt.datetime(2026, 12, 15, 10, tzinfo=CPH))
    offers_demo.load(stdout=io.StringIO())
    as_written = _catalogue_on(dt.date(2026, 12, 15))

    time_machine.move_to(dt.datetime(2028, 6, 15, 10, tzinfo=CPH))
    offers_demo.load(stdout=io.StringIO())
    later = _catalogue_on(dt.date(2028, 6, 15))

    assert later == as_written
    open_offers, stale = later
    assert open_offers >= 100
    assert 0 < stale < open_offers / 4
    assert Offer.objects.filter(application_deadline__gt=dt.date(2028, 6, 15)).exists()


def test_the_demo_catalogue_never_moves_backwards() -> None:
    written = offers_demo.demo_catalogue(today=offers_demo.DEMO_AS_OF)

    assert offers_demo.demo_catalogue(today=dt.date(2026, 1, 10)) == written
    assert shift_months(dt.date(2027, 1, 31), 1) == dt.date(2027, 2, 28)
    assert shift_months(dt.date(2027, 12, 15), 1) == dt.date(2028, 1, 15)


@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(2028, 6, 15, 10, tzinfo=CPH),
        # New Year's night: still 2027 in UTC, already 2028 (and a holiday) in Denmark.
        dt.datetime(2027, 12, 31, 23, 30, tzinfo=dt.UTC),
    ],
    ids=["mid-2028", "new-years-night"],
)
def test_seed_demo_on_a_later_day_gives_recent_cases_agreements_and_statistics(
    time_machine, monkeypatch, moment: dt.datetime
) -> None:
    # The register panel and its effect run are historical data and slow to build: left out.
    monkeypatch.setattr(seed_demo, "DEMO_APPS", ("offers", "crm", "routing", "governance"))
    time_machine.move_to(moment)
    today = timezone.localdate()

    call_command("seed_demo", stdout=io.StringIO())

    week_ago = timezone.now() - dt.timedelta(days=7)
    assert Case.objects.filter(created_at__gte=week_ago).count() >= 5
    assert Case.objects.overdue_on(today).exists()
    assert Case.objects.filter(status=Case.Status.CLOSED, closed_at__lte=timezone.now()).exists()
    assert not Case.objects.filter(created_at__gt=timezone.now()).exists()
    assert (
        GrowthAgreement.objects.filter(
            year=today.year, status=GrowthAgreement.Status.SIGNED, signed_on__lte=today
        ).count()
        == 5
    )
    assert GrowthAgreement.objects.filter(year=today.year - 1).count() == 5
    assert CatalogueSnapshot.objects.filter(month=today.replace(day=1)).exists()
    assert Offer.objects.published().open_on(today).count() >= 100
    if today.month > 5:
        figures = guidance_statistics(year=today.year, today=today)
        assert figures.total >= 8
        assert any(hub.within_promise for hub in figures.hubs)
