"""The transactional outbox for every e-mail the portal sends.

How a message travels:

1. ``notification_queue`` writes the row in the caller's transaction (rendered, addressed, due
   now) and, once that commits, hands its id to the broker (``notification_enqueue``). The row
   commits or rolls back with the change it reports. The rows one transaction writes go to the
   broker together, in one message (``notifications_enqueue``: a guidance request's receipt and
   the hub's notice are one task, not two; a worker spends more on taking a task than on sending
   one of these mails). When the broker is unreachable the request still succeeds, having tried
   it once, and the rows wait for the sweep.
2. A worker claims the row with one conditional update (``notification_claim``): only a row that
   is due, and nobody else's, is taken. Every claim is followed by a real send, so the claim is
   where an attempt is counted.
3. ``notification_send`` sends it, over the connection to the mail server that the task's other
   rows use (``Mailer``: one TLS handshake and login per task, not per message). Sent: done.
   Refused for good (the address, the message): failed at once. The server busy or
   unreachable: back to pending, due again after an exponential backoff with jitter
   (``retry_delay``: 30 s, 60 s, 120 s … capped at a few hours), and failed only when a try
   fails after the message has waited ``OUTBOX_GIVE_UP_HOURS`` (days, not minutes: an SMTP
   outage over a weekend loses nothing).
4. ``notifications_sweep`` (every minute) is the only scheduler of retries: it hands the broker the
   rows that are due and not already on their way, at most ``OUTBOX_SWEEP_BATCH`` a run, in
   tasks of up to ``SEND_BATCH_MAX`` rows as a transaction's rows go. Celery's
   own countdown retries are not used: a task waiting hours for its ETA sits in a worker's memory
   and is redelivered when the broker's visibility timeout passes, so the row's
   ``next_attempt_at`` is the one schedule.
5. ``notifications_resend`` puts failed rows back (``manage.py outbox_resend``, the admin's
   "Send igen").

Each kind of message belongs to the app that means it: apps register their kinds (and the
template directory they come from) with ``kinds_register`` in ``AppConfig.ready``.

Nothing here logs an address, a name or a subject: ids, kinds and error classes only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
import re
import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from celery import current_app
from celery.app.task import Task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage, mailers
from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django_stubs_ext import StrOrPromise
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from crm.models import Case, Notification

logger = logging.getLogger(__name__)

# The task that sends one row, by name: the tasks module wraps this one, so importing it here
# would make the two need each other.
SEND_TASK = "crm.tasks.notification_send"
SEND_MANY_TASK = "crm.tasks.notifications_send"

BROKER_ERRORS: tuple[type[BaseException], ...] = (KombuOperationalError, RedisError, OSError)

# Never worth retrying: the address or the message itself was refused, with a 5xx code. The
# same refusal with a 4xx code (greylisting's 450/451, a full mailbox's 452, 421 "closing") says
# "later": it is retried as a transient error (``refused_for_now``).
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPNotSupportedError,
)
# Trying again later may succeed: every SMTP error not above (they are OSErrors), a refused or
# reset connection, a name that did not resolve, a timeout, a send that hung past the time limit.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OSError, SoftTimeLimitExceeded)

# Each retry comes up to this fraction earlier than the plain exponential delay, so messages that
# failed together during an outage do not all return to the mail server in the same minute.
JITTER = 0.25

# The time limits of one send (crm.tasks.notification_send); a task sending several gets these
# times their number.
SEND_TIME_LIMIT = 60
SEND_SOFT_TIME_LIMIT = 45
# Rows per task: a burst (the quarterly reports to every hub) is still spread over the worker's
# processes, and a task's time limit (10 x 60 s) stays far below the broker's visibility timeout.
SEND_BATCH_MAX = 10

_UNSENT = [Notification.Status.PENDING, Notification.Status.SENDING]


# --- Kinds -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailKind:
    value: str
    label: StrOrPromise  # translated when shown, in the language of the moment
    app_label: str
    # Called with the row once it is sent, for the owning app's own bookkeeping.
    on_sent: Callable[[Notification], None] | None = None


_KINDS: dict[str, MailKind] = {}


def kinds_register(
    app_label: str,
    kinds: type[models.TextChoices],
    *,
    on_sent: Callable[[Notification], None] | None = None,
) -> None:
    """Declare the kinds of e-mail an app sends; their templates live in ``<app>/email/``."""
    for value, label in kinds.choices:
        known = _KINDS.get(value)
        if known is not None and known.app_label != app_label:
            raise ImproperlyConfigured(
                f"The e-mail kind {value!r} belongs to {known.app_label}, not {app_label}."
            )
        _KINDS[value] = MailKind(value, label, app_label, on_sent)


def kind_label(value: str) -> str:
    kind = _KINDS.get(value)
    return str(kind.label) if kind else value


def kind_choices() -> list[tuple[str, str]]:
    return sorted(((kind.value, str(kind.label)) for kind in _KINDS.values()), key=lambda c: c[1])


def _kind(value: str) -> MailKind:
    try:
        return _KINDS[value]
    except KeyError:
        raise ImproperlyConfigured(
            f"The e-mail kind {value!r} is not registered (crm.outbox.kinds_register)."
        ) from None


# --- Queue -------------------------------------------------------------------------------------


def render_message(
    template: str, context: dict[str, Any], *, app_label: str = "crm", language: str = "da"
) -> tuple[str, str]:
    """Subject and body of ``<app>/email/<template>_subject.txt`` / ``_body.txt``, in Danish
    unless ``language`` says otherwise (the company's receipt follows the language it used)."""
    from offers.hub_terms import HUB_TERM

    context = {"hub_term": HUB_TERM, **context}
    with translation.override(language):
        subject = render_to_string(f"{app_label}/email/{template}_subject.txt", context)
        body = render_to_string(f"{app_label}/email/{template}_body.txt", context)
    return " ".join(subject.split()), body.strip() + "\n"


def notification_queue(
    *,
    kind: str,
    recipient: str,
    template: str,
    context: dict[str, Any],
    case: Case | None = None,
    dedupe_key: str | None = None,
    language: str = "da",
    headers: dict[str, str] | None = None,
    enqueue_after_commit: bool = True,
) -> Notification | None:
    """Write an outbox row in the caller's transaction and enqueue it once that commits.

    Returns None when there is nobody to write to, or when ``dedupe_key`` was already queued.
    ``enqueue_after_commit=False`` is for a caller that is itself a worker and sends the row
    straight away (``notification_send``); should it die first, the sweep takes the row over.
    """
    if not recipient:
        return None
    mail_kind = _kind(kind)
    if dedupe_key and Notification.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    subject, body = render_message(
        template, context, app_label=mail_kind.app_label, language=language
    )
    now = timezone.now()
    try:
        # A savepoint: a concurrent writer of the same dedupe_key must not poison the caller's
        # transaction. Without a key nothing here can conflict, and a savepoint would cost two
        # more round trips in every guidance request (GIL waits each, under load).
        with transaction.atomic(savepoint=dedupe_key is not None):
            notification = Notification.objects.create(
                kind=mail_kind.value,
                case=case,
                recipient=recipient,
                subject=subject[:250],
                body=body,
                headers=headers or {},
                dedupe_key=dedupe_key,
                created_at=now,
                pending_since=now,
                next_attempt_at=now,
                # On its way to the broker; notification_enqueue clears this if the broker is down.
                enqueued_at=now,
            )
    except IntegrityError:
        if dedupe_key and Notification.objects.filter(dedupe_key=dedupe_key).exists():
            return None
        raise
    if enqueue_after_commit:
        _enqueue_after_commit(notification.pk)
    return notification


class _AfterCommit:
    """The rows one transaction has queued, handed to the broker together once it commits."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.done = False

    def __call__(self) -> None:
        self.done = True
        notifications_enqueue(self.ids)


def _enqueue_after_commit(notification_id: int) -> None:
    """Add the row to the transaction's batch (a new batch for a new transaction, or for one
    whose savepoint holding the batch's hook was rolled back: Django dropped the hook then)."""
    connection = transaction.get_connection()
    batch: _AfterCommit | None = getattr(connection, "_outbox_after_commit", None)
    registered = batch is not None and any(entry[1] is batch for entry in connection.run_on_commit)
    if batch is not None and registered and not batch.done:
        batch.ids.append(notification_id)
        return
    batch = _AfterCommit()
    batch.ids.append(notification_id)
    connection._outbox_after_commit = batch
    # Outside a transaction Django runs the hook at once: the id is in the batch before that.
    transaction.on_commit(batch)


@dataclass(frozen=True)
class Mail:
    """One e-mail for ``notifications_queue_many``: what ``notification_queue`` takes."""

    kind: str
    recipient: str
    template: str
    context: dict[str, Any]
    case: Case | None = None
    dedupe_key: str | None = None
    language: str = "da"


#: What ``_bulk_insert`` writes: (case id, recipient, subject, body, dedupe_key).
_Message = tuple[int | None, str, str, str, str | None]

# Every column of a pending row, as Notification's defaults have it (a new field with no database
# default must be added here too: tests/crm/test_outbox.py compares a row from each path).
_BULK_INSERT = """
INSERT INTO {table} (kind, case_id, recipient, subject, body, headers, status, attempts,
                     last_error, dedupe_key, created_at, pending_since, next_attempt_at,
                     enqueued_at, claimed_at, sent_at)
SELECT %(kind)s, m.case_id, m.recipient, m.subject, m.body, '{{}}'::jsonb, 'pending', 0, '',
       m.dedupe_key, %(now)s, %(now)s, %(now)s, NULL, NULL, NULL
FROM unnest(%(cases)s::bigint[], %(recipients)s::text[], %(subjects)s::text[],
            %(bodies)s::text[], %(keys)s::text[])
     AS m(case_id, recipient, subject, body, dedupe_key)
ON CONFLICT DO NOTHING
"""


def _bulk_insert(kind: str, messages: Iterable[_Message]) -> int:
    """Insert the rows in one statement, skipping dedupe keys already queued; how many were new.

    The rows are left for the sweep to hand the broker (``enqueued_at`` empty), a batch a minute.
    """
    rows = [message for message in messages if message[1]]
    if not rows:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            _BULK_INSERT.format(table=Notification._meta.db_table),
            {
                "kind": kind,
                "now": timezone.now(),
                "cases": [row[0] for row in rows],
                "recipients": [row[1] for row in rows],
                "subjects": [row[2][:250] for row in rows],
                "bodies": [row[3] for row in rows],
                "keys": [row[4] for row in rows],
            },
        )
        return cursor.rowcount


def notifications_queue_many(mails: Iterable[Mail]) -> int:
    """Write many outbox rows in the caller's transaction with one INSERT; returns how many.

    For the jobs that write thousands of e-mails in one run (the reminder ladder, the surveys):
    a row whose ``dedupe_key`` was already queued is skipped (ON CONFLICT DO NOTHING), and the
    rows are left for the one-minute sweep to hand the broker (``enqueued_at`` empty), a batch a
    minute, so neither a broker that is down nor a burst of thousands loses or floods anything.
    """
    written = 0
    by_kind: dict[str, list[_Message]] = {}
    for mail in mails:
        if not mail.recipient:
            continue
        mail_kind = _kind(mail.kind)
        subject, body = render_message(
            mail.template, mail.context, app_label=mail_kind.app_label, language=mail.language
        )
        by_kind.setdefault(mail_kind.value, []).append(
            (mail.case.pk if mail.case else None, mail.recipient, subject, body, mail.dedupe_key)
        )
    for kind, messages in by_kind.items():
        written += _bulk_insert(kind, messages)
    return written


# A field of a merged e-mail: its name between two private-use characters, which no text of ours
# contains and which, unlike control characters, survive the subject's whitespace folding.
_FIELD = "\ue000{}\ue000"
_FIELD_PATTERN = re.compile("\ue000([a-z_]+)\ue000")


def merge_field(name: str) -> str:
    """What stands in the template's context for a value that differs per recipient."""
    return _FIELD.format(name)


@dataclass(frozen=True)
class MergedMail:
    """One recipient of ``notifications_queue_merged``: the values of its merge fields."""

    recipient: str
    fields: dict[str, str]
    case_id: int | None = None
    dedupe_key: str | None = None


def notifications_queue_merged(
    *,
    kind: str,
    template: str,
    context: dict[str, Any],
    mails: Iterable[MergedMail],
    language: str = "da",
) -> int:
    """Like ``notifications_queue_many`` for many e-mails from one template that differ only in
    a few plain values (a name, a reference, a link): the template is rendered once, with
    ``merge_field(name)`` in the context where each value goes, and every e-mail gets its values
    in one pass (a value is never read again for fields, so no value can fill in another).

    Rendering a template costs about a millisecond; a morning with 20,000 e-mails to companies
    would spend most of its time on it. The values must be shown as they are: a merge field that
    went through a filter or an ``{% if %}`` would not come out right, so group the e-mails by
    anything the template decides on and call this once per group.
    """
    mail_kind = _kind(kind)
    subject, body = render_message(
        template, context, app_label=mail_kind.app_label, language=language
    )

    def fill(text: str, fields: dict[str, str]) -> str:
        return _FIELD_PATTERN.sub(lambda match: fields.get(match.group(1), ""), text)

    return _bulk_insert(
        mail_kind.value,
        (
            (
                mail.case_id,
                mail.recipient,
                " ".join(fill(subject, mail.fields).split()),
                fill(body, mail.fields),
                mail.dedupe_key,
            )
            for mail in mails
        ),
    )


def _send_task(name: str = SEND_TASK) -> Task:
    app = current_app
    if name not in app.tasks:
        # A web process has not loaded the task modules yet; a worker loads them at start.
        app.loader.import_default_modules()
    return app.tasks[name]


def notifications_enqueue(notification_ids: list[int]) -> bool:
    """Ask a worker to send the rows, one task for up to ``SEND_BATCH_MAX`` of them (one row:
    ``notification_enqueue``); never raise, the rows are safe in the outbox. A rolled-back row
    among them is skipped by the worker (nothing to claim). Returns whether all went."""
    return _hand_over(notification_ids) == len(notification_ids)


def _hand_over(notification_ids: list[int]) -> int:
    """Publish the rows' tasks; returns how many rows went. At the first broker error the rows not
    handed over yet are released (``notifications_released``) and the rest is left to the sweep.
    """
    if len(notification_ids) == 1:
        return int(notification_enqueue(notification_ids[0]))
    for start in range(0, len(notification_ids), SEND_BATCH_MAX):
        batch = notification_ids[start : start + SEND_BATCH_MAX]
        try:
            _send_task(SEND_MANY_TASK).apply_async(
                args=(batch,),
                # Each mail gets the time one alone would (crm.tasks.notification_send).
                soft_time_limit=SEND_SOFT_TIME_LIMIT * len(batch),
                time_limit=SEND_TIME_LIMIT * len(batch),
            )
        except BROKER_ERRORS as error:
            rest = notification_ids[start:]
            logger.warning(
                "%s notifications left for the sweep (ids %s): broker unavailable (%s)",
                len(rest),
                _ids_shown(rest),
                type(error).__name__,
            )
            notifications_released(rest)
            return start
    return len(notification_ids)


def _ids_shown(ids: list[int], most: int = SEND_BATCH_MAX) -> str:
    """The ids for a log line; a sweep's batch of hundreds is shown by its first ``most - 1``
    and its last."""
    if len(ids) <= most:
        return ", ".join(map(str, ids))
    return f"{', '.join(map(str, ids[: most - 1]))} … {ids[-1]}"


def notifications_released(notification_ids: list[int]) -> None:
    """Not on their way to a worker after all: the next sweep hands them over (a row a worker
    had taken and lost included; a row being sent has no hand-over to clear)."""
    Notification.objects.filter(pk__in=notification_ids, status__in=_UNSENT).update(
        enqueued_at=None
    )


def notifications_send(notification_ids: list[int]) -> list[str]:
    """Send the rows one after another, each as ``notification_send`` does, over one connection
    to the mail server (``Mailer``). A row whose claim or bookkeeping fails (the database gone)
    is logged and left to the sweep, and the next is still sent; when the task's time runs out,
    the rows not reached yet are released for the next sweep instead of waiting for the stale
    time."""
    results: list[str] = []
    mailer = Mailer()
    try:
        for position, notification_id in enumerate(notification_ids):
            try:
                results.append(notification_send(notification_id=notification_id, mailer=mailer))
            except SoftTimeLimitExceeded:
                notifications_released(notification_ids[position:])
                raise
            except DatabaseError as error:
                logger.warning(
                    "notification %s left for the sweep: %s", notification_id, type(error).__name__
                )
                results.append("error")
    finally:
        mailer.close()
    return results


class Mailer:
    """One connection to the mail server for the messages of a task: opened for the first
    message, kept for the next (a TLS handshake and a login per task instead of per message),
    and dropped after an error that may have broken it, so that the next message starts afresh.
    A refused address or sender leaves the session usable (smtplib resets it), unless the server
    refused with 421 and closed it (smtplib closes its side too)."""

    def __init__(self) -> None:
        self._backend: Any = None

    def send(self, message: EmailMessage) -> None:
        if self._backend is None:
            backend = mailers.default
            try:
                # Opened here, so the backend keeps the connection after each message.
                backend.open()
            except BaseException:
                # Connected but refused at STARTTLS or login: no half-open socket is left.
                _drop(backend)
                raise
            self._backend = backend
        try:
            self._backend.send_messages([message])
        except PERMANENT_ERRORS:
            smtp = getattr(self._backend, "connection", None)
            if smtp is not None and getattr(smtp, "sock", True) is None:
                self.drop()
            raise
        except BaseException:
            self.drop()
            raise

    def drop(self) -> None:
        """Forget the connection without a goodbye: after an error the server may not answer
        one, and a task out of time cannot wait for it."""
        backend, self._backend = self._backend, None
        if backend is not None:
            _drop(backend)

    def close(self) -> None:
        """Say goodbye (SMTP QUIT) and close, at the end of the task."""
        backend, self._backend = self._backend, None
        if backend is None:
            return
        try:
            backend.close()
        except Exception as error:  # the messages are sent or released already
            logger.warning("mail server connection not closed cleanly: %s", type(error).__name__)


def _drop(backend: Any) -> None:
    # Django's SMTP backend keeps smtplib's session in ``connection`` (a partly opened one in
    # ``_partial_connection``); closing those closes the socket only. Other backends hold no
    # socket: their own close() is enough.
    sessions: list[Any] = [
        session
        for name in ("connection", "_partial_connection")
        if (session := getattr(backend, name, None)) is not None
    ]
    if not sessions:
        backend.close()
        return
    for session in sessions:
        with contextlib.suppress(OSError):
            session.close()
    for name in ("connection", "_partial_connection"):
        if hasattr(backend, name):
            setattr(backend, name, None)


def notification_enqueue(notification_id: int) -> bool:
    """Ask a worker to send the row; never raise, the row is safe in the outbox."""
    try:
        _send_task().delay(notification_id)
    except BROKER_ERRORS as error:
        # Only the id and the error class: the row holds an address and a name.
        logger.warning(
            "notification %s left for the sweep: broker unavailable (%s)",
            notification_id,
            type(error).__name__,
        )
        # Not on its way after all: the next sweep hands it over as soon as the broker is back.
        notifications_released([notification_id])
        return False
    return True


# --- Claim, send, release ----------------------------------------------------------------------


def _stale_after() -> dt.timedelta:
    return dt.timedelta(minutes=settings.OUTBOX_STALE_MINUTES)


def _give_up_after() -> dt.timedelta:
    return dt.timedelta(hours=settings.OUTBOX_GIVE_UP_HOURS)


def retry_delay(
    attempts: int,
    *,
    base: float | None = None,
    cap: float | None = None,
    rng: Callable[[], float] | None = None,
) -> dt.timedelta:
    """The wait after ``attempts`` failed tries (1, 2, …): ``base``·2^(attempts−1) seconds, at
    most ``cap``, and up to a quarter (``JITTER``) less at random."""
    base = settings.OUTBOX_RETRY_BASE_SECONDS if base is None else base
    cap = settings.OUTBOX_RETRY_MAX_SECONDS if cap is None else cap
    exponent = min(max(attempts, 1) - 1, 32)
    seconds = min(cap, base * 2**exponent)
    return dt.timedelta(seconds=seconds * (1 - JITTER * (rng or random.random)()))


def notification_claim(notification_id: int) -> Notification | None:
    """Take the row for this worker and count the attempt; None when it is not due (sent,
    failed, waiting for its backoff, or being sent by a worker that is still alive)."""
    now = timezone.now()
    claimed = Notification.objects.filter(
        pk=notification_id, status__in=_UNSENT, next_attempt_at__lte=now
    ).update(
        status=Notification.Status.SENDING,
        claimed_at=now,
        attempts=F("attempts") + 1,
        enqueued_at=None,
        # Ours until then; a worker that dies mid-send leaves the row due again at this time.
        next_attempt_at=now + _stale_after(),
    )
    if not claimed:
        return None
    return Notification.objects.get(pk=notification_id)


def refused_for_now(error: BaseException) -> bool:
    """Whether a refused sender or recipient was refused with a 4xx code: try again later."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
    elif isinstance(error, smtplib.SMTPSenderRefused):
        codes = [error.smtp_code]
    else:
        return False
    return bool(codes) and all(400 <= code < 500 for code in codes)


def _error_text(error: BaseException) -> str:
    # The class name and SMTP code only: messages may echo the recipient's address.
    code = getattr(error, "smtp_code", "")
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code = " ".join(sorted({str(code) for code, _message in error.recipients.values()}))
    return f"{type(error).__name__} {code}".strip()[:200]


def _finish(notification: Notification, **fields: Any) -> int:
    # Only the worker holding the claim writes the outcome.
    return Notification.objects.filter(
        pk=notification.pk,
        status=Notification.Status.SENDING,
        claimed_at=notification.claimed_at,
    ).update(**fields)


def notification_release(notification: Notification, *, error: BaseException) -> str:
    """After a transient failure: due again after the backoff, or failed once it waited too long."""
    now = timezone.now()
    if now - notification.pending_since >= _give_up_after():
        _finish(notification, status=Notification.Status.FAILED, last_error=_error_text(error))
        logger.warning(
            "notification %s failed after %s attempts: %s",
            notification.pk,
            notification.attempts,
            type(error).__name__,
        )
        return "failed"
    delay = retry_delay(notification.attempts)
    _finish(
        notification,
        status=Notification.Status.PENDING,
        next_attempt_at=now + delay,
        last_error=_error_text(error),
    )
    logger.warning(
        "notification %s attempt %s failed: %s; next try in %d s",
        notification.pk,
        notification.attempts,
        type(error).__name__,
        delay.total_seconds(),
    )
    return "retrying"


def notification_send(*, notification_id: int, mailer: Mailer | None = None) -> str:
    """Send one row: "sent", "retrying", "failed", or "skipped" when it is not due. ``mailer``
    is the connection of the task's other rows (``notifications_send``); without one, the row
    gets a connection of its own.

    Idempotent: a row that is sent, failed, waiting for its backoff or held by a live worker is
    left alone, so a task delivered twice sends once.
    """
    notification = notification_claim(notification_id)
    if notification is None:
        return "skipped"
    message = EmailMessage(
        subject=notification.subject,
        body=notification.body,
        to=[notification.recipient],
        headers=notification.headers or None,
    )
    own = mailer is None
    mailer = Mailer() if mailer is None else mailer
    try:
        mailer.send(message)
    except PERMANENT_ERRORS as error:
        if refused_for_now(error):
            return notification_release(notification, error=error)
        _finish(notification, status=Notification.Status.FAILED, last_error=_error_text(error))
        logger.warning("notification %s refused: %s", notification.pk, type(error).__name__)
        return "failed"
    except TRANSIENT_ERRORS as error:
        outcome = notification_release(notification, error=error)
        if isinstance(error, SoftTimeLimitExceeded):
            # The task's time is up: the rows after this one are released by notifications_send.
            raise
        return outcome
    except Exception as error:
        # A fault in the message itself: trying again would fail the same way.
        _finish(notification, status=Notification.Status.FAILED, last_error=_error_text(error))
        logger.error("notification %s cannot be sent: %s", notification.pk, type(error).__name__)
        return "failed"
    finally:
        if own:
            mailer.close()
    sent_at = timezone.now()
    _finish(notification, status=Notification.Status.SENT, sent_at=sent_at, last_error="")
    notification.status = Notification.Status.SENT
    notification.sent_at = sent_at
    _after_sent(notification)
    return "sent"


def _after_sent(notification: Notification) -> None:
    kind = _KINDS.get(notification.kind)
    if kind is None or kind.on_sent is None:
        return
    try:
        kind.on_sent(notification)
    except DatabaseError as error:
        # The mail is out and the row says so; only the owning app's note of it is missing.
        logger.warning(
            "notification %s sent, bookkeeping failed: %s", notification.pk, type(error).__name__
        )


# --- Sweep and resend --------------------------------------------------------------------------


def _due(now: dt.datetime) -> models.QuerySet[Notification]:
    # The partial index crm_notification_due: status IN ('pending', 'sending') AND
    # next_attempt_at <= now.
    return Notification.objects.filter(status__in=_UNSENT, next_attempt_at__lte=now)


def notifications_sweep(*, batch: int | None = None) -> int:
    """Hand the broker the rows that are due and not already on their way; returns how many.

    Due: pending and past its backoff (or never enqueued because the broker was down), or held
    by a worker past the stale time. On its way: handed to the broker less than the stale time
    ago. At most ``batch`` (``OUTBOX_SWEEP_BATCH``) per run, oldest due first, so after a long
    outage the queue grows by a bounded amount a minute while the workers catch up.
    """
    now = timezone.now()
    batch = settings.OUTBOX_SWEEP_BATCH if batch is None else batch
    stale = now - _stale_after()
    # A send that keeps killing its worker never reaches notification_release: give up here.
    lost = _due(now).filter(
        status=Notification.Status.SENDING, pending_since__lt=now - _give_up_after()
    )
    if given_up := lost.update(status=Notification.Status.FAILED, last_error="WorkerLost"):
        logger.warning("%s notifications failed: their worker was lost", given_up)
    with transaction.atomic():
        ids = list(
            _due(now)
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale))
            .order_by("next_attempt_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:batch]
        )
        Notification.objects.filter(pk__in=ids).update(enqueued_at=now)
    # In tasks of up to SEND_BATCH_MAX rows, as a transaction's rows go: after an outage the
    # worker takes a batch of 200 as 20 tasks, not 200. At a broker error the rest wait.
    return _hand_over(ids)


def notifications_resend(*, ids: Iterable[int] = (), failed: bool = False) -> int:
    """Put failed rows back to pending, due now, with a fresh give-up clock; returns how many.

    ``ids`` picks rows (only the failed ones among them are touched: a sent e-mail is never sent
    twice); ``failed`` takes every failed row. Rows whose personal data was erased stay failed.
    The sweep sends them within a minute, a batch at a time.
    """
    wanted = list(ids)
    if not wanted and not failed:
        return 0
    rows = Notification.objects.filter(status=Notification.Status.FAILED).exclude(recipient="")
    if wanted:
        rows = rows.filter(pk__in=wanted)
    now = timezone.now()
    with transaction.atomic():
        count = rows.update(
            status=Notification.Status.PENDING,
            attempts=0,
            pending_since=now,
            next_attempt_at=now,
            enqueued_at=None,
            claimed_at=None,
        )
    logger.info("%s failed notifications put back to pending", count)
    return count
