"""The adviser's way from the login to a closed case, and back open, at 1280 and 390 px.

Clicks are counted as a user makes them: every button, link, summary or option chosen (typing is
not a click). The flow: log in, open the case list, open the case, take it, record the first
answer, refer the company to the offer the portal suggested, close the case.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from crm import services
from crm.models import Case, Referral
from offers.models import Organisation, Theme
from tests.crm.factories import CompanyFactory, ContactFactory
from tests.offers.factories import make_export_start


class Clicks:
    """Counts the clicks a test makes on the page."""

    def __init__(self) -> None:
        self.count = 0

    def click(self, locator) -> None:
        self.count += 1
        locator.click()


def open_case(name: str, *, offers=(), hub: str = "vaeksthus-midtjylland") -> Case:
    company = CompanyFactory.create(name=name)
    return services.case_create(
        company=company,
        contact=ContactFactory.create(company=company, name="Anne Holm"),
        hub=Organisation.objects.get(slug=hub),
        needs="Vi vil gerne eksportere til Tyskland.",
        themes=Theme.objects.filter(slug="export"),
        source=Case.Source.WEB,
        offers=offers,
        language="en",
    )


def login(page, live_url: str, clicks: Clicks, next_url: str = "") -> None:
    suffix = f"?next={quote(next_url)}" if next_url else ""
    page.goto(f"{live_url}/admin/login/{suffix}")
    page.get_by_label("Brugernavn").fill("mette")
    page.get_by_label("Adgangskode").fill("a-long-test-password")
    clicks.click(page.get_by_role("button", name="Log ind"))


@pytest.mark.parametrize("width", [1280, 390])
def test_from_the_login_to_a_closed_case_in_seven_clicks(
    page, live_url, make_user, assert_accessible, screenshot, width
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    adviser = make_user(
        "mette", organisation="vaeksthus-midtjylland", role="Rådgiver", first_name="Mette"
    )
    offer = make_export_start()
    case = open_case("Skive Plast og Emballage Internationale Handelsselskab ApS", offers=[offer])
    # A second case taken by a colleague with a long name: wide cells, as in a real queue.
    colleague = make_user(
        "anne",
        organisation="vaeksthus-midtjylland",
        role="Rådgiver",
        first_name="Anne-Marie",
        last_name="Kristensen-Søndergaard",
    )
    taken = open_case("Nordisk Digitalisering og Automatisering af Produktion A/S")
    services.case_assign(case=taken, adviser=colleague, actor=colleague)
    clicks = Clicks()

    login(page, live_url, clicks)
    clicks.click(page.get_by_role("link", name="Sager", exact=True).first)
    header = page.locator("#result_list thead th.column-deadline")
    expect(header).to_be_visible()
    if width == 1280:
        # The whole list fits: no column, the deadline least of all, is cut off or scrolled.
        box = header.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        results = page.locator("#changelist .results")
        screenshot(page, f"flow-case-list-{width}")
        assert results.evaluate("el => el.scrollWidth <= el.clientWidth")
    assert_accessible(page)
    screenshot(page, f"flow-case-list-{width}")

    clicks.click(page.get_by_role("link", name=case.reference))
    expect(page.locator("ol.breadcrumbs li[aria-current=page]")).to_have_text(case.reference)
    # Styled as the admin's breadcrumbs: a coloured band, not a bare list.
    assert page.locator("ol.breadcrumbs").evaluate(
        "el => getComputedStyle(el).backgroundColor"
    ) not in ("rgba(0, 0, 0, 0)", "transparent")
    expect(page.locator(".crm-facts")).to_contain_text("Engelsk")
    clicks.click(page.get_by_role("button", name="Tag sagen"))
    expect(page.get_by_text("Du har taget sagen.")).to_be_visible()

    # Nobody has answered the company yet: the activity is preset to a call.
    expect(page.get_by_label("Type")).to_have_value("call")
    page.get_by_label("Hvad skete der?").fill("Ringede og aftalte et møde.")
    clicks.click(page.get_by_role("button", name="Tilføj"))
    expect(page.get_by_text("Opkald er tilføjet.")).to_be_visible()

    clicks.click(page.get_by_role("button", name=f"Henvis til {offer.title}"))
    expect(page.get_by_text("Virksomheden er henvist til")).to_be_visible()

    # After the referral the close form is open with the outcome preset.
    expect(page.locator("#id_close-outcome")).to_have_value("referred")
    assert_accessible(page)
    screenshot(page, f"flow-case-referred-{width}")
    # The case page never scrolls sideways, on a phone either.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    clicks.click(page.get_by_role("button", name="Luk sagen"))
    expect(
        page.get_by_text("Sagen er lukket: Henvist til tilbud eller operatør.").first
    ).to_be_visible()

    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED and case.outcome == Case.Outcome.REFERRED
    assert case.adviser == adviser and case.first_responded_at is not None
    assert Referral.objects.get(case=case).offer == offer
    assert clicks.count == 7

    # Reopened with a reason: open again, the reason on the timeline.
    page.get_by_text("Genåbn sag", exact=True).first.click()
    page.get_by_role("button", name="Genåbn sag").click()
    expect(page.get_by_text("Skriv, hvorfor sagen genåbnes.").first).to_be_visible()
    page.get_by_label("Hvorfor genåbnes sagen?").fill("Virksomheden har et nyt spørgsmål.")
    page.get_by_role("button", name="Genåbn sag").click()
    expect(page.get_by_text("Sagen er genåbnet.")).to_be_visible()
    expect(page.locator(".crm-timeline__entry").first).to_contain_text(
        "Virksomheden har et nyt spørgsmål."
    )
    assert_accessible(page)
    screenshot(page, f"flow-case-reopened-{width}")
    case.refresh_from_db()
    assert case.is_open and case.outcome == "" and case.closed_at is None
