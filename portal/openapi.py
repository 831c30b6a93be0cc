"""The error answers every API operation can give, added to the OpenAPI schema in one place.

drf-spectacular documents what a view declares. The answers that come from the layers around the
views (the maintenance switch and a database outage: 503; rate limits: 429; authentication: 401
and 403; unknown addresses: 404; bad parameters or bodies: 400; an address longer than the web
server reads, answered by gunicorn or the proxy before the portal: 414) are the same everywhere,
so they are added here, after generation, instead of on each view. A view's own description of
one of these codes is kept.
"""

from __future__ import annotations

from typing import Any

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string", "description": "Hvad der gik galt, på dansk."}},
    "required": ["detail"],
}
FIELD_ERRORS = {
    "type": "object",
    "description": "Fejl pr. felt eller parameter: feltets navn og dets fejlbeskeder.",
    "additionalProperties": True,
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Sekunder, før det giver mening at prøve igen.",
        "schema": {"type": "integer"},
    }
}


def _json(schema_name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}


def _is_public(operation: dict[str, Any]) -> bool:
    """Anonymous callers may use it: an empty requirement is among its security options."""
    return {} in operation.get("security", [{}])


def _add(responses: dict[str, Any], code: str, description: str, schema: str = "Error") -> None:
    response: dict[str, Any] = {"description": description, "content": _json(schema)}
    if code == "503":
        response["headers"] = RETRY_AFTER
    responses.setdefault(code, response)


def add_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR)
    schemas.setdefault("FieldErrors", FIELD_ERRORS)
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            takes_input = "requestBody" in operation or any(
                parameter.get("in") == "query" for parameter in operation.get("parameters", [])
            )
            if takes_input:
                _add(responses, "400", "Ugyldige parametre eller felter, pr. navn.", "FieldErrors")
            if not _is_public(operation):
                _add(responses, "401", "Login mangler.")
                _add(responses, "403", "Brugeren må ikke dette.")
            pages = any(
                parameter.get("name") == "page" for parameter in operation.get("parameters", [])
            )
            # A search that answers an empty page past the last one says so with this extension.
            pages = pages and not operation.get("x-empty-past-last-page")
            if "{" in path or pages:
                _add(responses, "404", "Findes ikke, eller siden er uden for resultaterne.")
            _add(responses, "429", "For mange forespørgsler fra samme klient; prøv igen senere.")
            # gunicorn (limit_request_line) or the proxy answers before the portal, in HTML.
            responses.setdefault(
                "414",
                {
                    "description": "Adressen er længere, end webserveren læser.",
                    "content": {"text/html": {"schema": {"type": "string"}}},
                },
            )
            _add(
                responses,
                "503",
                "Portalen er lukket for vedligeholdelse eller kan ikke nå sin database.",
            )
    return result
