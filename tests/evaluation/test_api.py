"""GET /api/effects/: the contract fields, filters, and only published results."""

from __future__ import annotations

import pytest

from evaluation.models import EffectRun
from tests.evaluation.factories import TOO_FEW, make_estimate, make_rollup, make_run
from tests.offers.factories import make_offer

CONTRACT_FIELDS = {
    "indicator",
    "estimate",
    "std_error",
    "ci_low",
    "ci_high",
    "n_treated",
    "n_control",
    "naive_estimate",
    "method",
    "baseline_offset",
    "outcome_offset",
    "run",
    "status",
    "extra",
}


@pytest.fixture
def measured_offer(db):
    offer = make_offer(external_id="eksport-start", title="Eksport – kom godt i gang")
    run = make_run()
    for indicator in ("revenue", "employment"):
        make_estimate(run=run, offer=offer, indicator=indicator)
    # A cohort row: the API shows the pooled result only.
    make_estimate(run=run, offer=offer, indicator="employment", cohort_year=2020, estimate=9.0)
    return offer


@pytest.mark.django_db
def test_it_answers_per_indicator_with_every_contract_field_without_a_login(client, measured_offer):
    response = client.get("/api/effects/", {"offer": "eksport-start"})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    first = body["results"][0]
    assert set(first) >= CONTRACT_FIELDS
    assert first["indicator"] == "employment"  # indicators in their fixed order
    assert first["estimate"] == 2.5
    assert first["ci_low"] == pytest.approx(2.5 - 1.96 * 0.5)
    assert (first["n_treated"], first["n_control"]) == (40, 110)
    assert first["n_unmatched"] is None  # a sub-group that may be small: not published
    assert first["naive_estimate"] == 4.0
    assert (first["baseline_offset"], first["outcome_offset"]) == (-1, 2)
    assert first["method"] == "nn-matching-did-ai-bc"
    assert first["extra"] == pytest.approx(100.0)  # 2.5 FTE x 40 participants
    assert first["unit"] == "fte"
    assert (first["dimension"], first["key"], first["name"]) == (
        "offer",
        "eksport-start",
        "Eksport – kom godt i gang",
    )
    run = EffectRun.objects.get()
    assert first["run"]["id"] == run.pk
    assert first["run"]["finished_at"]
    assert body["results"][1]["indicator"] == "revenue"


@pytest.mark.django_db
def test_results_of_unfinished_or_failed_runs_are_not_returned(client, measured_offer):
    other = make_offer(external_id="vaekst")
    make_estimate(run=make_run(status="running", finished_at=None), offer=other)
    make_estimate(run=make_run(status="failed"), offer=other, indicator="export")

    response = client.get("/api/effects/", {"offer": "vaekst"})

    assert response.status_code == 200
    assert response.json()["results"] == []
    everything = client.get("/api/effects/").json()
    assert {row["key"] for row in everything["results"]} == {"eksport-start"}


@pytest.mark.django_db
def test_a_too_few_offer_has_a_status_and_no_numbers(client):
    offer = make_offer(external_id="lille")
    make_estimate(
        offer=offer,
        **{**TOO_FEW, "n_treated": 8},
        reason="For få deltagere til at måle: 8 kunne sammenlignes, og der skal mindst være 20.",
    )

    row = client.get("/api/effects/", {"offer": "lille"}).json()["results"][0]

    assert (row["status"], row["estimate"], row["ci_low"], row["extra"]) == (
        "too_few",
        None,
        None,
        None,
    )
    assert row["reason"].startswith("For få deltagere til at måle")
    # Its count (8) is below the threshold and is not published.
    assert (row["n_treated"], row["n_control"], row["n_unmatched"]) == (None, None, None)


@pytest.mark.django_db
def test_roll_ups_by_theme_and_level(client):
    run = make_run()
    make_rollup(run=run, dimension="theme", key="export", label="Eksport")
    make_rollup(run=run, dimension="theme", key="growth", label="Vækst")
    make_rollup(run=run, dimension="level", key="state", label="Stat", indicator="revenue")

    response = client.get("/api/effects/", {"theme": "export", "level": "state"})

    rows = response.json()["results"]
    assert [(r["dimension"], r["key"], r["indicator"]) for r in rows] == [
        ("level", "state", "revenue"),
        ("theme", "export", "employment"),
    ]
    assert rows[1]["extra"] == 300.0


@pytest.mark.django_db
def test_an_unknown_offer_or_indicator_is_a_400_keyed_by_parameter(client, measured_offer):
    assert client.get("/api/effects/", {"offer": "findes-ikke"}).json() == {
        "offer": ["Ukendt tilbud: findes-ikke."]
    }
    response = client.get("/api/effects/", {"offer": "eksport-start", "indicator": "lykke"})
    assert response.status_code == 400
    assert response.json() == {"indicator": ["Ukendt indikator: lykke."]}


@pytest.mark.django_db
def test_it_filters_on_indicator(client, measured_offer):
    rows = client.get("/api/effects/", {"offer": "eksport-start", "indicator": "revenue"}).json()

    assert [r["indicator"] for r in rows["results"]] == ["revenue"]


@pytest.mark.django_db
def test_it_is_read_only(client, measured_offer):
    assert client.post("/api/effects/", {}).status_code in {403, 405}


@pytest.mark.django_db
def test_the_list_costs_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    run = make_run()
    for number in range(15):
        offer = make_offer(external_id=f"tilbud-{number}")
        for indicator in ("employment", "revenue"):
            make_estimate(run=run, offer=offer, indicator=indicator)

    with django_assert_max_num_queries(2):
        response = client.get("/api/effects/")

    assert response.json()["count"] == 30


@pytest.mark.django_db
def test_the_openapi_schema_documents_the_endpoint_with_an_example(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()

    operation = schema["paths"]["/api/effects/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"offer", "theme", "level", "indicator"}
    content = operation["responses"]["200"]["content"]["application/json"]
    example = next(iter(content["examples"].values()))["value"]
    assert set(example["results"][0]) >= CONTRACT_FIELDS


@pytest.mark.django_db
def test_an_offer_and_a_roll_up_together_are_refused(client, measured_offer):
    response = client.get("/api/effects/", {"offer": "eksport-start", "theme": "export"})

    assert response.status_code == 400
    assert "offer" in response.json()


@pytest.mark.django_db
def test_a_draft_offers_effects_are_not_public(client):
    draft = make_offer(external_id="kladde", status="draft")
    make_estimate(offer=draft)

    assert client.get("/api/effects/", {"offer": "kladde"}).status_code == 400
    assert client.get("/api/effects/").json()["count"] == 0


@pytest.mark.parametrize("page", ["", "abc", "0", "-1", "last"])
def test_a_page_that_is_not_a_whole_number_from_1_is_a_400_keyed_by_page(
    client, measured_offer, page
):
    response = client.get(f"/api/effects/?level=municipality&page={page}")

    assert response.status_code == 400
    assert response.json() == {"page": ["Sidetallet skal være et helt tal fra 1."]}


def test_page_1_and_a_page_past_the_last_answer_as_before(client, measured_offer):
    assert client.get("/api/effects/?page=1").status_code == 200
    assert client.get("/api/effects/?page=99").status_code == 404
