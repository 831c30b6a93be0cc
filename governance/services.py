"""Governance workflows: anonymous feedback, usage counting, saved searches and snapshots."""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata

from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.masking import mask_personal_data
from governance.models import COMMENT_MAX_LENGTH, PageFeedback, PageView, ZeroResultSearch

logger = logging.getLogger(__name__)


class GovernanceError(Exception):
    """A request the governance services refuse; the message is safe to show to the user."""


_MAX_PATH_LENGTH = PageView._meta.get_field("path").max_length or 300
_MAX_QUERY_LENGTH = ZeroResultSearch._meta.get_field("query").max_length or 200


def feedback_submit(
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
        # Inside a surrounding transaction a failed statement would poison it; a savepoint keeps
        # the failure to this statement. Outside one, autocommit needs no extra round trips.
        if connection.in_atomic_block:
            with transaction.atomic():
                _execute(sql, [key, day])
        else:
            _execute(sql, [key, day])
    except DatabaseError as error:
        # The error class only: the statement's parameters are the page or the search text.
        logger.warning("Could not count in %s: %s", table, type(error).__name__)
        return False
    return True


def _execute(sql: str, params: list[str | dt.date]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


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
