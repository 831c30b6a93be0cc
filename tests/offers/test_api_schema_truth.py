"""GET /api/offers/ answers what its OpenAPI schema says: every documented parameter works,
every answer's body matches its documented schema, and no field goes undocumented."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator

from offers.importing import import_offers
from tests.offers.test_importexport import jsonl, messages, row

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture
def catalogue(db):
    result = import_offers(
        source=jsonl(
            row(),
            row(external_id="gratis", price="free", application_deadline="2099-01-01"),
        )
    )
    assert result.ok, messages(result)


def json_schema(openapi: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI 3.0 schema as JSON Schema, strict: an object may carry no property that its
    schema does not document, and ``nullable`` becomes a type that allows null."""

    def convert(value: Any) -> Any:
        if isinstance(value, list):
            return [convert(item) for item in value]
        if not isinstance(value, dict):
            return value
        converted = {key: convert(item) for key, item in value.items() if key != "nullable"}
        if value.get("nullable"):
            if "type" in converted:
                converted["type"] = [converted["type"], "null"]
            else:
                converted = {"anyOf": [converted, {"type": "null"}]}
        if converted.get("type") == "object" and "properties" in converted:
            converted.setdefault("additionalProperties", False)
        return converted

    return {"components": convert(openapi["components"]), **convert(node)}


def body_schema(schema: dict[str, Any], status: str) -> dict[str, Any]:
    response = schema["paths"]["/api/offers/"]["get"]["responses"][status]
    return json_schema(schema, response["content"]["application/json"]["schema"])


def test_a_real_search_answer_matches_the_documented_body(schema, catalogue, client):
    answer = client.get("/api/offers/", {"q": "eksport", "theme": "export"})

    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == 2
    jsonschema.validate(body, body_schema(schema, "200"))


def test_the_check_catches_an_undocumented_field(schema, catalogue, client):
    body = client.get("/api/offers/").json()
    body["results"][0]["secret"] = 1

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(body, body_schema(schema, "200"))


def test_every_documented_parameter_is_accepted_with_every_documented_value(
    schema, catalogue, client
):
    examples = {
        "q": ["eksport"],
        "theme": ["export"],
        "region": ["1084"],
        "municipality": ["751"],
        "operator": ["eksportraadet"],
        "page": ["1", "2"],
    }
    parameters = schema["paths"]["/api/offers/"]["get"]["parameters"]
    for parameter in parameters:
        if parameter["in"] != "query":
            continue
        name = parameter["name"]
        values = parameter["schema"].get("enum") or parameter["schema"].get("items", {}).get("enum")
        for value in values or examples[name]:
            answer = client.get("/api/offers/", {name: value})
            assert answer.status_code == 200, (name, value, answer.content[:200])
            jsonschema.validate(answer.json(), body_schema(schema, "200"))


def test_a_page_past_the_last_is_empty_not_404_as_documented(schema, catalogue, client):
    answer = client.get("/api/offers/", {"page": "999"})

    assert answer.status_code == 200
    assert answer.json()["results"] == []
    assert "404" not in schema["paths"]["/api/offers/"]["get"]["responses"]
    # The offer itself still documents its 404.
    assert "404" in schema["paths"]["/api/offers/{external_id}/"]["get"]["responses"]


@pytest.mark.parametrize(
    "query",
    [
        {"theme": "eksprt"},
        {"page": "0"},
        {"page": "x"},
        {"include_closed": "maybe"},
        {"q": "a" * 201},
        {"region": "abc"},
        {"sort": ""},
        {"price": "dyrt"},
    ],
)
def test_a_refused_parameter_answers_the_documented_400(schema, db, client, query):
    answer = client.get("/api/offers/", query)

    assert answer.status_code == 400
    jsonschema.validate(answer.json(), body_schema(schema, "400"))
    assert set(answer.json()) == set(query)


def test_an_unchanged_catalogue_answers_the_documented_304(schema, db, client):
    # (Without writes in this test's transaction: an uncommitted change makes answers private.)
    first = client.get("/api/offers/")

    again = client.get("/api/offers/", HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304
    assert "304" in schema["paths"]["/api/offers/"]["get"]["responses"]
    headers = [p["name"] for p in schema["paths"]["/api/offers/"]["get"]["parameters"]]
    assert "If-None-Match" in headers
