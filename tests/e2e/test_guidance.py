"""A company asks for guidance, sees its matches and reference; an adviser takes the case in the
admin; the company's private status page shows that it is being handled. Every public page on the
way passes axe (WCAG 2.1 A and AA)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from crm.models import Case
from routing.models import GuidanceRequest
from tests.offers.factories import make_export_start, make_offer


def test_a_company_asks_for_guidance_and_follows_its_case(
    page, live_url, make_user, assert_accessible
) -> None:
    make_export_start(company_sizes=["micro", "small"])
    make_offer(external_id="e2e-kapital", title="Lån til vækst", themes=["capital"])
    make_user("soeren", organisation="vaeksthus-syddanmark", role="Rådgiver", first_name="Søren")

    # The form, first sent empty: errors at each field, still accessible.
    page.goto(live_url + "/vejledning/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Få vejledning")
    expect(page.get_by_role("heading", name="Hvad sker der nu?")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Send henvendelse").click()
    expect(page.get_by_text("Der er fejl i formularen")).to_be_visible()
    expect(page.locator("#id_needs_error")).to_contain_text("Skriv kort, hvad du har brug for")
    assert_accessible(page)
    assert not Case.objects.exists()

    # Filled in properly.
    page.get_by_label("Hvad har du brug for hjælp til?").fill(
        "Vi vil gerne begynde at eksportere vores maskiner til Tyskland."
    )
    page.get_by_label("Eksport", exact=True).check()
    page.get_by_label("Kommune", exact=True).select_option(label="Vejle")
    expect(page.locator("#hub-preview")).to_contain_text("Væksthus Syddanmark")
    page.get_by_label("Virksomhedens navn").fill("Vejle Maskinfabrik ApS")
    page.get_by_label("Hvor er virksomheden nu?").select_option(label="Vækst")
    page.get_by_label("Antal ansatte").fill("25")
    page.get_by_label("Dit navn").fill("Mette Hansen")
    page.get_by_label("Din e-mail").fill("mette@vejle-maskinfabrik.dk")
    page.get_by_label("Dit telefonnummer").fill("+45 12 34 56 78")
    page.get_by_role("button", name="Send henvendelse").click()

    # The confirmation: reference, hub, date, matches with reasons, the private link.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Tak – vi har modtaget din henvendelse"
    )
    request = GuidanceRequest.objects.select_related("case").get()
    reference = request.case.reference
    expect(page.locator(".routing-reference")).to_have_text(reference)
    expect(page.get_by_text("Væksthus Syddanmark kontakter dig senest")).to_be_visible()
    expect(page.get_by_role("link", name="Eksportstart for små virksomheder")).to_be_visible()
    expect(page.get_by_text("Matcher dit behov: eksport")).to_be_visible()
    expect(page.get_by_role("link", name="Lån til vækst")).to_have_count(0)
    status_link = page.locator(".routing-status-link a")
    expect(status_link).to_have_attribute("href", re.compile(rf"/vejledning/{request.token}/$"))
    assert_accessible(page)

    # The adviser takes the case in the admin.
    adviser = page.context.new_page()
    adviser.goto(live_url + "/admin/login/?next=/admin/crm/case/")
    adviser.get_by_label("Brugernavn").fill("soeren")
    adviser.get_by_label("Adgangskode").fill("a-long-test-password")
    adviser.get_by_role("button", name="Log ind").click()
    adviser.get_by_role("link", name=reference).click()
    adviser.get_by_role("button", name="Tag sagen").click()
    expect(adviser.get_by_text("Du har taget sagen.")).to_be_visible()
    adviser.close()

    # The company's status page says it is being handled, and shows nothing internal.
    page.goto(status_link.get_attribute("href") or "")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Din henvendelse {reference}")
    expect(page.locator(".routing-status")).to_have_text("En rådgiver har taget din sag")
    expect(page.get_by_text("En rådgiver har taget din sag.")).to_be_visible()
    expect(page.get_by_text("Søren")).to_have_count(0)
    assert_accessible(page)


def test_on_a_phone_no_field_is_wider_than_its_column(page, live_url) -> None:
    # The industry select's longest option (section E) must not widen it, nor must larger text
    # (a user's bigger default font) push a field past its column or the screen's edge.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_url + "/vejledning/")
    industry = page.locator("#id_industry")
    longest = max(industry.locator("option").all_text_contents(), key=len)
    industry.select_option(label=longest)

    outside = """() => [...document.querySelectorAll(
        'main select, main textarea, main input:not([type=hidden]):not([type=radio])'
        + ':not([type=checkbox]):not([tabindex="-1"])')]
      .filter(el => {
        const box = el.getBoundingClientRect();
        const column = el.parentElement.getBoundingClientRect();
        return box.right > column.right + 0.5 || box.right > window.innerWidth;
      })
      .map(el => el.id)"""
    assert page.evaluate(outside) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Twice DKFDS's 10 px rem: its 32rem cap on fields would be 640 px.
    page.evaluate("document.documentElement.style.fontSize = '125%'")
    assert page.evaluate(outside) == []
