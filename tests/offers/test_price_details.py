"""What a company pays for a co-financed or paid offer: the share or the amount, everywhere."""

from __future__ import annotations

import io

import pytest
from django.test import Client

from offers import demo
from offers.exporting import offer_records
from offers.hsds import hsds_tables
from offers.importing import import_offers
from offers.models import Offer
from tests.offers.factories import make_offer
from tests.offers.test_importexport import jsonl, messages, row

pytestmark = pytest.mark.django_db

SHARE = "Du betaler 50 % af rådgiverens honorar"


def test_the_offer_page_and_the_results_say_what_the_company_pays(client: Client) -> None:
    offer = make_offer(
        external_id="halvt",
        title="Halvt betalt rådgivning",
        price="subsidised",
        price_details=SHARE,
    )

    page = client.get(offer.get_absolute_url()).text
    results = client.get("/tilbud/?q=rådgivning").text

    assert f'Medfinansieret – <span lang="da">{SHARE}</span>' in page
    assert f'Medfinansieret – <span lang="da">{SHARE}</span>' in results


def test_import_and_export_carry_it_and_a_too_long_text_names_its_line() -> None:
    result = import_offers(source=jsonl(row(price_details=SHARE)), user=None)
    assert not result.errors, messages(result)
    assert Offer.objects.get(external_id="eksportstart").price_details == SHARE
    exported = list(offer_records(Offer.objects.filter(external_id="eksportstart")))
    assert exported[0]["price_details"] == SHARE

    bad = import_offers(source=jsonl(row(external_id="lang", price_details="x" * 201)), user=None)
    assert any("price_details" in m and "200" in m for m in messages(bad)), messages(bad)
    assert not Offer.objects.filter(external_id="lang").exists()


def test_hsds_puts_it_in_the_fees_description() -> None:
    make_offer(external_id="halvt", price="subsidised", price_details=SHARE)
    services = hsds_tables(Offer.objects.filter(external_id="halvt"))["services.csv"]
    assert [s["fees_description"] for s in services] == [f"Medfinansieret – {SHARE}"]


def test_every_co_financed_demo_offer_says_on_its_page_what_the_company_pays(
    client: Client,
) -> None:
    demo.load(stdout=io.StringIO())
    co_financed = list(Offer.objects.filter(price="subsidised").order_by("external_id"))
    assert len(co_financed) > 10

    assert [o.external_id for o in co_financed if not o.price_details.strip()] == []
    offer = Offer.objects.get(external_id="region-hovedstaden-kompetencepulje")
    page = client.get(offer.get_absolute_url()).text
    assert f'Medfinansieret – <span lang="da">{offer.price_details}</span>' in page
    assert "75 %" in offer.price_details  # the share its description promises
