"""The analysis pages with their figures' definitions, the status page's timeline and the guidance
form's address and CVR lookup: at 390 and 1280 px, in Danish and English, axe clean, nothing
wider than the window (wide tables scroll in focusable, named regions); the lookup also without
JavaScript."""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.time import add_months
from crm import services as crm_services
from crm.cvr_import import cvr_register_import
from crm.models import Case, Company
from governance.services import catalogue_snapshot_take
from offers.models import Offer
from routing.services import guidance_request_submit
from tests.evaluation.factories import make_published_effects
from tests.offers.factories import local_to, make_offer, regional_in
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
    "/analyse/arbejdsdeling/",
    "/servicestandarder/",
]

#: Elements that reach past the window's right edge without a scrolling (or clipping) box
#: around them that itself fits: what makes a page wider than the window.
STICKING_OUT = """(width) => {
  const out = [];
  for (const element of document.querySelectorAll("body *")) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 0.5) continue;
    let parent = element.parentElement, held = false;
    while (parent && parent !== document.body) {
      const overflow = getComputedStyle(parent).overflowX;
      if (overflow !== "visible" && parent.getBoundingClientRect().right <= width + 0.5) {
        held = true;
        break;
      }
      parent = parent.parentElement;
    }
    if (!held) out.push(`${element.tagName}.${element.className} ${Math.round(box.right)}`);
  }
  return out.slice(0, 5);
}"""
#: Boxes that scroll sideways but cannot be reached by keyboard or have no name.
UNREACHABLE_SCROLLERS = """() => [...document.querySelectorAll("main *")]
  .filter((e) => e.scrollWidth > e.clientWidth + 1
    && ["auto", "scroll"].includes(getComputedStyle(e).overflowX))
  .filter((e) => e.getAttribute("tabindex") !== "0" || e.getAttribute("role") !== "region"
    || !(e.getAttribute("aria-label")
         || (document.getElementById(e.getAttribute("aria-labelledby") || "") || {}).textContent))
  .map((e) => e.outerHTML.slice(0, 120))"""
#: The rendered size in px of the visible chart's axis labels.
CHART_TEXT_PX = """() => [...document.querySelectorAll("figure.trend-chart svg[viewBox]")]
  .filter((svg) => svg.getBoundingClientRect().width > 0)
  .flatMap((svg) => {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    return [...svg.querySelectorAll("text")].map((t) => t.getAttribute("font-size") * scale);
  })"""


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
    # The division of labour: a municipal export offer (a level mismatch that overlaps the state's),
    # a second state export offer from another operator, a regional offer open in one region.
    make_offer(
        external_id="eksport-kommune",
        title="Kommunalt eksportnetværk",
        themes=["export"],
        **local_to(561),
    )
    make_offer(external_id="eksport-eifo", title="Eksportlån", themes=["export"], owner="eifo")
    make_offer(
        external_id="region-lokal",
        title="Lokal kompetencepulje",
        themes=["growth"],
        **regional_in(1085),
    )
    # A year of the catalogue's trend.
    this_month = timezone.localdate().replace(day=1)
    for months_back in range(11, -1, -1):
        catalogue_snapshot_take(month=add_months(this_month, -months_back))
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
        assert page.evaluate(STICKING_OUT, width) == [], path
        assert page.evaluate(UNREACHABLE_SCROLLERS) == [], path
        assert_accessible(page)
        if path == "/analyse/udvikling/":
            sizes = page.evaluate(CHART_TEXT_PX)
            assert sizes and min(sizes) >= 13.5, sizes
        if path == "/analyse/arbejdsdeling/":
            main = page.locator("main")
            expect(
                main.get_by_role("link", name="Kommunalt eksportnetværk").first
            ).to_have_attribute("lang", "da")
            for external_id in ("eksport-kommune", "eksport-eifo", "region-lokal"):
                expect(main).not_to_contain_text(external_id)
        if path == "/analyse/vejledning/" and language == "en":
            expect(page.locator("main")).to_contain_text("Export")
            expect(page.locator("main")).not_to_contain_text("Eksport")
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
    if language == "en":
        expect(timeline).to_contain_text("The request has been received by")
        expect(timeline).not_to_contain_text("modtaget af")
    # The company's own words, in the language it wrote them in.
    expect(page.locator(".routing-needs")).to_have_attribute("lang", "da")
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
