"""Governance workflows: anonymous feedback, usage counting, saved searches and snapshots."""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import re
import threading
import time
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.masking import mask_person, mask_personal_data
from crm import outbox
from crm.models import Notification
from crm.services import Person
from governance import alerts, emails, tokens
from governance.models import (
    COMMENT_MAX_LENGTH,
    CatalogueSnapshot,
    DigestDelivery,
    GovernanceMail,
    PageFeedback,
    PageView,
    SavedSearch,
    ThemeSnapshot,
    ZeroResultSearch,
    saved_search_mail_key,
)
from governance.paths import public_path_of

logger = logging.getLogger(__name__)


class GovernanceError(Exception):
    """A request the governance services refuse; the message is safe to show to the user."""


_MAX_PATH_LENGTH = PageView._meta.get_field("path").max_length or 300
_MAX_QUERY_LENGTH = ZeroResultSearch._meta.get_field("query").max_length or 200


def page_feedback_submit(
    *, path: str, answer: str, comment: str = "", day: dt.date | None = None
) -> PageFeedback:
    """Store one anonymous answer, with any e-mail address or phone number masked first."""
    if answer not in PageFeedback.Answer.values:
        raise GovernanceError(_("Vælg ja eller nej."))
    if len(comment) > COMMENT_MAX_LENGTH:
        raise GovernanceError(
            _("Kommentaren må højst være %(limit)s tegn.") % {"limit": COMMENT_MAX_LENGTH}
        )
    clean_path = normalise_path(path)
    if clean_path is None:
        raise GovernanceError(_("Tilbagemeldingen kunne ikke knyttes til en side."))
    with transaction.atomic():
        return PageFeedback.objects.create(
            path=clean_path,
            answer=answer,
            comment=mask_personal_data(comment.strip()),
            day=day or timezone.localdate(),
        )


def normalise_path(path: str) -> str | None:
    """A local page path without query string or fragment, or None for anything else."""
    path = path.split("#", 1)[0].split("?", 1)[0].strip()
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    # A private status token or a signed link in the path is never stored (governance.paths).
    path = public_path_of(path)
    if len(path) > _MAX_PATH_LENGTH:
        return None
    return path


# (table, key column, count column): a daily counter (PageView, ZeroResultSearch).
_Counter = tuple[str, str, str]


def _upsert_counts(counter: _Counter, counts: dict[tuple[str, dt.date], int]) -> bool:
    """Add counts to daily counters; False (logged, never raised) when the database refuses.

    Counting is a by-product of showing a page, so a failure here must never break the page.
    """
    table, key_column, count_column = counter
    # One statement, no read-modify-write: concurrent writers for the same page lose no count.
    # Sorted, so two processes writing the same rows take their locks in the same order.
    rows = sorted(counts.items())
    values = ", ".join(["(%s, %s, %s)"] * len(rows))
    sql = (
        f"INSERT INTO {table} ({key_column}, day, {count_column}) VALUES {values} "  # noqa: S608 - identifiers are constants
        f"ON CONFLICT ({key_column}, day) DO UPDATE "
        f"SET {count_column} = {table}.{count_column} + EXCLUDED.{count_column}"
    )
    params = [value for (key, day), count in rows for value in (key, day, count)]
    try:
        # A transaction of its own (a savepoint inside a surrounding one, so a failure cannot
        # poison it). On its own it does not wait for the disk: losing the last moment's counts
        # in a database crash is acceptable, a few milliseconds' fsync on every page view is not.
        # Inside a surrounding transaction that one's commit decides, so there is nothing to set.
        own_transaction = not connection.in_atomic_block
        with transaction.atomic(), connection.cursor() as cursor:
            if own_transaction:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            cursor.execute(sql, params)
    except DatabaseError as error:
        # The error class only: the statement's parameters are the page or the search text.
        logger.warning("Could not count in %s: %s", table, type(error).__name__)
        return False
    return True


class CountBuffer:
    """Daily counts added up in the process and written at most ``PAGE_VIEW_FLUSH_SECONDS`` apart.

    Under a spike every view of the same page would otherwise update the same row: one UPSERT per
    view, each waiting for the row lock of the one before. Added up, one statement per counter
    carries every page's views of the last seconds. Counts the database refused stay in the
    buffer for the next write; the rest are written when the process stops (``flush``, called by
    gunicorn's ``worker_exit`` hook in ``gunicorn.conf.py`` and at interpreter exit), so only a
    process killed outright loses its last seconds of counts. With 0 seconds every view is
    written at once, as before.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[_Counter, dict[tuple[str, dt.date], int]] = {}
        self._last_write = time.monotonic()

    def add(self, table: str, key_column: str, count_column: str, key: str, day: dt.date) -> bool:
        counter = (table, key_column, count_column)
        with self._lock:
            counts = self._counts.setdefault(counter, {})
            counts[(key, day)] = counts.get((key, day), 0) + 1
            due = time.monotonic() - self._last_write >= settings.PAGE_VIEW_FLUSH_SECONDS
        return self.flush() if due else True

    def pending(self) -> int:
        with self._lock:
            return sum(sum(counts.values()) for counts in self._counts.values())

    def flush(self) -> bool:
        """Write every buffered count; those the database refused are kept for the next time."""
        with self._lock:
            taken, self._counts = self._counts, {}
            self._last_write = time.monotonic()
        written = True
        for counter, counts in taken.items():
            if not _upsert_counts(counter, counts):
                written = False
                with self._lock:
                    kept = self._counts.setdefault(counter, {})
                    for row, count in counts.items():
                        kept[row] = kept.get(row, 0) + count
        return written


COUNTS = CountBuffer()
atexit.register(COUNTS.flush)


def page_view_record(*, path: str, day: dt.date | None = None) -> bool:
    """Count one view of a public page (already normalised by the caller).

    Added up in the process and written with the other buffered counts (``COUNTS``).
    """
    day = day or timezone.localdate()
    return COUNTS.add(PageView._meta.db_table, "path", "views", path[:_MAX_PATH_LENGTH], day)


_WHITESPACE = re.compile(r"\s+")


def normalise_search_query(query: str) -> str:
    """The text of a search as counted: lower case, single spaces, personal data masked."""
    text = unicodedata.normalize("NFC", query)
    text = _WHITESPACE.sub(" ", text).strip().lower()
    return mask_personal_data(text)[:_MAX_QUERY_LENGTH]


def search_record(query: str, result_count: int, *, day: dt.date | None = None) -> bool:
    """Count a search on /tilbud/ that found nothing; searches with results are not kept.

    Safe to call from any view: it never raises because of the database.
    """
    if result_count > 0:
        return False
    text = normalise_search_query(query)
    if not text:
        return False
    return COUNTS.add(
        ZeroResultSearch._meta.db_table, "query", "searches", text, day or timezone.localdate()
    )


# --- Saved searches ----------------------------------------------------------------------------

# A confirmation e-mail is not sent again to the same address and search sooner than this, so
# the form cannot be used to flood someone's inbox.
CONFIRMATION_RESEND_AFTER = dt.timedelta(minutes=10)


def saved_search_create(
    *, email: str, query_string: str, today: dt.date | None = None
) -> SavedSearch:
    """Save a search for ``email``, pending confirmation; the same search is never stored twice.

    A confirmation e-mail goes out after commit, unless one went out in the last ten minutes or
    the search is already confirmed (then nothing changes and nothing is sent).
    """
    try:
        validate_email(email)
    except ValidationError:
        raise GovernanceError(_("Skriv en gyldig e-mailadresse, fx navn@firma.dk.")) from None
    canonical = alerts.canonical_query(query_string, today=today or timezone.localdate())
    now = timezone.now()
    with transaction.atomic():
        saved, created = SavedSearch.objects.select_for_update().get_or_create(
            email__iexact=email,
            query_string=canonical,
            defaults={"email": email, "query_string": canonical},
        )
        if saved.status == SavedSearch.Status.ACTIVE:
            return saved
        recently = (
            saved.confirmation_sent_at
            and now - saved.confirmation_sent_at < CONFIRMATION_RESEND_AFTER
        )
        if not created and recently:
            return saved
        if not created:
            # A new request restarts the unconfirmed search's life (and its clean-up clock).
            saved.created_at = now
            saved.save(update_fields=["created_at"])
        _confirmation_queue(saved, now=now)
    return saved


def saved_search_confirmation_queue(*, saved_search_id: int) -> bool:
    """Queue the confirmation of a pending search that has none queued; False when not due."""
    with transaction.atomic():
        saved = (
            SavedSearch.objects.select_for_update()
            .filter(
                pk=saved_search_id,
                status=SavedSearch.Status.PENDING,
                confirmation_sent_at__isnull=True,
            )
            .first()
        )
        if saved is None:
            return False
        return _confirmation_queue(saved, now=timezone.now())


def _confirmation_queue(saved: SavedSearch, *, now: dt.datetime) -> bool:
    # In the caller's transaction: the outbox sends it after commit, and again later when the
    # broker or the mail server is down. The key names this request round (created_at), so the
    # same round is never queued twice.
    saved.confirmation_sent_at = now
    saved.save(update_fields=["confirmation_sent_at"])
    notification = outbox.notification_queue(
        kind=GovernanceMail.SAVED_SEARCH_CONFIRMATION,
        recipient=saved.email,
        template="saved_search_confirmation",
        context=emails.confirmation_context(saved),
        dedupe_key=saved_search_mail_key(saved.pk, f"confirm:{saved.created_at.timestamp()}"),
    )
    return notification is not None


def _outbox_forget(saved_search_ids: list[int]) -> None:
    """The address goes with the search: its unsent e-mails are dropped, all are blanked."""
    if not saved_search_ids:
        return
    keys = Q()
    for saved_search_id in saved_search_ids:
        keys |= Q(dedupe_key__startswith=saved_search_mail_key(saved_search_id, ""))
    mails = Notification.objects.filter(keys)
    mails.filter(status__in=[Notification.Status.PENDING, Notification.Status.SENDING]).update(
        status=Notification.Status.FAILED, last_error="persondata slettet"
    )
    mails.update(recipient="", subject="[slettet]", body="[slettet]", headers={})


def saved_searches_export(person: Person) -> list[dict[str, object]]:
    """The person's saved searches and their weekly digests (``crm.services.person_export``)."""
    return [
        {
            "search": saved.query_string,
            "status": saved.status,
            "created_at": saved.created_at.isoformat(),
            "confirmed_at": saved.confirmed_at.isoformat() if saved.confirmed_at else None,
            "deliveries": [
                {"week": delivery.week, "offers": len(delivery.offer_ids)}
                for delivery in saved.deliveries.order_by("window_end")
            ],
        }
        for saved in SavedSearch.objects.filter(email__iexact=person.email).order_by("pk")
    ]


def saved_searches_erase(person: Person) -> int:
    """Erasure (``crm.services.person_erase``): the person's searches go, with their digests, so
    no digest is sent to the address again; their e-mails in the outbox are blanked."""
    ids = list(SavedSearch.objects.filter(email__iexact=person.email).values_list("pk", flat=True))
    if not ids:
        return 0
    SavedSearch.objects.filter(pk__in=ids).delete()
    for start in range(0, len(ids), 500):
        _outbox_forget(ids[start : start + 500])
    return len(ids)


def _feedback_naming(person: Person) -> list[PageFeedback]:
    mentions = Q()
    for name in person.names:
        if len(name.strip()) >= 3:
            mentions |= Q(comment__icontains=name.strip())
    if not mentions:
        return []
    return list(PageFeedback.objects.filter(mentions).order_by("pk"))


def page_feedback_export(person: Person) -> list[dict[str, object]]:
    """Anonymous page feedback that names the person (addresses are masked when it is given)."""
    return [
        {"page": feedback.path, "day": feedback.day.isoformat(), "comment": feedback.comment}
        for feedback in _feedback_naming(person)
    ]


def page_feedback_erase(person: Person) -> int:
    changed = 0
    for feedback in _feedback_naming(person):
        comment = mask_person(feedback.comment, names=person.names)
        if comment != feedback.comment:
            changed += PageFeedback.objects.filter(pk=feedback.pk).update(comment=comment)
    return changed


def saved_search_confirm(*, token: str) -> tuple[SavedSearch, bool]:
    """Confirm from the e-mail's link; returns the search and whether it was confirmed before."""
    try:
        saved_search_id = tokens.confirmation_id(token)
    except tokens.ExpiredLink:
        raise GovernanceError(
            _("Linket er udløbet. Gem søgningen igen på siden med tilbud, så får du et nyt link.")
        ) from None
    except tokens.BadLink:
        raise GovernanceError(
            _("Linket er ikke gyldigt. Kopiér hele linket fra e-mailen.")
        ) from None
    with transaction.atomic():
        saved = SavedSearch.objects.select_for_update().filter(pk=saved_search_id).first()
        if saved is None:
            raise GovernanceError(
                _("Søgningen findes ikke længere. Gem den igen på siden med tilbud.")
            )
        if saved.status == SavedSearch.Status.ACTIVE:
            return saved, True
        saved.status = SavedSearch.Status.ACTIVE
        saved.confirmed_at = timezone.now()
        saved.save(update_fields=["status", "confirmed_at"])
    return saved, False


def saved_search_unsubscribe(*, token: str) -> bool:
    """Delete the saved search (and with it the e-mail address); False if it was already gone."""
    try:
        saved_search_id = tokens.unsubscribe_id(token)
    except tokens.BadLink:
        raise GovernanceError(
            _("Linket er ikke gyldigt. Kopiér hele linket fra e-mailen.")
        ) from None
    with transaction.atomic():
        deleted, _counts = SavedSearch.objects.filter(pk=saved_search_id).delete()
        if deleted:
            _outbox_forget([saved_search_id])
    return deleted > 0


def saved_searches_expire(*, now: dt.datetime | None = None) -> int:
    """Delete unconfirmed searches whose confirmation link has expired; returns how many."""
    cutoff = (now or timezone.now()) - tokens.CONFIRMATION_MAX_AGE
    with transaction.atomic():
        expired = SavedSearch.objects.pending_since_before(cutoff)
        ids = list(expired.values_list("pk", flat=True))
        _total, deleted = SavedSearch.objects.filter(pk__in=ids).delete()
        for start in range(0, len(ids), 500):
            _outbox_forget(ids[start : start + 500])
    return deleted.get(SavedSearch._meta.label, 0)


def iso_week(day: dt.date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def saved_search_digest_prepare(
    *, saved_search_id: int, week: str, now: dt.datetime | None = None
) -> DigestDelivery | None:
    """The week's digest of one saved search: found if it exists, else worked out and stored.

    The window runs from the end of the previous digest (or the confirmation) to now, so every
    change to an offer falls in exactly one week's digest.
    """
    now = now or timezone.now()
    with transaction.atomic():
        saved = (
            SavedSearch.objects.select_for_update()
            .filter(pk=saved_search_id, status=SavedSearch.Status.ACTIVE)
            .first()
        )
        if saved is None:
            return None
        existing = DigestDelivery.objects.filter(saved_search=saved, week=week).first()
        if existing is not None:
            return existing
        previous = saved.deliveries.order_by("-window_end").first()
        assert saved.confirmed_at is not None  # an active search is confirmed (a constraint)
        since = previous.window_end if previous else saved.confirmed_at
        offers = alerts.changed_offers(
            saved.query_string, since=since, until=now, today=timezone.localdate(now)
        )
        return DigestDelivery.objects.create(
            saved_search=saved,
            week=week,
            window_start=since,
            window_end=now,
            offer_ids=[offer.pk for offer in offers],
        )


def saved_search_digest_send(*, saved_search_id: int, week: str) -> bool:
    """Work out (or find) this week's digest of one search and send it if there is news.

    The digest goes through the outbox, at most once per search and week (its dedupe_key). The
    caller is a worker already, so it sends the row at once; if the mail server is down the
    outbox retries it with its backoff. True when the e-mail went out now.
    """
    delivery = saved_search_digest_prepare(saved_search_id=saved_search_id, week=week)
    if delivery is None or not delivery.offer_ids or delivery.sent_at is not None:
        return False
    with transaction.atomic():
        delivery = (
            DigestDelivery.objects.select_for_update()
            .select_related("saved_search")
            .get(pk=delivery.pk)
        )
        if delivery.notification_id is not None:
            return False  # queued before: the outbox has it
        notification = outbox.notification_queue(
            kind=GovernanceMail.SAVED_SEARCH_DIGEST,
            recipient=delivery.saved_search.email,
            template="saved_search_digest",
            context=emails.digest_context(delivery),
            headers=emails.digest_headers(delivery.saved_search),
            dedupe_key=saved_search_mail_key(saved_search_id, f"digest:{week}"),
            enqueue_after_commit=False,
        )
        if notification is None:
            return False
        delivery.notification = notification
        delivery.save(update_fields=["notification"])
    return outbox.notification_send(notification_id=notification.pk) == "sent"


def digest_mark_sent(notification: Notification) -> None:
    """The outbox sent a governance e-mail: note a digest's sending on its delivery."""
    if notification.kind == GovernanceMail.SAVED_SEARCH_DIGEST:
        DigestDelivery.objects.filter(notification=notification, sent_at__isnull=True).update(
            sent_at=notification.sent_at
        )


# --- Fewer but stronger: monthly snapshots -----------------------------------------------------


def catalogue_snapshot_take(*, month: dt.date, today: dt.date | None = None) -> CatalogueSnapshot:
    """Record the catalogue as it is today under ``month``; a month is recorded only once.

    Counts come from the division-of-labour report, so the trend and the report agree: offers
    and distinct operators per theme and level ("consolidation") and the overlap groups.
    """
    from offers.models import Offer, Theme
    from offers.reports import division_of_labour

    month = month.replace(day=1)
    existing = CatalogueSnapshot.objects.filter(month=month).first()
    if existing is not None:
        return existing
    today = today or timezone.localdate()
    report = division_of_labour(today=today)
    open_offers = Offer.objects.published().open_on(today)
    totals = open_offers.aggregate(
        offers=Count("pk"), operators=Count("operator_id", distinct=True)
    )
    overlapping = {external_id for group in report["overlaps"] for external_id in group["offers"]}
    themes = dict(Theme.objects.values_list("slug", "pk"))
    with transaction.atomic():
        snapshot, created = CatalogueSnapshot.objects.get_or_create(
            month=month,
            defaults={
                "offers": totals["offers"],
                "operators": totals["operators"],
                "overlaps": len(report["overlaps"]),
                "offers_in_overlaps": len(overlapping),
            },
        )
        if created:
            ThemeSnapshot.objects.bulk_create(
                ThemeSnapshot(
                    snapshot=snapshot,
                    theme_id=themes[row["theme"]],
                    level=row["level"],
                    offers=row["offers"],
                    operators=row["operators"],
                )
                for row in report["consolidation"]
                if row["theme"] in themes
            )
    return snapshot
