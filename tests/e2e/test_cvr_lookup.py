"""The guidance form's CVR lookup on a phone: found and filled in, not found, register down, and
the form without JavaScript. Each state passes axe at 390 px."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect

from crm.cvr_import import cvr_register_import
from crm.cvr_register import CvrLookupUnavailable, RegisterCompany
from crm.models import Case

REGISTER = (
    "cvr,name,address,postcode,city,municipality,industry,employees\n"
    '35120106,Aarhus Software ApS,"Åboulevarden 22, 3.",8000,Aarhus C,751,620100,ANTAL_20_49\n'
)


@pytest.fixture
def register(live_url: str) -> None:
    cvr_register_import(source=io.BytesIO(REGISTER.encode()))


def phone(page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})


def test_a_company_fills_in_its_details_from_the_register_on_a_phone(
    page, live_url, register, assert_accessible, screenshot
) -> None:
    phone(page)
    page.goto(live_url + "/vejledning/")
    status = page.locator("#cvr-lookup-status")

    page.get_by_label("CVR-nummer").fill("3512 0106")

    expect(status).to_have_text(
        "CVR-registeret: Aarhus Software ApS, Åboulevarden 22, 3., 8000 Aarhus C."
    )
    fill = page.get_by_role("button", name="Udfyld virksomhedens oplysninger fra CVR")
    expect(fill).to_be_visible()
    # Nothing is filled in before the company asks.
    expect(page.locator("#id_company_name")).to_have_value("")
    assert_accessible(page)
    screenshot(page, "cvr-lookup-found-390")

    fill.click()

    # The two-digit main group too (DB07 620100 -> 62).
    expect(page.locator("#id_industry_group")).to_have_value("62")
    expect(page.locator("#id_company_name")).to_have_value("Aarhus Software ApS")
    expect(page.locator("#id_company_name")).to_be_focused()
    expect(page.locator("#id_municipality option:checked")).to_have_text("Aarhus")
    expect(page.locator("#id_industry")).to_have_value("J")
    expect(page.locator("#id_employees")).to_have_value("20")
    expect(status).to_contain_text("Udfyldt fra CVR-registeret")
    expect(status).to_contain_text("Registeret oplyser 20–49 ansatte; vi har skrevet 20.")
    expect(fill).to_be_hidden()
    # The municipality was set as if picked: the hub preview follows.
    expect(page.locator("#hub-preview")).to_contain_text("Væksthus Midtjylland")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    assert_accessible(page)
    screenshot(page, "cvr-lookup-filled-390")


def test_a_number_the_register_does_not_know_changes_nothing(
    page, live_url, register, assert_accessible
) -> None:
    phone(page)
    page.goto(live_url + "/vejledning/")
    page.get_by_label("Virksomhedens navn").fill("Min Idé ApS")

    page.get_by_label("CVR-nummer").fill("35120009")

    expect(page.locator("#cvr-lookup-status")).to_have_text(
        "Vi fandt ikke CVR-nummeret 35120009 i CVR-registeret."
        " Skriv virksomhedens oplysninger selv."
    )
    expect(page.locator("#id_company_name")).to_have_value("Min Idé ApS")
    expect(
        page.get_by_role("button", name="Udfyld virksomhedens oplysninger fra CVR")
    ).to_be_hidden()
    assert_accessible(page)


class _DownProvider:
    def lookup(self, cvr: str) -> RegisterCompany | None:
        raise CvrLookupUnavailable


def test_a_register_that_is_down_leaves_the_form_as_it_was_in_english(
    page, live_url, settings, assert_accessible, screenshot
) -> None:
    settings.CVR_LOOKUP_PROVIDER = f"{__name__}._DownProvider"
    phone(page)
    page.goto(live_url + "/vejledning/")
    page.get_by_role("button", name="English").click()
    page.get_by_label("Name of the business").fill("Aarhus Software ApS")

    page.get_by_label("CVR number").fill("35120106")

    expect(page.locator("#cvr-lookup-status")).to_have_text(
        "We cannot look the CVR number up right now. Please type the company's details yourself"
        " – the form works as usual."
    )
    expect(page.locator("#id_company_name")).to_have_value("Aarhus Software ApS")
    assert_accessible(page)
    screenshot(page, "cvr-lookup-down-390-en")


def test_the_form_is_sent_without_javascript(browser, live_url, register) -> None:
    context = browser.new_context(
        locale="da-DK", java_script_enabled=False, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    try:
        page.goto(live_url + "/vejledning/")
        expect(
            page.get_by_role("button", name="Udfyld virksomhedens oplysninger fra CVR")
        ).to_be_hidden()
        page.get_by_label("Hvad har du brug for hjælp til?").fill("Hjælp til at ansætte.")
        page.get_by_label("Kommune", exact=True).select_option(label="Aarhus")
        page.get_by_label("CVR-nummer").fill("35120106")
        page.get_by_label("Virksomhedens navn").fill("Aarhus Software ApS")
        page.get_by_label("Dit navn").fill("Mette Hansen")
        page.get_by_label("Din e-mail").fill("mette@example.dk")
        page.get_by_role("button", name="Send henvendelse").click()

        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Tak – vi har modtaget din henvendelse"
        )
        assert Case.objects.get().company.name == "Aarhus Software ApS"
    finally:
        context.close()
