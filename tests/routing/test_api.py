"""POST /api/guidance-requests/ and GET /api/guidance-requests/{token}/."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from crm import services as crm_services
from crm.models import Case, Company, Contact
from routing.api import EXAMPLE_RESULT
from routing.models import GuidanceRequest
from tests.routing.factories import form_data

pytestmark = pytest.mark.django_db

URL = "/api/guidance-requests/"


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def post(api: APIClient, body: dict[str, Any], **headers: str) -> Any:
    return api.post(URL, body, format="json", headers=headers)


def test_it_creates_a_case_and_answers_with_the_whole_result(
    api: APIClient, export_offers: None
) -> None:
    response = post(api, form_data())

    assert response.status_code == 201
    body = response.json()
    request = GuidanceRequest.objects.get()
    assert set(body) == {
        "reference",
        "token",
        "status_url",
        "hub",
        "expected_response_by",
        "matches",
    }
    assert body["reference"] == request.case.reference
    assert body["token"] == request.token
    assert body["status_url"] == f"http://testserver/vejledning/{request.token}/"
    # A company in Vejle gets the hub the schema's example shows, with every contact detail.
    assert body["hub"] == EXAMPLE_RESULT["hub"]
    assert body["expected_response_by"] == request.case.first_response_due.isoformat()
    assert body["matches"][0]["external_id"] == "eksportstart"
    assert set(body["matches"][0]) == {
        "external_id",
        "title",
        "score",
        "reasons",
        "explanation",
        "alternatives",
    }
    assert "Matcher dit behov: eksport" in body["matches"][0]["reasons"]
    assert {"code": "themes", "values": ["export"]} in body["matches"][0]["explanation"]
    assert body["matches"][0]["alternatives"] == []
    assert request.channel == GuidanceRequest.Channel.API


def test_it_accepts_a_request_with_only_the_required_fields(api: APIClient) -> None:
    body = {
        "municipality": 101,
        "needs": "Jeg vil starte en café",
        "contact_name": "Ida",
        "contact_email": "ida@example.dk",
        "consent": True,
    }

    response = post(api, body)

    assert response.status_code == 201
    assert response.json()["hub"]["slug"] == "vaeksthus-hovedstaden"
    assert Case.objects.get().company.cvr is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"cvr": "12345678"}, "cvr", "CVR-nummeret 12345678 findes ikke."),
        ({"municipality": 999}, "municipality", "Vælg en af de 98 kommuner på listen."),
        ({"consent": False}, "consent", "Personen skal have fået at vide, hvordan vi behandler"),
        ({"needs": ""}, "needs", "Skriv kort, hvad du har brug for hjælp til."),
        ({"contact_email": "ikke-en-adresse"}, "contact_email", "Skriv en gyldig e-mailadresse"),
        ({"needs": "x" * 5001}, "needs", "5000"),
        ({"contact_name": "x" * 201}, "contact_name", "200"),
        ({"themes": ["no-such-theme"]}, "themes", "er ikke et emne, vi kender."),
        ({"themes": "export"}, "themes", ""),
        ({"employees": -1}, "employees", ""),
        ({"phase": "teenager"}, "phase", ""),
    ],
)
def test_it_answers_400_with_danish_errors_keyed_by_field_and_stores_nothing(
    api: APIClient, changes: dict[str, Any], field: str, message: str
) -> None:
    response = post(api, form_data(**changes))

    assert response.status_code == 400
    errors = response.json()
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert not Case.objects.exists()
    assert not Company.objects.exists()
    assert not Contact.objects.exists()


def test_it_requires_each_mandatory_field(api: APIClient) -> None:
    response = post(api, {})

    assert response.status_code == 400
    assert {"municipality", "needs", "contact_name", "contact_email", "consent"} <= set(
        response.json()
    )


def test_it_returns_the_first_result_for_a_retry_with_the_same_idempotency_key(
    api: APIClient, export_offers: None
) -> None:
    body = form_data()

    first = post(api, body, **{"Idempotency-Key": "0b6f7c1e-retry"})
    again = post(api, body, **{"Idempotency-Key": "0b6f7c1e-retry"})

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert Case.objects.count() == 1


def test_it_answers_409_when_an_idempotency_key_comes_back_with_another_body(
    api: APIClient, export_offers: None
) -> None:
    post(api, form_data(), **{"Idempotency-Key": "key-42"})

    response = post(api, form_data(needs="Noget andet"), **{"Idempotency-Key": "key-42"})

    assert response.status_code == 409
    assert "Idempotency-Key er allerede brugt" in response.json()["idempotency_key"][0]
    assert Case.objects.count() == 1


def test_it_refuses_an_unusable_idempotency_key(api: APIClient) -> None:
    response = post(api, form_data(), **{"Idempotency-Key": "x" * 201})

    assert response.status_code == 400
    assert "idempotency_key" in response.json()
    assert not Case.objects.exists()


def test_it_creates_separate_cases_without_an_idempotency_key(
    api: APIClient, export_offers: None
) -> None:
    post(api, form_data())
    post(api, form_data())

    assert Case.objects.count() == 2


def test_without_a_key_the_same_company_again_is_a_repeat_request_on_its_case(
    api: APIClient, export_offers: None
) -> None:
    body = form_data()

    first = post(api, body).json()
    second = post(api, body).json()

    # Not a retry (no key), so not ignored: attached to the open case, with a link of its own
    # (anyone can send a request with the company's CVR; the case's link stays with its contact).
    assert Case.objects.count() == 1
    assert second["reference"] == first["reference"]
    assert second["hub"] == first["hub"]
    assert second["status_url"] != first["status_url"]
    case = Case.objects.get()
    assert case.timeline.filter(action="crm.case.repeat_request").count() == 1


def test_a_repeat_request_answers_with_the_date_a_follow_up_last_promised(
    api: APIClient, export_offers: None
) -> None:
    import datetime as dt

    from django.utils import timezone, translation

    from crm.models import Notification, TimelineEntry
    from routing.presentation import long_date

    body = form_data()
    first = post(api, body).json()
    case = Case.objects.get()
    assert first["expected_response_by"] == case.first_response_due.isoformat()
    # The "we have not forgotten you" e-mail promised a later date.
    later = case.first_response_due + dt.timedelta(days=9)
    TimelineEntry.objects.create(
        case=case,
        kind=TimelineEntry.Kind.REMINDER,
        action="crm.followup.company_update",
        text="Du kan forvente svar senest ...",
        payload={"expected_by": later.isoformat()},
        is_public=True,
        at=timezone.now(),
    )

    second = post(api, body).json()

    assert second["reference"] == first["reference"]
    assert second["expected_response_by"] == later.isoformat()
    receipts = [
        n.body
        for n in Notification.objects.filter(case=case, kind="request_receipt").order_by("pk")
    ]
    with translation.override("da"):
        assert long_date(case.first_response_due) in receipts[0]
        assert long_date(later) in receipts[1]


def test_it_rate_limits_per_address_with_a_danish_429(
    api: APIClient, settings, export_offers: None
) -> None:
    settings.RATELIMIT_ENABLE = True
    cache.clear()
    body = form_data()
    statuses = [post(api, body, **{"Idempotency-Key": "same"}).status_code for _ in range(20)]

    limited = post(api, form_data())

    assert statuses == [201] * 20
    assert limited.status_code == 429
    assert limited.json()["detail"].startswith("Du har sendt for mange forespørgsler")
    elsewhere = api.post(URL, form_data(), format="json", REMOTE_ADDR="10.0.0.9")
    assert elsewhere.status_code == 201
    cache.clear()


# --- Status -----------------------------------------------------------------------------------


def test_it_gives_the_status_hub_and_public_timeline_for_a_token(
    api: APIClient, export_offers: None, make_user
) -> None:
    token = post(api, form_data()).json()["token"]
    request = GuidanceRequest.objects.get()
    adviser = make_user("karin", organisation="vaeksthus-syddanmark", role="Rådgiver")
    crm_services.case_assign(case=request.case, adviser=adviser, actor=adviser)
    crm_services.case_note_add(case=request.case, kind="call", text="Internt", actor=adviser)

    response = api.get(f"{URL}{token}/")

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    body = response.json()
    assert body["reference"] == request.case.reference
    assert body["status"] == "assigned"
    assert body["status_label"] == "En rådgiver har taget din sag"
    assert body["hub"]["slug"] == "vaeksthus-syddanmark"
    assert [entry["text"] for entry in body["timeline"]] == [
        "Henvendelsen er modtaget af Væksthus Syddanmark.",
        "En rådgiver har taget din sag.",
    ]


def test_it_answers_404_for_an_unknown_token(api: APIClient, export_offers: None) -> None:
    post(api, form_data())

    assert api.get(f"{URL}{'A' * 43}/").status_code == 404


def test_it_documents_the_api_in_the_openapi_schema(api: APIClient) -> None:
    response = api.get("/api/schema/", {"format": "json"})

    schema = response.json()
    create = schema["paths"]["/api/guidance-requests/"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in create["parameters"]]
    request_schema = create["requestBody"]["content"]["application/json"]
    assert "examples" in request_schema
    assert {"201", "400", "409", "429"} <= set(create["responses"])
    assert "/api/guidance-requests/{token}/" in schema["paths"]
    assert "/api/statistics/guidance/" in schema["paths"]


def test_after_a_transfer_the_answer_names_the_hub_that_has_the_case(
    api: APIClient, export_offers: None
) -> None:
    """A retry, and a new request the company sends to the hub its case was handed to, name
    that hub (the request row keeps where routing first sent it)."""
    from offers.models import Organisation
    from tests.routing.factories import next_cvr

    cvr = next_cvr()
    body = form_data(cvr=cvr)  # Vejle: Væksthus Syddanmark
    first = post(api, body, **{"Idempotency-Key": "transfer-1"})
    assert first.json()["hub"]["slug"] == "vaeksthus-syddanmark"
    midt = Organisation.objects.get(slug="vaeksthus-midtjylland")
    case = Case.objects.get()
    crm_services.case_transfer(case=case, hub=midt, reason="Flyttet til Aarhus", actor=None)

    retry = post(api, body, **{"Idempotency-Key": "transfer-1"})
    # Aarhus (751) is routed to Væksthus Midtjylland, which has the company's case now.
    again = post(api, form_data(cvr=cvr, municipality=751, needs="Nu også kapital."))

    assert retry.status_code == again.status_code == 201
    assert retry.json()["hub"]["slug"] == "vaeksthus-midtjylland"
    assert again.json()["hub"]["slug"] == "vaeksthus-midtjylland"
    assert again.json()["reference"] == case.reference
    assert Case.objects.count() == 1
    # Where routing sent the first request is kept on its row.
    assert GuidanceRequest.objects.get().hub.slug == "vaeksthus-syddanmark"
