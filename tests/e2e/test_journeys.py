"""The journeys of issue 17, each at 390 and 1280 px, in Danish and English.

- A company searches, reads an offer and asks for guidance.
- An adviser takes a case, answers, refers and closes it.
- An editor edits an offer, previews it and publishes it.

The language is chosen as a user chooses it: on a public page, with the language switch in the
page's top bar ("English"); the choice then holds in the admin too. Every step runs axe (WCAG 2.1
A and AA), checks that the page is in the chosen language and that it does not scroll sideways.

Not repeated here: the analyst's journey (the index /analyse/ and each report, at 390 and 1280 px,
in Danish and English, with axe and without sideways scrolling) is
test_analysis_figures_and_guidance_address.py::test_the_analysis_pages_show_their_definitions_and_pass_axe.
The Danish-only walk-throughs with counted clicks and reopening stay in test_adviser_flow.py and
test_editor.py.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.models import Case, Referral
from offers.models import Offer
from routing.models import GuidanceRequest
from tests.e2e.test_adviser_flow import open_case
from tests.e2e.test_search import catalogue  # noqa: F401 (a fixture: the offers searched)
from tests.offers.factories import make_export_start, make_offer

WIDTHS = [390, 1280]
LANGUAGES = ["da", "en"]

TEXT = {
    "da": {
        "username": "Brugernavn",
        "password": "Adgangskode",
        "log_in": "Log ind",
        "search_box": "Søg i tilbud",
        "search": "Søg",
        "results": "2 tilbud",
        "get_guidance": "Få vejledning",
        "needs": "Hvad har du brug for hjælp til?",
        "export": "Eksport",
        "municipality": "Kommune",
        "company_name": "Virksomhedens navn",
        "your_name": "Dit navn",
        "your_email": "Din e-mail",
        "send": "Send henvendelse",
        "thanks": "Tak – vi har modtaget din henvendelse",
        "cases": "Sager",
        "themes": "Temaer",
        "export_theme": "Eksport",
        "take": "Tag sagen",
        "taken": "Du har taget sagen.",
        "what_happened": "Hvad skete der?",
        "add": "Tilføj",
        "refer_to": "Henvis til {title}",
        "referred": "Virksomheden er henvist til",
        "close": "Luk sagen",
        "closed": "Sagen er lukket: Henvist til tilbud eller operatør.",
        "title": "Titel",
        "reviewed_today": "Markér som gennemgået i dag",
        "preview": "Forhåndsvis den offentlige side",
        "preview_label": "Forhåndsvisning",
        "save": "Gem",
        "published": "er gemt og vises nu på portalen",
    },
    "en": {
        "username": "Username",
        "password": "Password",
        "log_in": "Log in",
        "search_box": "Search offers",
        "search": "Search",
        "results": "2 offers",
        "get_guidance": "Get guidance",
        "needs": "What do you need help with?",
        "export": "Export",
        "municipality": "Municipality",
        "company_name": "Name of the business",
        "your_name": "Your name",
        "your_email": "Your e-mail",
        "send": "Send request",
        "thanks": "Thank you – we have received your request",
        "cases": "Cases",
        "themes": "Themes",
        "export_theme": "Export",
        "take": "Take the case",
        "taken": "You have taken the case.",
        "what_happened": "What happened?",
        "add": "Add",
        "refer_to": "Refer to {title}",
        "referred": "The company has been referred to",
        "close": "Close the case",
        "closed": "The case is closed: Referred to an offer or operator.",
        "title": "Title",
        "reviewed_today": "Mark as reviewed today",
        "preview": "Preview the public page",
        "preview_label": "Preview",
        "save": "Save",
        "published": "is saved and is now shown on the portal",
    },
}

journey = pytest.mark.parametrize(
    ("width", "language"), [(width, language) for width in WIDTHS for language in LANGUAGES]
)


def choose_language(page: Any, live_url: str, language: str, path: str = "/") -> None:
    """Opens a public page and, for English, presses the language switch as a visitor would."""
    page.goto(live_url + path)
    if language != "da":
        page.locator(".language-switch").get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", language)


def check_step(page: Any, width: int, language: str, assert_accessible: Any) -> None:
    """What every step must be: in the chosen language, no sideways scrolling, axe clean."""
    expect(page.locator("html")).to_have_attribute("lang", language)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} is {scroll_width} px wide at {width} px"
    assert_accessible(page)


def log_in(page: Any, live_url: str, text: dict[str, str], username: str, target: str) -> None:
    page.goto(f"{live_url}/admin/login/?next={quote(target)}")
    page.get_by_label(text["username"]).fill(username)
    page.get_by_label(text["password"]).fill("a-long-test-password")
    page.get_by_role("button", name=text["log_in"]).click()


@journey
@pytest.mark.usefixtures("catalogue")
def test_a_company_searches_reads_an_offer_and_asks_for_guidance(
    page, live_url, assert_accessible, screenshot, width, language
) -> None:
    text = TEXT[language]
    page.set_viewport_size({"width": width, "height": 900})
    choose_language(page, live_url, language, "/tilbud/")
    check_step(page, width, language, assert_accessible)

    page.get_by_role("searchbox", name=text["search_box"]).fill("eksportere")
    page.get_by_role("button", name=text["search"], exact=True).click()
    expect(page.locator("#search-results-heading")).to_have_text(text["results"])
    check_step(page, width, language, assert_accessible)
    screenshot(page, f"journey-company-search-{width}-{language}")

    page.get_by_role("link", name="Eksportrådgivning til små virksomheder").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Eksportrådgivning til små virksomheder"
    )
    check_step(page, width, language, assert_accessible)
    screenshot(page, f"journey-company-offer-{width}-{language}")

    page.locator("main").get_by_role("link", name=text["get_guidance"], exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(text["get_guidance"])
    expect(page.get_by_role("link", name="Eksportrådgivning til små virksomheder")).to_be_visible()
    check_step(page, width, language, assert_accessible)

    page.get_by_label(text["needs"]).fill("Vi vil gerne eksportere vores maskiner til Tyskland.")
    page.get_by_label(text["export"], exact=True).check()
    page.get_by_label(text["municipality"], exact=True).select_option(label="Vejle")
    page.get_by_label(text["company_name"]).fill("Vejle Maskinfabrik ApS")
    page.get_by_label(text["your_name"]).fill("Mette Hansen")
    page.get_by_label(text["your_email"]).fill("mette@vejle-maskinfabrik.dk")
    page.get_by_role("button", name=text["send"]).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(text["thanks"])
    request = GuidanceRequest.objects.select_related("case").get()
    expect(page.locator(".routing-reference")).to_have_text(request.case.reference)
    check_step(page, width, language, assert_accessible)
    screenshot(page, f"journey-company-thanks-{width}-{language}")
    assert request.case.language == language


@journey
def test_an_adviser_takes_answers_refers_and_closes_a_case(
    page, live_url, make_user, assert_accessible, screenshot, width, language
) -> None:
    text = TEXT[language]
    adviser = make_user("mette", organisation="vaeksthus-midtjylland", role="Rådgiver")
    offer = make_export_start()
    case = open_case("Skive Plast og Emballage ApS", offers=[offer])
    page.set_viewport_size({"width": width, "height": 900})
    choose_language(page, live_url, language)

    log_in(page, live_url, text, "mette", "/admin/")
    page.get_by_role("link", name=text["cases"], exact=True).first.click()
    expect(page.get_by_role("link", name=case.reference)).to_be_visible()
    check_step(page, width, language, assert_accessible)
    screenshot(page, f"journey-adviser-list-{width}-{language}")

    page.get_by_role("link", name=case.reference).click()
    # The case's facts in the page's language, the themes too.
    themes = page.locator(f".crm-facts dt:text-is('{text['themes']}') + dd")
    expect(themes).to_have_text(text["export_theme"])
    page.get_by_role("button", name=text["take"]).click()
    expect(page.get_by_text(text["taken"])).to_be_visible()
    check_step(page, width, language, assert_accessible)

    page.get_by_label(text["what_happened"]).fill("Ringede og aftalte et møde.")
    page.get_by_role("button", name=text["add"], exact=True).click()
    expect(page.locator(".crm-timeline__entry").first).to_contain_text(
        "Ringede og aftalte et møde."
    )
    check_step(page, width, language, assert_accessible)

    page.get_by_role("button", name=text["refer_to"].format(title=offer.title)).click()
    expect(page.get_by_text(text["referred"]).first).to_be_visible()
    check_step(page, width, language, assert_accessible)
    screenshot(page, f"journey-adviser-referred-{width}-{language}")

    page.get_by_role("button", name=text["close"]).click()
    expect(page.get_by_text(text["closed"]).first).to_be_visible()
    check_step(page, width, language, assert_accessible)
    screenshot(page, f"journey-adviser-closed-{width}-{language}")

    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED and case.outcome == Case.Outcome.REFERRED
    assert case.adviser == adviser and case.first_responded_at is not None
    assert Referral.objects.get(case=case).offer == offer


@journey
def test_an_editor_edits_previews_and_publishes_an_offer(
    page, live_url, make_user, assert_accessible, screenshot, width, language
) -> None:
    text = TEXT[language]
    make_user("redaktoer-midt", organisation="region-midtjylland", role="Redaktør")
    offer = make_offer(
        external_id="midt-automatisering",
        title="Automatiseringstjek",
        owner="region-midtjylland",
        operator="vaeksthus-midtjylland",
        level="region",
        themes=["digitalisation"],
        status="draft",
    )
    page.set_viewport_size({"width": width, "height": 900})
    choose_language(page, live_url, language)

    log_in(page, live_url, text, "redaktoer-midt", "/admin/offers/offer/")
    expect(page.get_by_role("link", name="Automatiseringstjek")).to_be_visible()
    check_step(page, width, language, assert_accessible)
    screenshot(page, f"journey-editor-list-{width}-{language}")

    page.get_by_role("link", name="Automatiseringstjek").click()
    expect(page.get_by_label(text["reviewed_today"])).to_be_checked()
    check_step(page, width, language, assert_accessible)
    screenshot(page, f"journey-editor-form-{width}-{language}")

    page.get_by_label(re.compile(rf"^{text['title']}:?$")).fill("Automatiseringstjek 2027")
    with page.context.expect_page() as opened:
        page.get_by_role("button", name=text["preview"]).click()
    preview = opened.value
    preview.set_viewport_size({"width": width, "height": 900})
    expect(preview.get_by_role("heading", level=1)).to_have_text("Automatiseringstjek 2027")
    expect(preview.get_by_text(text["preview_label"], exact=True)).to_be_visible()
    check_step(preview, width, language, assert_accessible)
    screenshot(preview, f"journey-editor-preview-{width}-{language}")
    preview.close()
    offer.refresh_from_db()
    assert offer.title == "Automatiseringstjek"

    page.locator("#id_status").select_option("published")
    page.get_by_role("button", name=text["save"], exact=True).click()
    expect(page.get_by_text(text["published"])).to_be_visible()
    check_step(page, width, language, assert_accessible)
    screenshot(page, f"journey-editor-saved-{width}-{language}")

    offer.refresh_from_db()
    assert offer.status == Offer.Status.PUBLISHED
    assert offer.title == "Automatiseringstjek 2027"
    assert offer.last_reviewed == timezone.localdate()
    page.goto(live_url + offer.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_have_text("Automatiseringstjek 2027")
    check_step(page, width, language, assert_accessible)
