"""What works and what the rules allow, as people see it: a company reads the effect for
companies like it among its reasons, and an adviser reads a company's de minimis headroom; axe
(WCAG 2.1 A and AA) at 1280 and 390 px."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from playwright.sync_api import expect

from crm.models import DeMinimisAid
from offers.models import Offer
from routing.services import guidance_request_submit
from tests.crm.factories import CompanyFactory
from tests.evaluation.factories import make_run, make_segment
from tests.routing.factories import export_offers_that_cannot_be_combined, submission


def test_a_company_sees_what_worked_for_companies_like_it(
    page, live_url, assert_accessible, screenshot
) -> None:
    export_offers_that_cannot_be_combined(prefix="e2e-")
    run = make_run()
    for offer in Offer.objects.filter(external_id__startswith="e2e-eksport"):
        make_segment(offer=offer, run=run, size_band=1, section="C")
    request = guidance_request_submit(submission=submission(), channel="form")

    page.goto(live_url + request.get_absolute_url() + "kvittering/")
    effect = page.get_by_text("Virksomheder som din (10–49 ansatte, fremstillingsvirksomhed)")
    expect(effect.first).to_be_visible()
    expect(effect.first).to_contain_text("(95 % sikkerhed: 0,8–3,4; 230 virksomheder)")
    assert_accessible(page)
    screenshot(page, "what-works-company-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(effect.first).to_be_visible()
    assert_accessible(page)
    screenshot(page, "what-works-company-390")

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    english = page.get_by_text("Businesses like yours (10–49 employees, manufacturing)")
    expect(english.first).to_contain_text("(95 % confidence: 0.8–3.4; 230 businesses)")
    assert_accessible(page)


def test_an_adviser_sees_the_de_minimis_headroom_on_the_company_page(
    page, live_url, make_user, assert_accessible, screenshot
) -> None:
    make_user("mette", organisation="vaeksthus-midtjylland", role="Rådgiver", first_name="Mette")
    company = CompanyFactory.create(name="Skive Plast ApS")
    from crm import services
    from crm.models import Case
    from offers.models import Organisation, Theme
    from tests.crm.factories import ContactFactory

    services.case_create(
        company=company,
        contact=ContactFactory.create(company=company, name="Anne Holm"),
        hub=Organisation.objects.get(slug="vaeksthus-midtjylland"),
        needs="Vi vil gerne eksportere til Tyskland.",
        themes=Theme.objects.filter(slug="export"),
        source=Case.Source.WEB,
    )
    assert company.cvr is not None
    DeMinimisAid.objects.create(
        cvr=company.cvr,
        granted_on=timezone.localdate() - dt.timedelta(days=200),
        amount_dkk=1_238_000,
        grantor="Region Midtjylland",
    )

    page.goto(live_url + f"/admin/crm/company/{company.pk}/change/")
    page.get_by_label("Brugernavn").fill("mette")
    page.get_by_label("Adgangskode").fill("a-long-test-password")
    page.get_by_role("button", name="Log ind").click()

    section = page.get_by_role("region", name="De minimis-støtte")
    expect(section).to_be_visible()
    expect(section).to_contain_text("Rådighedsbeløb i dag")
    expect(section).to_contain_text("1.000.000 kr.")
    expect(section).to_contain_text("2.238.000 kr. (300.000 euro over tre år")
    assert_accessible(page)
    screenshot(page, "what-works-headroom-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(section).to_contain_text("1.000.000 kr.")
    assert_accessible(page)
    screenshot(page, "what-works-headroom-390")
