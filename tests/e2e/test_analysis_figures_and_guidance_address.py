"""The analysis pages with their figures' definitions, the status page's timeline and the guidance
form's address and CVR lookup: at 390 and 1280 px, in Danish and English, axe clean; the lookup
also without JavaScript."""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from crm import services as crm_services
from crm.cvr_import import cvr_register_import
from crm.models import Case, Company
from offers.models import Offer
from routing.services import guidance_request_submit
from tests.evaluation.factories import make_published_effects
from tests.routing.factories import OfferFactory, index_offers, submission

REGISTER = (
    "cvr,name,address,postcode,city,municipality,industry,employees\n"
    '35120106,Aarhus Software ApS,"Åboulevarden 22, 3.",8000,Aarhus C,751,620100,ANTAL_20_49\n'
)
ANALYSIS_PAGES = [
    "/analyse/",
    "/analyse/vejledning/",
    "/analyse/servicestandarder/",
    "/analyse/henvisninger/",
    "/analyse/udvikling/",
    "/analyse/brug/",
    "/analyse/feedback/",
    "/analyse/effekter/",
    "/servicestandarder/",
]


def set_language(page, live_url: str, language: str) -> None:
    host = live_url.split("//", 1)[1].split(":", 1)[0]
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "domain": host, "path": "/"}]
    )


def login(page, live_url: str, username: str) -> None:
    page.goto(f"{live_url}/admin/login/?next={quote('/analyse/')}")
    page.get_by_label("Brugernavn").fill(username)
    page.get_by_label("Adgangskode").fill("a-long-test-password")
    page.get_by_role("button", name="Log ind").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Analyser")


@pytest.fixture
def figures(live_url: str, make_user) -> str:
    """A request that was taken, referred and closed; an effect run; an analyst to read them."""
    OfferFactory(external_id="eksportstart", title="Eksportstart", themes=["export"])
    index_offers()
    request = guidance_request_submit(submission=submission(), channel="form")
    adviser = make_user("soeren", organisation="vaeksthus-syddanmark", role="Rådgiver")
    crm_services.case_assign(case=request.case, adviser=adviser, actor=adviser)
    crm_services.referral_create(
        case=request.case, offer=Offer.objects.get(external_id="eksportstart"), actor=adviser
    )
    crm_services.case_close(case=request.case, outcome="guided", actor=adviser)
    make_published_effects()
    make_user("analytiker", role="Analytiker")
    return request.get_absolute_url()


@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize("width", [390, 1280])
def test_the_analysis_pages_show_their_definitions_and_pass_axe(
    page, live_url, figures, assert_accessible, screenshot, width, language
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    login(page, live_url, "analytiker")
    set_language(page, live_url, language)
    for path in ANALYSIS_PAGES:
        page.goto(live_url + path)
        expect(page.locator("html")).to_have_attribute("lang", language)
        if path != "/analyse/":
            definitions = page.locator("details.figure-definitions")
            expect(definitions).to_be_visible()
            expect(definitions.locator("dfn").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        assert_accessible(page)
        name = path.strip("/").replace("/", "-") or "index"
        screenshot(page, f"analysis-{name}-{width}-{language}")


@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize("width", [390, 1280])
def test_the_status_timeline_is_in_the_page_s_language(
    page, live_url, figures, assert_accessible, screenshot, width, language
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    set_language(page, live_url, language)

    page.goto(live_url + figures)

    timeline = page.locator(".routing-timeline")
    if language == "en":
        expect(timeline).to_contain_text("An adviser has taken your case.")
        expect(timeline).not_to_contain_text("En rådgiver har taget din sag")
    else:
        expect(timeline).to_contain_text("En rådgiver har taget din sag.")
    expect(timeline.get_by_role("link", name="Eksportstart")).to_have_attribute("lang", "da")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert_accessible(page)
    screenshot(page, f"status-timeline-{width}-{language}")


@pytest.fixture
def register(live_url: str) -> None:
    cvr_register_import(source=io.BytesIO(REGISTER.encode()))


@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize("width", [390, 1280])
def test_the_lookup_fills_in_the_address_with_javascript(
    page, live_url, register, assert_accessible, screenshot, width, language
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    set_language(page, live_url, language)
    page.goto(live_url + "/vejledning/")
    # The script looks up as you type: the server's lookup button is gone.
    expect(page.locator("#cvr-lookup-submit")).to_have_count(0)

    page.locator("#id_cvr").fill("35120106")
    page.locator("#cvr-lookup-fill").click()

    expect(page.locator("#id_address")).to_have_value("Åboulevarden 22, 3.")
    expect(page.locator("#id_postcode")).to_have_value("8000")
    expect(page.locator("#id_city")).to_have_value("Aarhus C")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert_accessible(page)
    screenshot(page, f"guidance-address-{width}-{language}")


def test_without_javascript_the_lookup_button_fills_in_the_form_and_keeps_what_was_typed(
    browser, live_url, register, screenshot
) -> None:
    context = browser.new_context(
        locale="da-DK", java_script_enabled=False, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    try:
        page.goto(live_url + "/vejledning/")
        page.get_by_label("Hvad har du brug for hjælp til?").fill("Hjælp til at ansætte.")
        page.get_by_label("CVR-nummer").fill("35120106")
        page.get_by_label("Dit navn").fill("Mette Hansen")
        page.get_by_label("Din e-mail").fill("mette@example.dk")

        page.get_by_role("button", name="Hent oplysninger fra CVR").click()

        expect(page.locator("#cvr-lookup-status")).to_contain_text(
            "Udfyldt fra CVR-registeret: Aarhus Software ApS."
        )
        expect(page.locator("#id_company_name")).to_have_value("Aarhus Software ApS")
        expect(page.locator("#id_address")).to_have_value("Åboulevarden 22, 3.")
        expect(page.locator("#id_municipality option:checked")).to_have_text("Aarhus")
        expect(page.get_by_label("Hvad har du brug for hjælp til?")).to_have_value(
            "Hjælp til at ansætte."
        )
        expect(page.get_by_label("Dit navn")).to_have_value("Mette Hansen")
        assert not Case.objects.exists()
        screenshot(page, "guidance-lookup-without-javascript-390")

        page.get_by_role("button", name="Send henvendelse").click()

        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Tak – vi har modtaget din henvendelse"
        )
        company = Company.objects.get()
        assert company.address_line == "Åboulevarden 22, 3., 8000 Aarhus C"
    finally:
        context.close()
