"""/analyse/henvisninger/: where routing goes wrong, per operator and theme.

For each operator and theme (the themes of the referred case): how many referrals there were,
how many the operator declined and why, and how many met silence, i.e. were not answered within
``REFERRAL_OPERATOR_REMINDER_WORKING_DAYS`` Danish working days (the operator got the reminder, or
the referral still waits past that day). A Væksthus's advisers see their own hub's referrals; the
ministry's analysts and superusers see all. Nobody else may open the page.

Small numbers are suppressed with ``evaluation.disclosure.shown_count`` at
``REFERRAL_REPORT_MIN_COUNT``: a row with fewer referrals shows no figure at all; a decline or
silence count below the threshold shows as "fewer than"; and the reasons of a row show only when
every reason that occurred reaches the threshold, since the declines minus the shown reasons
would otherwise give the hidden one. The page shows no totals across rows, so no difference of
published figures isolates a suppressed row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.time import COPENHAGEN
from crm.models import Referral, ReferralFollowUp
from crm.permissions import adviser_hub_id
from crm.workdays import latest_day_reached
from evaluation.disclosure import shown_count
from governance.forms import PeriodForm
from offers.models import Organisation, Theme

REASONS = Referral.DeclineReason


def may_read_referral_report(user: Any) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return bool(user.is_superuser or user.is_analyst or adviser_hub_id(user) is not None)


@dataclass(frozen=True)
class Figure:
    """A count as shown: ``value`` is None when it is below the threshold."""

    value: int | None
    withheld: bool = False


@dataclass(frozen=True)
class ReportRow:
    operator: str
    theme: str
    referrals: Figure
    declined: Figure
    silent: Figure
    # (reason label, figure) of the reasons that occurred; empty when withheld or none.
    reasons: tuple[tuple[str, Figure], ...]
    reasons_withheld: bool

    @property
    def shown(self) -> bool:
        return self.referrals.value is not None

    @property
    def trouble_share(self) -> float:
        """Declined and silent among the referrals, for ordering (shown rows only)."""
        total = self.referrals.value or 0
        if not total:
            return 0.0
        return ((self.declined.value or 0) + (self.silent.value or 0)) / total


def _start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=COPENHAGEN)


def referral_report(
    *, first: dt.date, last: dt.date, today: dt.date, hub_id: int | None, min_count: int
) -> list[ReportRow]:
    """The rows for referrals made from ``first`` to ``last`` (Danish dates, both included),
    of ``hub_id``'s cases (every hub's when None), with small numbers suppressed."""
    silent_before = _start(
        latest_day_reached(today, settings.REFERRAL_OPERATOR_REMINDER_WORKING_DAYS)
        + dt.timedelta(days=1)
    )
    referrals = Referral.objects.filter(
        created_at__gte=_start(first), created_at__lt=_start(last + dt.timedelta(days=1))
    )
    if hub_id is not None:
        referrals = referrals.filter(case__hub_id=hub_id)
    reminded = Exists(
        ReferralFollowUp.objects.filter(
            referral_id=OuterRef("pk"), step=ReferralFollowUp.Step.OPERATOR
        )
    )
    silent = Q(reminded=True) | Q(status=Referral.Status.PROPOSED, created_at__lt=silent_before)
    declined = Q(status=Referral.Status.DECLINED)
    grouped = (
        referrals.annotate(
            organisation=Coalesce("operator_id", "offer__operator_id"), reminded=reminded
        )
        .values("organisation", "case__themes")
        .annotate(
            total=Count("id"),
            declined=Count("id", filter=declined),
            silent=Count("id", filter=silent),
            **{
                f"reason_{reason}": Count("id", filter=declined & Q(decline_reason=reason))
                for reason in REASONS.values
            },
        )
        .order_by()
    )
    rows: list[dict[str, Any]] = [dict(row) for row in grouped]
    organisations = Organisation.objects.in_bulk({row["organisation"] for row in rows})
    themes = Theme.objects.in_bulk({row["case__themes"] for row in rows if row["case__themes"]})

    def figure(value: int) -> Figure:
        return Figure(shown_count(value, min_treated=min_count) if value else 0)

    found = []
    for row in rows:
        operator = organisations.get(row["organisation"])
        theme = themes.get(row["case__themes"])
        operator_name = operator.name if operator else "–"
        theme_name = theme.label if theme else "–"
        if row["total"] < min_count:
            nothing = Figure(None, withheld=True)
            found.append(
                ReportRow(operator_name, theme_name, Figure(None), nothing, nothing, (), True)
            )
            continue
        counts = [(reason, row[f"reason_{reason}"]) for reason in REASONS.values]
        occurred = [(reason, count) for reason, count in counts if count]
        reasons_withheld = any(count < min_count for _reason, count in occurred)
        found.append(
            ReportRow(
                operator=operator_name,
                theme=theme_name,
                referrals=figure(row["total"]),
                declined=figure(row["declined"]),
                silent=figure(row["silent"]),
                reasons=()
                if reasons_withheld
                else tuple(
                    (str(REASONS(reason).label), figure(count)) for reason, count in occurred
                ),
                reasons_withheld=reasons_withheld,
            )
        )
    found.sort(key=lambda r: (not r.shown, -r.trouble_share, r.operator, r.theme))
    return found


class ReferralPeriodForm(PeriodForm):
    # Referrals are few per operator and theme: a year by default.
    default_days = 365


@require_GET
def referral_report_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not may_read_referral_report(user):
        raise PermissionDenied
    form = ReferralPeriodForm(request.GET or None)
    first, last = form.period()
    hub_id = None if (user.is_superuser or user.is_analyst) else adviser_hub_id(user)
    hub = Organisation.objects.get(pk=hub_id) if hub_id is not None else None
    min_count = settings.REFERRAL_REPORT_MIN_COUNT
    rows = referral_report(
        first=first,
        last=last,
        today=timezone.localdate(),
        hub_id=hub_id,
        min_count=min_count,
    )
    context = {
        "form": form,
        "first": first,
        "last": last,
        "hub": hub,
        "rows": rows,
        "min_count": min_count,
        "silent_days": settings.REFERRAL_OPERATOR_REMINDER_WORKING_DAYS,
    }
    return render(request, "governance/analyse/referrals.html", context)
