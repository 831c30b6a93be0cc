"""The effects pages in a real browser: charts, tables, the indicator choice and WCAG checks."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.evaluation.factories import make_published_effects


@pytest.fixture
def measured(transactional_db):
    return make_published_effects()["growth"]


def test_the_effects_page_shows_charts_beside_tables_and_passes_the_wcag_checks(
    page, live_url, measured, assert_accessible
):
    page.goto(live_url + "/effekter/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Effekter af erhvervsfremme")
    expect(page.get_by_role("img", name="Beskæftigelse efter tema")).to_be_visible()
    table = page.get_by_role("table", name="Beskæftigelse: effekt pr. deltager efter tilbud")
    expect(table).to_be_visible()
    row = table.get_by_role("row", name="Vækstforløb for små virksomheder")
    expect(row).to_contain_text("+1,8")
    # In plain words before any interval.
    expect(page.locator(".effect-sentences")).to_contain_text(
        "Virksomheder, der brugte Vækstforløb for små virksomheder, havde to år efter i "
        "gennemsnit 1,8 flere fuldtidsansatte end lignende virksomheder."
    )
    # An offer with too few participants is listed apart, folded, with no figure.
    expect(table.get_by_role("row", name="Et lille tilbud")).to_have_count(0)
    apart = page.locator(".effect-unmeasured")
    expect(apart.locator("summary")).to_have_text("1 tilbud uden målt effekt")
    assert_accessible(page)
    apart.locator("summary").click()
    expect(apart.get_by_role("link", name="Et lille tilbud")).to_be_visible()
    expect(apart).to_contain_text("for få deltagere til at måle")
    assert_accessible(page)


def test_another_indicator_is_chosen_without_javascript_and_an_offer_opens(
    page, live_url, measured, assert_accessible
):
    page.goto(live_url + "/effekter/")

    page.get_by_label("Vis effekt på").select_option("revenue")
    page.get_by_role("button", name="Vis", exact=True).click()

    expect(page.get_by_role("heading", name="Omsætning efter tilbud")).to_be_visible()
    page.get_by_role("link", name="Vækstforløb for små virksomheder").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Effekt af Vækstforløb for små virksomheder"
    )
    expect(page.get_by_role("img", name="Omsætning efter deltagelsesår")).to_be_visible()
    assert_accessible(page)


def test_the_effects_page_passes_the_wcag_checks_on_a_small_phone(
    page, live_url, measured, assert_accessible
):
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(live_url + "/effekter/")

    assert_accessible(page)


def test_on_a_phone_the_charts_keep_readable_text(
    page, live_url, measured, assert_accessible, screenshot
):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_url + "/effekter/")

    chart = page.get_by_role("img", name="Beskæftigelse efter tilbud")
    expect(chart).to_be_visible()
    # The chart scrolls sideways instead of shrinking: its 14 px labels stay at least 12 px.
    box = chart.bounding_box()
    assert box is not None and box["width"] >= 720 * 12 / 14
    screenshot(page, "effects-390")
    assert_accessible(page)
