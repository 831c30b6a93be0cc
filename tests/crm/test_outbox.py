"""The outbox through an SMTP outage: backoff, give-up, the sweep's bound, resending."""

from __future__ import annotations

import datetime as dt
import smtplib
import socket
from collections import Counter

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.contrib import admin, messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import CommandError, call_command
from django.db import DatabaseError, transaction
from django.template.response import TemplateResponse
from django.test import RequestFactory
from django.utils import timezone
from kombu.exceptions import OperationalError

from crm import outbox, services, tasks
from crm.admin.outbox import OutboxAdmin
from crm.models import Notification

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
CAP = dt.timedelta(hours=3)


class OutageBackend(EmailBackend):
    """The locmem backend behind a mail server that refuses connections while ``down``."""

    down = True
    calls: Counter[tuple[str, str]] = Counter()

    def send_messages(self, email_messages):
        for message in email_messages:
            OutageBackend.calls[(message.to[0], message.subject)] += 1
        if OutageBackend.down:
            if sum(OutageBackend.calls.values()) % 2:
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            raise ConnectionRefusedError(111, "Connection refused")
        return super().send_messages(email_messages)


@pytest.fixture
def smtp_outage(settings):
    settings.MAILERS = {"default": {"BACKEND": "tests.crm.test_outbox.OutageBackend"}}
    OutageBackend.down = True
    OutageBackend.calls = Counter()
    return OutageBackend


@pytest.fixture
def enqueued(monkeypatch):
    """The ids handed to the broker, in order, whether alone or in a batch task."""
    sent: list[int] = []
    monkeypatch.setattr(tasks.notification_send, "delay", lambda pk: sent.append(pk))
    monkeypatch.setattr(
        tasks.notifications_send, "apply_async", lambda args, **limits: sent.extend(args[0])
    )
    return sent


def _row(**fields) -> Notification:
    values = {
        "kind": Notification.Kind.CASE_CREATED,
        "recipient": "nye-sager@vaeksthus.dk",
        "subject": "Ny sag",
        "body": "Der er en ny sag.\n",
    }
    return Notification.objects.create(**(values | fields))


# --- Backoff -------------------------------------------------------------------------------------


def test_the_backoff_doubles_from_thirty_seconds_up_to_the_cap():
    plain = [outbox.retry_delay(n, rng=lambda: 0.0).total_seconds() for n in range(1, 13)]
    assert plain == [30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 10800, 10800, 10800]
    # Jitter only ever brings a retry forward, by at most a quarter, so the cap holds.
    earliest = [outbox.retry_delay(n, rng=lambda: 0.999999).total_seconds() for n in (1, 10, 40)]
    assert earliest == pytest.approx([22.5, 8100, 8100], abs=0.01)
    assert outbox.retry_delay(1000).total_seconds() <= 10800


def test_a_failing_row_is_tried_only_when_due_and_each_try_counts_once(smtp_outage, time_machine):
    time_machine.move_to(START, tick=False)
    row = _row()
    waits = []
    for attempt in range(1, 12):
        assert outbox.notification_send(notification_id=row.pk) == "retrying"
        row.refresh_from_db()
        assert row.attempts == attempt
        wait = row.next_attempt_at - timezone.now()
        waits.append(wait)
        # A second delivery of the task, or the sweep, before the backoff has passed: no try.
        time_machine.move_to(row.next_attempt_at - dt.timedelta(seconds=1), tick=False)
        assert outbox.notification_send(notification_id=row.pk) == "skipped"
        time_machine.move_to(row.next_attempt_at, tick=False)

    assert sum(smtp_outage.calls.values()) == 11
    for attempt, wait in enumerate(waits, start=1):
        plain = min(CAP, dt.timedelta(seconds=30 * 2 ** (attempt - 1)))
        assert plain * 0.75 <= wait <= plain
    assert waits[-1] <= CAP
    row.refresh_from_db()
    assert row.status == Notification.Status.PENDING  # 11 tries in ~13 hours: not given up


def test_a_row_fails_only_when_a_try_fails_after_three_days(smtp_outage, time_machine):
    time_machine.move_to(START, tick=False)
    row = _row()

    time_machine.move_to(START + dt.timedelta(hours=71, minutes=59, seconds=50), tick=False)
    assert outbox.notification_send(notification_id=row.pk) == "retrying"
    row.refresh_from_db()
    time_machine.move_to(row.next_attempt_at, tick=False)
    assert timezone.now() - START >= dt.timedelta(hours=72)
    assert outbox.notification_send(notification_id=row.pk) == "failed"

    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("failed", 2, "ConnectionRefusedError")


# --- An SMTP outage ------------------------------------------------------------------------------


def test_every_mail_goes_out_once_after_a_long_smtp_outage(
    smtp_outage, eager_tasks, time_machine, make_case, adviser, django_capture_on_commit_callbacks
):
    time_machine.move_to(START, tick=False)
    # 20 requests while the mail server is unreachable: a notice to the hub and a mail to the
    # company for each, 40 messages, each tried once at once (after commit) and failing.
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(20):
            case = make_case()
            services.case_assign(case=case, adviser=adviser, actor=adviser)
    assert Notification.objects.count() == 40
    assert sum(smtp_outage.calls.values()) == 40
    assert mail.outbox == []

    # Seven hours down, the sweep running every minute.
    recovered_at = START + dt.timedelta(hours=7)
    minute = START
    while minute < recovered_at:
        minute += dt.timedelta(minutes=1)
        time_machine.move_to(minute, tick=False)
        tasks.notifications_sweep.apply()
    assert not Notification.objects.exclude(status=Notification.Status.PENDING).exists()

    # Back up: within the cap (plus the sweep's minute) every message is out, exactly once.
    smtp_outage.down = False
    while minute < recovered_at + CAP + dt.timedelta(minutes=2):
        minute += dt.timedelta(minutes=1)
        time_machine.move_to(minute, tick=False)
        tasks.notifications_sweep.apply()

    rows = list(Notification.objects.all())
    assert {row.status for row in rows} == {Notification.Status.SENT}
    assert len(mail.outbox) == 40
    delivered = Counter((message.to[0], message.subject) for message in mail.outbox)
    assert set(delivered.values()) == {1}
    for row in rows:
        # One attempt per real try at the mail server, no more.
        assert row.attempts == smtp_outage.calls[(row.recipient, row.subject)]
        assert row.sent_at is not None and row.sent_at >= recovered_at
    # Seven hours of backoff are a dozen tries a message, not hundreds.
    assert max(row.attempts for row in rows) <= 13


# --- The sweep -----------------------------------------------------------------------------------


def test_the_sweep_hands_over_at_most_a_batch_and_never_the_same_row_twice(
    settings, enqueued, time_machine
):
    settings.OUTBOX_SWEEP_BATCH = 10
    time_machine.move_to(START, tick=False)
    waiting = [_row().pk for _ in range(25)]
    later = _row(next_attempt_at=START + dt.timedelta(minutes=5)).pk

    assert [tasks.notifications_sweep.apply().get() for _ in range(4)] == [10, 10, 5, 0]
    assert sorted(enqueued) == sorted(waiting)

    # Still not claimed after the stale time: the messages were lost, hand them over again.
    time_machine.move_to(START + dt.timedelta(minutes=11), tick=False)
    assert [tasks.notifications_sweep.apply().get() for _ in range(4)] == [10, 10, 6, 0]
    # The row that was not due the first time round is handed over once, now.
    assert Counter(enqueued) == Counter(waiting * 2 + [later])


def test_the_sweep_stops_at_a_down_broker_and_loses_nothing(monkeypatch, enqueued, caplog):
    rows = [_row().pk for _ in range(3)]

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as patch:
        patch.setattr(tasks.notification_send, "delay", broker_down)
        patch.setattr(tasks.notifications_send, "apply_async", broker_down)
        assert outbox.notifications_sweep() == 0
    assert caplog.text.count("broker unavailable") == 1
    assert set(Notification.objects.values_list("enqueued_at", flat=True)) == {None}

    assert outbox.notifications_sweep() == 3
    assert sorted(enqueued) == rows


def test_the_sweep_hands_over_its_rows_in_tasks_of_ten(settings, published, time_machine):
    settings.OUTBOX_SWEEP_BATCH = 200
    time_machine.move_to(START, tick=False)
    # Due one after another: the sweep takes the oldest first.
    rows = [_row(next_attempt_at=START - dt.timedelta(seconds=60 - n)).pk for n in range(23)]

    assert outbox.notifications_sweep() == 23
    limits = (outbox.SEND_SOFT_TIME_LIMIT, outbox.SEND_TIME_LIMIT)
    assert published == [
        ("many", rows[:10], limits[0] * 10, limits[1] * 10),
        ("many", rows[10:20], limits[0] * 10, limits[1] * 10),
        ("many", rows[20:], limits[0] * 3, limits[1] * 3),
    ]
    # A row alone still goes as the single task.
    last = _row().pk
    assert outbox.notifications_sweep() == 1
    assert published[-1] == ("one", last)


def test_a_sweep_whose_broker_fails_midway_keeps_what_went_and_releases_the_rest(
    settings, monkeypatch, time_machine, caplog
):
    settings.OUTBOX_SWEEP_BATCH = 200
    time_machine.move_to(START, tick=False)
    # Due one after another: the sweep takes the oldest first.
    rows = [_row(next_attempt_at=START - dt.timedelta(seconds=60 - n)).pk for n in range(25)]
    published: list[list[int]] = []

    def second_fails(args, **limits):
        if published:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        published.append(list(args[0]))

    monkeypatch.setattr(tasks.notifications_send, "apply_async", second_fails)
    assert outbox.notifications_sweep() == 10
    assert published == [rows[:10]]
    handed = dict(Notification.objects.values_list("pk", "enqueued_at"))
    assert {pk for pk, at in handed.items() if at is not None} == set(rows[:10])
    # One warning for the fifteen left, naming ids only.
    assert caplog.text.count("broker unavailable") == 1
    assert "15 notifications left for the sweep" in caplog.text
    # The next sweep takes the fifteen, not the ten on their way.
    monkeypatch.setattr(
        tasks.notifications_send, "apply_async", lambda args, **limits: published.append(args[0])
    )
    assert outbox.notifications_sweep() == 15
    assert published[1:] == [rows[10:20], rows[20:]]


def test_a_lost_send_whose_hand_over_fails_is_due_at_the_next_sweep(
    settings, monkeypatch, time_machine, enqueued
):
    # A worker took the row and died: due again once its stale time has passed.
    time_machine.move_to(START, tick=False)
    lost = _row(status="sending", next_attempt_at=START, claimed_at=START).pk

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as patch:
        patch.setattr(tasks.notification_send, "delay", broker_down)
        assert outbox.notifications_sweep() == 0
    assert Notification.objects.get(pk=lost).enqueued_at is None
    assert outbox.notifications_sweep() == 1
    assert enqueued == [lost]


# --- Resending -----------------------------------------------------------------------------------


@pytest.fixture
def failed_rows(time_machine):
    time_machine.move_to(START, tick=False)
    failed = _row(status="failed", attempts=14, last_error="SMTPServerDisconnected")
    other = _row(status="failed", attempts=3, last_error="SMTPConnectError 421")
    erased = _row(status="failed", recipient="", subject="[slettet]", body="[slettet]")
    sent = _row(status="sent", sent_at=START)
    time_machine.move_to(START + dt.timedelta(days=5), tick=False)
    return failed, other, erased, sent


def test_outbox_resend_puts_failed_mail_back_due_now(failed_rows, enqueued):
    failed, other, erased, sent = failed_rows

    call_command(
        "outbox_resend", "--id", str(failed.pk), "--id", str(sent.pk), "--id", str(erased.pk)
    )

    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)
    assert failed.next_attempt_at == failed.pending_since == timezone.now()
    sent.refresh_from_db()
    assert sent.status == "sent"  # a sent e-mail is never sent twice
    other.refresh_from_db()
    erased.refresh_from_db()
    assert (other.status, erased.status) == ("failed", "failed")
    assert outbox.notifications_sweep() == 1
    assert enqueued == [failed.pk]


def test_outbox_resend_failed_takes_every_failed_mail_with_a_recipient(failed_rows):
    failed, other, erased, sent = failed_rows

    call_command("outbox_resend", "--failed")

    statuses = dict(Notification.objects.values_list("pk", "status"))
    assert statuses == {
        failed.pk: "pending",
        other.pk: "pending",
        erased.pk: "failed",
        sent.pk: "sent",
    }
    with pytest.raises(CommandError):
        call_command("outbox_resend")


def test_a_resent_mail_gets_three_new_days_before_it_fails_again(failed_rows, smtp_outage):
    failed = failed_rows[0]
    outbox.notifications_resend(ids=[failed.pk])

    assert outbox.notification_send(notification_id=failed.pk) == "retrying"
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 1)


def _admin_request(user, data=None):
    request = RequestFactory().post("/admin/crm/notification/", data or {})
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    return request


def test_send_igen_in_the_admin_is_for_superusers_only(failed_rows, make_user):
    failed, _other, erased, sent = failed_rows
    model_admin = OutboxAdmin(Notification, admin.site)
    superuser = make_user("root", is_superuser=True)
    adviser = make_user("mette", organisation="vaeksthus-midtjylland", role="Rådgiver")

    assert "resend" not in model_admin.get_actions(_admin_request(adviser))
    assert not model_admin.has_view_permission(_admin_request(adviser))

    request = _admin_request(superuser)
    assert "resend" in model_admin.get_actions(request)
    queryset = Notification.objects.filter(pk__in=[failed.pk, sent.pk, erased.pk])
    model_admin.resend(request, queryset)

    statuses = dict(Notification.objects.values_list("pk", "status"))
    assert (statuses[failed.pk], statuses[sent.pk], statuses[erased.pk]) == (
        "pending",
        "sent",
        "failed",
    )
    shown = [str(message) for message in messages.get_messages(request)]
    assert shown[0] == "1 fejlet e-mail sendes igen inden for et minut."
    assert "Kun fejlede e-mails med en modtager" in shown[1]


def test_the_outbox_list_shows_each_kind_by_name_in_few_queries(
    failed_rows, make_user, django_assert_max_num_queries
):
    _row(kind="request_receipt", recipient="anne@firma.dk")
    model_admin = OutboxAdmin(Notification, admin.site)
    request = RequestFactory().get("/admin/crm/notification/")
    request.user = make_user("root", is_superuser=True)

    with django_assert_max_num_queries(6):
        response = model_admin.changelist_view(request)
        assert isinstance(response, TemplateResponse)
        body = response.render().content.decode()

    assert "Kvittering til virksomheden" in body
    assert "Ny sag til Væksthuset" in body
    assert "anne@firma.dk" not in body


def test_a_row_written_in_bulk_is_the_same_as_one_queued_alone(make_case, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False)
    case = make_case()
    context = {
        "case": case,
        "contact": case.contact,
        "hub": case.hub,
        "expected_by": dt.date(2026, 3, 5),
    }
    alone = outbox.notification_queue(
        kind=Notification.Kind.FOLLOWUP_COMPANY,
        recipient="a@example.dk",
        template="followup_company",
        context=context,
        case=case,
        enqueue_after_commit=False,
    )
    written = outbox.notifications_queue_many(
        [
            outbox.Mail(
                kind=Notification.Kind.FOLLOWUP_COMPANY,
                recipient="a@example.dk",
                template="followup_company",
                context=context,
                case=case,
                dedupe_key="bulk:1",
            )
        ]
    )
    again = outbox.notifications_queue_many(
        [
            outbox.Mail(
                kind=Notification.Kind.FOLLOWUP_COMPANY,
                recipient="a@example.dk",
                template="followup_company",
                context=context,
                case=case,
                dedupe_key="bulk:1",
            )
        ]
    )

    assert (written, again) == (1, 0)
    bulk = Notification.objects.get(dedupe_key="bulk:1")
    fields = [
        f.name
        for f in Notification._meta.concrete_fields
        if f.name not in {"id", "dedupe_key", "enqueued_at"}
    ]
    assert {f: getattr(bulk, f) for f in fields} == {f: getattr(alone, f) for f in fields}
    # Left for the sweep, which hands it to the broker within a minute.
    assert bulk.enqueued_at is None
    assert outbox.notifications_sweep() >= 1


# --- One task per transaction --------------------------------------------------------------------


@pytest.fixture
def published(monkeypatch):
    """What reaches the broker: ("one", id) per single task, ("many", ids, soft, hard) per batch.

    Queue a test's rows inside ``django_capture_on_commit_callbacks``: it runs only the hooks
    added within it, and a row queued before it would carry the later rows with its own hook."""
    sent: list[tuple] = []
    monkeypatch.setattr(tasks.notification_send, "delay", lambda pk: sent.append(("one", pk)))

    def apply_async(args, soft_time_limit, time_limit):
        sent.append(("many", list(args[0]), soft_time_limit, time_limit))

    monkeypatch.setattr(tasks.notifications_send, "apply_async", apply_async)
    return sent


def _queue(recipient: str) -> Notification:
    notification = outbox.notification_queue(
        kind=Notification.Kind.CASE_CREATED,
        recipient=recipient,
        template="case_created",
        context={"case": None},
    )
    assert notification is not None
    return notification


@pytest.fixture
def case_created_template(monkeypatch):
    monkeypatch.setattr(outbox, "render_message", lambda *args, **kwargs: ("Emne", "Tekst\n"))


def test_the_rows_of_one_transaction_go_to_the_broker_as_one_task_after_commit(
    published, case_created_template, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        first, second = _queue("a@example.dk"), _queue("b@example.dk")
        assert published == []  # nothing before the commit

    assert published == [("many", [first.pk, second.pk], 90, 120)]
    # The next transaction is a batch of its own; a row alone goes as the single task.
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        third = _queue("c@example.dk")
    assert published[1:] == [("one", third.pk)]


def test_a_row_queued_outside_a_transaction_is_handed_over_at_once(
    published, case_created_template, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        row = _queue("a@example.dk")
    assert published == [("one", row.pk)]


def test_a_rolled_back_transaction_leaves_no_batch_behind(
    published, case_created_template, django_capture_on_commit_callbacks
):
    with pytest.raises(RuntimeError), transaction.atomic():
        _queue("gone@example.dk")
        raise RuntimeError
    # The rolled-back batch's hook is gone with it; the next transaction's row is not added to
    # that batch (it would never be sent) but to one of its own.
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        row = _queue("a@example.dk")
    assert published == [("one", row.pk)]
    assert list(Notification.objects.values_list("pk", flat=True)) == [row.pk]


def test_a_row_after_a_rolled_back_savepoint_that_held_the_batch_is_still_sent(
    published, case_created_template, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            _queue("gone@example.dk")
            raise RuntimeError
        kept = _queue("kept@example.dk")
    assert published == [("one", kept.pk)]


def test_the_batch_waits_for_the_sweep_when_the_broker_is_down(
    monkeypatch, case_created_template, django_capture_on_commit_callbacks, caplog, enqueued
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as patch:
        patch.setattr(tasks.notifications_send, "apply_async", broker_down)
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            rows = [_queue("a@example.dk").pk, _queue("b@example.dk").pk]

    assert caplog.text.count("broker unavailable") == 1
    assert "a@example.dk" not in caplog.text
    assert set(Notification.objects.values_list("enqueued_at", flat=True)) == {None}
    assert outbox.notifications_sweep() == 2
    assert sorted(enqueued) == rows


def test_the_batch_task_sends_each_row_and_a_refused_one_does_not_stop_the_next(
    case_created_template, settings
):
    settings.MAILERS = {"default": {"BACKEND": "tests.crm.test_outbox.RefusingBackend"}}
    rows = [_queue(address).pk for address in ("a@example.dk", "nej@example.dk", "c@example.dk")]

    assert tasks.notifications_send.apply(args=[rows]).get() == ["sent", "failed", "sent"]
    assert sorted(message.to[0] for message in mail.outbox) == ["a@example.dk", "c@example.dk"]
    # Delivered again: each row is claimed on its own, nothing goes out twice.
    assert tasks.notifications_send.apply(args=[rows]).get() == ["skipped"] * 3
    assert len(mail.outbox) == 2


class RefusingBackend(EmailBackend):
    """The locmem backend behind a mail server that refuses the address nej@example.dk."""

    def send_messages(self, email_messages):
        for message in email_messages:
            if message.to == ["nej@example.dk"]:
                raise smtplib.SMTPRecipientsRefused({"nej@example.dk": (550, b"No such user")})
        return super().send_messages(email_messages)


def test_a_large_transaction_goes_out_in_tasks_of_ten(
    published, case_created_template, django_capture_on_commit_callbacks
):
    # The quarterly reports queue a row per recipient in one transaction: still spread over the
    # worker's processes, each task's time limit far below the broker's visibility timeout.
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        rows = [_queue(f"modtager-{n}@example.dk").pk for n in range(25)]

    assert [entry[1] for entry in published] == [rows[:10], rows[10:20], rows[20:]]
    assert [entry[2:] for entry in published] == [(450, 600), (450, 600), (225, 300)]


def _three_rows_the_second_failing(monkeypatch, error: BaseException) -> list[int]:
    """Three queued rows; claiming the second raises ``error``."""
    rows = [_queue(address).pk for address in ("a@example.dk", "b@example.dk", "c@example.dk")]
    claim = outbox.notification_claim

    def failing_at_the_second(notification_id):
        if notification_id == rows[1]:
            raise error
        return claim(notification_id)

    monkeypatch.setattr(outbox, "notification_claim", failing_at_the_second)
    return rows


def test_a_row_whose_database_write_fails_does_not_stop_the_next(
    case_created_template, monkeypatch, caplog
):
    rows = _three_rows_the_second_failing(
        monkeypatch, DatabaseError("server closed the connection unexpectedly")
    )
    assert tasks.notifications_send.apply(args=[rows]).get() == ["sent", "error", "sent"]
    assert f"notification {rows[1]} left for the sweep: DatabaseError" in caplog.text
    assert sorted(message.to[0] for message in mail.outbox) == ["a@example.dk", "c@example.dk"]


def test_rows_a_task_did_not_reach_in_its_time_wait_only_for_the_next_sweep(
    case_created_template, monkeypatch, enqueued
):
    rows = _three_rows_the_second_failing(monkeypatch, SoftTimeLimitExceeded())
    with pytest.raises(SoftTimeLimitExceeded):
        outbox.notifications_send(rows)

    sent, *rest = Notification.objects.filter(pk__in=rows).order_by("pk")
    assert sent.status == Notification.Status.SENT
    # Released, not left "on its way" for the ten stale minutes: the next sweep takes them.
    assert {(row.status, row.enqueued_at) for row in rest} == {(Notification.Status.PENDING, None)}
    assert outbox.notifications_sweep() == 2
    assert sorted(enqueued) == rows[1:]


class ConnectionCountingBackend(EmailBackend):
    """The locmem backend that counts the connections opened and closed, and drops the
    connection (like a server that hangs up) on the address drop@example.dk."""

    opened = 0
    closed = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.connected = False

    def open(self):
        if self.connected:
            return False
        ConnectionCountingBackend.opened += 1
        self.connected = True
        return True

    def close(self):
        if self.connected:
            ConnectionCountingBackend.closed += 1
        self.connected = False

    def send_messages(self, email_messages):
        new = self.open()
        try:
            for message in email_messages:
                if message.to == ["drop@example.dk"]:
                    raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
                if message.to == ["nej@example.dk"]:
                    raise smtplib.SMTPRecipientsRefused({"nej@example.dk": (550, b"No such user")})
            return super().send_messages(email_messages)
        finally:
            if new:
                self.close()


@pytest.fixture
def counted_connections(settings):
    settings.MAILERS = {"default": {"BACKEND": "tests.crm.test_outbox.ConnectionCountingBackend"}}
    ConnectionCountingBackend.opened = ConnectionCountingBackend.closed = 0
    return ConnectionCountingBackend


def test_a_task_sends_its_rows_over_one_connection_and_closes_it(
    case_created_template, counted_connections
):
    # A refused address leaves the session usable: the next row goes over the same connection.
    addresses = ("a@example.dk", "nej@example.dk", "c@example.dk")
    rows = [_queue(address).pk for address in addresses]

    assert tasks.notifications_send.apply(args=[rows]).get() == ["sent", "failed", "sent"]
    assert sorted(message.to[0] for message in mail.outbox) == ["a@example.dk", "c@example.dk"]
    assert (counted_connections.opened, counted_connections.closed) == (1, 1)


def test_after_a_dropped_connection_the_next_row_of_the_task_opens_a_new_one(
    case_created_template, counted_connections
):
    rows = [_queue(address).pk for address in ("a@example.dk", "drop@example.dk", "c@example.dk")]

    assert tasks.notifications_send.apply(args=[rows]).get() == ["sent", "retrying", "sent"]
    assert sorted(message.to[0] for message in mail.outbox) == ["a@example.dk", "c@example.dk"]
    assert (counted_connections.opened, counted_connections.closed) == (2, 2)
    dropped = Notification.objects.get(pk=rows[1])
    assert (dropped.status, dropped.last_error) == (
        Notification.Status.PENDING,
        "SMTPServerDisconnected",
    )


def test_a_row_sent_alone_gets_a_connection_of_its_own(case_created_template, counted_connections):
    row = _queue("a@example.dk").pk

    assert outbox.notification_send(notification_id=row) == "sent"
    assert (counted_connections.opened, counted_connections.closed) == (1, 1)


class CountingSmtpSink:
    """An SMTP server on a loopback port (aiosmtpd) that counts its sessions and keeps what it
    receives; a RCPT to nej@example.dk is refused with 550."""

    REPLIES = {
        "nej@example.dk": "550 No such user",
        "senere@example.dk": "450 Greylisted, try again later",
        "luk@example.dk": "421 Closing connection",
    }

    def __init__(self) -> None:
        self.sessions = 0
        self.quits = 0
        self.received: list[tuple[str, ...]] = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_QUIT(self, server, session, envelope):
        self.quits += 1
        return "221 Bye"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.REPLIES:
            return self.REPLIES[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(tuple(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def smtp_on(settings, port: int) -> None:
    """Django's SMTP backend, pointed at a loopback port."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }


@pytest.fixture
def smtp_sink(settings):
    from aiosmtpd.controller import Controller

    port = free_port()
    sink = CountingSmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        smtp_on(settings, port)
        yield sink
    finally:
        controller.stop()


def test_a_real_mail_server_sees_one_session_for_a_tasks_rows(case_created_template, smtp_sink):
    rows = [_queue(address).pk for address in ("a@example.dk", "nej@example.dk", "c@example.dk")]

    assert outbox.notifications_send(rows) == ["sent", "failed", "sent"]
    assert smtp_sink.received == [("a@example.dk",), ("c@example.dk",)]
    assert smtp_sink.sessions == 1
    # Two tasks, two sessions, each said goodbye to: the connection does not outlive its task.
    assert smtp_sink.quits == 1
    assert outbox.notifications_send([_queue("d@example.dk").pk]) == ["sent"]
    assert (smtp_sink.sessions, smtp_sink.quits) == (2, 2)


def test_a_greylisted_address_is_tried_again_later_and_the_session_goes_on(
    case_created_template, smtp_sink
):
    rows = [_queue(address).pk for address in ("senere@example.dk", "c@example.dk")]

    assert outbox.notifications_send(rows) == ["retrying", "sent"]
    greylisted = Notification.objects.get(pk=rows[0])
    assert (greylisted.status, greylisted.last_error) == (
        Notification.Status.PENDING,
        "SMTPRecipientsRefused 450",
    )
    assert greylisted.next_attempt_at > timezone.now()
    assert (smtp_sink.sessions, smtp_sink.received) == (1, [("c@example.dk",)])


def test_after_a_421_the_next_row_goes_over_a_new_session(case_created_template, smtp_sink):
    # smtplib closes the session on 421: the next row must not find it dead.
    rows = [_queue(address).pk for address in ("luk@example.dk", "c@example.dk")]

    assert outbox.notifications_send(rows) == ["retrying", "sent"]
    assert Notification.objects.get(pk=rows[0]).last_error == "SMTPRecipientsRefused 421"
    assert (smtp_sink.sessions, smtp_sink.received) == (2, [("c@example.dk",)])


def test_a_mail_server_that_refuses_connections_leaves_every_row_for_later(
    case_created_template, settings
):
    smtp_on(settings, free_port())  # nothing listens there
    rows = [_queue(address).pk for address in ("a@example.dk", "b@example.dk")]

    assert outbox.notifications_send(rows) == ["retrying", "retrying"]
    assert set(
        Notification.objects.filter(pk__in=rows).values_list("status", "attempts", "last_error")
    ) == {(Notification.Status.PENDING, 1, "ConnectionRefusedError")}


def test_a_task_out_of_time_while_sending_releases_the_rows_it_did_not_reach(
    case_created_template, settings, enqueued
):
    settings.MAILERS = {"default": {"BACKEND": "tests.crm.test_outbox.OutOfTimeBackend"}}
    rows = [_queue(address).pk for address in ("a@example.dk", "b@example.dk", "c@example.dk")]

    with pytest.raises(SoftTimeLimitExceeded):
        outbox.notifications_send(rows)

    sent, interrupted, untouched = Notification.objects.filter(pk__in=rows).order_by("pk")
    assert sent.status == Notification.Status.SENT
    # The row being sent waits for its backoff; the one not reached is due at the next sweep.
    assert (interrupted.status, interrupted.attempts) == (Notification.Status.PENDING, 1)
    assert interrupted.next_attempt_at > timezone.now()
    assert (untouched.status, untouched.attempts, untouched.enqueued_at) == (
        Notification.Status.PENDING,
        0,
        None,
    )
    assert outbox.notifications_sweep() == 1
    assert enqueued == [untouched.pk]


class OutOfTimeBackend(EmailBackend):
    """The locmem backend whose second message runs into the task's soft time limit."""

    def send_messages(self, email_messages):
        if len(mail.outbox) == 1:
            raise SoftTimeLimitExceeded()
        return super().send_messages(email_messages)
