"""While PostgreSQL does not answer, pages, the admin and the API say 503 with Retry-After (a
standalone Danish page, or JSON under /api/), and clients come back spread out, not all at once."""

from __future__ import annotations

import logging
import sys

import pytest
from django.db import OperationalError, connections
from django.test import RequestFactory

from portal import outage, views


@pytest.fixture
def database_down(django_db_blocker):
    """The default connection pointed at a port nobody listens on: every query fails to connect."""
    connection = connections["default"]
    saved = {key: connection.settings_dict[key] for key in ("HOST", "PORT", "OPTIONS")}
    connection.close()
    connection.settings_dict.update(
        HOST="127.0.0.1", PORT="1", OPTIONS={**saved["OPTIONS"], "connect_timeout": 2}
    )
    with django_db_blocker.unblock():
        yield
        connection.close()
    connection.settings_dict.update(saved)


def _assert_retry_after(response) -> None:
    assert outage.RETRY_AFTER_MIN <= int(response["Retry-After"]) <= outage.RETRY_AFTER_MAX
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/", "/tilbud/", "/vejledning/"])
def test_a_page_answers_the_danish_503_page_while_the_database_is_down(
    client, database_down, caplog, path
):
    with caplog.at_level(logging.ERROR, logger="portal.outage"):
        response = client.get(path)

    html = response.content.decode()
    assert response.status_code == 503
    _assert_retry_after(response)
    assert '<html lang="da">' in html
    assert "Portalen kan ikke svare lige nu" in html
    assert "vedligeholdelse" not in html
    assert "database unavailable, answered 503: OperationalError" in caplog.text


def test_the_admin_login_answers_503_while_the_database_is_down(client, database_down):
    response = client.post("/admin/login/", {"username": "raadgiver", "password": "x" * 12})

    assert response.status_code == 503
    _assert_retry_after(response)
    assert "Portalen kan ikke svare lige nu" in response.content.decode()


def test_the_api_answers_503_json_while_the_database_is_down(client, database_down):
    response = client.post(
        "/api/guidance-requests/",
        {
            "company_name": "Fiskehuset ApS",
            "municipality": 751,
            "needs": "Vi vil eksportere til Tyskland.",
            "contact_name": "Eva",
            "contact_email": "eva@example.dk",
            "consent": True,
        },
        content_type="application/json",
    )
    listing = client.get("/api/offers/")

    for answer in (response, listing):
        assert answer.status_code == 503
        _assert_retry_after(answer)
        assert answer.json() == {"detail": outage.API_MESSAGE}


def test_the_health_checks_tell_live_from_ready_while_the_database_is_down(client, database_down):
    ready = client.get("/healthz/ready")
    stable = client.get("/healthz")
    live = client.get("/healthz/live")

    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "unavailable"
    assert stable.status_code == 503
    assert live.status_code == 200


def test_retry_after_is_spread_over_seconds_not_one_value():
    seen = {outage.retry_after_seconds() for _ in range(200)}
    assert min(seen) >= outage.RETRY_AFTER_MIN
    assert max(seen) <= outage.RETRY_AFTER_MAX
    assert len(seen) > 5


def test_an_outage_outside_a_view_reaches_the_500_handler_and_answers_503():
    request = RequestFactory().get("/tilbud/")
    try:
        raise OperationalError("connection to server failed")
    except OperationalError:
        assert sys.exc_info()[0] is OperationalError
        response = views.server_error(request)
    assert response.status_code == 503
    _assert_retry_after(response)


def test_any_other_error_is_still_a_500():
    request = RequestFactory().get("/tilbud/")
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        response = views.server_error(request)
    assert response.status_code == 500
