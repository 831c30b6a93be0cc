"""An offer's DB07 main groups (``industry_groups``): the format, the API and the admin form
check them field by field, and they travel through export and import."""

import json

import pytest

from offers.admin_forms import OfferAdminForm
from offers.catalogue_format import industry_groups_problems
from offers.db07 import all_groups, section_of_group
from offers.exporting import offer_records
from offers.importing import import_offers
from offers.models import Offer
from tests.offers.test_importexport import jsonl, messages, row


def test_db07_main_groups_and_their_sections() -> None:
    assert section_of_group("31") == "C"
    assert section_of_group("01") == "A"
    assert section_of_group("62") == "J"
    assert section_of_group("99") == "U"
    for none in ("00", "04", "34", "3", "310", "C3", ""):
        assert section_of_group(none) is None
    assert len(all_groups()) == 88


def test_problems_name_the_bad_code_and_the_section_outside_the_offer() -> None:
    assert industry_groups_problems(["31", "14"], ["C"]) == []
    assert industry_groups_problems(["31"], []) == []
    (bad,) = industry_groups_problems(["3x"], ["C"])
    assert "3x" in bad
    (outside,) = industry_groups_problems(["62"], ["C"])
    assert "62" in outside
    assert "J" in outside


def test_import_stores_sorted_groups_and_export_gives_them_back(db) -> None:
    result = import_offers(
        source=jsonl(row(industries=["C", "G"], industry_groups=["47", "31", "31"]))
    )
    assert result.ok, messages(result)
    offer = Offer.objects.get(external_id="eksportstart")
    assert offer.industry_groups == ["31", "47"]
    (record,) = offer_records(Offer.objects.all())
    assert record["industry_groups"] == ["31", "47"]


@pytest.mark.parametrize(
    ("groups", "expected"),
    [(["99x"], "99x"), (["62"], "62"), ("31", "liste")],
)
def test_import_reports_a_bad_group_on_its_line_and_field(db, groups, expected) -> None:
    result = import_offers(source=jsonl(row(industries=["C"], industry_groups=groups)))
    assert not result.ok
    (error,) = result.errors
    assert (error.line, error.field) == (1, "industry_groups")
    assert expected in error.message
    assert not Offer.objects.exists()


def test_the_api_rejects_a_group_outside_the_offers_sections_on_its_field(
    db, client, make_user
) -> None:
    from rest_framework.test import APIClient

    import_offers(source=jsonl(row(industries=["C"])))
    user = make_user("redaktoer-eksport", organisation="eksportraadet", role="Redaktør")
    api = APIClient()
    api.force_authenticate(user)
    response = api.patch(
        "/api/offers/eksportstart/",
        data=json.dumps({"industry_groups": ["62"]}),
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert "industry_groups" in response.json()
    response = api.patch(
        "/api/offers/eksportstart/",
        data=json.dumps({"industry_groups": ["31", "28"]}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert Offer.objects.get(external_id="eksportstart").industry_groups == ["28", "31"]


def test_the_admin_form_reports_a_bad_group_at_the_field(db) -> None:
    import_offers(source=jsonl(row(industries=["C"])))
    offer = Offer.objects.get(external_id="eksportstart")
    form = OfferAdminForm(instance=offer)
    data = {
        name: form.initial.get(name) for name in form.fields if form.initial.get(name) is not None
    }
    data.update(industries=["C"], industry_groups="31, 62")
    bound = OfferAdminForm(data=data, instance=offer)
    assert not bound.is_valid()
    assert "industry_groups" in bound.errors
    assert "62" in str(bound.errors["industry_groups"])
