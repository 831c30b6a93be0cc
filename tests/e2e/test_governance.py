"""Governance in the browser: page feedback, the new public pages and their accessibility."""

from __future__ import annotations

import io
import re

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


@pytest.fixture
def eager_tasks():
    from portal.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def _link(body: object, part: str) -> str:
    return next(word for word in str(body).split() if part in word)


def test_a_company_saves_a_search_confirms_it_from_the_email_and_receives_a_digest(
    page, live_url, demo_data, eager_tasks, assert_accessible
):
    from django.core import mail
    from django.utils import timezone

    from governance import alerts, tasks
    from offers.models import Offer

    page.goto(live_url + "/tilbud/?q=eksport")
    saving = page.get_by_role("region", name="Få besked om nye tilbud")
    saving.get_by_label("Din e-mail").fill("anne@skiveplast.dk")
    assert_accessible(page)
    saving.get_by_role("button", name="Gem søgning").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tjek din e-mail")
    assert_accessible(page)

    confirmation = mail.outbox[-1]
    assert confirmation.to == ["anne@skiveplast.dk"]
    confirm_link = _link(confirmation.body, "/gemte-soegninger/bekraeft/")
    page.goto(live_url + confirm_link.split("127.0.0.1:8000", 1)[1])
    assert_accessible(page)
    page.get_by_role("button", name="Bekræft søgningen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Søgningen er gemt")
    assert_accessible(page)

    # An export offer changes after the search was confirmed; the Monday job runs.
    shown_first = alerts.matching_offer_ids("q=eksport", today=timezone.localdate())[0]
    offer = Offer.objects.get(pk=shown_first)
    offer.summary += " Nu også for virksomheder med under 10 ansatte."
    offer.save()
    tasks.send_weekly_digests.apply()

    digest = mail.outbox[-1]
    assert digest.subject.startswith("Nye og ændrede tilbud i din gemte søgning")
    assert offer.title in digest.body
    unsubscribe_link = _link(digest.body, "/gemte-soegninger/afmeld/")
    page.goto(live_url + unsubscribe_link.split("127.0.0.1:8000", 1)[1])
    assert_accessible(page)
    page.get_by_role("button", name="Afmeld").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Du er afmeldt")


def test_an_analyst_reads_the_governance_pages_and_they_pass_the_wcag_checks(
    page, live_url, demo_data, make_user, assert_accessible
):
    make_user("karen", organisation="erhvervsstyrelsen", role="Analytiker")
    PageFeedback.objects.create(path="/tilbud/", answer="no", comment="Manglede eksporthjælp")

    page.goto(live_url + "/admin/login/?next=/analyse/udvikling/")
    page.get_by_label("Brugernavn").fill("karen")
    page.get_by_label("Adgangskode").fill("a-long-test-password")
    page.get_by_role("button", name="Log ind").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Færre, men stærkere aktører")
    expect(page.get_by_role("img", name="Tilbud, operatører og overlap pr. måned")).to_be_visible()
    assert_accessible(page)
    for path, heading in [
        ("/analyse/feedback/", "Tilbagemeldinger på sider"),
        ("/analyse/brug/", "Brug af portalen"),
        ("/analyse/servicestandarder/", "Servicestandarder pr. Væksthus"),
    ]:
        page.goto(live_url + path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert_accessible(page)


def test_after_sending_feedback_the_keyboard_focus_moves_to_the_answer(
    page, live_url, assert_accessible
):
    # A keyboard user answers and sends; the form disappears, so the focus must not fall back to
    # the top of the page: it lands on the thank-you, which the focus makes a screen reader read.
    # It is no live region as well (some screen readers would read it twice).
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_url + "/om/")
    feedback = page.get_by_role("region", name="Fandt du det, du ledte efter?")
    feedback.get_by_label("Ja").focus()
    page.keyboard.press("Space")
    feedback.get_by_role("button", name="Send tilbagemelding").focus()
    page.keyboard.press("Enter")

    thanks = feedback.locator(".js-page-feedback-status")
    expect(thanks).to_contain_text("Tak for din tilbagemelding")
    expect(thanks).to_be_focused()
    # Named by the answer: what a screen reader says when the focus lands there.
    expect(thanks).to_have_accessible_name(re.compile("^Tak for din tilbagemelding"))
    expect(feedback.locator("form")).to_be_hidden()
    # The question stays above the answer, a heading still (as without JavaScript).
    expect(
        feedback.get_by_role("heading", level=2, name="Fandt du det, du ledte efter?")
    ).to_be_visible()
    assert page.evaluate("document.activeElement !== document.body")
    assert feedback.locator("[role=status], [role=alert], [aria-live]").count() == 0
    assert PageFeedback.objects.filter(path="/om/", answer="yes").count() == 1
    assert_accessible(page)

    # Shift+Tab goes back into the page from where the form was, not from the top.
    page.keyboard.press("Shift+Tab")
    expect(page.locator("main:focus, main :focus")).to_have_count(1)


def test_when_feedback_cannot_be_sent_the_focus_moves_to_the_error(page, live_url):
    page.route(
        "**/feedback/",
        lambda route: route.fulfill(
            status=429,
            json={"message": "Du har sendt for mange tilbagemeldinger. Prøv igen senere."},
        ),
    )
    page.goto(live_url + "/om/")
    feedback = page.get_by_role("region", name="Fandt du det, du ledte efter?")
    feedback.get_by_label("Nej").check()
    feedback.get_by_role("button", name="Send tilbagemelding").press("Enter")

    status = feedback.locator(".js-page-feedback-status")
    expect(status).to_contain_text("Du har sendt for mange tilbagemeldinger")
    expect(status).to_have_accessible_name(re.compile("^Du har sendt for mange"))
    expect(status).to_be_focused()
    # The form stays, ready to send again.
    expect(feedback.get_by_role("button", name="Send tilbagemelding")).to_be_enabled()


def test_a_server_error_page_is_said_in_the_page_language_and_nothing_is_sent_twice(
    page, live_url, assert_accessible
):
    # Not the portal's JSON (a proxy's or server's error page): the answer says it was not sent,
    # in the page's language, and the visitor stays on the page with the form to send again; the
    # form is not posted a second time behind their back.
    posts = []

    def server_error(route):
        posts.append(route.request.method)
        route.fulfill(status=502, content_type="text/html", body="<h1>Bad Gateway</h1>")

    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_url}])
    page.route("**/feedback/", server_error)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_url + "/om/")
    feedback = page.get_by_role("region", name="Did you find what you were looking for?")
    feedback.get_by_label("No").check()
    feedback.get_by_role("button", name="Send feedback").press("Enter")

    status = feedback.locator(".js-page-feedback-status")
    expect(status).to_have_accessible_name(
        "Your feedback was not sent. Please try again in a moment."
    )
    expect(status).to_be_focused()
    expect(status.get_by_role("img", name="Error")).to_have_count(1)
    expect(feedback.get_by_role("button", name="Send feedback")).to_be_enabled()
    assert posts == ["POST"]
    assert page.url == live_url + "/om/"
    assert_accessible(page)


def test_sending_without_an_answer_gets_the_server_message_and_no_browser_bubble(
    page, live_url, assert_accessible
):
    # The browser's own check is off (its bubble speaks the browser's language and covers "Nej"):
    # the server's message comes back as the answer, with the focus, and nothing is stored.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_url + "/om/")
    feedback = page.get_by_role("region", name="Fandt du det, du ledte efter?")
    # The question names the radio group.
    expect(feedback.get_by_role("group", name="Fandt du det, du ledte efter?")).to_be_visible()
    feedback.get_by_role("button", name="Send tilbagemelding").press("Enter")

    status = feedback.locator(".js-page-feedback-status")
    expect(status).to_have_accessible_name("Vælg ja eller nej.")
    expect(status).to_be_focused()
    expect(status.get_by_role("img", name="Fejl")).to_have_count(1)
    assert not PageFeedback.objects.exists()

    # Answered, the same form sends, and the thank-you carries the success icon.
    feedback.get_by_role("radio", name="Ja", exact=True).check()
    feedback.get_by_role("button", name="Send tilbagemelding").press("Enter")
    expect(status).to_have_accessible_name(re.compile("^Tak for din tilbagemelding"))
    expect(status.get_by_role("img", name="Udført")).to_have_count(1)
    assert PageFeedback.objects.filter(answer="yes").count() == 1
    assert_accessible(page)
