"""Demo catalogue: the offers in ``offers/data/demo_offers.jsonl``, loaded by ``seed_demo``.

Goes through the same import as ``import_offers`` (so the demo proves the import), which upserts
by external id and skips unchanged rows: a second run writes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from offers.importexport import import_offers
from offers.models import Offer
from offers.search import refresh_search_vectors

DEMO_FILE = Path(__file__).resolve().parent / "data" / "demo_offers.jsonl"


def load(*, stdout: Any) -> None:
    result = import_offers(source=DEMO_FILE.read_text(encoding="utf-8"))
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
