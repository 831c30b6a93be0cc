"""A company's confirmation page with its matches: the reasons in the page's language, the
alternative that cannot be combined named under the suggestion, and axe (WCAG 2.1 A and AA) in
Danish and English."""

from __future__ import annotations

from playwright.sync_api import expect

from routing.services import guidance_request_submit
from tests.routing.factories import export_offers_that_cannot_be_combined, submission


def test_a_company_reads_specific_reasons_and_the_alternative_in_both_languages(
    page, live_url, assert_accessible
) -> None:
    export_offers_that_cannot_be_combined(prefix="e2e-")
    request = guidance_request_submit(submission=submission(), channel="form")
    shown = request.matches[0]

    page.goto(live_url + request.get_absolute_url() + "kvittering/")
    expect(page.get_by_role("link", name=shown["title"])).to_be_visible()
    expect(page.get_by_text("Svarer på det, du skriver:").first).to_be_visible()
    expect(page.get_by_text("Kan ikke kombineres med")).to_be_visible()
    expect(
        page.get_by_role("link", name=shown["alternatives"][0]["title"], exact=True)
    ).to_be_visible()
    expect(page.get_by_role("link", name="Lån til vækst")).to_have_count(0)
    assert_accessible(page)

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_text("Answers what you wrote:").first).to_be_visible()
    expect(page.get_by_text("Matches your needs: export").first).to_be_visible()
    expect(page.get_by_text("Cannot be combined with")).to_be_visible()
    expect(page.get_by_text("Matcher dit behov")).to_have_count(0)
    assert_accessible(page)
