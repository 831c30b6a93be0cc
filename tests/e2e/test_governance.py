"""Governance in the browser: page feedback, the new public pages and their accessibility."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect

from governance import demo
from governance.models import PageFeedback


@pytest.fixture
def demo_data(live_url):
    from offers import demo as offers_demo

    offers_demo.load(stdout=io.StringIO())
    demo.load(stdout=io.StringIO())


def test_a_visitor_says_a_page_did_not_help_and_is_thanked_in_place(page, live_url):
    page.goto(live_url + "/om/")
    feedback = page.get_by_role("region", name="Fandt du det, du ledte efter?")
    feedback.get_by_label("Nej").check()
    feedback.get_by_label("Fortæl os gerne mere").fill(
        "Jeg manglede telefonnummeret – ring 12 34 56 78"
    )
    feedback.get_by_role("button", name="Send tilbagemelding").click()

    expect(feedback.get_by_text("Tak for din tilbagemelding")).to_be_visible()
    assert page.url == live_url + "/om/"  # sent in place, no reload
    stored = PageFeedback.objects.get()
    assert (stored.path, stored.answer) == ("/om/", "no")
    assert "12 34 56 78" not in stored.comment


def test_feedback_works_without_javascript(browser, live_url):
    context = browser.new_context(locale="da-DK", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_url + "/om/")
        page.get_by_label("Ja").check()
        page.get_by_role("button", name="Send tilbagemelding").click()
        expect(page.get_by_text("Tak for din tilbagemelding")).to_be_visible()
        assert page.url.endswith("/om/?tilbagemelding=tak#feedback")
    finally:
        context.close()
    assert PageFeedback.objects.filter(answer="yes").count() == 1


@pytest.mark.parametrize(
    "path",
    [
        "/erhvervssamarbejder/",
        "/vaekstaftaler/",
        "/vaekstaftaler/midtjylland/",
        "/servicestandarder/",
    ],
)
def test_the_new_public_pages_pass_the_wcag_checks(
    page, live_url, demo_data, assert_accessible, path
):
    page.goto(live_url + path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page)


def test_the_feedback_thanks_pass_the_wcag_checks(page, live_url, assert_accessible):
    page.goto(live_url + "/om/?tilbagemelding=tak")
    expect(page.get_by_text("Tak for din tilbagemelding")).to_be_visible()
    assert_accessible(page)
