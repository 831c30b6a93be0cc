from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from offers.api import OfferSummarySerializer
from offers.models import Offer
from tests.offers.factories import make_export_offers, make_offer, new_offer

pytestmark = pytest.mark.django_db

RESULT_FIELDS = {
    "external_id",
    "title",
    "summary",
    "level",
    "owner",
    "operator",
    "themes",
    "phases",
    "company_sizes",
    "industries",
    "nationwide",
    "regions",
    "municipalities",
    "price",
    "application_deadline",
    "valid_from",
    "valid_to",
    "status",
    "url",
    "is_open",
    "last_reviewed",
    "detail_url",
    "page_url",
}
FACETS = {
    "theme",
    "level",
    "phase",
    "size",
    "industry",
    "region",
    "price",
    "operator",
    "municipality",
}


@pytest.fixture
def other_editor(make_user):
    return make_user("redaktoer-nord", organisation="region-nordjylland", role="Redaktør")


# --- GET /api/offers/ ---------------------------------------------------------------------------


def test_it_answers_a_search_in_the_documented_shape(client):
    make_offer(
        external_id="eksport",
        title="Eksportrådgivning",
        themes=["export"],
        owner="eksportraadet",
        valid_from=dt.date(2025, 1, 1),
    )

    body = client.get("/api/offers/?q=rådgivning&theme=export").json()

    assert set(body) == {"count", "next", "previous", "results", "facets"}
    assert body["count"] == 1
    (result,) = body["results"]
    assert set(result) == RESULT_FIELDS
    assert result["external_id"] == "eksport"
    assert result["themes"] == ["export"]
    assert result["owner"] == "eksportraadet"
    assert result["valid_from"] == "2025-01-01"
    assert result["is_open"] is True
    assert result["detail_url"] == "http://testserver/api/offers/eksport/"
    assert set(body["facets"]) == FACETS
    export = next(f for f in body["facets"]["theme"] if f["value"] == "export")
    assert export == {"value": "export", "label": "Eksport", "count": 1}


def test_it_counts_offers_per_municipality_with_the_other_filters_applied(client):
    make_offer(external_id="hele-landet", themes=["export"])
    make_offer(external_id="syddanmark", themes=["export"], nationwide=False, regions=[1083])
    make_offer(
        external_id="vejle",
        themes=["export"],
        nationwide=False,
        regions=[1083],
        municipalities=[630],
    )
    make_offer(external_id="aarhus", themes=["export"], nationwide=False, municipalities=[751])
    make_offer(external_id="andet-tema", themes=["capital"])

    body = client.get("/api/offers/?theme=export&municipality=630").json()

    assert body["count"] == 3
    municipalities = body["facets"]["municipality"]
    assert len(municipalities) == 98
    assert all(set(entry) == {"value", "label", "count"} for entry in municipalities)
    by_code = {entry["value"]: entry for entry in municipalities}
    assert by_code["630"] == {"value": "630", "label": "Vejle Kommune", "count": 3}
    # Not zeroed by the municipality filter; the theme filter applies.
    assert by_code["751"] == {"value": "751", "label": "Aarhus Kommune", "count": 2}
    assert by_code["461"]["count"] == 3  # Odense: hele-landet and both Syddanmark offers
    assert by_code["101"]["count"] == 1  # København: hele-landet


def test_the_documented_result_fields_are_the_ones_sent():
    assert set(OfferSummarySerializer().fields) == RESULT_FIELDS


def test_it_links_the_next_and_previous_pages_with_the_same_search(client):
    for number in range(45):
        make_offer(title=f"Eksport {number:02d}", themes=["export"])

    body = client.get("/api/offers/?theme=export&page=2").json()

    assert body["count"] == 45
    assert len(body["results"]) == 20
    assert body["next"] == "http://testserver/api/offers/?theme=export&page=3"
    assert body["previous"] == "http://testserver/api/offers/?theme=export"


@pytest.mark.parametrize("page", ["999999", "99999999999999999999999"])
def test_a_page_past_the_end_is_empty_and_points_back(client, page):
    make_offer()

    body = client.get(f"/api/offers/?page={page}").json()

    assert body["count"] == 1
    assert body["results"] == []
    assert body["next"] is None
    assert body["previous"] == "http://testserver/api/offers/"


def test_it_hides_closed_offers_unless_asked(client):
    make_offer(external_id="aaben")
    make_offer(external_id="udloebet", valid_to=timezone.localdate() - dt.timedelta(days=1))
    make_offer(external_id="kladde", status="draft")

    default = client.get("/api/offers/").json()
    everything = client.get("/api/offers/?include_closed=1").json()

    assert [r["external_id"] for r in default["results"]] == ["aaben"]
    assert {r["external_id"]: r["is_open"] for r in everything["results"]} == {
        "aaben": True,
        "udloebet": False,
    }


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("theme=findes-ikke", "theme", "Ukendt tema: findes-ikke."),
        ("operator=ingen", "operator", "Ukendt operatør: ingen."),
        ("region=9999", "region", "Ukendt regionskode: 9999."),
        ("municipality=1", "municipality", "Ukendt kommunekode: 1."),
        ("level=ukendt", "level", "Ukendt værdi: ukendt."),
        ("region=abc", "region", "Ukendt værdi: abc."),
        ("page=abc", "page", "Sidetallet skal være et helt tal fra 1."),
        ("page=-1", "page", None),
        ("page=0", "page", None),
        ("include_closed=måske", "include_closed", "Brug 1 eller 0."),
        ("sort=tilfældigt", "sort", None),
        ("q=" + "a" * 10_000, "q", "Søgeteksten må højst være 200 tegn (den er 10000)."),
    ],
)
def test_it_answers_bad_parameters_with_400_and_a_message_per_field(client, query, field, message):
    response = client.get(f"/api/offers/?{query}")

    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field]
    if message:
        assert errors[field] == [message]


@pytest.mark.parametrize("query", ["q=%27%22%21%3A%2A", "q=%00", "q=&&&", "q=eksport%00"])
def test_it_searches_odd_text_without_failing(client, query):
    make_offer(title="Eksport")

    response = client.get(f"/api/offers/?{query}")

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_the_search_needs_at_most_five_queries(client, django_assert_max_num_queries):
    make_export_offers(30)

    # Four, and the catalogue's version its answer is kept under (offers/public_cache.py): the
    # same search again then costs that one query (tests/offers/test_public_cache.py).
    with django_assert_max_num_queries(5):
        response = client.get(
            "/api/offers/?q=eksportrådgivnig&theme=export&operator=eksportraadet"
            "&region=1084&municipality=101&include_closed=1"
        )
    assert response.json()["count"] == 15


# --- GET /api/offers/{external_id}/ -------------------------------------------------------------


def test_it_shows_one_offer_with_every_import_field(client):
    offer = make_offer(
        external_id="digital",
        title="Digital start",
        themes=["digitalisation"],
        owner="region-midtjylland",
        operator="vaeksthus-midtjylland",
        nationwide=False,
        regions=[1082],
        contact_email="digital@example.dk",
    )
    rival = make_offer(external_id="rival")
    offer.cannot_combine_with.add(rival)

    body = client.get("/api/offers/digital/").json()

    assert body["owner"] == "region-midtjylland"
    assert body["operator"] == "vaeksthus-midtjylland"
    assert body["themes"] == ["digitalisation"]
    assert body["regions"] == [1082]
    assert body["cannot_combine_with"] == ["rival"]
    assert body["contact_email"] == "digital@example.dk"
    assert body["page_url"] == "http://testserver/tilbud/digital/"
    for field in ["description", "url", "contact_phone", "valid_to", "status", "last_reviewed"]:
        assert field in body


def test_a_draft_is_visible_only_to_its_own_organisations_editors(client, editor, other_editor):
    make_offer(external_id="kladde", status="draft", owner="region-midtjylland")

    assert client.get("/api/offers/kladde/").status_code == 404
    client.force_login(other_editor)
    assert client.get("/api/offers/kladde/").status_code == 404
    assert client.get("/api/offers/?include_closed=1").json()["count"] == 0
    client.force_login(editor)
    assert client.get("/api/offers/kladde/").json()["status"] == "draft"


# --- Writing ------------------------------------------------------------------------------------


def test_an_editor_creates_an_offer_for_their_organisation_and_it_is_searchable(client, editor):
    client.force_login(editor)

    response = client.post("/api/offers/", new_offer(), content_type="application/json")

    assert response.status_code == 201, response.json()
    assert response.json()["themes"] == ["digitalisation"]
    offer = Offer.objects.get(external_id="midt-digital-start")
    assert offer.published_by == editor
    found = client.get("/api/offers/?q=digitale").json()
    assert [r["external_id"] for r in found["results"]] == ["midt-digital-start"]


def test_an_editor_cannot_create_an_offer_for_another_organisation(client, other_editor):
    client.force_login(other_editor)

    response = client.post("/api/offers/", new_offer(), content_type="application/json")

    assert response.status_code == 403
    assert not Offer.objects.filter(external_id="midt-digital-start").exists()


def test_an_editor_changes_their_own_offer_and_the_search_follows(client, editor):
    make_offer(external_id="egen", title="Gammel titel", owner="region-midtjylland")
    client.force_login(editor)

    response = client.patch(
        "/api/offers/egen/", {"title": "Robotter i produktionen"}, content_type="application/json"
    )

    assert response.status_code == 200, response.json()
    assert Offer.objects.get(external_id="egen").title == "Robotter i produktionen"
    found = client.get("/api/offers/?q=robotter").json()
    assert [r["external_id"] for r in found["results"]] == ["egen"]


def test_another_organisations_editor_changes_nothing(client, other_editor):
    make_offer(external_id="midt", title="Midtjysk tilbud", owner="region-midtjylland")
    client.force_login(other_editor)

    patch = client.patch("/api/offers/midt/", {"title": "Kapret"}, content_type="application/json")
    put = client.put(
        "/api/offers/midt/", new_offer(external_id="midt"), content_type="application/json"
    )

    assert patch.status_code == 403
    assert put.status_code == 403
    assert Offer.objects.get(external_id="midt").title == "Midtjysk tilbud"


def test_reading_is_public_but_writing_needs_an_editor(client, make_user):
    assert client.post(
        "/api/offers/", new_offer(), content_type="application/json"
    ).status_code in (
        401,
        403,
    )
    adviser = make_user("raadgiver", organisation="region-midtjylland", role="Rådgiver")
    client.force_login(adviser)

    response = client.post("/api/offers/", new_offer(), content_type="application/json")

    assert response.status_code == 403
    assert not Offer.objects.exists()


def test_invalid_offers_get_errors_by_import_field_name(client, editor):
    client.force_login(editor)

    response = client.post(
        "/api/offers/",
        new_offer(
            themes=["findes-ikke"],
            municipalities=[999],
            phases=[],
            price="gratis",
            operator="ingen-organisation",
        ),
        content_type="application/json",
    )

    assert response.status_code == 400
    errors = response.json()
    assert set(errors) >= {"themes", "municipalities", "phases", "price", "operator"}
    assert errors["municipalities"] == ["Ukendte koder: 999."]


def test_the_catalogue_rules_come_back_as_field_errors(client, editor):
    client.force_login(editor)

    response = client.post(
        "/api/offers/",
        new_offer(level="municipality", nationwide=True),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "municipalities" in response.json()


def test_the_external_id_cannot_be_changed_or_reused(client, editor):
    make_offer(external_id="egen", owner="region-midtjylland")
    client.force_login(editor)

    changed = client.patch(
        "/api/offers/egen/", {"external_id": "ny-id"}, content_type="application/json"
    )
    reused = client.post(
        "/api/offers/", new_offer(external_id="egen"), content_type="application/json"
    )

    assert changed.status_code == 400
    assert reused.status_code == 400
    assert "external_id" in reused.json()


def test_the_schema_documents_the_offers_api_and_validates():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    validate_schema(schema)
    listing = schema["paths"]["/api/offers/"]["get"]
    names = {parameter["name"] for parameter in listing["parameters"]}
    assert names >= {"q", "theme", "level", "region", "include_closed", "sort", "page"}
    assert "examples" in listing["responses"]["200"]["content"]["application/json"]
    facets = schema["components"]["schemas"]["Facets"]
    assert set(facets["properties"]) == set(facets["required"]) == FACETS
    assert facets["properties"]["municipality"]["items"] == {
        "$ref": "#/components/schemas/FacetValue"
    }
    assert "post" in schema["paths"]["/api/offers/"]
