import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from offers.models import Municipality, Organisation, Region, StrengthPosition, Theme
from portal import settings as portal_settings

BASE_DIR = Path(__file__).resolve().parents[2]


def test_it_serves_the_front_page_in_danish(client, db):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="da">' in body
    assert "Erhvervsfremmeportalen" in body


def test_it_switches_the_front_page_to_english(client, db):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    body = client.get("/").content.decode()
    assert '<html lang="en">' in body


def test_it_answers_unknown_pages_with_a_danish_404(client, db):
    response = client.get("/findes-ikke/")
    assert response.status_code == 404
    assert "Siden findes ikke" in response.content.decode()


def test_it_serves_the_admin_login_and_the_api_schema(client, db):
    assert client.get("/admin/login/").status_code == 200
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"Erhvervsfremmeportalen API" in schema.content


def test_it_reports_health_of_database_and_broker(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok"},
        "maintenance": False,
    }


def test_the_health_check_stays_ready_when_only_the_broker_is_down(client, db, settings):
    # Guidance requests keep working without Redis (the outbox sends later): still in service.
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    for path in ("/healthz", "/healthz/ready"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.json()["status"] == "degraded"
        assert response.json()["checks"] == {"database": "ok", "broker": "unavailable"}


def test_liveness_answers_without_touching_database_or_broker(client, settings):
    # No db fixture: a query here would fail the test.
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.parametrize("path", ["/healthz", "/healthz/ready", "/healthz/live"])
def test_health_checks_answer_plain_http_on_any_host(client, db, settings, path):
    # Production settings as in .env.example: the container's health check asks 127.0.0.1:8000.
    settings.ALLOWED_HOSTS = ["erhvervsfremme.example.dk"]
    settings.SECURE_SSL_REDIRECT = True

    health = client.get(path, HTTP_HOST="127.0.0.1:8000")
    page = client.get("/om/", HTTP_HOST="127.0.0.1:8000")

    assert health.status_code == 200
    assert page.status_code == 400  # the host check still guards every page


def test_the_https_redirect_exempts_only_the_health_checks(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz/ready").status_code == 200
    assert client.get("/healthz/readyx").status_code == 301
    assert client.get("/om/").status_code == 301


def test_it_sends_security_headers(client, db):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_reference_data_has_every_region_and_municipality(db):
    assert list(Region.objects.values_list("code", flat=True)) == [1081, 1082, 1083, 1084, 1085]
    assert Municipality.objects.count() == 98
    assert Municipality.objects.get(code=101).name == "København"
    assert Municipality.objects.get(code=860).region_id == 1081
    assert Municipality.objects.get(code=751).region.name == "Region Midtjylland"


def test_reference_data_has_the_stable_organisation_slugs(db):
    slugs = set(Organisation.objects.values_list("slug", flat=True))
    for region in ("nordjylland", "midtjylland", "syddanmark", "hovedstaden", "sjaelland"):
        assert f"region-{region}" in slugs
        assert f"vaeksthus-{region}" in slugs
    assert {
        f"kommune-{code}" for code in Municipality.objects.values_list("code", flat=True)
    } <= slugs
    assert {"erhvervsstyrelsen", "eksportraadet", "innovationsfonden", "vaekstfonden"} <= slugs
    hub = Organisation.objects.get(slug="vaeksthus-syddanmark")
    assert hub.kind == Organisation.Kind.BUSINESS_HUB
    assert hub.region_id == 1083


def test_reference_data_gives_each_theme_its_responsible_level(db):
    levels = dict(Theme.objects.values_list("slug", "responsible_level"))
    assert {levels[t] for t in ("export", "investment", "capital", "research")} == {"state"}
    assert {levels[t] for t in ("digitalisation", "growth", "clusters", "knowledge")} == {"region"}
    assert {levels[t] for t in ("authority", "business-service", "startup")} == {"municipality"}
    assert StrengthPosition.objects.count() >= 10


def test_every_role_group_exists_with_permissions(roles):
    assert set(roles) >= {"Rådgiver", "Redaktør", "Analytiker"}
    editor_perms = set(roles["Redaktør"].permissions.values_list("codename", flat=True))
    assert {"change_offer", "add_offer"} <= editor_perms


@pytest.mark.parametrize(
    ("helper", "value", "message"),
    [
        (lambda: portal_settings.env_bool("X_TEST_BOOL", False), "maybe", "true or false"),
        (lambda: portal_settings.env_int("X_TEST_INT", 1), "two", "whole number"),
        (lambda: portal_settings.env_url("X_TEST_URL"), "not a url", "must be a URL"),
    ],
)
def test_settings_helpers_fail_at_start_up_on_bad_values(monkeypatch, helper, value, message):
    name = {"maybe": "X_TEST_BOOL", "two": "X_TEST_INT", "not a url": "X_TEST_URL"}[value]
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=message):
        helper()


def _production_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DEBUG="false",
        SECRET_KEY="k" * 20 + "-production-secret-used-only-in-this-check-0123456789",
        ALLOWED_HOSTS="erhvervsfremme.example.dk",
        DATABASE_URL=os.environ.get("DATABASE_URL") or portal_settings.DATABASE_URL,
        REDIS_URL=os.environ.get("REDIS_URL") or portal_settings.REDIS_URL,
    )
    # Test-only switches (the browser tests allow sync DB access from Playwright's loop), and the
    # development mode make test runs in.
    for name in ("PORTAL_TESTING", "DJANGO_ALLOW_ASYNC_UNSAFE", "PORTAL_DEV"):
        env.pop(name, None)
    return env


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = _production_env()
    env.pop("SECRET_KEY")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "Set the environment variable SECRET_KEY" in result.stderr


def test_settings_report_the_embedded_or_configured_services():
    assert portal_settings.DATABASE_URL.startswith("postgres")
    assert portal_settings.CELERY_BROKER_URL.startswith(("redis://", "redis+socket://"))
    assert json.dumps(portal_settings.CELERY_BEAT_SCHEDULE, default=str)


def test_the_openapi_schema_validates_without_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn"],
        cwd=BASE_DIR,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "openapi: 3" in result.stdout
    for path in ("/api/offers/", "/api/guidance-requests/", "/api/effects/"):
        assert f"  {path}:" in result.stdout
