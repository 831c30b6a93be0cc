"""Exporting the offer catalogue in its exchange format (``offers.catalogue_format``).

An export is importable as it stands: the same fields, organisations and themes by slug, dates
as ``ÅÅÅÅ-MM-DD``, ordered by external_id so two exports of the same catalogue are equal.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.db import models

from offers.catalogue_format import ALL_FIELDS, MODEL_FIELDS, ORGANISATION_FIELDS
from offers.models import Offer


def offer_records(queryset: models.QuerySet[Offer]) -> Iterator[dict[str, Any]]:
    """The offers of ``queryset`` as import-format dictionaries, ordered by external_id."""
    offers = list(
        queryset.order_by("external_id").values(
            "id",
            "external_id",
            *[name for name in MODEL_FIELDS if name.removesuffix("_id") not in ORGANISATION_FIELDS],
            *[f"{name}__slug" for name in ORGANISATION_FIELDS],
        )
    )
    ids = [offer["id"] for offer in offers]
    themes: dict[int, list[str]] = defaultdict(list)
    combine: dict[int, list[str]] = defaultdict(list)
    for offset in range(0, len(ids), 5000):
        chunk = ids[offset : offset + 5000]
        for offer_id, slug in (
            Offer.themes.through.objects.filter(offer_id__in=chunk)
            .order_by("theme__position", "theme__slug")
            .values_list("offer_id", "theme__slug")
        ):
            themes[offer_id].append(slug)
        for offer_id, other in (
            Offer.cannot_combine_with.through.objects.filter(from_offer_id__in=chunk)
            .order_by("to_offer__external_id")
            .values_list("from_offer_id", "to_offer__external_id")
        ):
            combine[offer_id].append(other)
    for offer in offers:
        record: dict[str, Any] = {}
        for name in ALL_FIELDS:
            if name in ORGANISATION_FIELDS:
                record[name] = offer[f"{name}__slug"]
            elif name == "themes":
                record[name] = themes[offer["id"]]
            elif name == "cannot_combine_with":
                record[name] = combine[offer["id"]]
            else:
                value = offer[name]
                record[name] = value.isoformat() if isinstance(value, dt.date) else value
        yield record


def export_json(queryset: models.QuerySet[Offer], out: io.TextIOBase | Any) -> int:
    """A JSON array with one offer per line, so import errors point at a useful line."""
    count = 0
    out.write("[\n")
    for record in offer_records(queryset):
        if count:
            out.write(",\n")
        out.write(json.dumps(record, ensure_ascii=False))
        count += 1
    out.write("\n]\n")
    return count


def export_jsonl(queryset: models.QuerySet[Offer], out: io.TextIOBase | Any) -> int:
    count = 0
    for record in offer_records(queryset):
        out.write(json.dumps(record, ensure_ascii=False))
        out.write("\n")
        count += 1
    return count
