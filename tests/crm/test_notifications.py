from __future__ import annotations

import datetime as dt
import smtplib

import pytest
from django.core import mail
from django.utils import timezone
from kombu.exceptions import OperationalError

from crm import outbox, services, tasks
from crm.models import Case, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr(tasks.notification_send, "delay", lambda pk: sent.append(pk))
    return sent


def test_a_new_case_is_enqueued_for_sending_only_after_commit(
    make_case, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case = make_case()
    assert enqueued == []

    for callback in callbacks:
        callback()

    assert enqueued == [Notification.objects.get(case=case).pk]


def test_the_request_succeeds_and_the_mail_waits_when_the_broker_is_down(
    make_case, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    def broker_down(pk):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.notification_send, "delay", broker_down)

    with django_capture_on_commit_callbacks(execute=True):
        case = make_case()

    notification = Notification.objects.get(case=case)
    assert notification.status == Notification.Status.PENDING
    assert "left for the sweep" in caplog.text
    assert case.contact.email not in caplog.text
    assert notification.recipient not in caplog.text


def test_the_task_sends_the_mail_in_danish_once(make_case):
    case = make_case()
    notification = Notification.objects.get(case=case)

    assert tasks.notification_send.apply(args=[notification.pk]).get() == "sent"
    assert tasks.notification_send.apply(args=[notification.pk]).get() == "skipped"

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [case.hub.inbox_email]
    assert f"Ny sag {case.reference}" in message.subject
    assert "Frist for første svar" in message.body
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT and notification.sent_at


def test_a_busy_mail_server_is_retried_and_recorded_without_the_address(make_case, monkeypatch):
    case = make_case()
    notification = Notification.objects.get(case=case)

    def busy(self, *args, **kwargs):
        raise smtplib.SMTPServerDisconnected("lost connection to " + notification.recipient)

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", busy)

    before = timezone.now()
    assert tasks.notification_send.apply(args=[notification.pk], throw=True).get() == "retrying"

    notification.refresh_from_db()
    assert notification.status == Notification.Status.PENDING
    assert notification.attempts == 1
    assert notification.last_error == "SMTPServerDisconnected"
    # Due again after the first backoff (30 s, up to a quarter earlier), not before.
    wait = notification.next_attempt_at - before
    assert dt.timedelta(seconds=22) <= wait <= dt.timedelta(seconds=31)
    assert tasks.notification_send.apply(args=[notification.pk]).get() == "skipped"


def test_a_refused_address_is_not_retried(make_case, monkeypatch):
    case = make_case()
    notification = Notification.objects.get(case=case)

    def refused(self, *args, **kwargs):
        raise smtplib.SMTPRecipientsRefused({notification.recipient: (550, b"no such user")})

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refused)

    assert tasks.notification_send.apply(args=[notification.pk]).get() == "failed"
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED


def test_the_sweep_enqueues_mail_the_broker_never_got(make_case, enqueued):
    # Written while the broker was down: notification_enqueue left it for the sweep.
    old = Notification.objects.get(case=make_case())
    Notification.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=5), enqueued_at=None
    )
    # Just handed to the broker after its commit: a worker is about to send it.
    fresh = Notification.objects.get(case=make_case())

    assert tasks.notifications_sweep.apply().get() == 1
    assert enqueued == [old.pk]
    assert fresh.pk not in enqueued


def test_the_sweep_takes_over_a_send_a_dead_worker_left_behind(make_case, enqueued, time_machine):
    # Written an hour ago; a worker claimed it and died before it could send.
    time_machine.move_to(timezone.now() - dt.timedelta(hours=1), tick=False)
    stuck = Notification.objects.get(case=make_case())
    assert outbox.notification_claim(stuck.pk) is not None
    time_machine.move_to(timezone.now() + dt.timedelta(hours=1), tick=False)

    tasks.notifications_sweep.apply()
    assert tasks.notification_send.apply(args=[stuck.pk]).get() == "sent"
    assert enqueued == [stuck.pk]


def test_the_assigned_mail_names_the_adviser_and_the_hub(make_case, adviser):
    case = services.case_assign(case=make_case(), adviser=adviser, actor=adviser)
    notification = Notification.objects.get(kind=Notification.Kind.CASE_ASSIGNED)

    tasks.notification_send.apply(args=[notification.pk])

    message = mail.outbox[0]
    assert message.to == [case.contact.email]
    assert "Din sag er nu hos Mette Kristensen, Væksthus Midtjylland." in message.body


def test_each_hub_gets_one_overdue_digest_a_day(make_case, other_hub):
    late = make_case()
    on_time = make_case()
    elsewhere = make_case(hub=other_hub)
    Case.objects.filter(pk__in=[late.pk, elsewhere.pk]).update(
        first_response_due=timezone.localdate() - dt.timedelta(days=2)
    )
    Notification.objects.all().delete()

    assert tasks.cases_overdue_digest.apply().get() == 2
    assert tasks.cases_overdue_digest.apply().get() == 0

    digest = Notification.objects.get(recipient=late.hub.inbox_email)
    assert digest.subject == "1 sag venter på første svar"
    assert late.reference in digest.body
    assert on_time.reference not in digest.body
    assert late.contact.email not in digest.body
