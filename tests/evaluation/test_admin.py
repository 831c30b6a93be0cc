"""Effect measurement in the admin: analysts read, nobody edits."""

from __future__ import annotations

import pytest

from evaluation.models import EffectRunOffer
from tests.evaluation.factories import make_estimate, make_participation, make_run
from tests.offers.factories import make_offer


@pytest.fixture
def results(db):
    run = make_run()
    for number in range(12):
        offer = make_offer(external_id=f"tilbud-{number}")
        make_estimate(run=run, offer=offer)
        make_participation(cvr=13585628, offer=offer, year=2020)
        EffectRunOffer.objects.create(run=run, offer=offer, status="done")
    return run


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/admin/evaluation/effectestimate/",
        "/admin/evaluation/effectrun/",
        "/admin/evaluation/participation/",
        "/admin/evaluation/effectrollup/",
    ],
)
def test_an_analyst_reads_every_list_without_a_query_per_row(
    client, analyst, results, url, django_assert_max_num_queries
):
    client.force_login(analyst)

    with django_assert_max_num_queries(12):
        response = client.get(url)

    assert response.status_code == 200


@pytest.mark.django_db
def test_a_run_shows_its_offers_read_only(client, analyst, results):
    client.force_login(analyst)

    response = client.get(f"/admin/evaluation/effectrun/{results.pk}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    first = results.items.select_related("offer").order_by("pk").first()
    assert first.offer.title in page
    assert "Færdig" in page
    assert 'name="_save"' not in page


@pytest.mark.django_db
def test_nobody_adds_or_deletes_results_by_hand(client, analyst, results, django_user_model):
    client.force_login(analyst)
    estimate_id = results.estimates.first().pk

    assert client.get("/admin/evaluation/effectestimate/add/").status_code == 403
    assert client.post(f"/admin/evaluation/effectestimate/{estimate_id}/delete/").status_code == 403
    admin = django_user_model.objects.create_superuser("root", password="a-long-test-password")
    client.force_login(admin)
    assert client.get("/admin/evaluation/effectrun/add/").status_code == 403


@pytest.mark.django_db
def test_an_adviser_sees_no_effect_runs(client, make_user, results):
    client.force_login(make_user("mette", organisation="vaeksthus-midtjylland", role="Rådgiver"))

    assert client.get("/admin/evaluation/effectrun/").status_code == 403
