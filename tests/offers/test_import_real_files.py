"""import_offers with catalogues as source systems really write them: fields left out, a BOM,
and thousands of rows with the same mistake."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from offers.importing import import_offers
from offers.models import Offer
from tests.offers.test_importexport import jsonl, messages, row

LEFT_OUT = ("operator", "phases", "company_sizes", "price")


def minimal(**overrides):
    data = {key: value for key, value in row().items() if key not in LEFT_OUT}
    data.update(overrides)
    return data


def test_a_new_offer_without_operator_phases_sizes_or_price_is_run_by_its_owner_for_all(db):
    result = import_offers(source=jsonl(minimal()))

    assert result.ok, messages(result)
    offer = Offer.objects.get(external_id="eksportstart")
    assert offer.operator == offer.owner
    assert offer.operator.slug == "eksportraadet"
    assert offer.phases == ["idea", "startup", "growth", "established"]
    assert offer.company_sizes == ["micro", "small", "medium", "large"]
    # A missing price is said as it is, never guessed as free.
    assert offer.price == "not_stated"
    assert offer.get_price_display() == "Pris ikke oplyst"


def test_empty_or_null_lists_and_an_empty_operator_mean_all_and_the_owner(db):
    result = import_offers(
        source=jsonl(minimal(operator="", phases=[], company_sizes=None, price="free"))
    )

    assert result.ok, messages(result)
    offer = Offer.objects.get()
    assert offer.operator.slug == "eksportraadet"
    assert offer.phases == ["idea", "startup", "growth", "established"]
    assert offer.company_sizes == ["micro", "small", "medium", "large"]
    assert offer.price == "free"


def test_an_existing_offer_keeps_its_stored_values_for_fields_left_out(db):
    import_offers(source=jsonl(row()))

    result = import_offers(source=jsonl(minimal(title="Eksportstart 2027")))

    assert result.ok, messages(result)
    assert result.updated == ["eksportstart"]
    offer = Offer.objects.get()
    assert offer.title == "Eksportstart 2027"
    assert offer.operator.slug == "vaeksthus-midtjylland"
    assert (offer.phases, offer.company_sizes) == (["growth", "established"], ["small", "medium"])
    assert offer.price == "subsidised"


def test_an_offer_without_a_price_is_found_under_the_facet_price_not_stated(db, client):
    import_offers(source=jsonl(minimal(), row(external_id="gratis", price="free")))

    answer = client.get("/api/offers/", {"price": "not_stated"})

    assert [offer["external_id"] for offer in answer.json()["results"]] == ["eksportstart"]
    facet = {item["value"]: item["count"] for item in answer.json()["facets"]["price"]}
    assert facet["not_stated"] == 1


def test_a_file_with_a_byte_order_mark_is_read_by_the_command(db, tmp_path):
    path = tmp_path / "tilbud.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps([minimal()], ensure_ascii=False).encode())
    out = io.StringIO()

    call_command("import_offers", str(path), stdout=out)

    assert "1 offers were created" in out.getvalue()


def test_five_thousand_rows_with_one_mistake_are_reported_in_a_few_lines(db, tmp_path):
    rows = [minimal(external_id=f"tilbud-{n}", owner="eksportraadt") for n in range(5000)]
    rows[10]["themes"] = ["rumfart"]
    path = tmp_path / "tilbud.jsonl"
    path.write_text(jsonl(*rows), encoding="utf-8")
    err = io.StringIO()

    with pytest.raises(CommandError, match="5001 error"):
        call_command("import_offers", str(path), stderr=err)

    assert err.getvalue().splitlines() == [
        "linje 1, felt owner: ukendt organisation 'eksportraadt'",
        "linje 2, felt owner: ukendt organisation 'eksportraadt'",
        "linje 3, felt owner: ukendt organisation 'eksportraadt'",
        "felt owner: 4.997 linjer mere som linje 1",
        "linje 11, felt themes: ukendt tema 'rumfart'",
    ]
    assert not Offer.objects.exists()
