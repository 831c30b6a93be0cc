"""Routing needs only PostgreSQL: with the broker down a request still becomes a case, and its
notification waits in the outbox until the broker is back and the sweep sends it."""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core import mail
from rest_framework.test import APIClient

from crm import outbox
from crm.models import Case, Notification
from crm.tasks import notifications_sweep
from portal.celery import app
from tests.routing.factories import form_data


def _dead_broker_url() -> str:
    # A port nobody listens on: bound, read and released again.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/6"


@contextlib.contextmanager
def broker_at(url: str) -> Iterator[None]:
    """Point the Celery app at ``url`` for the block.

    The app caches its connection and producer pools; dropping the references makes it build
    them again for the new address. Nothing is closed: kombu keeps pools per broker address and
    other tests go on using the one for the real broker.
    """
    previous = app.conf.broker_url

    def reset() -> None:
        app._pool = None
        app.amqp._producer_pool = None

    app.conf.broker_url = url
    reset()
    try:
        yield
    finally:
        app.conf.broker_url = previous
        reset()


def _wait_until_sent(notification_id: int, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        status = Notification.objects.get(pk=notification_id).status
        if status == Notification.Status.SENT:
            break
        time.sleep(0.2)
    return status


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_request_succeeds_with_the_broker_down_and_its_mail_goes_out_when_it_is_back(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[float] = []
    enqueue = outbox.notifications_enqueue

    def timed_enqueue(notification_ids: list[int]) -> bool:
        started = time.perf_counter()
        try:
            return enqueue(notification_ids)
        finally:
            attempts.append(time.perf_counter() - started)

    monkeypatch.setattr(outbox, "notifications_enqueue", timed_enqueue)
    with broker_at(_dead_broker_url()), caplog.at_level(logging.WARNING, "crm.outbox"):
        body = form_data()
        response = APIClient().post("/api/guidance-requests/", body, format="json")

    assert response.status_code == 201
    assert "broker unavailable" in caplog.text
    # Both messages were tried together, once, and given up quickly: the company does not wait
    # for Redis (the publish retry policy allows one immediate retry; the default took 0.6 s).
    assert len(attempts) == 1
    assert sum(attempts) < 0.5
    case = Case.objects.get(reference=response.json()["reference"])
    waiting = {n.recipient: n for n in Notification.objects.filter(case=case)}
    # The hub's notice and the company's receipt both wait in the outbox.
    assert set(waiting) == {"nye-sager@vaeksthus-syddanmark.dk", body["contact_email"]}
    assert {n.status for n in waiting.values()} == {Notification.Status.PENDING}
    assert mail.outbox == []

    # Neither is on its way to a worker: the first sweep after the broker is back takes both.
    assert {n.enqueued_at for n in waiting.values()} == {None}
    with (
        broker_at(settings.CELERY_BROKER_URL),
        start_worker(app, pool="solo", perform_ping_check=False, queues=["notifications"]),
    ):
        assert notifications_sweep() == 2
        for notification in waiting.values():
            assert _wait_until_sent(notification.pk) == Notification.Status.SENT

    assert sorted(message.to[0] for message in mail.outbox) == sorted(waiting)
    for message in mail.outbox:
        assert case.reference in message.subject
