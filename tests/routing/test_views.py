"""The public pages: /vejledning/, the confirmation, the private status page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from crm import services as crm_services
from crm.models import CONSENT_VERSION, Case, Company, Contact, Feedback, TimelineEntry
from offers.fields import danish_sort_key
from routing.models import GuidanceRequest
from routing.services import guidance_request_submit
from tests.pages import assert_contains
from tests.routing.factories import form_data, submission

pytestmark = pytest.mark.django_db

NONCE = "a-one-time-form-nonce-0123456789"


def post_form(client: Client, **changes: Any) -> Any:
    data = {"nonce": NONCE, **form_data(**changes)}
    if data.get("consent") is False:
        data.pop("consent")
    return client.post(reverse("routing:guidance"), data)


def main_content(response: Any) -> str:
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


def nothing_stored() -> bool:
    return not (
        Case.objects.exists()
        or Company.objects.exists()
        or Contact.objects.exists()
        or GuidanceRequest.objects.exists()
    )


# --- The form ---------------------------------------------------------------------------------


def test_it_shows_the_form_in_danish_with_the_98_municipalities_by_name(client: Client) -> None:
    response = client.get("/vejledning/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Hvad har du brug for hjælp til?" in html
    select = html.split('id="id_municipality"')[1].split("</select>")[0]
    options = re.findall(r'<option value="(\d+)">([^<]+)</option>', select)
    names = [name for _, name in options]
    assert len(options) == 98
    assert names[:3] == ["Aabenraa", "Aalborg", "Aarhus"]
    assert names[-1] == "Ærø"  # Æ, Ø and Å come after Z in Danish
    assert names.index("Tønder") < names.index("Tårnby")
    assert names == sorted(names, key=danish_sort_key)
    assert ("630", "Vejle") in options


def test_it_says_what_happens_next_before_the_send_button(client: Client, settings) -> None:
    settings.FIRST_RESPONSE_WORKING_DAYS = 3

    html = client.get("/vejledning/").content.decode()

    next_box = html.index("Hvad sker der nu?")
    assert next_box < html.index("Send henvendelse")
    assert "inden for 3 arbejdsdage" in html
    assert "Vejledningen er gratis." in html
    assert "afhænger af kommunen" in html


def test_the_form_informs_about_the_legal_basis_and_asks_for_no_consent(
    client: Client, settings
) -> None:
    settings.CONTACT_RETENTION_MONTHS = 24

    html = main_content(client.get("/vejledning/"))

    notice = html[html.index("Sådan bruger vi dine oplysninger") : html.index("Send henvendelse")]
    assert "databeskyttelsesforordningens artikel 6, stk. 1, litra e" in notice
    assert "databeskyttelsesloven" in notice
    assert "beder ikke om dit samtykke" in notice
    assert "24 måneder efter" in notice
    assert 'href="/privatliv/"' in notice
    assert 'name="consent"' not in html


def test_the_privacy_page_names_the_public_task_and_no_consent_to_withdraw(client: Client) -> None:
    html = main_content(client.get("/privatliv/"))

    assert "artikel 6, stk. 1, litra e" in html
    assert "trække dit samtykke tilbage" not in html
    assert "gøre indsigelse mod behandlingen" in html


def test_a_request_from_the_page_records_the_notice_it_showed(
    client: Client, export_offers: None
) -> None:
    response = post_form(client, consent=False)  # the page sends no such field

    assert response.status_code == 302
    contact = Contact.objects.get()
    assert contact.consent_version == CONSENT_VERSION
    assert contact.consent_at is not None


def test_it_renders_a_fresh_nonce_and_a_hidden_honeypot(client: Client) -> None:
    first = client.get("/vejledning/").content.decode()
    second = client.get("/vejledning/").content.decode()

    nonces = [re.findall(r'name="nonce" value="([^"]+)"', html) for html in (first, second)]
    assert len(nonces[0]) == len(nonces[1]) == 1
    assert nonces[0] != nonces[1]
    honeypot = first[first.index('class="routing-hp"') - 5 : first.index('name="website"') + 80]
    assert 'aria-hidden="true"' in honeypot
    assert 'tabindex="-1"' in honeypot
    assert 'autocomplete="off"' in honeypot


def test_it_names_the_offer_the_company_came_from(client: Client, export_offers: None) -> None:
    html = client.get("/vejledning/?offer=eksportstart").content.decode()

    assert "Du spørger om tilbuddet" in html
    # The offer's title is Danish on an English page too.
    assert 'href="/tilbud/eksportstart/" lang="da"' in html
    assert 'name="offer" value="eksportstart"' in html


def test_it_sends_the_company_to_a_confirmation_it_can_reload(
    client: Client, export_offers: None
) -> None:
    response = post_form(client)

    request = GuidanceRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/vejledning/{request.token}/kvittering/"
    first = main_content(client.get(response["Location"]))
    again = main_content(client.get(response["Location"]))
    assert request.case.reference in first
    assert "Vi sender også en kvittering" in first
    assert request.case.contact.email in first
    assert first == again


def test_it_creates_one_case_when_the_form_is_sent_twice(
    client: Client, export_offers: None
) -> None:
    data = form_data()

    first = client.post("/vejledning/", {"nonce": NONCE, **data})
    second = client.post("/vejledning/", {"nonce": NONCE, **data})

    assert first["Location"] == second["Location"]
    assert Case.objects.count() == 1


def test_it_carries_the_offer_the_company_came_from_into_the_case(
    client: Client, export_offers: None
) -> None:
    post_form(client, offer="kapital-lan", themes=["export"])

    request = GuidanceRequest.objects.get()
    assert request.origin_offer is not None
    assert request.origin_offer.external_id == "kapital-lan"
    assert request.matches[0]["external_id"] == "kapital-lan"
    assert request.matches[0]["reasons"][0] == "Det tilbud, du spurgte om"
    created = TimelineEntry.objects.get(case=request.case, action="crm.case.created")
    assert created.payload["origin_offer"] == "kapital-lan"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"cvr": "12345678"}, "cvr", "CVR-nummeret 12345678 findes ikke."),
        ({"municipality": "999"}, "municipality", "Vælg en af de 98 kommuner på listen."),
        ({"municipality": ""}, "municipality", "Vælg den kommune, virksomheden ligger i."),
        ({"needs": "   "}, "needs", "Skriv kort, hvad du har brug for hjælp til."),
        ({"contact_email": "mette-at-firma"}, "contact_email", "Skriv en gyldig e-mailadresse"),
        ({"needs": "x" * 5001}, "needs", "Teksten må højst være 5000 tegn (den er 5001)."),
        ({"contact_name": "x" * 201}, "contact_name", "Teksten må højst være 200 tegn"),
        ({"company_name": "x" * 201}, "company_name", "Teksten må højst være 200 tegn"),
        ({"contact_phone": "ring til mig"}, "contact_phone", "Skriv et telefonnummer med cifre"),
        ({"employees": "-3"}, "employees", "Antallet af ansatte kan ikke være negativt."),
        ({"themes": ["no-such-theme"]}, "themes", "er ikke et emne, vi kender."),
    ],
)
def test_it_explains_bad_input_at_the_field_in_danish_and_stores_nothing(
    client: Client, changes: dict[str, Any], field: str, message: str
) -> None:
    response = post_form(client, **changes)

    html = response.content.decode()
    assert response.status_code == 200
    error = re.search(rf'id="id_{field}_error">(.*?)</span>\s*</span>', html, re.S)
    assert error is not None, f"no error shown at {field}"
    assert message in error.group(1)
    assert re.search(rf'aria-describedby="[^"]*id_{field}_error', html) or (
        field == "themes" and "id_themes_error" in html
    )
    assert "Der er fejl i formularen" in html
    assert nothing_stored()


def test_the_error_summary_lists_the_errors_in_the_order_of_the_page(client: Client) -> None:
    response = post_form(
        client, needs="", municipality="", cvr="12345678", postcode="12", contact_email="x"
    )

    html = main_content(response)
    summary = html[html.index("Der er fejl i formularen") :]
    links = re.findall(r'<li><a href="#id_([a-z_]+?)(?:_0)?">', summary)
    page = re.findall(r'<(?:input|select|textarea)[^>]* id="id_([a-z_]+?)(?:_0)?"', html)
    assert links == sorted(links, key=page.index)
    assert links[:3] == ["needs", "municipality", "cvr"]
    assert links.index("postcode") < links.index("contact_email")


def test_it_pretends_to_accept_a_robot_that_fills_the_honeypot(client: Client) -> None:
    response = post_form(client, website="http://spam.example")

    assert response.status_code == 200
    assert "Tak for din henvendelse" in response.content.decode()
    assert nothing_stored()


def test_it_refuses_too_many_submissions_from_one_address_in_danish(
    client: Client, settings, export_offers: None
) -> None:
    settings.RATELIMIT_ENABLE = True
    from django.core.cache import cache

    cache.clear()
    statuses = [post_form(client, needs="Eksport").status_code for _ in range(21)]

    assert statuses[:20] == [302] * 20
    assert statuses[20] == 429
    limited = post_form(client)
    assert "Du har sendt for mange forespørgsler" in limited.content.decode()
    assert Case.objects.count() == 1  # the same nonce: one case however often it is sent
    cache.clear()


# --- Confirmation -----------------------------------------------------------------------------


@pytest.fixture
def submitted(export_offers: None) -> GuidanceRequest:
    return guidance_request_submit(submission=submission(), channel="form", form_nonce=NONCE)


def test_it_confirms_with_reference_hub_contact_date_matches_and_status_link(
    client: Client, submitted: GuidanceRequest
) -> None:
    response = client.get(f"/vejledning/{submitted.token}/kvittering/")

    html = response.content.decode()
    assert submitted.case.reference in html
    assert_contains(
        html,
        "Væksthus Syddanmark",
        "Vesterballevej 5, 7000 Fredericia",
        "+45 76 10 10 00",
        "kontakt@vaeksthus-syddanmark.dk",
        'href="/tilbud/eksportstart/"',
        "Matcher dit behov: eksport",
        "For virksomheder med 10–49 ansatte",
    )
    assert f"http://testserver/vejledning/{submitted.token}/" in html


def test_it_writes_the_expected_response_date_in_danish(
    client: Client, submitted: GuidanceRequest
) -> None:
    Case.objects.filter(pk=submitted.case_id).update(first_response_due="2026-12-01")

    html = client.get(f"/vejledning/{submitted.token}/kvittering/").content.decode()

    assert "tirsdag den 1. december 2026" in html


@pytest.mark.parametrize("suffix", ["", "kvittering/"])
def test_it_keeps_private_pages_out_of_search_engines_and_caches(
    client: Client, submitted: GuidanceRequest, suffix: str
) -> None:
    response = client.get(f"/vejledning/{submitted.token}/{suffix}")

    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Cache-Control"] == "private, no-store"
    # Not "no-referrer": browsers would send "Origin: null" with the page's own forms.
    assert response["Referrer-Policy"] == "same-origin"
    html = response.content.decode()
    assert '<meta name="robots" content="noindex,nofollow">' in html
    # Nothing on the page sends its private address anywhere that keeps it.
    assert 'action="/feedback/"' not in html


@pytest.mark.parametrize("suffix", ["", "kvittering/"])
def test_it_answers_404_for_an_unknown_token(
    client: Client, submitted: GuidanceRequest, suffix: str
) -> None:
    wrong = submitted.token[:-2] + ("AA" if not submitted.token.endswith("AA") else "BB")

    assert client.get(f"/vejledning/{wrong}/{suffix}").status_code == 404
    assert client.get(f"/vejledning/x/{suffix}").status_code == 404


# --- Status page ------------------------------------------------------------------------------


@pytest.fixture
def adviser(make_user):
    return make_user(
        "soeren",
        organisation="vaeksthus-syddanmark",
        role="Rådgiver",
        first_name="Søren",
        last_name="Østergaard",
    )


def test_it_shows_status_hub_and_the_public_timeline_only(
    client: Client, submitted: GuidanceRequest, adviser
) -> None:
    crm_services.case_assign(case=submitted.case, adviser=adviser, actor=adviser)
    crm_services.case_note_add(
        case=submitted.case, kind="note", text="Intern note: ring efter frokost", actor=adviser
    )

    html = client.get(f"/vejledning/{submitted.token}/").content.decode()

    assert "En rådgiver har taget din sag" in html
    assert "Henvendelsen er modtaget af Væksthus Syddanmark." in html
    assert "Væksthus Syddanmark" in html
    assert "Intern note" not in html
    assert "Østergaard" not in html
    assert submitted.case.contact.email not in html


def test_it_asks_for_feedback_only_once_the_case_is_closed(
    client: Client, submitted: GuidanceRequest, adviser
) -> None:
    url = f"/vejledning/{submitted.token}/"
    assert "Hvordan gik det?" not in client.get(url).content.decode()
    refused = client.post(url, {"rating": "5"}, follow=True)
    assert "Du kan give tilbagemelding, når sagen er lukket." in refused.content.decode()

    crm_services.case_assign(case=submitted.case, adviser=adviser, actor=adviser)
    crm_services.case_close(case=submitted.case, outcome="guided", actor=adviser)
    html = client.get(url).content.decode()
    assert "Hvordan gik det?" in html
    assert html.count('type="radio" name="rating"') == 5

    response = client.post(url, {"rating": "4", "comment": "Hurtigt svar"}, follow=True)
    assert "Tak for din tilbagemelding." in response.content.decode()
    feedback = Feedback.objects.get(case=submitted.case)
    assert (feedback.rating, feedback.comment) == (4, "Hurtigt svar")

    again = client.post(url, {"rating": "1"}, follow=True).content.decode()
    assert "Der er allerede givet tilbagemelding på denne sag." in again
    assert "Hvordan gik det?" not in again
    assert Feedback.objects.get(case=submitted.case).rating == 4


def test_it_requires_a_rating_from_1_to_5(
    client: Client, submitted: GuidanceRequest, adviser
) -> None:
    crm_services.case_assign(case=submitted.case, adviser=adviser, actor=adviser)
    crm_services.case_close(case=submitted.case, outcome="guided", actor=adviser)

    response = client.post(f"/vejledning/{submitted.token}/", {"rating": "9"})

    assert (
        "Vælg en gyldig mulighed" in response.content.decode()
        or "Vælg" in response.content.decode()
    )
    assert not Feedback.objects.exists()


# --- The live hub preview ---------------------------------------------------------------------


def test_it_tells_the_form_which_hub_a_municipality_goes_to(client: Client) -> None:
    response = client.get("/vejledning/vaeksthus/", {"municipality": "851"})

    assert response.json()["hub"]["name"] == "Væksthus Nordjylland"
    assert response.json()["municipality"] == "Aalborg Kommune"
    assert client.get("/vejledning/vaeksthus/", {"municipality": "abc"}).status_code == 404
