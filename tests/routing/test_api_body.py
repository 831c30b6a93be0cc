"""POST /api/guidance-requests/ with a body no client should send: a 4xx answer, not a 500."""

from __future__ import annotations

import pytest

from routing.models import GuidanceRequest

pytestmark = pytest.mark.django_db

URL = "/api/guidance-requests/"


@pytest.mark.parametrize("depth", [100_000, 20_000])
def test_it_answers_too_deep_json_with_400(client, depth):
    response = client.post(URL, "[" * depth + "]" * depth, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"] == "JSON-dokumentet er indlejret for dybt."
    assert not GuidanceRequest.objects.exists()


def test_it_refuses_a_body_over_the_limit_with_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000

    response = client.post(URL, "{" + " " * 20_000 + "}", content_type="application/json")

    assert response.status_code == 413
    assert response.json()["detail"] == "Forespørgslen er for stor (højst 9 kB)."
    assert not GuidanceRequest.objects.exists()
