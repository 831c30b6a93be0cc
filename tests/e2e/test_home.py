from __future__ import annotations

import re

import pytest
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
    # Focus is visible: the design system draws an outline on the focused element.
    assert skip_link.evaluate("el => getComputedStyle(el).outlineStyle") not in ("", "none")

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    expect(page.locator("main#main")).to_be_focused()


def test_it_passes_the_wcag_checks_on_desktop(page, live_url, assert_accessible):
    page.goto(live_url + "/")
    assert_accessible(page)


def test_it_passes_the_wcag_checks_on_a_small_phone(page, live_url, assert_accessible):
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(live_url + "/")
    assert_accessible(page)


def test_it_switches_to_english_and_stays_on_the_same_page(page, live_url):
    page.goto(live_url + "/om/")

    page.get_by_role("button", name="English").click()

    # The address was /om/ before the click too: wait for the English page, not for the address.
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(live_url + "/om/")
    expect(page.get_by_role("heading", level=1)).to_have_text("About Erhvervsfremmeportalen")
    expect(page.get_by_role("button", name="Dansk")).to_be_visible()


def test_it_opens_the_menu_on_a_small_phone(page, live_url, assert_accessible):
    console_errors: list[str] = []

    def record(message):
        if message.type == "error":
            console_errors.append(message.text)

    page.on("console", record)
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(live_url + "/")

    page.get_by_role("button", name="Menu").click()

    drawer = page.get_by_role("dialog", name="Menu")
    expect(drawer).to_be_visible()
    expect(page.get_by_role("button", name="Luk")).to_be_focused()
    expect(drawer.get_by_role("link", name="Få vejledning")).to_be_visible()
    assert_accessible(page)
    # The design system's script ran under the strict CSP without a single refusal.
    assert console_errors == []


def test_it_passes_the_wcag_checks_on_the_content_and_error_pages(
    page, live_url, assert_accessible
):
    # One test for several pages: each browser test pays for a database flush.
    for path in ["/om/", "/privatliv/", "/findes-ikke/"]:
        page.goto(live_url + path)
        assert page.locator("html").get_attribute("lang") == "da"
        assert_accessible(page)


@pytest.mark.parametrize("language", ["da", "en"])
def test_nothing_runs_past_a_phones_edge_with_the_text_size_doubled(browser, live_url, language):
    # A phone's "larger text" setting: the root font size doubled at 390 px. Long Danish words
    # ("Erhvervsfremmeportalen", "Tilgængelighedserklæring") must break and the menu button, the
    # search button and the situation cards must stay on the screen.
    context = browser.new_context(
        locale="da-DK", viewport={"width": 390, "height": 844}, bypass_csp=True
    )
    context.add_cookies([{"name": "django_language", "value": language, "url": live_url}])
    page = context.new_page()
    try:
        for path in ["/", "/tilbud/", "/vejledning/", "/om/"]:
            page.goto(live_url + path)
            page.add_style_tag(content="html { font-size: 200% !important; }")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
            menu = page.locator(".js-menu-open")
            box = menu.bounding_box()
            assert box is not None, path
            assert box["x"] + box["width"] <= 390, path
    finally:
        context.close()
