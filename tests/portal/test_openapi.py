"""The OpenAPI schema tells clients the truth: shapes, public access and every error answer."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema: dict):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_the_offer_search_is_documented_as_one_object_with_facets(schema) -> None:
    ok = schema["paths"]["/api/offers/"]["get"]["responses"]["200"]
    body = ok["content"]["application/json"]["schema"]

    assert body == {"$ref": "#/components/schemas/OfferSearchResponse"}
    fields = schema["components"]["schemas"]["OfferSearchResponse"]["properties"]
    assert {"count", "next", "previous", "results", "facets"} <= set(fields)


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/offers/", "get"),
        ("/api/offers/{external_id}/", "get"),
        ("/api/effects/", "get"),
        ("/api/reports/division-of-labour/", "get"),
        ("/api/guidance-requests/", "post"),
        ("/api/guidance-requests/{token}/", "get"),
    ],
)
def test_public_operations_need_no_login_in_the_schema(schema, path, method) -> None:
    operation = schema["paths"][path][method]

    assert {} in operation["security"]
    assert "401" not in operation["responses"]


def test_every_operation_documents_the_answers_of_the_layers_around_it(schema) -> None:
    for path, method, operation in _operations(schema):
        responses = operation["responses"]
        assert "429" in responses, (method, path)
        # gunicorn refuses an over-long address with an HTML 414 before the portal sees it.
        assert "text/html" in responses["414"]["content"], (method, path)
        assert "Retry-After" in responses["503"]["headers"], (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        if {} not in operation.get("security", []):
            assert {"401", "403"} <= set(responses), (method, path)
    post = schema["paths"]["/api/guidance-requests/"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in post["parameters"] if p["in"] == "header"]
    assert list(post["requestBody"]["content"]) == ["application/json"]


def test_an_api_address_no_route_matches_answers_json() -> None:
    response = APIClient().get("/api/offers/%C2%84/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Ikke fundet."}


def test_an_api_404_is_json_in_development_too_and_a_missing_slash_still_redirects(
    settings,
) -> None:
    settings.DEBUG = True  # Django's own debug page would answer otherwise

    response = APIClient().get("/api/ingen-saadan-adresse/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Ikke fundet."}
    redirect = APIClient().get("/api/offers")
    assert (redirect.status_code, redirect["Location"]) == (301, "/api/offers/")


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/api/offers/", {"size": ""}, "size"),
        ("/api/offers/", {"level": ["region", " "]}, "level"),
        ("/api/offers/", {"sort": ""}, "sort"),
        ("/api/effects/", {"indicator": ""}, "indicator"),
    ],
)
def test_an_empty_value_for_a_fixed_list_parameter_is_refused(path, query, field) -> None:
    response = APIClient().get(path, query)

    assert response.status_code == 400
    assert response.json()[field] == ["Angiv en værdi, eller udelad parameteren."]


def test_an_unknown_level_is_a_field_error_not_an_empty_answer() -> None:
    response = APIClient().get("/api/effects/", {"level": ["region", "amt"]})

    assert response.status_code == 400
    assert "amt" in response.json()["level"][0]


def test_a_guidance_request_must_be_json() -> None:
    response = APIClient().post("/api/guidance-requests/", {"cvr": "13585628"}, format="multipart")

    assert response.status_code == 415
