"""/vejledning/cvr/: the guidance form's CVR lookup, as JSON."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.test import Client

from crm.cvr_import import cvr_register_import
from crm.cvr_register import CvrLookupUnavailable, RegisterCompany

pytestmark = pytest.mark.django_db

URL = "/vejledning/cvr/"
REGISTER = (
    "cvr,name,address,postcode,city,municipality,industry,employees\n"
    "35120009,Nordjysk Maskinfabrik ApS,Håndværkervej 14,9000,Aalborg,851,282900,ANTAL_20_49\n"
    "35120017,Limfjordens Fiskeeksport A/S,Havnevej 3,7700,Thisted,787,999999,\n"
)


@pytest.fixture
def register() -> None:
    cvr_register_import(source=io.BytesIO(REGISTER.encode()))


def test_it_answers_the_register_s_public_facts_about_a_company(
    client: Client, register: None
) -> None:
    response = client.get(URL, {"cvr": "DK 3512 0009"})

    assert response.status_code == 200
    assert response.json() == {
        "cvr": "35120009",
        "name": "Nordjysk Maskinfabrik ApS",
        "address": "Håndværkervej 14",
        "postcode": "9000",
        "city": "Aalborg",
        "municipality": {"code": 851, "name": "Aalborg"},
        "industry": {
            "code": "282900",
            "section": "C",
            "group": "28",
            "label": "Fremstillingsvirksomhed",
        },
        "employees": {"min": 20, "max": 49, "label": "20–49"},
        "size": "small",
    }
    assert "no-cache" in response["Cache-Control"]


def test_it_leaves_out_what_the_register_does_not_state(client: Client, register: None) -> None:
    answer = client.get(URL, {"cvr": "35120017"}).json()

    assert (answer["industry"], answer["employees"], answer["size"]) == (None, None, None)


def test_it_speaks_english_on_the_english_site(client: Client, register: None) -> None:
    client.cookies["django_language"] = "en"

    answer = client.get(URL, {"cvr": "35120009"}, HTTP_ACCEPT_LANGUAGE="en").json()

    assert answer["industry"]["label"] == "Manufacturing"


def test_it_says_when_the_register_has_no_such_company(client: Client, register: None) -> None:
    response = client.get(URL, {"cvr": "35120025"})

    assert response.status_code == 404
    assert response.json() == {"detail": "CVR-nummeret 35120025 findes ikke i CVR-registeret."}


@pytest.mark.parametrize(
    ("cvr", "message"),
    [
        ("12345678", "CVR-nummeret 12345678 findes ikke. Tjek, at du har skrevet det rigtigt."),
        ("1234", "Et CVR-nummer har 8 cifre. Du har skrevet 4 cifre."),
        ("", "Skriv et CVR-nummer."),
        ("abc\x00", "Et CVR-nummer består kun af 8 cifre."),
    ],
)
def test_a_number_that_is_no_cvr_number_is_a_field_error(
    client: Client, cvr: str, message: str
) -> None:
    response = client.get(URL, {"cvr": cvr})

    assert response.status_code == 400
    assert response.json() == {"cvr": [message]}


class _DownProvider:
    def lookup(self, cvr: str) -> RegisterCompany | None:
        raise CvrLookupUnavailable


def test_a_register_that_cannot_answer_is_a_503_that_asks_to_come_back(
    client: Client, settings
) -> None:
    settings.CVR_LOOKUP_PROVIDER = f"{__name__}._DownProvider"

    response = client.get(URL, {"cvr": "35120009"})

    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert response.json() == {"detail": "Opslag i CVR-registeret virker ikke lige nu."}


def test_it_limits_lookups_per_client_like_the_other_public_endpoints(
    client: Client, settings, register: None
) -> None:
    settings.RATELIMIT_ENABLE = True
    cache.clear()
    try:
        statuses = [client.get(URL, {"cvr": "35120009"}).status_code for _ in range(31)]
    finally:
        cache.clear()

    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429
