from __future__ import annotations

import re

from playwright.sync_api import expect


def test_it_shows_the_front_page_in_danish_with_a_labelled_search_box(page, live_url):
    page.goto(live_url + "/")

    assert page.locator("html").get_attribute("lang") == "da"
    search = page.get_by_role("searchbox", name="Søg i tilbud")
    expect(search).to_be_visible()

    search.fill("eksport")
    search.press("Enter")
    page.wait_for_url(re.compile(r"/tilbud/\?q=eksport"))


def test_it_reaches_the_skip_link_first_and_it_moves_focus_to_the_content(page, live_url):
    page.goto(live_url + "/")

    page.keyboard.press("Tab")
    skip_link = page.locator(":focus")
    expect(skip_link).to_have_text("Gå til indhold")
    expect(skip_link).to_be_visible()

    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    expect(page.locator("main#main")).to_be_focused()


def test_it_passes_the_wcag_checks_on_desktop(page, live_url, assert_accessible):
    page.goto(live_url + "/")
    assert_accessible(page)


def test_it_passes_the_wcag_checks_on_a_small_phone(page, live_url, assert_accessible):
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(live_url + "/")
    assert_accessible(page)
