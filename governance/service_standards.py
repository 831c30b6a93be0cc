"""Service standards per Væksthus and month, computed in one SQL statement from the CRM.

What each figure means (also shown on the pages):

- **Cases received**: cases created in the month (Danish time).
- **First response**: a call, a meeting or an e-mail to the company
  (``TimelineEntry.FIRST_RESPONSE_KINDS``); taking the case is none.
- **Median time to first response**: over the month's cases that have had a first response, the
  median of the Danish working days from the day the request counts from to the answer
  (``crm.workdays.working_days_taken``): 0 is the same working day. It is the measure the promise
  is made in. ``median_hours`` (calendar hours) is kept for the analysts' page.
- **Answered within the promise**: of the month's cases that have been answered or whose deadline
  has passed, the share answered no later than the first-response deadline (``first_response_due``,
  counted in working days when the case was created). Cases still inside their deadline without
  an answer are not counted yet, so the share does not drop just because the month is recent.
- **Referrals completed**: referrals of the hub's cases marked completed in the month.
- **Satisfaction**: the mean rating (1–5) and the number of ratings companies gave in the month
  after their case was closed.
- **Closed as not handled**: of the month's cases, those the reminder ladder closed because
  nobody at the hub answered (``crm.services.followup``).
- **Survey**: of the surveys sent in the month (about ten days after closing), how many were
  answered (the response rate), and of the answers: the share contacted by an adviser, the mean
  usefulness (1–5), the share that found support or started something, and the share that would
  not have done it without the help (additionality).

One rule for small numbers on public pages (:meth:`ServiceStandard.public`): a share, a median or
a mean is shown only when it rests on at least ``min_count`` cases or answers
(``PUBLIC_MIN_RATINGS`` in ``governance.views``), through ``evaluation.disclosure.shown_count``;
the survey figures by the same rule (``survey_published``).
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from core.time import add_months, month_start
from crm.models import Case, CaseFollowUp, Feedback, Referral, SurveyAnswer
from crm.workdays import working_days_taken
from evaluation.disclosure import shown_count
from offers.models import Organisation


class SurveyFigures:
    """The survey's shares, for a hub's or an operator's row (the counts are its fields)."""

    surveys_sent: int
    surveys_answered: int
    contacted: int
    came_to_something: int
    additional: int

    def _share(self, count: int) -> float | None:
        return 100 * count / self.surveys_answered if self.surveys_answered else None

    @property
    def response_percent(self) -> float | None:
        return 100 * self.surveys_answered / self.surveys_sent if self.surveys_sent else None

    @property
    def contacted_percent(self) -> float | None:
        return self._share(self.contacted)

    @property
    def came_to_something_percent(self) -> float | None:
        return self._share(self.came_to_something)

    @property
    def additional_percent(self) -> float | None:
        return self._share(self.additional)

    def survey_published(self, *, min_answers: int) -> bool:
        """May the survey figures be shown to the public? Only from ``min_answers`` answers (and
        so as many surveys) up: a share of two answers tells about two companies."""
        return shown_count(self.surveys_answered, min_treated=min_answers) is not None


@dataclass(frozen=True)
class ServiceStandard(SurveyFigures):
    hub_id: int
    hub_name: str
    month: dt.date  # first day; the first month of the period for period totals
    received: int
    responded: int
    median_hours: float | None
    within_promise: int
    decided: int
    referrals_completed: int
    rating_mean: float | None
    ratings: int
    not_handled: int = 0
    surveys_sent: int = 0
    surveys_answered: int = 0
    contacted: int = 0
    usefulness_mean: float | None = None
    came_to_something: int = 0
    additional: int = 0
    median_working_days: float | None = None

    def public(self, *, min_count: int) -> PublicStandard:
        """The figures the public may see: each share, median or mean only when it rests on at
        least ``min_count`` cases or answers (one rule for the whole page)."""
        decided = shown_count(self.decided, min_treated=min_count)
        responded = shown_count(self.responded, min_treated=min_count)
        ratings = shown_count(self.ratings, min_treated=min_count)
        return PublicStandard(
            hub_name=self.hub_name,
            received=self.received,
            not_handled=self.not_handled,
            decided=decided,
            within_promise_percent=self.within_promise_percent if decided else None,
            responded=responded,
            # Whole working days, rounded up: a median of 1.5 is not reported as 1.
            median_working_days=math.ceil(self.median_working_days)
            if responded and self.median_working_days is not None
            else None,
            ratings=ratings,
            rating_mean=self.rating_mean if ratings else None,
        )

    @property
    def within_promise_share(self) -> float | None:
        """Share (0–1) answered within the promise, of the cases decided so far."""
        return self.within_promise / self.decided if self.decided else None

    @property
    def within_promise_percent(self) -> float | None:
        share = self.within_promise_share
        return None if share is None else 100 * share


@dataclass(frozen=True)
class PublicStandard:
    """A hub's row as /servicestandarder/ shows it; None where too few cases or answers."""

    hub_name: str
    received: int
    not_handled: int
    decided: int | None
    within_promise_percent: float | None
    responded: int | None
    median_working_days: int | None
    ratings: int | None
    rating_mean: float | None


_SQL = """
SELECT c.hub_id, {bucket_case} AS month, c.created_at, c.first_responded_at
FROM {case} c
WHERE c.created_at >= %(start)s AND c.created_at < %(end)s
  AND c.first_responded_at IS NOT NULL
  AND (%(hub)s::bigint IS NULL OR c.hub_id = %(hub)s::bigint)
"""


_SQL = """
WITH cases AS (
    SELECT c.hub_id,
           {bucket_case} AS month,
           count(*) AS received,
           count(c.first_responded_at) AS responded,
           percentile_cont(0.5) WITHIN GROUP (
               ORDER BY extract(epoch FROM c.first_responded_at - c.created_at) / 3600.0
           ) AS median_hours,
           count(*) FILTER (
               WHERE (c.first_responded_at AT TIME ZONE %(tz)s)::date <= c.first_response_due
           ) AS within_promise,
           count(*) FILTER (
               WHERE c.first_responded_at IS NOT NULL OR c.first_response_due < %(today)s
           ) AS decided,
           count(*) FILTER (WHERE c.outcome = 'not_handled') AS not_handled,
           -- For the median in working days, which needs the holiday calendar (crm.workdays).
           array_agg(c.created_at ORDER BY c.id)
               FILTER (WHERE c.first_responded_at IS NOT NULL) AS created,
           array_agg(c.first_responded_at ORDER BY c.id)
               FILTER (WHERE c.first_responded_at IS NOT NULL) AS answered
    FROM {case} c
    WHERE c.created_at >= %(start)s AND c.created_at < %(end)s
    GROUP BY 1, 2
), referrals AS (
    SELECT c.hub_id, {bucket_referral} AS month, count(*) AS completed
    FROM {referral} r JOIN {case} c ON c.id = r.case_id
    WHERE r.status = 'completed' AND r.completed_at >= %(start)s AND r.completed_at < %(end)s
    GROUP BY 1, 2
), ratings AS (
    SELECT c.hub_id, {bucket_feedback} AS month, avg(f.rating) AS mean, count(*) AS n
    FROM {feedback} f JOIN {case} c ON c.id = f.case_id
    WHERE f.created_at >= %(start)s AND f.created_at < %(end)s
    GROUP BY 1, 2
), surveys AS (
    SELECT c.hub_id, {bucket_survey} AS month,
           count(*) AS sent,
           count(a.id) AS answered,
           count(*) FILTER (WHERE a.contacted) AS contacted,
           avg(a.usefulness) AS usefulness,
           count(*) FILTER (WHERE a.result IN ('found_support', 'started')) AS came_to_something,
           count(*) FILTER (WHERE a.additionality = 'no') AS additional
    FROM {followup} f JOIN {case} c ON c.id = f.case_id
    LEFT JOIN {answer} a ON a.case_id = f.case_id
    WHERE f.step = 'survey' AND f.at >= %(start)s AND f.at < %(end)s
    GROUP BY 1, 2
), keys AS (
    SELECT hub_id, month FROM cases
    UNION SELECT hub_id, month FROM referrals
    UNION SELECT hub_id, month FROM ratings
    UNION SELECT hub_id, month FROM surveys
)
SELECT k.hub_id, o.name, k.month,
       coalesce(cases.received, 0), coalesce(cases.responded, 0), cases.median_hours,
       coalesce(cases.within_promise, 0), coalesce(cases.decided, 0),
       coalesce(referrals.completed, 0), ratings.mean, coalesce(ratings.n, 0),
       coalesce(cases.not_handled, 0), coalesce(surveys.sent, 0), coalesce(surveys.answered, 0),
       coalesce(surveys.contacted, 0), surveys.usefulness, coalesce(surveys.came_to_something, 0),
       coalesce(surveys.additional, 0), cases.created, cases.answered
FROM keys k
JOIN {organisation} o ON o.id = k.hub_id
LEFT JOIN cases USING (hub_id, month)
LEFT JOIN referrals USING (hub_id, month)
LEFT JOIN ratings USING (hub_id, month)
LEFT JOIN surveys USING (hub_id, month)
WHERE (%(hub)s::bigint IS NULL OR k.hub_id = %(hub)s::bigint)
ORDER BY k.month DESC, o.name
"""


def service_standards(
    *,
    first_month: dt.date,
    last_month: dt.date,
    today: dt.date,
    hub_id: int | None = None,
    by_month: bool = True,
) -> list[ServiceStandard]:
    """The figures per hub and month from ``first_month`` to ``last_month`` (both included).

    With ``by_month=False``, one row per hub for the whole period (``month`` is ``first_month``):
    the median is then the median over all the period's cases, not a mean of monthly medians.
    """
    tz = ZoneInfo(settings.TIME_ZONE)
    first_month, last_month = month_start(first_month), month_start(last_month)
    start = dt.datetime.combine(first_month, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(add_months(last_month, 1), dt.time.min, tzinfo=tz)

    def bucket(column: str) -> str:
        if by_month:
            return f"date_trunc('month', {column} AT TIME ZONE %(tz)s)::date"
        return "%(first_month)s::date"

    sql = _SQL.format(
        bucket_case=bucket("c.created_at"),
        bucket_referral=bucket("r.completed_at"),
        bucket_feedback=bucket("f.created_at"),
        bucket_survey=bucket("f.at"),
        followup=CaseFollowUp._meta.db_table,
        answer=SurveyAnswer._meta.db_table,
        case=Case._meta.db_table,
        referral=Referral._meta.db_table,
        feedback=Feedback._meta.db_table,
        organisation=Organisation._meta.db_table,
    )
    params: dict[str, str | int | dt.date | dt.datetime | None] = {
        "tz": settings.TIME_ZONE,
        "today": today,
        "start": start,
        "end": end,
        "first_month": first_month,
        "hub": hub_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        ServiceStandard(
            hub_id=row[0],
            hub_name=row[1],
            month=row[2],
            received=row[3],
            responded=row[4],
            median_hours=float(row[5]) if row[5] is not None else None,
            within_promise=row[6],
            decided=row[7],
            referrals_completed=row[8],
            rating_mean=float(row[9]) if row[9] is not None else None,
            ratings=row[10],
            not_handled=row[11],
            surveys_sent=row[12],
            surveys_answered=row[13],
            contacted=row[14],
            usefulness_mean=float(row[15]) if row[15] is not None else None,
            came_to_something=row[16],
            additional=row[17],
            median_working_days=_median_working_days(row[18] or [], row[19] or []),
        )
        for row in rows
    ]


def _median_working_days(created: list[dt.datetime], answered: list[dt.datetime]) -> float | None:
    taken = [working_days_taken(start, end) for start, end in zip(created, answered, strict=True)]
    return float(statistics.median(taken)) if taken else None


@dataclass(frozen=True)
class OperatorSurvey(SurveyFigures):
    """The survey of the cases referred to one operator (declined referrals left out)."""

    operator_id: int
    operator_name: str
    surveys_sent: int
    surveys_answered: int
    contacted: int
    usefulness_mean: float | None
    came_to_something: int
    additional: int


_OPERATOR_SQL = """
WITH surveyed AS (
    SELECT f.case_id FROM {followup} f
    WHERE f.step = 'survey' AND f.at >= %(start)s AND f.at < %(end)s
), referred AS (
    SELECT DISTINCT r.operator_id, r.case_id
    FROM {referral} r JOIN surveyed s ON s.case_id = r.case_id
    WHERE r.operator_id IS NOT NULL AND r.status <> 'declined'
)
SELECT o.id, o.name, count(*), count(a.id), count(*) FILTER (WHERE a.contacted),
       avg(a.usefulness),
       count(*) FILTER (WHERE a.result IN ('found_support', 'started')),
       count(*) FILTER (WHERE a.additionality = 'no')
FROM referred x
JOIN {organisation} o ON o.id = x.operator_id
LEFT JOIN {answer} a ON a.case_id = x.case_id
GROUP BY o.id, o.name
ORDER BY o.name
"""


def operator_surveys(*, first_month: dt.date, last_month: dt.date) -> list[OperatorSurvey]:
    """The survey per operator that cases were referred to, for the surveys sent from
    ``first_month`` to ``last_month`` (both included); a case referred to two operators counts
    for both."""
    tz = ZoneInfo(settings.TIME_ZONE)
    start = dt.datetime.combine(month_start(first_month), dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(add_months(month_start(last_month), 1), dt.time.min, tzinfo=tz)
    sql = _OPERATOR_SQL.format(
        followup=CaseFollowUp._meta.db_table,
        referral=Referral._meta.db_table,
        organisation=Organisation._meta.db_table,
        answer=SurveyAnswer._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"start": start, "end": end})
        rows = cursor.fetchall()
    return [
        OperatorSurvey(
            operator_id=row[0],
            operator_name=row[1],
            surveys_sent=row[2],
            surveys_answered=row[3],
            contacted=row[4],
            usefulness_mean=float(row[5]) if row[5] is not None else None,
            came_to_something=row[6],
            additional=row[7],
        )
        for row in rows
    ]
