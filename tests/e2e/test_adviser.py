"""An adviser's day in the admin: take a case, record a meeting, refer to an offer, close it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from crm import services
from crm.models import Case, Referral
from offers.models import Organisation, Theme
from tests.crm.factories import CompanyFactory, ContactFactory
from tests.offers.factories import make_export_start


def test_an_adviser_takes_a_case_records_a_meeting_refers_and_closes_it(page, live_url, make_user):
    adviser = make_user(
        "mette", organisation="vaeksthus-midtjylland", role="Rådgiver", first_name="Mette"
    )
    offer = make_export_start()
    company = CompanyFactory.create(name="Skive Plast ApS")
    case = services.case_create(
        company=company,
        contact=ContactFactory.create(company=company, name="Anne Holm"),
        hub=Organisation.objects.get(slug="vaeksthus-midtjylland"),
        needs="Vi vil gerne eksportere til Tyskland.",
        themes=Theme.objects.filter(slug="export"),
        source=Case.Source.WEB,
    )

    page.goto(live_url + "/admin/login/?next=/admin/crm/case/")
    page.get_by_label("Brugernavn").fill("mette")
    page.get_by_label("Adgangskode").fill("a-long-test-password")
    page.get_by_role("button", name="Log ind").click()

    page.get_by_role("link", name=case.reference).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Skive Plast ApS")
    expect(page.get_by_text("Anne Holm")).to_be_visible()

    page.get_by_role("button", name="Tag sagen").click()
    expect(page.get_by_text("Du har taget sagen.")).to_be_visible()

    page.get_by_label("Type").select_option(label="Møde")
    page.get_by_label("Hvad skete der?").fill("Møde hos virksomheden om eksport til Tyskland.")
    page.get_by_role("button", name="Tilføj").click()
    expect(page.get_by_text("Møde er tilføjet.")).to_be_visible()

    page.get_by_text("Henvis til et tilbud").click()
    page.locator(".crm-action:has(#id_refer-note) .select2-selection").click()
    page.locator(".select2-search__field").fill("Eksportstart")
    page.get_by_role("option", name=re.compile("Eksportstart for små virksomheder")).click()
    page.get_by_label("Bemærkning").fill("Passer til deres planer.")
    page.get_by_role("button", name="Henvis", exact=True).click()
    expect(page.get_by_text("Virksomheden er henvist til Eksportstart")).to_be_visible()

    # After the referral the close form is open, the outcome preset to "referred".
    expect(page.locator("#id_close-outcome")).to_have_value("referred")
    page.get_by_role("button", name="Luk sagen").click()
    expect(
        page.get_by_text("Sagen er lukket: Henvist til tilbud eller operatør.").first
    ).to_be_visible()

    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED
    assert case.adviser == adviser
    assert case.timeline.filter(kind="meeting").exists()
    assert Referral.objects.get(case=case).offer == offer
    expect(page.locator(".crm-timeline__entry").first).to_contain_text("Lukket")


def test_an_adviser_registers_a_phone_call_as_a_case(page, live_url, make_user, assert_accessible):
    make_user("lars", organisation="vaeksthus-nordjylland", role="Rådgiver", first_name="Lars")

    page.goto(live_url + "/admin/login/?next=/admin/crm/case/")
    page.get_by_label("Brugernavn").fill("lars")
    page.get_by_label("Adgangskode").fill("a-long-test-password")
    page.get_by_role("button", name="Log ind").click()
    page.get_by_role("link", name="Opret sag").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Opret sag")
    assert_accessible(page)

    # Sent without the needs and the consent: the errors are listed and tied to their fields.
    page.get_by_label("Kommune").select_option(label="Aalborg")
    page.get_by_label("Virksomhedens navn").fill("Limfjordens Bådebyggeri ApS")
    page.get_by_label("Kontaktpersonens navn").fill("Jens Kristensen")
    page.get_by_label("Kontaktpersonens e-mail").fill("jens@baadebyggeri.dk")
    page.get_by_role("button", name="Opret sag").click()
    expect(page.get_by_text("Sagen blev ikke oprettet. Ret fejlene nedenfor.")).to_be_visible()
    expect(page.get_by_label("Virksomhedens navn")).to_have_value("Limfjordens Bådebyggeri ApS")
    assert_accessible(page)
    assert not Case.objects.exists()

    page.get_by_label("Hvad har virksomheden brug for hjælp til?").fill(
        "Vil gerne eksportere både til Norge."
    )
    page.get_by_label("Eksport").check()
    page.get_by_label(re.compile("Kontaktpersonen har fået at vide")).check()
    page.get_by_role("button", name="Opret sag").click()

    # The case's page has come back (the form's heading is "Opret sag"): the case is saved.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Limfjordens Bådebyggeri ApS")
    case = Case.objects.get()
    expect(page.get_by_text(f"Sag {case.reference} er oprettet")).to_be_visible()
    assert case.source == Case.Source.PHONE
    assert case.hub.slug == "vaeksthus-nordjylland"
    assert case.adviser is not None and case.adviser.username == "lars"
