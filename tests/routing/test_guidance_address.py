"""/vejledning/: the company's address, and the CVR lookup that works without JavaScript."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from crm.cvr_import import cvr_register_import
from crm.cvr_register import CvrLookupUnavailable, RegisterCompany
from crm.models import Case, Company, Contact
from routing.models import GuidanceRequest
from tests.routing.factories import form_data

pytestmark = pytest.mark.django_db

NONCE = "a-one-time-form-nonce-0123456789"
REGISTER = (
    "cvr,name,address,postcode,city,municipality,industry,employees\n"
    "35120009,Nordjysk Maskinfabrik ApS,Håndværkervej 14,9000,Aalborg,851,282900,ANTAL_20_49\n"
)
LOOKUP = {"cvr_lookup": "1"}


@pytest.fixture
def register() -> None:
    cvr_register_import(source=io.BytesIO(REGISTER.encode()))


def nothing_stored() -> bool:
    return not (
        Case.objects.exists()
        or Company.objects.exists()
        or Contact.objects.exists()
        or GuidanceRequest.objects.exists()
    )


def value_of(html: str, name: str) -> str | None:
    """The value an input named ``name`` shows, or the selected option of a select."""
    field = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    if field:
        found = re.search(r'value="([^"]*)"', field.group(0))
        return found.group(1) if found else ""
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S)
    if select:
        found = re.search(r'<option value="([^"]*)"[^>]*selected', select.group(0))
        return found.group(1) if found else ""
    return None


def typed(**changes: Any) -> dict[str, Any]:
    """A form as a company types it before asking the register: needs, CVR and contact only."""
    data = {
        "nonce": NONCE,
        "needs": "Vi vil eksportere til Norge.",
        "themes": ["export"],
        "cvr": "35120009",
        "company_name": "",
        "municipality": "",
        "contact_name": "Mette Hansen",
        "contact_email": "mette@example.dk",
        **changes,
    }
    return {key: value for key, value in data.items() if value is not None}


def test_the_lookup_button_fills_in_the_register_s_facts_and_keeps_what_was_typed(
    client: Client, register: None
) -> None:
    response = client.post(reverse("routing:guidance"), {**typed(), **LOOKUP})

    html = response.content.decode()
    assert response.status_code == 200
    assert nothing_stored()
    assert value_of(html, "company_name") == "Nordjysk Maskinfabrik ApS"
    assert value_of(html, "address") == "Håndværkervej 14"
    assert value_of(html, "postcode") == "9000"
    assert value_of(html, "city") == "Aalborg"
    assert value_of(html, "municipality") == "851"
    assert value_of(html, "industry") == "C"
    assert value_of(html, "industry_group") == "28"
    assert value_of(html, "employees") == "20"
    assert value_of(html, "contact_name") == "Mette Hansen"
    assert value_of(html, "contact_email") == "mette@example.dk"
    assert value_of(html, "nonce") == NONCE
    assert "Vi vil eksportere til Norge." in html
    assert re.search(r'name="themes" value="export"[^>]*checked', html)
    assert "Udfyldt fra CVR-registeret: Nordjysk Maskinfabrik ApS." in html
    assert 'class="form-error' not in html


def test_the_lookup_never_replaces_what_the_company_typed_itself(
    client: Client, register: None
) -> None:
    data = typed(company_name="Maskinfabrikken", employees="12", industry="G")

    html = client.post(reverse("routing:guidance"), {**data, **LOOKUP}).content.decode()

    assert value_of(html, "company_name") == "Maskinfabrikken"
    assert value_of(html, "employees") == "12"
    assert value_of(html, "industry") == "G"
    # A group from the register's section would not fit the section the company chose.
    assert value_of(html, "industry_group") == ""
    assert value_of(html, "address") == "Håndværkervej 14"
    assert "Det, du selv havde skrevet, er ikke ændret." in html


class _DownProvider:
    def lookup(self, cvr: str) -> RegisterCompany | None:
        raise CvrLookupUnavailable


@pytest.mark.parametrize(
    ("cvr", "message"),
    [
        ("35120025", "Vi fandt ikke CVR-nummeret 35120025 i CVR-registeret."),
        ("12345678", "CVR-nummeret 12345678 findes ikke."),
        ("", "Skriv et CVR-nummer."),
    ],
)
def test_the_lookup_says_what_it_could_not_find_and_keeps_the_form(
    client: Client, register: None, cvr: str, message: str
) -> None:
    html = client.post(reverse("routing:guidance"), {**typed(cvr=cvr), **LOOKUP}).content.decode()

    assert message in html
    assert value_of(html, "contact_name") == "Mette Hansen"
    assert nothing_stored()


def test_a_register_that_cannot_answer_leaves_the_form_to_be_typed(
    client: Client, settings
) -> None:
    settings.CVR_LOOKUP_PROVIDER = f"{__name__}._DownProvider"

    html = client.post(reverse("routing:guidance"), {**typed(), **LOOKUP}).content.decode()

    assert "Vi kan ikke slå CVR-nummeret op lige nu." in html
    assert value_of(html, "company_name") == ""
    assert nothing_stored()


def test_the_lookup_button_speaks_english_on_the_english_page(
    client: Client, register: None
) -> None:
    client.cookies["django_language"] = "en"

    html = client.post(
        reverse("routing:guidance"), {**typed(), **LOOKUP}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()

    assert "Get details from CVR" in html
    assert "Filled in from the CVR register: Nordjysk Maskinfabrik ApS." in html


def test_the_form_offers_the_lookup_as_a_second_named_submit_button(client: Client) -> None:
    html = client.get(reverse("routing:guidance")).content.decode()

    lookup = re.search(r'<button type="submit" name="cvr_lookup"[^>]*>([^<]*)</button>', html)
    assert lookup is not None
    assert lookup.group(1) == "Hent oplysninger fra CVR"
    assert html.index('name="cvr_lookup"') < html.index("Send henvendelse")
    assert "Virksomhedens adresse" in html


def test_the_address_is_stored_on_the_company_and_shown_to_the_adviser(
    client: Client, django_user_model
) -> None:
    data = {
        "nonce": NONCE,
        **form_data(address="Vestergade 1", postcode="7100", city="Vejle"),
    }
    data.pop("consent")

    response = client.post(reverse("routing:guidance"), data)

    assert response.status_code == 302
    company = Company.objects.get()
    assert (company.address, company.postcode, company.city) == ("Vestergade 1", "7100", "Vejle")
    admin = django_user_model.objects.create_superuser("admin", "admin@example.dk", "pw-long-1")
    client.force_login(admin)
    page = client.get(f"/admin/crm/case/{Case.objects.get().pk}/change/").content.decode()
    assert "Vestergade 1, 7100 Vejle" in page


def test_a_postcode_must_be_four_digits(client: Client) -> None:
    data = {"nonce": NONCE, **form_data(postcode="71OO")}
    data.pop("consent")

    html = client.post(reverse("routing:guidance"), data).content.decode()

    assert "Et postnummer har 4 cifre, f.eks. 8000." in html
    assert nothing_stored()


def test_a_known_company_keeps_the_address_it_has(client: Client) -> None:
    first = {"nonce": NONCE, **form_data(cvr="35120009", address="Vestergade 1", city="Vejle")}
    again = {
        "nonce": "another-one-time-nonce-987654321",
        **form_data(cvr="35120009", address="Østergade 9", postcode="7100", city="Vejle"),
    }
    for data in (first, again):
        data.pop("consent")
        assert client.post(reverse("routing:guidance"), data).status_code == 302

    company = Company.objects.get()
    assert (company.address, company.postcode, company.city) == ("Vestergade 1", "", "Vejle")
