"""Production is never entered by accident: no debug mode or development key because a variable
went missing, no demo superuser with the README's password, no HSTS preload nobody chose."""

from __future__ import annotations

import io
import runpy
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from accounts.models import User
from portal import embedded
from portal.management.commands import seed_demo

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "portal" / "settings.py"
PRODUCTION_SECRET = "p" * 20 + "-production-secret-used-only-in-this-test-0123456789"


@pytest.fixture
def environment(monkeypatch):
    """A bare environment for reading the settings afresh; embedded servers are never started."""
    for name in ("DATABASE_URL", "REDIS_URL", "DEBUG", "PORTAL_DEV", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    started: list[str] = []

    def fake_postgres_url(database: str = "portal") -> str:
        started.append("postgres")
        return f"postgresql://postgres:@/{database}?host=/nonexistent"

    def fake_redis_url() -> str:
        started.append("redis")
        return "unix:///nonexistent/redis.sock"

    monkeypatch.setattr(embedded, "postgres_url", fake_postgres_url)
    monkeypatch.setattr(embedded, "redis_url", fake_redis_url)
    return monkeypatch, started


def with_production_services(monkeypatch) -> None:
    """The variables a production container gets: its database, broker and secret key."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://portal@db/portal")
    monkeypatch.setenv("REDIS_URL", "redis://redis:6379/0")
    monkeypatch.setenv("SECRET_KEY", PRODUCTION_SECRET)


def _settings() -> dict[str, object]:
    return runpy.run_path(str(SETTINGS_FILE))


def test_a_container_that_lost_its_database_url_refuses_to_start(environment):
    monkeypatch, started = environment
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("SECRET_KEY", PRODUCTION_SECRET)

    with pytest.raises(ImproperlyConfigured, match="Set the environment variable DATABASE_URL"):
        _settings()
    assert started == []


def test_nothing_set_at_all_refuses_rather_than_starting_a_debug_portal(environment):
    _, started = environment
    with pytest.raises(ImproperlyConfigured, match=r"DATABASE_URL and REDIS_URL.*PORTAL_DEV=true"):
        _settings()
    assert started == []


def test_development_mode_is_explicit_and_starts_the_embedded_servers(environment):
    monkeypatch, started = environment
    monkeypatch.setenv("PORTAL_DEV", "true")

    values = _settings()

    assert values["DEBUG"] is True
    assert values["DEVELOPMENT_MODE"] is True
    assert started == ["postgres", "redis"]
    assert str(values["SECRET_KEY"]).startswith("insecure-development-key")


def test_production_with_its_services_set_is_not_debug(environment):
    monkeypatch, started = environment
    with_production_services(monkeypatch)

    values = _settings()

    assert values["DEBUG"] is False
    assert values["DEVELOPMENT_MODE"] is False
    assert started == []


def test_hsts_preload_is_an_explicit_opt_in(environment):
    monkeypatch, _ = environment
    with_production_services(monkeypatch)

    default = _settings()
    monkeypatch.setenv("SECURE_HSTS_PRELOAD", "true")
    chosen = _settings()

    assert default["SECURE_HSTS_PRELOAD"] is False
    assert default["SECURE_HSTS_SECONDS"] == 31536000
    assert chosen["SECURE_HSTS_PRELOAD"] is True
    assert chosen["SILENCED_SYSTEM_CHECKS"] == []


@pytest.mark.django_db
def test_seed_demo_refuses_outside_development(settings):
    settings.DEVELOPMENT_MODE = False

    with pytest.raises(CommandError, match="--allow-production"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not User.objects.filter(username="admin").exists()


@pytest.mark.django_db
def test_seed_demo_in_production_on_request_gives_random_passwords_shown_once(
    settings, monkeypatch
):
    settings.DEVELOPMENT_MODE = False
    # Only the people: the catalogue, cases and panel are tested with the demo elsewhere.
    monkeypatch.setattr(seed_demo, "DEMO_APPS", ())
    out = io.StringIO()

    call_command("seed_demo", "--allow-production", stdout=out)

    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert not admin.check_password(seed_demo.DEMO_PASSWORD)
    printed = dict(line.split() for line in out.getvalue().splitlines() if line.startswith("  "))
    assert set(printed) == {username for username, *_ in seed_demo.DEMO_USERS}
    assert admin.check_password(printed["admin"])
    assert len(set(printed.values())) == len(printed)

    again = io.StringIO()
    call_command("seed_demo", "--allow-production", stdout=again)
    assert "shown only this once" not in again.getvalue()
    assert User.objects.get(username="admin").check_password(printed["admin"])


@pytest.mark.django_db
def test_seed_demo_in_development_uses_the_documented_password(settings, monkeypatch):
    settings.DEVELOPMENT_MODE = True
    monkeypatch.setattr(seed_demo, "DEMO_APPS", ())
    out = io.StringIO()

    call_command("seed_demo", stdout=out)

    assert User.objects.get(username="admin").check_password(seed_demo.DEMO_PASSWORD)
    assert seed_demo.DEMO_PASSWORD not in out.getvalue()
