"""No request falls through: the reminder ladder on Danish working days, and the survey.

The ladder, for an open case still without a first response: a call, a meeting or an e-mail to
the company (``crm.services.common.is_first_response``, the one definition, which the service
standards read through ``Case.first_responded_at`` too); taking
the case, an internal note or a referral is none, so none of them stops the ladder. Each step
happens once per case, writes its timeline entry, and is counted in working days
(``crm.workdays``) from the step before, so a job that was down for a week, or a backlog on the
first day, never runs the whole ladder in one morning:

1. ``nudge``, ``FOLLOWUP_NUDGE_WORKING_DAYS`` after the first-response date: an e-mail to the
   case's adviser or, for a case nobody has taken, to the hub's inbox (its queue); one e-mail per
   recipient listing that day's cases.
2. ``lead_alert``, ``FOLLOWUP_LEAD_WORKING_DAYS`` after the nudge: an e-mail to the hub's lead
   (``HubLead``; the hub's inbox when none is named), one per hub.
3. ``company_update``, ``FOLLOWUP_COMPANY_WORKING_DAYS`` after the alert: the company hears that
   it has not been forgotten, with a new expected date ``FOLLOWUP_NEW_PROMISE_WORKING_DAYS``
   ahead (also on its status page).
4. ``closed_not_handled``, ``FOLLOWUP_CLOSE_WORKING_DAYS`` after that (always after the new
   date): the case is closed with the outcome *not handled*, the company is told where else to
   find help, and the service standards count it.

Referrals the operator has not answered (still *proposed*, on an open case):
``REFERRAL_OPERATOR_REMINDER_WORKING_DAYS`` after the referral the operator is reminded (its
staff with the role "Operatør", or the organisation's contact address when it has none), and
``REFERRAL_ADVISER_REMINDER_WORKING_DAYS`` after that the adviser (the hub's inbox when nobody
has the case); one ``ReferralFollowUp`` row per step and referral, claimed like the ladder's.

An adviser away (``crm.models.Absence``) counts as no adviser: the e-mails about their cases go to
the hub's inbox, as for cases nobody has taken.

After the first response, an open case with no activity (no timeline entry by a person) for
``FOLLOWUP_STALE_WORKING_DAYS`` working days is chased: its adviser (or the hub's inbox) gets one
e-mail listing such cases, and the case a timeline entry; again after as many working days more if
it stays quiet (``stale``, one row per case whose day moves on).

The survey: ``SURVEY_AFTER_DAYS`` calendar days after a case closed (handled, not withdrawn), the
company gets a signed link (``crm.survey``) to four questions; ``SURVEY_REMINDER_DAYS`` later one
reminder if it has not answered, then nothing.

How a run stays idempotent and fast: each step selects its cases in SQL and claims them by
inserting their ``CaseFollowUp`` rows with ON CONFLICT DO NOTHING (closing claims by the
conditional UPDATE of the case), in batches of ``FOLLOWUP_BATCH`` per transaction, and writes the
timeline entries and the outbox rows of the claimed cases in that same transaction. A second run
finds nothing to claim; a failure rolls the claim back with the e-mails. The e-mails go through
the outbox in bulk (``notifications_queue_many``) and the sweep sends them, whether Redis and the
mail server are up or not.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import override

from core.time import COPENHAGEN
from crm import survey
from crm.hub_words import hub_text
from crm.models import (
    Case,
    CaseFollowUp,
    Contact,
    HubLead,
    Notification,
    Referral,
    ReferralFollowUp,
    SurveyAnswer,
    TimelineEntry,
)
from crm.outbox import (
    Mail,
    MergedMail,
    merge_field,
    notifications_queue_many,
    notifications_queue_merged,
)
from crm.services.absences import advisers_absent_on
from crm.workdays import latest_day_reached, working_days_after
from offers.hub_terms import HUB_TERM
from offers.models import Municipality, Organisation

Step = CaseFollowUp.Step

_TABLES = {
    "case": Case._meta.db_table,
    "timeline": TimelineEntry._meta.db_table,
    "followup": CaseFollowUp._meta.db_table,
    "contact": Contact._meta.db_table,
    "answer": SurveyAnswer._meta.db_table,
    "referral": Referral._meta.db_table,
    "referral_followup": ReferralFollowUp._meta.db_table,
}

# An open case nobody at the hub has acted on yet: the partial index crm_case_open_queue
# (first_responded_at NULLS FIRST, first_response_due, id WHERE status <> 'closed') finds them.
_FRAGMENTS = {
    "unanswered": "c.status <> 'closed' AND c.first_responded_at IS NULL",
    "not_done": "NOT EXISTS (SELECT 1 FROM {followup} f WHERE f.case_id = c.id "
    "AND f.step = %(step)s)",
    "after_previous": "EXISTS (SELECT 1 FROM {followup} p WHERE p.case_id = c.id "
    "AND p.step = %(previous)s AND p.day <= %(since)s)",
    # The company can be written to: an address, and not anonymised.
    "reachable": "JOIN {contact} ct ON ct.id = c.contact_id AND ct.email <> '' "
    "AND ct.anonymised_at IS NULL",
    # A referral the operator has not answered, on an open case, not yet reminded of at ``step``.
    "referral_unanswered": "r.status = 'proposed' AND NOT EXISTS (SELECT 1 "
    "FROM {referral_followup} f WHERE f.referral_id = r.id AND f.step = %(step)s) "
    "AND EXISTS (SELECT 1 FROM {case} c WHERE c.id = r.case_id AND c.status <> 'closed')",
}


@dataclass(frozen=True)
class _Ledger:
    """A table that records each step once per row it was taken for (its unique constraint)."""

    table: str
    key: str  # the column naming the row
    alias: str  # the row's alias in a ``select``
    constraint: str


_CASES = _Ledger(
    table="{followup}", key="case_id", alias="c", constraint="crm_casefollowup_unique_step"
)
_REFERRALS = _Ledger(
    table="{referral_followup}",
    key="referral_id",
    alias="r",
    constraint="crm_referralfollowup_unique_step",
)
_CLAIM = (
    "INSERT INTO {table} ({key}, step, day, at) SELECT s.id, %(step)s, %(day)s, %(now)s "
    "FROM ({select} ORDER BY {alias}.id LIMIT %(limit)s) s "
    "ON CONFLICT ON CONSTRAINT {constraint} {on_conflict} RETURNING {key}"
)


def _sql(template: str, **parts: str) -> str:
    """The statement with its fragments and table names filled in: all constants, no input."""
    fragments = {key: value.format(**_TABLES) for key, value in _FRAGMENTS.items()}
    return template.format(**_TABLES, **fragments, **parts)


def _claim(
    *,
    step: str,
    select: str,
    params: dict[str, Any],
    day: dt.date,
    now: dt.datetime,
    ledger: _Ledger = _CASES,
    again: str = "",
) -> list[int]:
    """Record ``step`` for at most a batch of the rows ``select`` finds; their ids, in order.

    ``select`` yields ids as ``c.id`` (cases) or ``r.id`` (referrals, ``ledger=_REFERRALS``); a
    row another run claimed first is skipped by the unique constraint, so whatever runs at the
    same time, each row gets each step once. With ``again`` (a condition on the recorded row) a
    row whose step is recorded is claimed once more where the condition holds, moved to ``day``.
    """
    on_conflict = (
        f"DO UPDATE SET day = EXCLUDED.day, at = EXCLUDED.at WHERE {again}"
        if again
        else "DO NOTHING"
    )
    sql = _sql(
        _CLAIM,
        table=ledger.table.format(**_TABLES),
        key=ledger.key,
        alias=ledger.alias,
        constraint=ledger.constraint,
        on_conflict=on_conflict.format(**_TABLES),
        select=_sql(select),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {**params, "step": step, "day": day, "now": now, "limit": settings.FOLLOWUP_BATCH},
        )
        return sorted(row[0] for row in cursor.fetchall())


@dataclass(frozen=True)
class _Company:
    name: str
    municipality: Municipality | None


@dataclass(frozen=True)
class _Contact:
    name: str
    # Empty when the company cannot be written to (no address, or anonymised).
    email: str


@dataclass(frozen=True)
class _CaseRow:
    """What the e-mails and entries of a step need of a case, read without building models: a
    step may touch tens of thousands of cases, and a model instance per case and relation was
    most of its time."""

    pk: int
    reference: str
    first_response_due: dt.date
    hub_id: int
    hub: Organisation
    adviser_id: int | None
    adviser: Any
    company: _Company
    contact: _Contact


def _cases(ids: list[int]) -> list[_CaseRow]:
    rows = list(
        Case.objects.filter(pk__in=ids)
        .order_by("first_response_due", "id")
        .values_list(
            "id",
            "reference",
            "first_response_due",
            "hub_id",
            "adviser_id",
            "company__name",
            "company__municipality_id",
            "contact__name",
            "contact__email",
            "contact__anonymised_at",
        )
    )
    hubs = Organisation.objects.in_bulk({row[3] for row in rows})
    advisers = get_user_model().objects.in_bulk({row[4] for row in rows if row[4]})
    municipalities = Municipality.objects.in_bulk({row[6] for row in rows if row[6]})
    return [
        _CaseRow(
            pk=pk,
            reference=reference,
            first_response_due=due,
            hub_id=hub_id,
            hub=hubs[hub_id],
            adviser_id=adviser_id,
            adviser=advisers.get(adviser_id) if adviser_id else None,
            company=_Company(name=company_name, municipality=municipalities.get(municipality_id)),
            contact=_Contact(name=contact_name, email="" if anonymised_at else email),
        )
        for (
            pk,
            reference,
            due,
            hub_id,
            adviser_id,
            company_name,
            municipality_id,
            contact_name,
            email,
            anonymised_at,
        ) in rows
    ]


# The two arrays have the same length, so unnest in the select list pairs them element by element.
_ENTRIES = (
    "INSERT INTO {timeline} (case_id, kind, action, actor_id, at, text, payload, is_public) "
    "SELECT unnest(%(ids)s::bigint[]), %(kind)s, %(action)s, NULL, %(at)s, %(text)s, "
    "unnest(%(payloads)s::jsonb[]), %(public)s"
)


def _insert_entries(
    entries: list[tuple[int, dict[str, Any]]],
    *,
    kind: str,
    action: str,
    text: str,
    now: dt.datetime,
    is_public: bool,
) -> None:
    """A timeline entry with the same text on each case, with its payload: ``(case_id, payload)``
    pairs, all in one statement."""
    if not entries:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            _sql(_ENTRIES),
            {
                "ids": [case_id for case_id, _payload in entries],
                "kind": kind,
                "action": action,
                "at": now,
                "text": text,
                "payloads": [json.dumps(payload) for _case_id, payload in entries],
                "public": is_public,
            },
        )


def _entries(
    cases: list[_CaseRow],
    *,
    kind: str,
    action: str,
    text: str,
    now: dt.datetime,
    is_public: bool = False,
    payload: dict[str, Any] | None = None,
) -> None:
    """The same timeline entry on each case, in one statement."""
    _insert_entries(
        [(case.pk, payload or {}) for case in cases],
        kind=kind,
        action=action,
        text=text,
        now=now,
        is_public=is_public,
    )


def _company_address(case: _CaseRow) -> str:
    return case.contact.email


def _company_mails(
    cases: list[_CaseRow],
    *,
    kind: str,
    template: str,
    step: str,
    group_by: Callable[[_CaseRow], Hashable],
    context: Callable[[_CaseRow], dict[str, Any]],
    fields: Callable[[_CaseRow], dict[str, str]] | None = None,
) -> None:
    """One e-mail per company that can be written to, rendered once per group of cases whose
    e-mails differ only in the name, the reference (and ``fields``): ``group_by`` must cover
    everything else the template uses (``notifications_queue_merged``)."""
    groups: dict[Hashable, list[_CaseRow]] = defaultdict(list)
    for case in cases:
        if _company_address(case):
            groups[group_by(case)].append(case)
    for group in groups.values():
        notifications_queue_merged(
            kind=kind,
            template=template,
            context={
                "case": {"reference": merge_field("reference")},
                "contact": {"name": merge_field("name")},
                **context(group[0]),
            },
            mails=[
                MergedMail(
                    recipient=_company_address(case),
                    fields={
                        "reference": case.reference,
                        "name": case.contact.name,
                        **(fields(case) if fields else {}),
                    },
                    case_id=case.pk,
                    dedupe_key=f"followup:{step}:{case.pk}",
                )
                for case in group
            ],
        )


def _run_step(handle: Callable[[], int]) -> int:
    """Run one step batch after batch, each in its own transaction, until nothing is left."""
    total = 0
    while True:
        with transaction.atomic():
            done = handle()
        if not done:
            return total
        total += done


# --- The ladder --------------------------------------------------------------------------------


def _nudge_batch(*, today: dt.date, now: dt.datetime) -> int:
    since = latest_day_reached(today, settings.FOLLOWUP_NUDGE_WORKING_DAYS)
    select = (
        "SELECT c.id FROM {case} c WHERE {unanswered} AND c.first_response_due <= %(since)s "
        "AND {not_done}"
    )
    ids = _claim(step=Step.NUDGE, select=select, params={"since": since}, day=today, now=now)
    if not ids:
        return 0
    _remind_adviser_or_hub(
        ids,
        today=today,
        now=now,
        action="crm.followup.nudge",
        text=_("Fristen for første svar er overskredet. Påmindelse sendt til %(to)s."),
        kind=Notification.Kind.FOLLOWUP_NUDGE,
        template="followup_nudge",
        context={"day": today},
        dedupe_key="followup:nudge",
    )
    return len(ids)


def _mail_each_recipient(
    by_recipient: dict[str, list[Any]],
    *,
    kind: str,
    template: str,
    rows: str,
    context: dict[str, Any],
    dedupe_key: str,
) -> None:
    """Queue one e-mail per recipient, about its rows (in the template as ``rows``); the e-mail's
    dedupe key is ``dedupe_key`` and the first row's id."""
    notifications_queue_many(
        Mail(
            kind=kind,
            recipient=recipient,
            template=template,
            context={rows: group, **context, "site_url": settings.SITE_URL},
            dedupe_key=f"{dedupe_key}:{group[0].pk}",
        )
        for recipient, group in by_recipient.items()
    )


def _by_recipient(
    cases: list[_CaseRow], *, today: dt.date
) -> tuple[dict[str, list[_CaseRow]], dict[bool, list[_CaseRow]]]:
    """The cases by who hears of them: the adviser, or the hub's inbox (its queue) for a case
    nobody has taken or whose adviser is inactive, without an address or away today; and by
    whether that is the adviser."""
    away = advisers_absent_on((case.adviser_id for case in cases), today)
    by_recipient: dict[str, list[_CaseRow]] = defaultdict(list)
    by_whom: dict[bool, list[_CaseRow]] = defaultdict(list)
    for case in cases:
        adviser = case.adviser
        to_adviser = bool(
            adviser is not None
            and adviser.is_active
            and adviser.email
            and case.adviser_id not in away
        )
        by_recipient[adviser.email if to_adviser else case.hub.inbox_email].append(case)
        by_whom[to_adviser].append(case)
    return by_recipient, by_whom


def _remind_adviser_or_hub(
    ids: list[int],
    *,
    today: dt.date,
    now: dt.datetime,
    action: str,
    text: str,
    kind: str,
    template: str,
    context: dict[str, Any],
    dedupe_key: str,
    text_args: dict[str, Any] | None = None,
) -> None:
    """The reminder of the claimed cases: a timeline entry on each naming who heard of it
    (``text`` with ``%(to)s``), and one e-mail to each adviser or hub inbox about its cases."""
    cases = _cases(ids)
    by_recipient, by_whom = _by_recipient(cases, today=today)
    for to_adviser, group in by_whom.items():
        _entries(
            group,
            kind=TimelineEntry.Kind.REMINDER,
            action=action,
            text=text
            % {
                **(text_args or {}),
                "to": _("rådgiveren") if to_adviser else hub_text(_("%(the_hub)ss indbakke")),
            },
            payload={"to": "adviser" if to_adviser else "hub"},
            now=now,
        )
    _mail_each_recipient(
        by_recipient,
        kind=kind,
        template=template,
        rows="cases",
        context=context,
        dedupe_key=dedupe_key,
    )


def _claim_next(
    *, step: str, previous: str, working_days: int, today: dt.date, now: dt.datetime
) -> list[int]:
    """Claim ``step`` for the unanswered cases whose ``previous`` step is ``working_days`` old."""
    return _claim(
        step=step,
        select="SELECT c.id FROM {case} c WHERE {unanswered} AND {after_previous} AND {not_done}",
        params={"previous": previous, "since": latest_day_reached(today, working_days)},
        day=today,
        now=now,
    )


def _lead_batch(*, today: dt.date, now: dt.datetime) -> int:
    ids = _claim_next(
        step=Step.LEAD_ALERT,
        previous=Step.NUDGE,
        working_days=settings.FOLLOWUP_LEAD_WORKING_DAYS,
        today=today,
        now=now,
    )
    if not ids:
        return 0
    cases = _cases(ids)
    by_hub: dict[int, list[_CaseRow]] = defaultdict(list)
    for case in cases:
        by_hub[case.hub_id].append(case)
    leads = {
        row.hub_id: row.lead
        for row in HubLead.objects.filter(hub_id__in=by_hub).select_related("lead")
    }
    mails = []
    for hub_id, group in by_hub.items():
        lead = leads.get(hub_id)
        recipient = lead.email if lead is not None and lead.is_active and lead.email else ""
        _entries(
            group,
            kind=TimelineEntry.Kind.REMINDER,
            action="crm.followup.lead_alert",
            text=hub_text(
                _("Sagen har stadig ikke fået første svar. %(the_hub)ss leder er orienteret.")
            ),
            payload={"to": "lead" if recipient else "hub"},
            now=now,
        )
        mails.append(
            Mail(
                kind=Notification.Kind.FOLLOWUP_LEAD,
                recipient=recipient or group[0].hub.inbox_email,
                template="followup_lead",
                context={
                    "hub": group[0].hub,
                    "cases": group,
                    "day": today,
                    "close_days": settings.FOLLOWUP_COMPANY_WORKING_DAYS
                    + settings.FOLLOWUP_CLOSE_WORKING_DAYS,
                    "site_url": settings.SITE_URL,
                },
                dedupe_key=f"followup:lead:{group[0].pk}",
            )
        )
    notifications_queue_many(mails)
    return len(ids)


def _company_batch(*, today: dt.date, now: dt.datetime) -> int:
    ids = _claim_next(
        step=Step.COMPANY_UPDATE,
        previous=Step.LEAD_ALERT,
        working_days=settings.FOLLOWUP_COMPANY_WORKING_DAYS,
        today=today,
        now=now,
    )
    if not ids:
        return 0
    cases = _cases(ids)
    expected = working_days_after(today, settings.FOLLOWUP_NEW_PROMISE_WORKING_DAYS)
    with override("da"):
        text = _(
            "Vi beklager, at du endnu ikke har hørt fra os. Vi har ikke glemt din henvendelse, "
            "og du kan forvente svar senest %(date)s."
        ) % {"date": _long_date(expected)}
    _entries(
        cases,
        kind=TimelineEntry.Kind.REMINDER,
        action="crm.followup.company_update",
        text=text,
        payload={"expected_by": expected.isoformat()},
        is_public=True,
        now=now,
    )
    _company_mails(
        cases,
        kind=Notification.Kind.FOLLOWUP_COMPANY,
        template="followup_company",
        step="company",
        group_by=lambda case: case.hub_id,
        context=lambda case: {"hub": case.hub, "expected_by": expected},
    )
    return len(ids)


def _close_batch(*, today: dt.date, now: dt.datetime) -> int:
    since = latest_day_reached(today, settings.FOLLOWUP_CLOSE_WORKING_DAYS)
    # Claimed by closing: the conditional UPDATE takes only cases still open and unanswered,
    # skipping any an adviser holds locked this moment (they are about to act on it).
    sql = _sql(
        "WITH due AS ("
        "  SELECT c.id FROM {case} c WHERE {unanswered} AND {after_previous}"
        "  ORDER BY c.id LIMIT %(limit)s FOR UPDATE SKIP LOCKED"
        ") UPDATE {case} SET status = 'closed', outcome = %(outcome)s, closed_at = %(now)s "
        "FROM due WHERE {case}.id = due.id AND {case}.status <> 'closed' RETURNING {case}.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "previous": Step.COMPANY_UPDATE,
                "since": since,
                "limit": settings.FOLLOWUP_BATCH,
                "outcome": Case.Outcome.NOT_HANDLED,
                "now": now,
            },
        )
        ids = sorted(row[0] for row in cursor.fetchall())
    if not ids:
        return 0
    CaseFollowUp.objects.bulk_create(
        [CaseFollowUp(case_id=pk, step=Step.CLOSED_NOT_HANDLED, day=today, at=now) for pk in ids],
        batch_size=1000,
    )
    cases = _cases(ids)
    with override("da"):
        text = _("Sagen er lukket, fordi %(hub)s ikke nåede at svare. Vi beklager.") % {
            "hub": HUB_TERM.the
        }
    _entries(
        cases,
        kind=TimelineEntry.Kind.CLOSED,
        action="crm.case.closed",
        text=text,
        payload={"outcome": Case.Outcome.NOT_HANDLED, "by": "followup"},
        is_public=True,
        now=now,
    )
    _company_mails(
        cases,
        kind=Notification.Kind.CASE_NOT_HANDLED,
        template="case_not_handled",
        step="closed",
        group_by=lambda case: (case.hub_id, case.company.municipality),
        context=lambda case: {
            "hub": case.hub,
            "company": case.company,
            "site_url": settings.SITE_URL,
        },
    )
    return len(ids)


# --- Answered, then quiet ----------------------------------------------------------------------


def _stale_batch(*, today: dt.date, now: dt.datetime, position: dict[str, int]) -> int:
    """One batch of quiet cases, in case id order from ``position["after_id"]`` on (moved past
    the batch): each batch reads on from where the last stopped instead of from the start."""
    since = latest_day_reached(today, settings.FOLLOWUP_STALE_WORKING_DAYS)
    # Quiet since: nothing a person did on the case (an entry with an actor) after ``since``.
    after = dt.datetime.combine(since + dt.timedelta(days=1), dt.time(0), tzinfo=COPENHAGEN)
    select = (
        "SELECT c.id FROM {case} c WHERE c.id > %(after_id)s AND c.status <> 'closed' "
        "AND c.first_responded_at IS NOT NULL AND c.first_responded_at < %(after)s "
        # t.case_id > after_id repeats c.id's bound for the planner, which does not carry it over
        # the join: the scan of the timeline starts at the batch too.
        "AND NOT EXISTS (SELECT 1 FROM {timeline} t WHERE t.case_id = c.id "
        "AND t.case_id > %(after_id)s AND t.at >= %(after)s AND t.actor_id IS NOT NULL) "
        "AND NOT EXISTS (SELECT 1 FROM {followup} f WHERE f.case_id = c.id "
        "AND f.step = %(step)s AND f.day > %(since)s)"
    )
    # Claimed by moving the case's one ``stale`` row to today: a case chased today is not chased
    # again until it has been quiet for the working days once more, and a run twice on a day
    # finds nothing.
    ids = _claim(
        step=Step.STALE,
        select=select,
        params={"after": after, "after_id": position.get("after_id", 0), "since": since},
        day=today,
        now=now,
        again="{followup}.day < EXCLUDED.day",
    )
    if not ids:
        return 0
    position["after_id"] = ids[-1]
    _remind_adviser_or_hub(
        ids,
        today=today,
        now=now,
        action="crm.followup.stale",
        text=_(
            "Der er ikke sket noget på sagen i %(days)s arbejdsdage. Påmindelse sendt til %(to)s."
        ),
        text_args={"days": settings.FOLLOWUP_STALE_WORKING_DAYS},
        kind=Notification.Kind.FOLLOWUP_STALE,
        template="followup_stale",
        context={"day": today, "days": settings.FOLLOWUP_STALE_WORKING_DAYS},
        dedupe_key=f"followup:stale:{today.isoformat()}",
    )
    return len(ids)


def stale_cases_run(*, now: dt.datetime) -> dict[str, int]:
    """Chase the answered cases gone quiet; the count."""
    today = now.astimezone(COPENHAGEN).date()
    with override("da"):
        position: dict[str, int] = {}
        return {
            Step.STALE: _run_step(lambda: _stale_batch(today=today, now=now, position=position))
        }


def followup_ladder_run(*, now: dt.datetime) -> dict[str, int]:
    """Take every case that is due a step of the ladder one step further; counts per step."""
    today = now.astimezone(COPENHAGEN).date()
    with override("da"):
        return {
            Step.NUDGE: _run_step(lambda: _nudge_batch(today=today, now=now)),
            Step.LEAD_ALERT: _run_step(lambda: _lead_batch(today=today, now=now)),
            Step.COMPANY_UPDATE: _run_step(lambda: _company_batch(today=today, now=now)),
            Step.CLOSED_NOT_HANDLED: _run_step(lambda: _close_batch(today=today, now=now)),
        }


def expected_response_by(case: Case) -> dt.date:
    """The date the company was last promised an answer by: the first-response date, or the new
    date the "we have not forgotten you" e-mail gave (shown as "svar senest" on its page)."""
    promised = (
        TimelineEntry.objects.filter(case_id=case.pk, action="crm.followup.company_update")
        .order_by("-at", "-id")
        .values_list("payload", flat=True)
        .first()
    )
    if isinstance(promised, dict) and promised.get("expected_by"):
        try:
            return max(case.first_response_due, dt.date.fromisoformat(promised["expected_by"]))
        except (TypeError, ValueError):
            pass
    return case.first_response_due


# --- The survey --------------------------------------------------------------------------------

#: Closed cases that get no survey: nobody handled them, or the company withdrew.
NOT_SURVEYED = (Case.Outcome.NOT_HANDLED, Case.Outcome.WITHDRAWN)


def _survey_mails(cases: list[_CaseRow], *, step: str, template: str, kind: str) -> None:
    _company_mails(
        cases,
        kind=kind,
        template=template,
        step=step,
        group_by=lambda case: case.hub_id,
        context=lambda case: {
            "hub": case.hub,
            "survey_url": merge_field("survey_url"),
            "valid_days": settings.SURVEY_LINK_DAYS,
        },
        fields=lambda case: {"survey_url": survey.survey_url(case.pk)},
    )


def _survey_batch(*, today: dt.date, now: dt.datetime) -> int:
    select = (
        "SELECT c.id FROM {case} c {reachable} WHERE c.status = 'closed' "
        "AND c.closed_at <= %(latest)s AND c.closed_at > %(earliest)s "
        "AND c.outcome <> ALL(%(skip)s) AND {not_done}"
    )
    after = dt.timedelta(days=settings.SURVEY_AFTER_DAYS)
    params = {
        "latest": now - after,
        "earliest": now - after - dt.timedelta(days=settings.SURVEY_LATEST_DAYS),
        "skip": [str(outcome) for outcome in NOT_SURVEYED],
    }
    ids = _claim(step=Step.SURVEY, select=select, params=params, day=today, now=now)
    if not ids:
        return 0
    cases = _cases(ids)
    with override("da"):
        text = _("Virksomheden har fået et spørgeskema om forløbet.")
    _entries(cases, kind=TimelineEntry.Kind.SURVEY, action="crm.survey.sent", text=text, now=now)
    _survey_mails(cases, step=Step.SURVEY, template="survey", kind=Notification.Kind.SURVEY)
    return len(ids)


def _survey_reminder_batch(*, today: dt.date, now: dt.datetime) -> int:
    # Driven by the survey rows of a bounded window of days (index crm_casefollowup_step_day).
    select = (
        "SELECT c.id FROM {followup} p JOIN {case} c ON c.id = p.case_id {reachable} "
        "WHERE p.step = %(previous)s AND p.day <= %(since)s AND p.day > %(earliest)s "
        "AND NOT EXISTS (SELECT 1 FROM {answer} a WHERE a.case_id = c.id) "
        "AND {not_done}"
    )
    since = today - dt.timedelta(days=settings.SURVEY_REMINDER_DAYS)
    params = {
        "previous": Step.SURVEY,
        "since": since,
        "earliest": since - dt.timedelta(days=settings.SURVEY_LATEST_DAYS),
    }
    ids = _claim(step=Step.SURVEY_REMINDER, select=select, params=params, day=today, now=now)
    if not ids:
        return 0
    cases = _cases(ids)
    with override("da"):
        text = _("Virksomheden har fået en påmindelse om spørgeskemaet.")
    _entries(
        cases, kind=TimelineEntry.Kind.SURVEY, action="crm.survey.reminded", text=text, now=now
    )
    _survey_mails(
        cases,
        step=Step.SURVEY_REMINDER,
        template="survey_reminder",
        kind=Notification.Kind.SURVEY_REMINDER,
    )
    return len(ids)


def surveys_run(*, now: dt.datetime) -> dict[str, int]:
    """Send the surveys and the one reminder that are due; counts per step."""
    today = now.astimezone(COPENHAGEN).date()
    with override("da"):
        return {
            Step.SURVEY: _run_step(lambda: _survey_batch(today=today, now=now)),
            Step.SURVEY_REMINDER: _run_step(lambda: _survey_reminder_batch(today=today, now=now)),
        }


# --- Referrals without the operator's answer -------------------------------------------------


@dataclass(frozen=True)
class _ReferralRow:
    pk: int
    case_id: int
    reference: str
    company: str
    operator_id: int | None
    operator: str
    hub: Organisation
    adviser: Any
    day: dt.date


def _referrals(ids: list[int]) -> list[_ReferralRow]:
    rows = list(
        Referral.objects.filter(pk__in=ids)
        .order_by("created_at", "id")
        .values_list(
            "id",
            "case_id",
            "case__reference",
            "case__company__name",
            "operator_id",
            "offer__operator_id",
            "case__hub_id",
            "case__adviser_id",
            "created_at",
        )
    )
    operator_ids = {row[4] or row[5] for row in rows}
    organisations = Organisation.objects.in_bulk(operator_ids | {row[6] for row in rows})
    advisers = get_user_model().objects.in_bulk({row[7] for row in rows if row[7]})
    found = []
    for (
        pk,
        case_id,
        reference,
        company,
        operator_id,
        offer_operator_id,
        hub_id,
        adviser_id,
        at,
    ) in rows:
        operator_id = operator_id or offer_operator_id
        operator = organisations.get(operator_id) if operator_id else None
        found.append(
            _ReferralRow(
                pk=pk,
                case_id=case_id,
                reference=reference,
                company=company,
                operator_id=operator_id,
                operator=operator.name if operator is not None else "",
                hub=organisations[hub_id],
                adviser=advisers.get(adviser_id) if adviser_id else None,
                day=at.astimezone(COPENHAGEN).date(),
            )
        )
    return found


def _referral_entries(
    referrals: list[_ReferralRow], *, action: str, text: str, to: str, now: dt.datetime
) -> None:
    """One timeline entry on each referral's case, naming the referral, in one statement."""
    _insert_entries(
        [(referral.case_id, {"referral": referral.pk, "to": to}) for referral in referrals],
        kind=TimelineEntry.Kind.REMINDER,
        action=action,
        text=text,
        now=now,
        is_public=False,
    )


def _operator_recipients(operator_ids: set[int]) -> dict[int, list[tuple[str, str]]]:
    """Per operator: (key, address) of its active staff with the role "Operatør" and an address,
    or its contact address when it has none."""
    from accounts.models import User

    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    staff = (
        User.objects.filter(
            organisation_id__in=operator_ids, is_active=True, groups__name=User.Role.OPERATOR
        )
        .exclude(email="")
        .order_by("pk")
        .values_list("organisation_id", "pk", "email")
    )
    for organisation_id, pk, email in staff:
        found[organisation_id].append((f"user{pk}", email))
    for organisation in Organisation.objects.filter(pk__in=operator_ids - set(found)):
        if organisation.contact_email:
            found[organisation.pk].append(("org", organisation.contact_email))
    return found


def _referral_operator_batch(*, today: dt.date, now: dt.datetime) -> int:
    since = latest_day_reached(today, settings.REFERRAL_OPERATOR_REMINDER_WORKING_DAYS)
    # Referred on ``since`` or before, in Danish time (the partial index crm_referral_unanswered).
    before = dt.datetime.combine(since + dt.timedelta(days=1), dt.time(), tzinfo=COPENHAGEN)
    ids = _claim(
        step=ReferralFollowUp.Step.OPERATOR,
        select=(
            "SELECT r.id FROM {referral} r WHERE r.created_at < %(before)s "
            "AND {referral_unanswered}"
        ),
        params={"before": before},
        day=today,
        now=now,
        ledger=_REFERRALS,
    )
    if not ids:
        return 0
    referrals = _referrals(ids)
    by_operator: dict[int | None, list[_ReferralRow]] = defaultdict(list)
    for referral in referrals:
        by_operator[referral.operator_id].append(referral)
    recipients = _operator_recipients({key for key in by_operator if key is not None})
    mails = []
    reached: list[_ReferralRow] = []
    unreached: list[_ReferralRow] = []
    for operator_id, group in by_operator.items():
        addresses = recipients.get(operator_id, []) if operator_id is not None else []
        (reached if addresses else unreached).extend(group)
        organisation = Organisation(pk=operator_id, name=group[0].operator)
        for key, address in addresses:
            mails.append(
                Mail(
                    kind=Notification.Kind.REFERRAL_OPERATOR_REMINDER,
                    recipient=address,
                    template="referral_operator_reminder",
                    context={
                        "operator": organisation,
                        "referrals": group,
                        "site_url": settings.SITE_URL,
                    },
                    dedupe_key=f"referral:operator:{group[0].pk}:{key}",
                )
            )
    _referral_entries(
        reached,
        action="crm.referral.operator_reminded",
        text=_("Operatøren har ikke svaret på henvisningen og har fået en påmindelse."),
        to="operator",
        now=now,
    )
    _referral_entries(
        unreached,
        action="crm.referral.operator_reminded",
        text=_(
            "Operatøren har ikke svaret på henvisningen, men har ingen adresse, "
            "en påmindelse kan sendes til."
        ),
        to="none",
        now=now,
    )
    notifications_queue_many(mails)
    return len(ids)


def _referral_adviser_batch(*, today: dt.date, now: dt.datetime) -> int:
    since = latest_day_reached(today, settings.REFERRAL_ADVISER_REMINDER_WORKING_DAYS)
    ids = _claim(
        step=ReferralFollowUp.Step.ADVISER,
        select=(
            "SELECT r.id FROM {referral_followup} p JOIN {referral} r ON r.id = p.referral_id "
            "WHERE p.step = %(previous)s AND p.day <= %(since)s AND {referral_unanswered}"
        ),
        params={"previous": ReferralFollowUp.Step.OPERATOR, "since": since},
        day=today,
        now=now,
        ledger=_REFERRALS,
    )
    if not ids:
        return 0
    referrals = _referrals(ids)
    by_recipient: dict[str, list[_ReferralRow]] = defaultdict(list)
    by_whom: dict[bool, list[_ReferralRow]] = defaultdict(list)
    for referral in referrals:
        adviser = referral.adviser
        to_adviser = bool(adviser is not None and adviser.is_active and adviser.email)
        recipient = adviser.email if to_adviser else referral.hub.inbox_email
        if recipient:
            by_recipient[recipient].append(referral)
        by_whom[to_adviser].append(referral)
    for to_adviser, group in by_whom.items():
        _referral_entries(
            group,
            action="crm.referral.adviser_reminded",
            text=_("Operatøren har stadig ikke svaret på henvisningen. %(to)s har fået besked.")
            % {"to": _("Rådgiveren") if to_adviser else hub_text(_("%(the_hub)ss indbakke"))},
            to="adviser" if to_adviser else "hub",
            now=now,
        )
    _mail_each_recipient(
        by_recipient,
        kind=Notification.Kind.REFERRAL_ADVISER_REMINDER,
        template="referral_adviser_reminder",
        rows="referrals",
        context={},
        dedupe_key="referral:adviser",
    )
    return len(ids)


def referrals_follow_up(*, now: dt.datetime) -> dict[str, int]:
    """Remind operators, then advisers, of referrals the operator has not answered; counts."""
    today = now.astimezone(COPENHAGEN).date()
    with override("da"):
        return {
            "referral_operator": _run_step(lambda: _referral_operator_batch(today=today, now=now)),
            "referral_adviser": _run_step(lambda: _referral_adviser_batch(today=today, now=now)),
        }


def followup_run(*, now: dt.datetime) -> dict[str, int]:
    """The daily follow-up job: the ladder, the quiet cases, the referrals without an answer,
    then the surveys."""
    return {
        **followup_ladder_run(now=now),
        **stale_cases_run(now=now),
        **referrals_follow_up(now=now),
        **surveys_run(now=now),
    }


def _long_date(day: dt.date) -> str:
    from django.utils.formats import date_format

    return date_format(day, "j. F Y")
