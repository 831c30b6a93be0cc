"""Offers carry their state-aid basis and aid value: in the catalogue format, both ways."""

from __future__ import annotations

import pytest

from offers.exporting import offer_records
from offers.importing import import_offers
from offers.models import Offer
from tests.offers.test_importexport import jsonl, messages, row

pytestmark = pytest.mark.django_db


def test_import_and_export_carry_the_state_aid_basis_and_the_aid_value() -> None:
    result = import_offers(
        source=jsonl(row(state_aid_basis="de_minimis", aid_value_dkk=75_000)), user=None
    )
    assert not result.errors, messages(result)
    offer = Offer.objects.get(external_id="eksportstart")
    assert (offer.state_aid_basis, offer.aid_value_dkk) == ("de_minimis", 75_000)
    exported = next(offer_records(Offer.objects.filter(external_id="eksportstart")))
    assert exported["state_aid_basis"] == "de_minimis"
    assert exported["aid_value_dkk"] == 75_000
    assert exported["gber_article"] == ""


def test_a_gber_offer_names_its_article() -> None:
    result = import_offers(
        source=jsonl(row(state_aid_basis="gber", gber_article="18", aid_value_dkk=None)),
        user=None,
    )
    assert not result.errors, messages(result)
    assert Offer.objects.get(external_id="eksportstart").gber_article == "18"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"state_aid_basis": "de_minimis"}, "aid_value_dkk"),
        ({"state_aid_basis": "gber"}, "gber_article"),
        ({"state_aid_basis": "statsstøtte"}, "state_aid_basis"),
        ({"aid_value_dkk": -1}, "aid_value_dkk"),
        ({"aid_value_dkk": "75000"}, "aid_value_dkk"),
    ],
)
def test_bad_state_aid_rejects_the_line_and_names_the_field(changes, field) -> None:
    bad = import_offers(source=jsonl(row(external_id="stoette", **changes)), user=None)
    assert any(f"felt {field}" in m for m in messages(bad)), messages(bad)
    assert not Offer.objects.filter(external_id="stoette").exists()
