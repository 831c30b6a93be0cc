"""A statement a connection sends again and again is prepared in PostgreSQL (settings:
DB_SERVER_SIDE_BINDING; psycopg prepares it when it is sent once more after DB_PREPARE_THRESHOLD
times), and the variables turn it off and tune it."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Value

from offers.models import Offer

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "portal" / "settings.py"


def _probe(external_id: str) -> list[tuple[int, int]]:
    """An ORM statement no other test sends (the annotation's name is in its text)."""
    offers = Offer.objects.annotate(prepared_statement_probe=Value(1))
    return list(
        offers.filter(external_id=external_id).values_list("pk", "prepared_statement_probe")
    )


def _probe_prepared() -> bool:
    with connection.cursor() as cursor:
        # The name is split so that this statement's own text does not contain it.
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements"
            " WHERE position('prepared_statement' || '_probe' IN statement) > 0"
        )
        return bool(cursor.fetchone()[0])


@pytest.mark.django_db
def test_an_orm_statement_sent_more_than_five_times_is_prepared() -> None:
    for external_id in ["a", "b", "c", "d", "e"]:
        _probe(external_id)
    assert not _probe_prepared()  # five times: not yet

    _probe("f")

    assert _probe_prepared()


def _database_options(monkeypatch: pytest.MonkeyPatch, **variables: str) -> dict[str, object]:
    monkeypatch.setenv("DATABASE_URL", "postgresql://portal@db/portal")
    monkeypatch.setenv("REDIS_URL", "redis://redis:6379/0")
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    options = runpy.run_path(str(SETTINGS_FILE))["DATABASES"]["default"]["OPTIONS"]
    return dict(options)


def test_it_is_on_by_default_and_off_behind_a_pooler_that_cannot_keep_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DB_SERVER_SIDE_BINDING", raising=False)
    monkeypatch.delenv("DB_PREPARE_THRESHOLD", raising=False)
    on = _database_options(monkeypatch)
    assert on["server_side_binding"] is True
    assert on["prepare_threshold"] == 5

    tuned = _database_options(monkeypatch, DB_PREPARE_THRESHOLD="2")
    assert tuned["prepare_threshold"] == 2

    off = _database_options(monkeypatch, DB_SERVER_SIDE_BINDING="false")
    assert "server_side_binding" not in off
    assert "prepare_threshold" not in off
