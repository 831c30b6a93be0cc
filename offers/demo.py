"""Demo catalogue: the offers in ``offers/data/demo_offers.jsonl``, loaded by ``seed_demo``.

Goes through the same import as ``import_offers`` (so the demo proves the import), which upserts
by external id and skips unchanged rows: a second run in the same month writes nothing.

The file describes the catalogue as it stood in ``DEMO_AS_OF``'s month. Loaded in a later month,
every date in it (deadlines, validity, last review) moves forward by the same number of whole
months, so a demo loaded on any day has the same mix of open, closing and stale offers.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.utils import timezone

from core.time import shift_months
from offers.catalogue_format import DATE_FIELDS
from offers.importing import import_offers
from offers.models import Offer
from offers.search import refresh_search_vectors

DEMO_FILE = Path(__file__).resolve().parent / "data" / "demo_offers.jsonl"
DEMO_AS_OF = dt.date(2026, 12, 1)


def demo_catalogue(*, today: dt.date) -> str:
    """The demo file as JSON Lines with its dates moved to ``today``'s month (never backwards)."""
    months = max(0, (today.year - DEMO_AS_OF.year) * 12 + today.month - DEMO_AS_OF.month)
    lines = []
    for line in DEMO_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        for field in DATE_FIELDS:
            if row.get(field):
                row[field] = shift_months(dt.date.fromisoformat(row[field]), months).isoformat()
        lines.append(json.dumps(row, ensure_ascii=False))
    return "\n".join(lines)


def load(*, stdout: Any, today: dt.date | None = None) -> None:
    result = import_offers(source=demo_catalogue(today=today or timezone.localdate()))
    if not result.ok:
        for error in result.errors:
            stdout.write(str(error))
        raise CommandError(f"The demo catalogue did not load: {len(result.errors)} error(s).")
    # Offers the import did not touch may predate the search columns (an older database).
    missing = list(Offer.objects.filter(search_vector__isnull=True).values_list("pk", flat=True))
    if missing:
        refresh_search_vectors(offer_ids=missing)
    stdout.write(
        f"demo offers: {len(result.created)} new, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged"
    )
