from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.offers.factories import local_to, make_export_advice, make_offer


@pytest.fixture
def catalogue(live_url):
    make_export_advice(
        external_id="eksportstart",
        description="En rådgiver fra Eksportrådet hjælper jer med at vælge marked.",
        contact_email="eksport@example.dk",
    )
    make_offer(
        external_id="eksportkredit",
        title="Eksportkredit til større ordrer",
        summary="Finansiering, så I kan sige ja til en stor eksportordre.",
        themes=["export", "capital"],
        owner="eifo",
        price="paid",
    )
    make_offer(
        external_id="byggetilladelse",
        title="Byggetilladelse i Aarhus",
        summary="Vejledning før I søger om at bygge.",
        themes=["authority"],
        **local_to(751),
    )


def result_titles(page) -> list[str]:
    return page.locator(".search-result-title a").all_inner_texts()


def test_it_searches_filters_in_place_and_opens_an_offer(page, live_url, catalogue):
    page.goto(live_url + "/tilbud/")
    page.get_by_role("searchbox", name="Søg i tilbud").fill("eksportere")
    page.get_by_role("button", name="Søg", exact=True).click()

    expect(page.locator("#search-results-heading")).to_have_text("2 tilbud")
    assert sorted(result_titles(page)) == [
        "Eksportkredit til større ordrer",
        "Eksportrådgivning til små virksomheder",
    ]
    # Marks this page load: a full reload would lose it.
    page.evaluate("window.stillTheSamePage = true")

    page.get_by_role("checkbox", name=re.compile(r"^Gratis")).check()

    expect(page.locator("#search-results-heading")).to_have_text("1 tilbud")
    expect(page.locator("#search-status")).to_have_text("1 tilbud fundet")
    assert result_titles(page) == ["Eksportrådgivning til små virksomheder"]
    assert page.evaluate("window.stillTheSamePage") is True
    expect(page).to_have_url(re.compile(r"/tilbud/\?q=eksportere&price=free$"))
    expect(page.get_by_role("checkbox", name=re.compile(r"^Gratis"))).to_be_checked()

    page.get_by_role("link", name="Eksportrådgivning til små virksomheder").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Eksportrådgivning til små virksomheder"
    )
    guidance = page.locator("main").get_by_role("link", name="Få vejledning", exact=True)
    expect(guidance.first).to_have_attribute("href", "/vejledning/?offer=eksportstart")

    page.go_back()
    expect(page.locator("#search-results-heading")).to_have_text("1 tilbud")


def test_removing_a_filter_and_going_back_keep_the_address_and_results_in_step(
    page, live_url, catalogue
):
    page.goto(live_url + "/tilbud/?theme=export&price=paid")
    assert result_titles(page) == ["Eksportkredit til større ordrer"]

    page.get_by_role("link", name=re.compile(r"^Betalt")).click()

    expect(page.locator("#search-results-heading")).to_have_text("2 tilbud")
    expect(page).to_have_url(re.compile(r"/tilbud/\?theme=export$"))

    page.go_back()

    expect(page.locator("#search-results-heading")).to_have_text("1 tilbud")
    expect(page).to_have_url(re.compile(r"/tilbud/\?theme=export&price=paid$"))


def test_it_helps_when_nothing_is_found(page, live_url, catalogue):
    page.goto(live_url + "/tilbud/?q=byggetilladelse&price=paid")

    expect(page.get_by_text("Ingen tilbud passer til din søgning.")).to_be_visible()
    page.get_by_role("link", name="Fjern Betalt").click()

    expect(page.locator("#search-results-heading")).to_have_text("1 tilbud")
    assert result_titles(page) == ["Byggetilladelse i Aarhus"]
    expect(page).to_have_url(re.compile(r"/tilbud/\?q=byggetilladelse$"))


def test_the_search_page_passes_the_wcag_checks(page, live_url, catalogue, assert_accessible):
    page.goto(live_url + "/tilbud/?q=eksport&theme=export")
    expect(page.locator("#search-results-heading")).to_be_visible()

    assert_accessible(page)


def test_the_empty_search_page_passes_the_wcag_checks(page, live_url, catalogue, assert_accessible):
    page.goto(live_url + "/tilbud/?q=digitalsering")

    assert_accessible(page)


def test_the_offer_page_passes_the_wcag_checks(page, live_url, catalogue, assert_accessible):
    page.goto(live_url + "/tilbud/eksportkredit/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Eksportkredit til større ordrer")

    assert_accessible(page)


def test_a_company_narrows_the_catalogue_to_its_municipality(
    page, live_url, catalogue, assert_accessible
):
    page.goto(live_url + "/tilbud/")
    municipality = page.get_by_label("Kommune", exact=True)
    # The options tell how many offers each municipality would give.
    expect(municipality.locator("option", has_text="Aarhus Kommune")).to_have_text(
        "Aarhus Kommune (3 tilbud)"
    )
    expect(municipality.locator("option", has_text="Vejle Kommune")).to_have_text(
        "Vejle Kommune (2 tilbud)"
    )

    municipality.select_option(label="Vejle Kommune (2 tilbud)")

    expect(page.locator("#search-results-heading")).to_have_text("2 tilbud")
    assert "Byggetilladelse i Aarhus" not in result_titles(page)
    expect(page).to_have_url(re.compile(r"municipality=630"))
    expect(page.get_by_role("checkbox", name=re.compile(r"^Vejle Kommune"))).to_be_checked()
    assert_accessible(page)


def test_choosing_a_municipality_from_the_keyboard_reloads_only_when_chosen(
    page, live_url, catalogue
):
    page.goto(live_url + "/tilbud/")
    municipality = page.get_by_label("Kommune", exact=True)
    municipality.focus()

    # Arrow keys move through the list; each used to add that municipality to the filter.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(500)
    assert "municipality=" not in page.url
    expect(page.locator("#search-results-heading")).to_have_text("3 tilbud")

    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"municipality=\d+$"))
    assert page.url.count("municipality=") == 1
    # Focus stays on the list, now the one that adds another municipality.
    expect(page.get_by_label("Tilføj endnu en kommune")).to_be_focused()

    # Leaving the list applies what the keyboard chose, once.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    expect(page).to_have_url(re.compile(r"(municipality=\d+.*){2}"))
    assert page.url.count("municipality=") == 2


def test_on_a_phone_the_results_come_first_and_the_filters_fold(
    page, live_url, catalogue, assert_accessible, screenshot
):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_url + "/tilbud/?q=eksport")

    heading = page.locator("#search-results-heading")
    expect(heading).to_have_text("2 tilbud")
    first_result = page.locator(".search-result-title a").first
    box = first_result.bounding_box()
    assert box is not None and box["y"] < 844, f"the first result starts at {box}"
    toggle = page.get_by_role("button", name="Filtre")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("checkbox", name=re.compile(r"^Gratis"))).to_be_hidden()
    screenshot(page, "search-390-folded")
    assert_accessible(page)

    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.get_by_role("checkbox", name=re.compile(r"^Gratis")).check()
    expect(heading).to_have_text("1 tilbud")
    # Still open after the results were swapped in, and it says how many filters are chosen.
    toggle = page.locator(".search-filters-toggle")
    expect(toggle).to_have_text(re.compile(r"Filtre \(1 valgt\)"))
    expect(toggle).to_have_attribute("aria-expanded", "true")
    screenshot(page, "search-390-open")
    assert_accessible(page)

    page.get_by_role("link", name="Vis 1 tilbud").click()
    expect(heading).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "false")


def test_on_a_wide_screen_the_filters_stay_beside_the_results(page, live_url, catalogue):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_url + "/tilbud/?q=eksport")

    expect(page.get_by_role("button", name="Filtre")).to_be_hidden()
    expect(page.get_by_role("checkbox", name=re.compile(r"^Gratis"))).to_be_visible()
