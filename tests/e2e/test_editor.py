"""An editor's day in the admin: open an offer, read the help, mark it reviewed and publish it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from offers.models import Offer
from tests.offers.factories import make_offer


def _log_in(page, live_url: str, username: str, target: str) -> None:
    page.goto(f"{live_url}/admin/login/?next={target}")
    page.get_by_label("Brugernavn").fill(username)
    page.get_by_label("Adgangskode").fill("a-long-test-password")
    page.get_by_role("button", name="Log ind").click()


@pytest.mark.parametrize("width", [1280, 390])
def test_an_editor_marks_an_offer_reviewed_and_publishes_it(
    page, live_url, make_user, assert_accessible, screenshot, width
):
    make_user("redaktoer-midt", organisation="region-midtjylland", role="Redaktør")
    offer = make_offer(
        external_id="midt-automatisering",
        title="Automatiseringstjek",
        owner="region-midtjylland",
        operator="vaeksthus-midtjylland",
        level="region",
        themes=["digitalisation"],
        status="draft",
        last_reviewed=dt.date(2024, 1, 1),
    )
    page.set_viewport_size({"width": width, "height": 900})

    _log_in(page, live_url, "redaktoer-midt", "/admin/offers/offer/")
    expect(page.get_by_role("link", name="Automatiseringstjek")).to_be_visible()
    expect(page.locator("th.column-status")).to_be_visible()
    if width == 1280:
        # Every column, the last one too, is on screen, not cut off behind a horizontal scroll.
        box = page.locator("#result_list th").last.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width
    screenshot(page, f"editor-list-{width}")
    assert_accessible(page)

    page.get_by_role("link", name="Automatiseringstjek").click()
    expect(page.get_by_text("Hvad står virksomheden med bagefter?")).to_be_visible()
    expect(page.get_by_label("Markér som gennemgået i dag")).to_be_checked()
    screenshot(page, f"editor-form-{width}")
    assert_accessible(page)

    # Preview first, in a new tab: the public page with the change, nothing saved.
    page.get_by_label("Titel").fill("Automatiseringstjek 2027")
    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Forhåndsvis den offentlige side").click()
    preview = opened.value
    expect(preview.get_by_role("heading", level=1)).to_have_text("Automatiseringstjek 2027")
    expect(preview.get_by_text("Forhåndsvisning", exact=True)).to_be_visible()
    screenshot(preview, f"editor-preview-{width}")
    assert_accessible(preview)
    preview.close()
    offer.refresh_from_db()
    assert offer.title == "Automatiseringstjek"

    page.locator("#id_status").select_option("published")
    page.get_by_role("button", name="Gem", exact=True).click()

    expect(page.get_by_text("er gemt og vises nu på portalen")).to_be_visible()
    screenshot(page, f"editor-saved-{width}")
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PUBLISHED
    assert offer.title == "Automatiseringstjek 2027"
    assert offer.last_reviewed == timezone.localdate()
