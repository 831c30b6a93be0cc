"""The public version without a query per request (offers.public_cache.VersionListener).

A web process LISTENs for the notifications the triggers send at the commit of every change to a
source of the version. These tests commit (as production does), turn the listener on, and wait
for what it is told: a version is trusted for a minute here, so only a notification can end it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from offers import public_cache
from offers.models import Offer, Theme
from offers.public_cache import VersionListener, notifying_tables, public_version
from tests.offers.factories import make_offer

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/offers/?q=eksport"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def listener(settings: Any, monkeypatch: pytest.MonkeyPatch, clock: Clock) -> Iterator[Any]:
    settings.PUBLIC_VERSION_LISTEN = True
    settings.PUBLIC_VERSION_TRUST_MS = 60_000
    own = VersionListener(clock=clock, retry_seconds=0.2)
    monkeypatch.setattr(public_cache, "LISTENER", own)
    yield own
    own.close()


@pytest.fixture
def offers() -> list[Offer]:
    public_cache.STORE.clear()
    return [
        make_offer(external_id=f"eksport-{n}", title=f"Eksport {n}", themes=["export"])
        for n in range(3)
    ]


def queries(action: Any) -> tuple[Any, int]:
    with CaptureQueriesContext(connection) as captured:
        result = action()
    return result, len(captured.captured_queries)


def until(condition: Any, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def listening(listener: Any) -> str:
    """Start the listener's thread, wait for its LISTEN, and keep a version read after it."""
    public_version()
    assert until(listener.listening)
    version = public_version()
    assert version is not None
    assert listener.known().version == version
    return version


def told(listener: Any, seconds: float = 5.0) -> bool:
    """Whether a notification has ended the kept version within ``seconds``."""
    return until(lambda: listener.known().version is None, seconds)


def test_every_source_of_the_version_has_the_trigger_that_notifies() -> None:
    tables = notifying_tables()
    assert {
        "offers_catalogue_version",
        "offers_organisation",
        "evaluation_effectrun",
        "routing_vocabularyword",
        "partners_partner",
    } <= tables
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgtype FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE t.tgname = c.relname || '_public_version_notify'"
        )
        triggered = dict(cursor.fetchall())
    assert tables <= set(triggered)
    # pg_trigger.tgtype: 1 row-level, 4 INSERT, 8 DELETE, 16 UPDATE, 32 TRUNCATE.
    assert {table: triggered[table] & (1 | 4 | 8 | 16 | 32) for table in tables} == dict.fromkeys(
        tables, 4 | 8 | 16 | 32
    )


def test_a_kept_answer_costs_no_query_while_listening(offers, listener, client, settings) -> None:
    settings.PAGE_VIEW_FLUSH_SECONDS = 3600  # page views are written later, not by the request
    listening(listener)
    first = client.get(URL)

    again, count = queries(lambda: client.get(URL))

    assert count == 0
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]


def test_a_withdrawn_offer_is_gone_from_the_next_answer_once_told(
    offers, listener, client, settings
) -> None:
    listening(listener)
    assert client.get(URL).json()["count"] == 3

    withdrawn = offers[0]
    withdrawn.status = Offer.Status.ARCHIVED
    withdrawn.save(update_fields=["status"])

    assert told(listener)
    after = client.get(URL)
    assert after.json()["count"] == 2
    settings.PUBLIC_CACHE_ENABLED = False
    assert after.content == Client().get(URL).content


@pytest.mark.parametrize("table", sorted(notifying_tables()))
def test_a_statement_on_any_source_is_told(offers, listener, table) -> None:
    listening(listener)
    with connection.cursor() as cursor:
        # A statement trigger fires whether or not a row changed: the commit notifies.
        cursor.execute(f"UPDATE {table} SET id = id WHERE false")  # noqa: S608 (table names)
    assert told(listener)


def test_renaming_an_organisation_is_told(offers, listener) -> None:
    listening(listener)
    owner = offers[0].owner
    owner.name = "Erhvervsstyrelsen (nyt navn)"
    owner.save(update_fields=["name"])
    assert told(listener)


def test_a_theme_added_to_an_offer_is_told(offers, listener) -> None:
    listening(listener)
    offers[1].themes.add(Theme.objects.exclude(slug="export").first())
    assert told(listener)


def test_a_transaction_that_changed_a_source_asks_postgresql(offers, listener) -> None:
    version = listening(listener)
    with transaction.atomic():
        make_offer(external_id="eksport-uncommitted", title="Eksport", themes=["export"])
        assert public_version() is None  # its own change, not yet the version's
    version = listening(listener)
    with transaction.atomic():
        owner = offers[0].owner
        owner.name = "Erhvervsstyrelsen (nyt navn)"
        owner.save(update_fields=["name"])
        assert public_version() not in (None, version)


def test_nothing_changed_nothing_told(offers, listener) -> None:
    listening(listener)
    assert not told(listener, seconds=0.3)


def test_a_version_read_before_a_notification_is_not_kept(offers, listener) -> None:
    version = listening(listener)
    listener.forget()
    asked = listener.known()  # a request about to read the version
    assert asked.version is None
    offers[0].owner.save(update_fields=["name"])  # committed: a notification is on its way
    deadline = time.monotonic() + 5
    while listener._seen == asked.seen and time.monotonic() < deadline:
        listener.known()
        time.sleep(0.01)

    listener.remember(version, asked)  # what that request read, perhaps before the change

    assert listener.known().version is None


def test_a_version_is_trusted_for_the_set_time_only(offers, listener, clock, settings) -> None:
    settings.PUBLIC_VERSION_TRUST_MS = 1000
    version = listening(listener)
    clock.now += 0.9
    assert queries(public_version) == (version, 0)

    clock.now += 0.2
    assert queries(public_version) == (version, 1)  # asked again, kept again
    assert queries(public_version) == (version, 0)


def test_a_lost_listener_falls_back_to_asking_and_listens_again(offers, listener, caplog) -> None:
    version = listening(listener)
    with caplog.at_level(logging.WARNING, logger="offers.public_cache"):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(%s)", [listener._connection.info.backend_pid]
            )
        assert until(lambda: not listener.listening())
        assert queries(public_version) == (version, 1)
        assert queries(public_version) == (version, 1)  # no version kept without the listener
        assert until(listener.listening)  # after retry_seconds
    assert "public version: listener lost" in caplog.text
    assert queries(public_version) == (version, 1)  # read after the new LISTEN
    assert queries(public_version) == (version, 0)


def test_without_the_listener_every_request_asks(offers, listener, settings) -> None:
    settings.PUBLIC_VERSION_LISTEN = False
    version = public_version()
    assert queries(public_version) == (version, 1)
    assert listener._connection is None


def test_a_forked_process_forgets_its_parents_connection(offers, listener, monkeypatch) -> None:
    version = listening(listener)
    inherited = listener._connection
    monkeypatch.setattr(public_cache.os, "getpid", lambda: -1)

    assert queries(public_version) == (version, 1)
    assert inherited in public_cache._INHERITED
    assert not inherited.closed  # the parent's session is left alone
    assert until(lambda: listener._connection not in (None, inherited))  # its own thread
    public_cache._INHERITED.remove(inherited)
    inherited.close()
