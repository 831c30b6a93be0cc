"""Governance workflows: anonymous feedback, usage counting, saved searches and snapshots."""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from functools import partial

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.masking import mask_personal_data
from governance import alerts, tokens
from governance.models import (
    COMMENT_MAX_LENGTH,
    CatalogueSnapshot,
    DigestDelivery,
    PageFeedback,
    PageView,
    SavedSearch,
    ThemeSnapshot,
    ZeroResultSearch,
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


def _upsert_count(table: str, key_column: str, count_column: str, key: str, day: dt.date) -> bool:
    """Add one to a daily counter; False (logged, never raised) when the database refuses.

    Counting is a by-product of showing a page, so a failure here must never break the page.
    """
    # One statement, no read-modify-write: concurrent requests for the same page never lose a count.
    sql = (
        f"INSERT INTO {table} ({key_column}, day, {count_column}) VALUES (%s, %s, 1) "  # noqa: S608 - identifiers are constants
        f"ON CONFLICT ({key_column}, day) DO UPDATE SET {count_column} = {table}.{count_column} + 1"
    )
    try:
        # A transaction of its own (a savepoint inside a surrounding one, so a failure cannot
        # poison it). On its own it does not wait for the disk: losing the last moment's counts
        # in a database crash is acceptable, a few milliseconds' fsync on every page view is not.
        # Inside a surrounding transaction that one's commit decides, so there is nothing to set.
        own_transaction = not connection.in_atomic_block
        with transaction.atomic(), connection.cursor() as cursor:
            if own_transaction:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            cursor.execute(sql, [key, day])
    except DatabaseError as error:
        # The error class only: the statement's parameters are the page or the search text.
        logger.warning("Could not count in %s: %s", table, type(error).__name__)
        return False
    return True


def page_view_record(*, path: str, day: dt.date | None = None) -> bool:
    """Count one view of a public page (already normalised by the caller)."""
    day = day or timezone.localdate()
    return _upsert_count(PageView._meta.db_table, "path", "views", path[:_MAX_PATH_LENGTH], day)


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
    return _upsert_count(
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
            saved.confirmation_sent_at = None
            saved.save(update_fields=["created_at", "confirmation_sent_at"])
        transaction.on_commit(partial(_enqueue_confirmation, saved.pk))
    return saved


def _enqueue_confirmation(saved_search_id: int) -> None:
    """Hand the e-mail to the broker; when it is unreachable, log it and let the page succeed."""
    from governance.tasks import send_saved_search_confirmation

    try:
        send_saved_search_confirmation.delay(saved_search_id)
    except Exception as error:
        # The row is saved and asking again re-sends. The error class only, no address.
        logger.warning("Could not enqueue a confirmation e-mail: %s", type(error).__name__)


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
    return deleted > 0


def saved_searches_expire(*, now: dt.datetime | None = None) -> int:
    """Delete unconfirmed searches whose confirmation link has expired; returns how many."""
    cutoff = (now or timezone.now()) - tokens.CONFIRMATION_MAX_AGE
    with transaction.atomic():
        deleted, _counts = SavedSearch.objects.pending_since_before(cutoff).delete()
    return deleted


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


def digest_claim(*, delivery_id: int, stale_after: dt.timedelta) -> bool:
    """Take an unsent digest for this worker; False if it is sent or another worker has it."""
    now = timezone.now()
    claimed = (
        DigestDelivery.objects.filter(pk=delivery_id, sent_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - stale_after))
        .update(claimed_at=now)
    )
    return claimed == 1


def digest_release(*, delivery_id: int) -> None:
    DigestDelivery.objects.filter(pk=delivery_id, sent_at__isnull=True).update(claimed_at=None)


def digest_mark_sent(*, delivery_id: int) -> None:
    DigestDelivery.objects.filter(pk=delivery_id).update(sent_at=timezone.now())


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
