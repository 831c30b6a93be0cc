"""The outbox through a real Celery worker and a real Redis broker."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from crm import services
from crm.models import Case, Notification
from offers.models import Organisation, Theme
from portal.celery import app
from tests.crm.factories import CompanyFactory, ContactFactory


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
