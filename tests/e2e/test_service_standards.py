"""/servicestandarder/ on a phone and on a desktop, in Danish and English: no wider than the
screen, one rule for small numbers, and axe clean."""

from __future__ import annotations

import datetime as dt
from typing import cast
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.time import add_months
from crm.models import Case, Feedback
from offers.models import Organisation
from tests.crm.factories import CaseFactory

CPH = ZoneInfo("Europe/Copenhagen")


@pytest.fixture
def last_month_cases(live_url: str) -> None:
    last_month = add_months(timezone.localdate().replace(day=1), -1)
    # The first Monday of last month, 10:00: answered 0, 1, 2 … working days later.
    monday = last_month + dt.timedelta(days=(7 - last_month.weekday()) % 7)
    start = dt.datetime.combine(monday, dt.time(10, 0), tzinfo=CPH)
    midt = Organisation.objects.get(slug="vaeksthus-midtjylland")
    nord = Organisation.objects.get(slug="vaeksthus-nordjylland")
    for index in range(6):
        answered = CaseFactory(
            hub=midt,
            created_at=start,
            first_responded_at=start + dt.timedelta(days=index % 2),
            first_response_due=monday + dt.timedelta(days=2),
        )
        Feedback.objects.create(case=cast(Case, answered), rating=4 + index % 2, created_at=start)
    for _ in range(2):
        CaseFactory(
            hub=nord,
            created_at=start,
            first_responded_at=start,
            first_response_due=monday + dt.timedelta(days=2),
        )


@pytest.mark.parametrize("width", [390, 1280])
def test_the_service_standards_fit_the_screen_in_both_languages(
    page, live_url, last_month_cases, assert_accessible, screenshot, width
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_url + "/servicestandarder/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Servicestandarder i Væksthusene")
    body = page.locator("main")
    expect(body).to_contain_text("Færre end 5 sager")  # Nordjylland: two cases
    expect(body).not_to_contain_text("timer")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert_accessible(page)
    screenshot(page, f"service-standards-{width}-da")

    page.get_by_role("button", name="English").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Service standards at the Væksthuse")
    expect(body).to_contain_text("Fewer than 5 cases")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert_accessible(page)
    screenshot(page, f"service-standards-{width}-en")
