"""The outbox through a real Celery worker and a real Redis broker."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from rest_framework.test import APIClient

from crm import outbox, services
from crm.models import Case, Notification
from offers.models import Organisation, Theme
from portal.celery import app
from tests.crm.factories import CompanyFactory, ContactFactory
from tests.routing.factories import form_data


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_new_case_reaches_the_hub_inbox_through_the_notifications_queue():
    company = CompanyFactory.create()
    with start_worker(app, pool="solo", perform_ping_check=False, queues=["notifications"]):
        case = services.case_create(
            company=company,
            contact=ContactFactory.create(company=company),
            hub=Organisation.objects.get(slug="vaeksthus-sjaelland"),
            needs="Hjælp til at finde kapital",
            themes=Theme.objects.filter(slug="capital"),
            source=Case.Source.PHONE,
        )
        notification = Notification.objects.get(case=case)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            notification.refresh_from_db()
            if notification.status == Notification.Status.SENT:
                break
            time.sleep(0.2)

    assert notification.status == Notification.Status.SENT
    assert [message.to for message in mail.outbox] == [[case.hub.inbox_email]]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_guidance_requests_two_mails_reach_a_real_worker_as_one_task(monkeypatch):
    batches: list[list[int]] = []
    enqueue = outbox.notifications_enqueue

    def recorded(notification_ids: list[int]) -> bool:
        batches.append(list(notification_ids))
        return enqueue(notification_ids)

    monkeypatch.setattr(outbox, "notifications_enqueue", recorded)
    body = form_data()
    with start_worker(app, pool="solo", perform_ping_check=False, queues=["notifications"]):
        response = APIClient().post("/api/guidance-requests/", body, format="json")
        assert response.status_code == 201
        rows = Notification.objects.filter(case__reference=response.json()["reference"])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and rows.exclude(status="sent").exists():
            time.sleep(0.2)

    assert batches == [sorted(rows.values_list("pk", flat=True))]
    assert set(rows.values_list("status", flat=True)) == {Notification.Status.SENT}
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        ["nye-sager@vaeksthus-syddanmark.dk", body["contact_email"]]
    )
