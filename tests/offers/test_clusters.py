import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from offers.models import Organisation, StrengthPosition
from tests.offers.factories import make_cluster, make_offer
from tests.pages import assert_contains

URL = reverse("offers:clusters")


@pytest.fixture
def cluster_offers(db):
    make_offer(
        external_id="energi-test",
        title="Testfaciliteter for energiteknologi",
        summary="Adgang til testcentre for nye energiløsninger.",
        owner="cluster-energi",
        themes=["clusters", "research"],
    )
    make_offer(
        external_id="energi-kladde",
        title="Ufærdigt klyngeforløb",
        owner="cluster-energi",
        status="draft",
    )


def test_it_lists_strength_positions_with_their_national_cluster_and_its_open_offers(
    client, cluster_offers
):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)

    # Positions, their funded clusters, and the clusters' offers: no query per cluster.
    assert len([q for q in queries.captured_queries if '"offers_' in q["sql"]]) == 3

    assert response.status_code == 200
    body = response.content.decode()
    assert_contains(
        body,
        "<h1>Nationale klynger</h1>",
        "Energiteknologi",
        "Energy Cluster Denmark",
        "Testfaciliteter for energiteknologi",
        'href="/tilbud/energi-test/"',
        "Åbent for virksomheder i hele landet.",
    )
    assert "Ufærdigt klyngeforløb" not in body


def test_it_says_so_when_a_strength_position_has_no_funded_cluster(client, db):
    body = client.get(URL).content.decode()

    position = StrengthPosition.objects.get(slug="materialer")
    assert position.name in body
    assert (
        "Der er endnu ingen offentligt finansieret national klynge for denne styrkeposition."
        in body
    )


def test_an_unfunded_cluster_is_not_shown_as_the_national_cluster(client, db):
    make_cluster(
        "cluster-materialer-lokal", "Lokalt materialenetværk", position="materialer", level="region"
    )

    assert "Lokalt materialenetværk" not in client.get(URL).content.decode()


def test_the_database_allows_only_one_funded_cluster_per_strength_position(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_cluster(
            "cluster-energi-syd", "Energiklynge Syd", position="energi", publicly_funded=True
        )

    assert (
        Organisation.objects.filter(strength_position__slug="energi", publicly_funded=True).count()
        == 1
    )


def test_turning_on_funding_for_a_second_cluster_in_the_admin_shows_an_error(client, make_user):
    client.force_login(make_user("admin", is_superuser=True))
    second = make_cluster("cluster-energi-syd", "Energiklynge Syd", position="energi")
    url = reverse("admin:offers_organisation_change", args=[second.pk])

    response = client.post(
        url,
        {
            "slug": second.slug,
            "name": second.name,
            "kind": "cluster",
            "level": "state",
            "strength_position": second.strength_position_id,
            "publicly_funded": "on",
        },
    )

    assert response.status_code == 200
    assert "Der er allerede en offentligt finansieret national klynge" in response.content.decode()
    second.refresh_from_db()
    assert second.publicly_funded is False


def test_funding_an_organisation_that_is_not_a_cluster_is_refused_in_the_admin(client, make_user):
    client.force_login(make_user("admin", is_superuser=True))
    region = Organisation.objects.get(slug="region-midtjylland")

    response = client.post(
        reverse("admin:offers_organisation_change", args=[region.pk]),
        {
            "slug": region.slug,
            "name": region.name,
            "kind": region.kind,
            "level": region.level,
            "region": region.region_id,
            "publicly_funded": "on",
        },
    )

    errors = response.context["adminform"].form.errors
    assert errors["publicly_funded"] == [
        "Kun en klynge med en styrkeposition kan være offentligt finansieret."
    ]
