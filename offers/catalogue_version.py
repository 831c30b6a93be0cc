"""The catalogue's version, for caches of the catalogue inside a process.

PostgreSQL keeps it (migrations ``0006_catalogue_version``, ``0013``): the value changes at the
commit of every transaction that changed an offer, an offer's themes, what it cannot be combined
with or a theme, and a value is never used twice. A process may therefore keep something derived
from the catalogue under the value it read before deriving it, and reuse it for as long as the value
read later is the same. The value read is the number together with the row's ``xmin``: a database
restored from a dump (or a recovered standby) may hand out a number again, but not with the same row
version.

A transaction that has changed the catalogue itself sees its own changes, but the value moves only
when it commits: :data:`CHANGED_HERE_SQL` is true inside such a transaction, and a reader there must
not use a cached copy.
"""

from __future__ import annotations

from django.db import connection

#: SQL for the current version as text (NULL only if the row was removed by hand).
VERSION_SQL = "(SELECT value::text || ':' || xmin::text FROM offers_catalogue_version WHERE id = 1)"
#: SQL that is true when the current transaction has changed the catalogue and not yet committed
#: (the triggers record the transaction's id; a transaction without an id has written nothing).
CHANGED_HERE_SQL = (
    "coalesce(current_setting('offers.catalogue_changed', true)"
    " = pg_current_xact_id_if_assigned()::text, false)"
)


def catalogue_version() -> str | None:
    """The version a cached copy may be reused under, or None when it must not be reused."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {VERSION_SQL}, {CHANGED_HERE_SQL}")
        value, changed_here = cursor.fetchone()
    return None if changed_here or value is None else str(value)
