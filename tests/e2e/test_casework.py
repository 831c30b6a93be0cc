"""The casework pages in the admin at 1280 and 390 px, with axe: an adviser records an absence
and hands cases over; a company merge is previewed and done."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from crm import services
from crm.models import Absence, Case, Company
from offers.models import Organisation, Theme
from tests.crm.factories import CompanyFactory, ContactFactory


def login(page, live_url: str, username: str, next_url: str) -> None:
    page.goto(f"{live_url}/admin/login/?next={quote(next_url)}")
    page.get_by_label("Brugernavn").fill(username)
    page.get_by_label("Adgangskode").fill("a-long-test-password")
    page.get_by_role("button", name="Log ind").click()


def open_case(company: Company, contact_email: str) -> Case:
    return services.case_create(
        company=company,
        contact=ContactFactory.create(company=company, email=contact_email),
        hub=Organisation.objects.get(slug="vaeksthus-midtjylland"),
        needs="Vi vil gerne eksportere til Tyskland.",
        themes=Theme.objects.filter(slug="export"),
        source=Case.Source.WEB,
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_an_adviser_records_an_absence_and_hands_cases_over(
    page, live_url, make_user, assert_accessible, screenshot, width
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    mette = make_user(
        "mette", organisation="vaeksthus-midtjylland", role="Rådgiver", first_name="Mette"
    )
    make_user("anne", organisation="vaeksthus-midtjylland", role="Rådgiver", first_name="Anne")
    case = open_case(CompanyFactory.create(name="Skive Plast ApS"), "a@skive.dk")
    services.case_assign(case=case, adviser=mette, actor=mette)

    login(page, live_url, "mette", "/admin/crm/absence/add/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page)
    screenshot(page, f"absence-form-{width}")
    page.get_by_label("Fra og med").fill("01.02.2027")
    page.get_by_label("Til og med").fill("12.02.2027")
    page.get_by_label("Bemærkning").fill("Ferie")
    page.get_by_role("button", name="Gem", exact=True).click()
    expect(page.locator(".messagelist")).to_be_visible()
    absence = Absence.objects.get()
    assert absence.adviser == mette and str(absence.ends_on) == "2027-02-12"
    assert_accessible(page)
    screenshot(page, f"absence-list-{width}")

    page.get_by_role("link", name="Overdrag alle sager").click()
    page.get_by_label("Kollegaen, der overtager sagerne").select_option(
        label="Anne (Væksthus Midtjylland)"
    )
    page.get_by_role("button", name="Vis sagerne").click()
    expect(page.get_by_role("link", name=case.reference)).to_be_visible()
    assert_accessible(page)
    screenshot(page, f"handover-confirm-{width}")
    page.get_by_role("button", name="Overdrag sagerne").click()
    expect(page.get_by_text("åbne sager er overdraget til Anne")).to_be_visible()
    case.refresh_from_db()
    assert case.adviser is not None and case.adviser.username == "anne"


@pytest.mark.parametrize("width", [1280, 390])
def test_a_company_merge_is_previewed_and_done(
    page, live_url, make_user, assert_accessible, screenshot, width
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    make_user("mette", organisation="vaeksthus-midtjylland", role="Rådgiver", first_name="Mette")
    founder = CompanyFactory.create(cvr=None, name="Ida Iværksætter", employees=None)
    registered = CompanyFactory.create(name="Ida Design ApS")
    open_case(founder, "ida@example.dk")
    open_case(registered, "bo@example.dk")

    login(
        page,
        live_url,
        "mette",
        f"/admin/crm/company/slaa-sammen/?kept={founder.pk}&duplicate={registered.pk}",
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Slå virksomheder sammen")
    expect(page.get_by_text("fra dubletten").first).to_be_visible()
    assert_accessible(page)
    screenshot(page, f"merge-preview-{width}")

    page.get_by_role("button", name="Slå sammen").click()
    expect(page.get_by_text("er slået sammen med Ida Iværksætter")).to_be_visible()
    assert not Company.objects.filter(pk=registered.pk).exists()
    assert Case.objects.filter(company=founder).count() == 2
