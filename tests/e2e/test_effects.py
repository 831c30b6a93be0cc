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


def test_on_a_phone_a_hint_says_to_scroll_and_the_keyboard_scrolls_the_chart(
    page, live_url, measured, assert_accessible, screenshot
):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_url + "/effekter/")

    hints = page.get_by_text("Rul vandret for at se hele diagrammet.")
    expect(hints).to_have_count(3)
    expect(hints.first).to_be_visible()
    region = page.get_by_role("region", name="Diagram: Beskæftigelse efter niveau")
    assert region.evaluate("el => el.scrollWidth > el.clientWidth")
    # The page itself does not scroll sideways; the chart's region does, from the keyboard.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="Vis", exact=True).focus()
    page.keyboard.press("Tab")
    expect(region).to_be_focused()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.activeElement.scrollLeft > 0", polling=100, timeout=5000)
    screenshot(page, "effects-390-scrolled")
    assert_accessible(page)


def test_on_a_wide_screen_the_chart_fits_and_there_is_no_hint(page, live_url, measured):
    page.goto(live_url + "/effekter/")

    region = page.get_by_role("region", name="Diagram: Beskæftigelse efter niveau")
    expect(region).to_be_visible()
    assert region.evaluate("el => el.scrollWidth <= el.clientWidth")
    expect(page.get_by_text("Rul vandret for at se hele diagrammet.").first).to_be_hidden()
