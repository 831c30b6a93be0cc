"""The public version without a query per request (offers.public_cache.VersionListener).

A web process LISTENs for the notifications the triggers send at the commit of every change to a
source of the version. These tests commit (as production does), turn the listener on, and wait
for what it is told: a version is trusted for a minute here, so only a notification can end it.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
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
    # Each wait for notifications lasts longer than any test waits for one: a notification must
    # count as it arrives, not when the wait is over.
    own.WAIT_SECONDS = 60.0
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
    """Start the listener's thread, wait for its LISTEN, and keep a version read after it (read
    again should a notification of an earlier commit come in between)."""
    public_version()
    assert until(listener.listening)
    assert until(lambda: public_version() is not None and listener.known().version is not None)
    version = listener.known().version
    assert version == public_version()
    return str(version)


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
    listener.retry_seconds = 2.0  # long enough for the two requests before it listens again
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


def test_a_child_after_fork_gets_a_free_lock_and_leaves_the_parents_connection(
    offers, listener
) -> None:
    version = listening(listener)
    inherited = listener._connection
    listener._lock.acquire()  # held by the parent's thread when the fork came

    listener.after_fork_in_child()

    assert listener._lock.acquire(blocking=False)  # a free lock: requests do not hang
    listener._lock.release()
    assert inherited in public_cache._INHERITED
    assert not inherited.closed
    assert queries(public_version) == (version, 1)  # asks until its own thread listens
    assert until(lambda: listener._connection not in (None, inherited))
    public_cache._INHERITED.remove(inherited)
    inherited.close()


def test_the_process_listener_is_reset_in_a_forked_child() -> None:
    # os.register_at_fork has no way to list its callbacks: the child's own copy tells.
    process = public_cache.LISTENER
    before = process._thread_pid
    process._thread_pid = os.getpid()  # as if this process had started its thread
    read, write = os.pipe()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork() beside threads
            child = os.fork()
        if child == 0:  # pragma: no cover (the child)
            os.close(read)
            os.write(write, b"1" if process._thread_pid == 0 else b"0")
            os._exit(0)
        os.close(write)
        answer = os.read(read, 1)
        os.waitpid(child, 0)
        os.close(read)
    finally:
        process._thread_pid = before
    assert answer == b"1"


# --- The production server -----------------------------------------------------------------------


def _database_url() -> str:
    database = connection.settings_dict
    user = database["USER"] or "postgres"
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    if str(database["HOST"]).startswith("/"):
        return f"postgresql://{user}{password}@/{database['NAME']}?host={database['HOST']}"
    return (
        f"postgresql://{user}{password}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )


@pytest.fixture
def production_server(settings: Any, tmp_path: Any) -> Iterator[str]:
    """gunicorn as in production (DEBUG off, the listener on) with three sync processes."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DEBUG": "false",
        "PORTAL_DEV": "false",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "COOKIE_SECURE": "false",
        "RATELIMIT_ENABLE": "false",
        "PUBLIC_VERSION_LISTEN": "true",
        # Only a notification can end a kept version within the test's time.
        "PUBLIC_VERSION_TRUST_MS": "600000",
        "PUBLIC_CACHE_REDIS_URL": "",
        "WEB_WORKER_CLASS": "sync",
        "WEB_CONCURRENCY": "3",
        "PORTAL_VAR_DIR": str(tmp_path),
    }
    log = (tmp_path / "gunicorn.log").open("wb")
    root = Path(__file__).resolve().parents[2]
    server = subprocess.Popen(  # noqa: S603 - this Python, fixed arguments
        [
            *(sys.executable, "-m", "gunicorn", "portal.wsgi", "-c", "gunicorn.conf.py"),
            *("--bind", f"127.0.0.1:{port}"),
        ],
        cwd=root,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert until(lambda: _answers(f"{base}/healthz"), seconds=180), (
            tmp_path / "gunicorn.log"
        ).read_text()
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
        log.close()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - http://127.0.0.1
            return bool(response.status == 200)
    except OSError:
        return False


def _count(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - http://127.0.0.1
        return int(json.load(response)["count"])


def test_every_process_of_the_production_server_answers_the_change_at_once(
    offers, production_server
) -> None:
    url = f"{production_server}/api/offers/?q=eksport"
    assert {_count(url) for _ in range(9)} == {3}  # kept by every process by now
    withdrawn = offers[0]
    for status, count in [(Offer.Status.ARCHIVED, 2), (Offer.Status.PUBLISHED, 3)] * 2:
        withdrawn.status = status
        withdrawn.save(update_fields=["status"])
        # Told within milliseconds of the commit (a version is trusted for ten minutes here):
        # every process, nine requests in a row.
        assert until(lambda count=count: [_count(url) for _ in range(9)] == [count] * 9)
