"""Bad input to the catalogue's write paths is a clear 4xx answer, never a 500.

Too deep JSON (Python's decoder raises RecursionError) and a body over the size limit, in the
offers API, the import (function and admin upload).
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import multipartparser
from django.urls import reverse

from offers import admin_forms
from offers.importing import import_offers
from offers.models import Offer

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:offers_offer_import")
DEPTHS = [100_000, 20_000]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_the_api_answers_too_deep_json_with_400(client, editor, depth, method):
    client.force_login(editor)
    url = "/api/offers/" if method == "post" else "/api/offers/findes-ikke/"

    response = getattr(client, method)(url, nested(depth), content_type="application/json")

    # PUT and PATCH of an offer that is not there may answer 404 before reading the body.
    assert response.status_code == 400 if method == "post" else response.status_code in (400, 404)
    if response.status_code == 400:
        assert "indlejret for dybt" in response.json()["detail"]
    assert not Offer.objects.exists()


def test_the_api_answers_too_deep_json_in_a_field_with_400(client, editor):
    client.force_login(editor)
    body = '{"external_id": "x", "title": ' + nested(100_000) + "}"

    response = client.post("/api/offers/", body, content_type="application/json")

    assert response.status_code == 400
    assert "indlejret for dybt" in response.json()["detail"]


def test_the_api_refuses_a_body_over_the_limit_before_reading_it(client, editor, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client.force_login(editor)

    response = client.post(
        "/api/offers/", "[" + " " * 20_000 + "]", content_type="application/json"
    )

    assert response.status_code == 413
    assert response.json()["detail"] == "Forespørgslen er for stor (højst 9 kB)."


@pytest.mark.parametrize("shape", ["lines", "array"])
def test_the_import_reports_too_deep_json_by_line(editor, shape):
    source = nested(100_000) + "\n" if shape == "lines" else "[\n" + nested(100_000) + "\n]"

    result = import_offers(source=source, user=editor)

    assert [str(error) for error in result.errors] == [
        f"linje {1 if shape == 'lines' else 2}: ugyldig JSON (lister eller objekter er indlejret "
        "for dybt)"
    ]


def test_the_admin_upload_reports_too_deep_json(client, editor):
    client.force_login(editor)
    upload = SimpleUploadedFile("tilbud.json", nested(100_000).encode(), "application/json")

    response = client.post(IMPORT, {"file": upload})

    assert response.status_code == 200
    assert "indlejret for dybt" in response.content.decode()


def test_the_admin_upload_refuses_a_file_over_the_limit_before_reading_it(
    client, editor, monkeypatch
):
    monkeypatch.setattr(admin_forms, "IMPORT_MAX_BYTES", 2**20)

    def never(*args, **kwargs):
        raise AssertionError("the upload was read")

    client.force_login(editor)
    upload = SimpleUploadedFile("tilbud.json", b" " * (2**20 + 70 * 1024), "application/json")
    monkeypatch.setattr(multipartparser.MultiPartParser, "parse", never)

    response = client.post(IMPORT, {"file": upload})

    assert response.status_code == 413
    assert "Filen er for stor (højst 1 MB)." in response.content.decode()
