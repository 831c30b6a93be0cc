"""An editor writes the catalogue in their own organisation's name, by every path.

The rules are in ``offers.services`` (owner: own organisation or the current owner; "cannot be
combined with": only pairs between offers the editor may edit). Each path (service, API, import,
admin) has a test that another organisation's name and page stay untouched.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from offers.importing import import_offers
from offers.models import Offer, Organisation
from offers.services import OfferError, offer_save
from tests.offers.factories import local_to, make_midt_digital, make_offer, new_offer

pytestmark = pytest.mark.django_db

OWNER_MESSAGE = "Du kan kun angive din egen organisation som ejer"
COMBINE_MESSAGE = "Du kan kun tilføje eller fjerne “kan ikke kombineres med”"


@pytest.fixture
def run_for_someone_else(db):
    """An offer the editor's organisation operates for another owner (Aarhus Kommune)."""
    return make_offer(
        external_id="drives-for-aarhus",
        title="Drevet for Aarhus",
        operator="region-midtjylland",
        **local_to(751),
    )


@pytest.fixture
def own_offer(db):
    return make_midt_digital(
        external_id="midt-egen", title="Eget tilbud", operator="region-midtjylland"
    )


@pytest.fixture
def foreign_offer(db):
    """Another organisation's published offer, with a public page of its own."""
    return make_offer(
        external_id="nord-fremmed", title="Nordjysk tilbud", owner="region-nordjylland"
    )


def pairs_of(offer: Offer) -> list[str]:
    return sorted(offer.cannot_combine_with.values_list("external_id", flat=True))


def api_offer(**changes: Any) -> dict[str, Any]:
    own = {"external_id": "midt-ny", "title": "Nyt tilbud", "summary": "Et nyt tilbud."}
    return new_offer(**{**own, "operator": "region-midtjylland", **changes})


def patch_as(client, user, offer: Offer, changes: dict[str, Any]):
    """The answer to ``user`` changing ``offer`` through the API."""
    client.force_login(user)
    return client.patch(
        f"/api/offers/{offer.external_id}/", changes, content_type="application/json"
    )


def jsonl(*rows: dict[str, Any]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


# --- 1. The owner --------------------------------------------------------------------------------


def test_the_service_refuses_another_organisation_as_owner_on_the_owner_field(editor):
    other = Organisation.objects.get(slug="region-nordjylland")
    mine = Organisation.objects.get(slug="region-midtjylland")

    with pytest.raises(OfferError) as refused:
        offer_save(
            user=editor,
            data={
                "external_id": "midt-i-andres-navn",
                "title": "I andres navn",
                "summary": "x",
                "level": "region",
                "owner": other,
                "operator": mine,
                "phases": ["growth"],
                "company_sizes": ["small"],
            },
        )

    assert OWNER_MESSAGE in refused.value.errors["owner"][0]
    assert not Offer.objects.filter(external_id="midt-i-andres-navn").exists()


def test_the_api_refuses_to_create_an_offer_in_another_organisations_name(client, editor):
    client.force_login(editor)

    response = client.post(
        "/api/offers/", api_offer(owner="region-nordjylland"), content_type="application/json"
    )

    assert response.status_code == 400
    assert OWNER_MESSAGE in response.json()["owner"][0]
    assert not Offer.objects.filter(external_id="midt-ny").exists()


def test_the_api_lets_an_operator_keep_but_not_change_the_owner(
    client, editor, run_for_someone_else
):
    client.force_login(editor)
    url = f"/api/offers/{run_for_someone_else.external_id}/"

    moved = client.patch(url, {"owner": "region-nordjylland"}, content_type="application/json")
    kept = client.patch(url, {"title": "Ny titel"}, content_type="application/json")

    assert moved.status_code == 400
    assert OWNER_MESSAGE in moved.json()["owner"][0]
    assert kept.status_code == 200, kept.json()
    offer = Offer.objects.get(pk=run_for_someone_else.pk)
    assert (offer.owner.slug, offer.title) == ("kommune-751", "Ny titel")


def test_a_superuser_may_name_any_owner(client, superuser, run_for_someone_else):
    response = patch_as(client, superuser, run_for_someone_else, {"owner": "region-nordjylland"})

    assert response.status_code == 200, response.json()


def test_the_import_names_the_line_and_owner_field_and_writes_nothing(editor, run_for_someone_else):
    row = {k: v for k, v in api_offer().items() if k != "external_id"}
    result = import_offers(
        source=jsonl(
            {**row, "external_id": "midt-ok"},
            {**row, "external_id": "midt-i-andres-navn", "owner": "region-nordjylland"},
            {
                **row,
                "external_id": run_for_someone_else.external_id,
                "owner": "eksportraadet",
                "level": "state",
            },
        ),
        user=editor,
    )

    messages = [str(error) for error in result.errors]
    assert len(messages) == 2, messages
    assert messages[0].startswith(f"linje 2, felt owner: {OWNER_MESSAGE}")
    assert messages[1].startswith(f"linje 3, felt owner: {OWNER_MESSAGE}")
    assert not Offer.objects.filter(external_id__in=["midt-ok", "midt-i-andres-navn"]).exists()
    assert Offer.objects.get(pk=run_for_someone_else.pk).owner.slug == "kommune-751"


def test_the_admin_offers_and_accepts_only_the_own_organisation_or_the_current_owner(
    client, editor
):
    # Owned by the editor's organisation and run by the Væksthus: the editor may not hand the
    # offer over to the Væksthus's name.
    offer = make_midt_digital()
    client.force_login(editor)
    url = reverse("admin:offers_offer_change", args=[offer.pk])
    operator = Organisation.objects.get(slug="vaeksthus-midtjylland")

    form = client.get(url).context["adminform"].form
    response = client.post(url, _admin_data(offer, owner=operator.pk))

    assert sorted(o.slug for o in form.fields["owner"].queryset) == ["region-midtjylland"]
    assert response.status_code == 200
    assert "owner" in response.context["adminform"].form.errors
    assert Offer.objects.get(pk=offer.pk).owner.slug == "region-midtjylland"


# --- 2. "Cannot be combined with" ----------------------------------------------------------------


def test_the_api_refuses_to_pair_with_another_organisations_offer(
    client, editor, own_offer, foreign_offer
):
    response = patch_as(
        client, editor, own_offer, {"cannot_combine_with": [foreign_offer.external_id]}
    )

    assert response.status_code == 400
    message = response.json()["cannot_combine_with"][0]
    assert COMBINE_MESSAGE in message and "nord-fremmed" in message
    assert pairs_of(foreign_offer) == []


def test_the_api_refuses_to_remove_a_pair_from_another_organisations_page(
    client, editor, own_offer, foreign_offer
):
    own_offer.cannot_combine_with.add(foreign_offer)  # made by a superuser
    client.force_login(editor)
    url = f"/api/offers/{own_offer.external_id}/"

    removed = client.patch(url, {"cannot_combine_with": []}, content_type="application/json")
    kept = client.patch(url, {"title": "Ny titel"}, content_type="application/json")

    assert removed.status_code == 400
    assert COMBINE_MESSAGE in removed.json()["cannot_combine_with"][0]
    assert kept.status_code == 200, kept.json()
    assert pairs_of(foreign_offer) == ["midt-egen"]


@pytest.mark.parametrize(
    ("user", "other"),
    [
        pytest.param("editor", "run_for_someone_else", id="an-editor-two-offers-they-may-edit"),
        pytest.param("superuser", "foreign_offer", id="a-superuser-offers-of-different-owners"),
    ],
)
def test_the_api_pairs(client, request, own_offer, user, other):
    other_offer = request.getfixturevalue(other)

    response = patch_as(
        client,
        request.getfixturevalue(user),
        own_offer,
        {"cannot_combine_with": [other_offer.external_id]},
    )

    assert response.status_code == 200, response.json()
    assert pairs_of(other_offer) == ["midt-egen"]


def test_the_import_refuses_to_add_or_remove_pairs_with_another_organisations_offer(
    editor, own_offer, foreign_offer
):
    second = make_offer(external_id="midt-anden", owner="region-midtjylland", level="region")
    second.cannot_combine_with.add(foreign_offer)  # made by a superuser
    row = {k: v for k, v in api_offer().items() if k != "external_id"}

    result = import_offers(
        source=jsonl(
            {**row, "external_id": "midt-egen", "cannot_combine_with": ["nord-fremmed"]},
            {**row, "external_id": "midt-anden", "cannot_combine_with": []},
            {**row, "external_id": "midt-ny", "cannot_combine_with": ["midt-egen"]},
        ),
        user=editor,
    )

    messages = [str(error) for error in result.errors]
    assert len(messages) == 2, messages
    assert messages[0].startswith(f"linje 1, felt cannot_combine_with: {COMBINE_MESSAGE}")
    assert messages[1].startswith(f"linje 2, felt cannot_combine_with: {COMBINE_MESSAGE}")
    assert "nord-fremmed" in messages[0] and "nord-fremmed" in messages[1]
    assert pairs_of(foreign_offer) == ["midt-anden"]
    assert not Offer.objects.filter(external_id="midt-ny").exists()


def test_the_import_by_an_editor_keeps_other_organisations_pairs_it_does_not_name(
    editor, own_offer, foreign_offer
):
    own_offer.cannot_combine_with.add(foreign_offer)
    row = {k: v for k, v in api_offer().items() if k != "external_id"}

    result = import_offers(
        source=jsonl(
            {**row, "external_id": "midt-egen", "title": "Nyt navn"},
            {**row, "external_id": "midt-ny", "cannot_combine_with": ["midt-egen"]},
        ),
        user=editor,
    )

    assert result.ok, [str(e) for e in result.errors]
    assert pairs_of(foreign_offer) == ["midt-egen"]
    assert pairs_of(own_offer) == ["midt-ny", "nord-fremmed"]


def test_the_admin_refuses_a_pair_with_another_organisations_offer_but_keeps_existing_ones(
    client, editor, own_offer, foreign_offer
):
    other = make_offer(external_id="nord-andet", owner="region-nordjylland")
    own_offer.cannot_combine_with.add(foreign_offer)
    client.force_login(editor)
    url = reverse("admin:offers_offer_change", args=[own_offer.pk])

    added = client.post(
        url, _admin_data(own_offer, cannot_combine_with=[foreign_offer.pk, other.pk])
    )
    kept = client.post(
        url, _admin_data(own_offer, title="Nyt navn", cannot_combine_with=[foreign_offer.pk])
    )

    assert added.status_code == 200
    errors = added.context["adminform"].form.errors["cannot_combine_with"]
    assert COMBINE_MESSAGE in errors[0] and "nord-andet" in errors[0]
    assert kept.status_code == 302, kept.context["adminform"].form.errors
    assert pairs_of(other) == []
    assert pairs_of(foreign_offer) == ["midt-egen"]


def _admin_data(offer: Offer, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": offer.title,
        "summary": offer.summary,
        "description": "",
        "expected_result": "",
        "how_to_apply": "",
        "delivery_time": "",
        "languages": "da",
        "level": offer.level,
        "owner": offer.owner_id,
        "operator": offer.operator_id,
        "themes": list(offer.themes.values_list("pk", flat=True)),
        "phases": offer.phases,
        "company_sizes": offer.company_sizes,
        "nationwide": "on",
        "price": offer.price,
        "url": "",
        "contact_email": "",
        "contact_phone": "",
        "status": offer.status,
        "cannot_combine_with": list(offer.cannot_combine_with.values_list("pk", flat=True)),
    }
    data.update(overrides)
    return data


def test_an_upload_through_the_admin_is_scoped_like_the_import(client, editor):
    client.force_login(editor)
    row = {**api_offer(owner="region-nordjylland")}
    upload = SimpleUploadedFile("tilbud.jsonl", jsonl(row).encode(), "application/json")

    response = client.post(reverse("admin:offers_offer_import"), {"file": upload})

    assert f"linje 1, felt owner: {OWNER_MESSAGE}" in response.content.decode()
    assert not Offer.objects.filter(external_id="midt-ny").exists()
