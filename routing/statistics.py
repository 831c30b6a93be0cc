"""Figures on guidance requests, as the EU Single Digital Gateway asks of assistance services.

All computed in SQL (one grouped query each), over the requests received in a period:

- requests per month (Danish time), per region (of the company's municipality) and per theme
  (a request with two themes counts once for each; one with none counts for no theme);
- per Væksthus (the hub that holds the case now, so a transferred case counts where it was
  handled): requests, how many have had a first response, the median time to that first response
  in hours (PostgreSQL ``percentile_cont(0.5)``, over responded cases only), and the share
  answered within the promise. The promise is kept when the first response came on or before the
  case's ``first_response_due`` (Danish date); it is broken when it came later, or when there is
  still none and the due date has passed. Cases still within their deadline without a response
  are undecided and left out of the share.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
)
from django.db.models.functions import Extract, TruncDate, TruncMonth

from core.time import COPENHAGEN
from crm.models import Case
from routing.models import GuidanceRequest


class Median(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


@dataclass(frozen=True, slots=True)
class HubFigures:
    slug: str
    name: str
    requests: int
    responded: int
    median_response_hours: float | None
    within_promise: int
    decided: int

    @property
    def within_promise_share(self) -> float | None:
        return self.within_promise / self.decided if self.decided else None


@dataclass(frozen=True, slots=True)
class GuidanceStatistics:
    total: int
    by_month: list[dict[str, Any]]
    by_region: list[dict[str, Any]]
    by_theme: list[dict[str, Any]]
    hubs: list[HubFigures]
    #: Requests per source (the channel, and the partner for a partner's embedded form or API
    #: key); a count below ``STATISTICS_MIN_COUNT`` is ``None`` (suppressed), with ``suppressed``.
    by_source: list[dict[str, Any]] = field(default_factory=list)


def guidance_statistics(*, year: int | None = None, today: dt.date) -> GuidanceStatistics:
    """The figures for the requests received in ``year`` (Danish time), or for all time."""
    requests = GuidanceRequest.objects.all()
    if year is not None:
        start = dt.datetime(year, 1, 1, tzinfo=COPENHAGEN)
        end = dt.datetime(year + 1, 1, 1, tzinfo=COPENHAGEN)
        requests = requests.filter(created_at__gte=start, created_at__lt=end)

    by_month = [
        {"month": row["month"].strftime("%Y-%m"), "count": row["count"]}
        for row in requests.annotate(month=TruncMonth("created_at", tzinfo=COPENHAGEN))
        .values("month")
        .annotate(count=Count("id"))
        .order_by("month")
    ]
    by_region = [
        {"region": row["code"], "name": row["name"], "count": row["count"]}
        for row in requests.values(
            code=F("municipality__region__code"), name=F("municipality__region__name")
        )
        .annotate(count=Count("id"))
        .order_by("code")
    ]
    by_theme = [
        {"theme": row["slug"], "name": row["name"], "count": row["count"]}
        for row in GuidanceRequest.themes.through.objects.filter(guidancerequest__in=requests)
        .values(slug=F("theme__slug"), name=F("theme__name"), position=F("theme__position"))
        .annotate(count=Count("id"))
        .order_by("position", "slug")
    ]

    response_time = ExpressionWrapper(
        F("case__first_responded_at") - F("case__created_at"), output_field=DurationField()
    )
    responded = Q(case__first_responded_at__isnull=False)
    hubs = [
        HubFigures(
            slug=row["slug"],
            name=row["name"],
            requests=row["requests"],
            responded=row["responded"],
            median_response_hours=(
                round(row["median_seconds"] / 3600, 1)
                if row["median_seconds"] is not None
                else None
            ),
            within_promise=row["within_promise"],
            decided=row["decided"],
        )
        for row in requests.annotate(
            responded_on=TruncDate("case__first_responded_at", tzinfo=COPENHAGEN)
        )
        .values(slug=F("case__hub__slug"), name=F("case__hub__name"))
        .annotate(
            requests=Count("id"),
            responded=Count("id", filter=responded),
            median_seconds=Median(Extract(response_time, "epoch")),
            within_promise=Count(
                "id", filter=responded & Q(responded_on__lte=F("case__first_response_due"))
            ),
            decided=Count("id", filter=responded | Q(case__first_response_due__lt=today)),
        )
        .order_by("slug")
    ]
    minimum = settings.STATISTICS_MIN_COUNT
    source_labels = dict(Case.Source.choices)
    by_source = [
        {
            "source": row["source"],
            "source_label": str(source_labels.get(row["source"], row["source"])),
            "partner": row["partner"],
            "partner_name": row["partner_name"],
            "count": row["count"] if row["count"] >= minimum else None,
            "suppressed": row["count"] < minimum,
        }
        for row in requests.values(
            source=F("case__source"),
            partner=F("case__partner__slug"),
            partner_name=F("case__partner__name"),
        )
        .annotate(count=Count("id"))
        .order_by("source", "partner_name")
    ]
    return GuidanceStatistics(
        by_source=by_source,
        total=requests.count(),
        by_month=by_month,
        by_region=by_region,
        by_theme=by_theme,
        hubs=hubs,
    )
