"""An adviser refers a company from a suggestion on the case page: one click carries the offer
and its reasons into the referral; the page passes axe (WCAG 2.1 A and AA) at 1280 and 390 px."""

from __future__ import annotations

from playwright.sync_api import expect

from crm.models import Referral
from routing.services import guidance_request_submit
from tests.routing.factories import export_offers_that_cannot_be_combined, submission


def test_an_adviser_refers_from_a_suggestion_in_one_click(
    page, live_url, make_user, assert_accessible, screenshot
) -> None:
    export_offers_that_cannot_be_combined(prefix="e2e-")
    request = guidance_request_submit(submission=submission(), channel="form")
    case = request.case
    suggested = request.matches[0]
    hub = case.hub.slug
    make_user("rikke", organisation=hub, role="Rådgiver", first_name="Rikke")

    page.goto(live_url + "/admin/login/?next=/admin/crm/case/")
    page.get_by_label("Brugernavn").fill("rikke")
    page.get_by_label("Adgangskode").fill("a-long-test-password")
    page.get_by_role("button", name="Log ind").click()
    page.get_by_role("link", name=case.reference).click()
    page.get_by_role("button", name="Tag sagen").click()
    expect(page.get_by_text("Du har taget sagen.")).to_be_visible()

    suggestions = page.locator(".crm-matches")
    expect(suggestions.get_by_text(suggested["title"], exact=True)).to_be_visible()
    # The reasons are shown with the suggestion, not a bare score.
    expect(suggestions.get_by_text("Svarer på det, du skriver:").first).to_be_visible()
    assert_accessible(page)
    screenshot(page, "suggestions-1280")

    page.get_by_role("button", name=f"Henvis til {suggested['title']}").click()

    expect(page.get_by_text(f"Virksomheden er henvist til {suggested['title']}")).to_be_visible()
    expect(suggestions.get_by_text("Virksomheden er henvist hertil.")).to_be_visible()
    expect(page.get_by_role("button", name=f"Henvis til {suggested['title']}")).to_have_count(0)
    referral = Referral.objects.get(case=case)
    assert referral.offer is not None
    assert referral.offer.external_id == suggested["external_id"]
    assert "Foreslået af portalen" in referral.note
    assert "Svarer på det, du skriver:" in referral.note
    assert_accessible(page)

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.locator(".crm-referrals")).to_contain_text(suggested["title"])
    assert_accessible(page)
    screenshot(page, "suggestions-390")
