"""The maintenance switch answers 503 everywhere but the health check, by setting or flag file."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def flag(settings, tmp_path: Path) -> Path:
    settings.MAINTENANCE_MODE = False
    settings.MAINTENANCE_FILE = str(tmp_path / "maintenance")
    return tmp_path / "maintenance"


def test_the_portal_answers_normally_while_the_switch_is_off(client: Client, flag: Path) -> None:
    assert client.get("/").status_code == 200
    assert client.get("/api/offers/").status_code == 200


def test_the_flag_file_closes_pages_and_the_api_and_opens_them_again(
    client: Client, flag: Path
) -> None:
    flag.touch()

    page = client.get("/tilbud/")
    api = client.post("/api/guidance-requests/", {}, content_type="application/json")
    assert page.status_code == 503
    assert page["Retry-After"] == "300"
    assert "Portalen er lukket for vedligeholdelse" in page.content.decode()
    assert api.status_code == 503
    assert api.json() == {"detail": "Portalen er lukket for vedligeholdelse. Prøv igen om lidt."}
    assert client.get("/admin/login/").status_code == 503

    flag.unlink()
    assert client.get("/tilbud/").status_code == 200


def test_the_setting_closes_the_portal_but_the_health_check_still_answers(
    client: Client, flag: Path, settings
) -> None:
    settings.MAINTENANCE_MODE = True

    assert client.get("/vejledning/").status_code == 503
    health = client.get("/healthz").json()
    assert health["checks"]["database"] == "ok"
    assert health["maintenance"] is True
    assert client.get("/healthz/ready").json()["maintenance"] is True
    assert client.get("/healthz/live").status_code == 200
