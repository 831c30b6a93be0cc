"""Quarterly reports for each hub, each operator organisation and the ministry: building and
sending them (the figures and their rules: ``governance.quarterly``).

``quarterly_reports_build(quarter=…)`` reads the CRM once for the quarter, the previous quarter
and the same quarter last year, and stores one ``QuarterlyReport`` per scope (XLSX and CSV).
``quarterly_reports_send(today=…)`` runs every morning (beat); on the first Danish working day
of a quarter it builds the reports of the quarter that ended and e-mails each recipient a link
to the report in the admin. The e-mail carries no figures and no file: the link leads to a
download that needs the recipient's login and is scoped to their organisation, so a forwarded
e-mail shows nothing. Recipients: the active users of the report's organisation who may view
quarterly reports and have an address (for the national report, the users of
``QUARTERLY_REPORT_MINISTRY``). Both steps can run again: a report is rebuilt in place, and each
e-mail has a dedupe key, so nobody gets the same quarter twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.time import COPENHAGEN
from crm import outbox
from crm.models import Case, Referral, SurveyAnswer
from crm.workdays import is_working_day
from governance import quarterly
from governance.figures import figure
from governance.models import GovernanceMail, QuarterlyReport
from governance.quarterly import (
    HUB,
    MINISTRY,
    OPERATOR,
    CaseFact,
    Facts,
    Figures,
    Quarter,
    ReferralFact,
    Scope,
    SurveyFact,
    Vocabulary,
)
from governance.quarterly_files import to_csv, to_xlsx
from offers.hub_terms import HUB_TERM
from offers.models import Municipality, Organisation, Theme

logger = logging.getLogger(__name__)

_CAME_TO_SOMETHING = (SurveyAnswer.Result.FOUND_SUPPORT, SurveyAnswer.Result.STARTED)


def _day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(COPENHAGEN).date()


def _start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=COPENHAGEN)


def load_facts(*, quarter: Quarter, today: dt.date) -> Facts:
    """The cases, referrals and survey answers the report of ``quarter`` needs, as plain rows."""
    since, until = _start(quarter.last_year.start), _start(quarter.end)
    operators_of: dict[int, set[int]] = defaultdict(set)
    referrals: list[ReferralFact] = []
    for case_id, hub, operator, offer_operator, status, created in (
        Referral.objects.filter(
            # Referrals made in the periods, and every referral of a case or survey answer in
            # them (which operators the case concerns).
            Q(created_at__gte=since, created_at__lt=until)
            | Q(case__created_at__gte=since, case__created_at__lt=until)
            | Q(
                case__survey_answer__answered_at__gte=since,
                case__survey_answer__answered_at__lt=until,
            )
        )
        .values_list(
            "case_id",
            "case__hub_id",
            "operator_id",
            "offer__operator_id",
            "status",
            "created_at",
        )
        .iterator(chunk_size=5000)
    ):
        organisation = operator or offer_operator
        if organisation:
            operators_of[case_id].add(organisation)
        if since <= created < until:
            referrals.append(ReferralFact(hub, organisation, status, _day(created)))

    themes: dict[int, list[str]] = defaultdict(list)
    cases = Case.objects.filter(created_at__gte=since, created_at__lt=until)
    for case_id, slug in Case.themes.through.objects.filter(case__in=cases).values_list(
        "case_id", "theme__slug"
    ):
        themes[case_id].append(slug)
    case_facts = []
    for case_id, hub, source, municipality, created, responded, due in cases.values_list(
        "id",
        "hub_id",
        "source",
        "company__municipality__code",
        "created_at",
        "first_responded_at",
        "first_response_due",
    ).iterator(chunk_size=5000):
        if responded is not None:
            within: bool | None = _day(responded) <= due
        else:
            within = False if today > due else None
        case_facts.append(
            CaseFact(
                hub=hub,
                source=source,
                municipality=municipality,
                themes=tuple(sorted(themes.get(case_id, ()))),
                created=_day(created),
                response_hours=(responded - created).total_seconds() / 3600
                if responded is not None
                else None,
                within_promise=within,
                operators=frozenset(operators_of.get(case_id, ())),
            )
        )
    surveys = [
        SurveyFact(
            hub=hub,
            operators=frozenset(operators_of.get(case_id, ())),
            usefulness=usefulness,
            came_to_something=result in _CAME_TO_SOMETHING,
            answered=_day(answered),
        )
        for case_id, hub, usefulness, result, answered in SurveyAnswer.objects.filter(
            answered_at__gte=since, answered_at__lt=until
        ).values_list("case_id", "case__hub_id", "usefulness", "result", "answered_at")
    ]
    return Facts(cases=case_facts, referrals=referrals, surveys=surveys)


def vocabulary() -> Vocabulary:
    return Vocabulary(
        sources=[(value, str(label)) for value, label in Case.Source.choices],
        themes=list(Theme.objects.order_by("position", "slug").values_list("slug", "name")),
        municipalities=[(m.code, str(m)) for m in Municipality.objects.order_by("code")],
        referral_statuses=[(value, str(label)) for value, label in Referral.Status.choices],
    )


def _labels(words: Vocabulary) -> dict[tuple[str, str], str]:
    labels: dict[tuple[str, str], str] = {
        # Cases, as governance.figures names them: "Henvendelser" are the portal's requests.
        ("requests", "total"): str(figure("cases_received").name),
        ("municipality", quarterly.UNKNOWN): _("Sager fra ukendt kommune"),
        ("response", "responded"): _("Sager med første svar"),
        ("response", "median_hours"): _("Tid til første svar, median (timer)"),
        ("response", "within_promise_percent"): f"{figure('cases_within_promise').name} (%)",
        ("referrals", "total"): _("Henvisninger i alt"),
        ("satisfaction", "answers"): _("Svar på spørgeskemaet"),
        ("satisfaction", "mean_usefulness"): _("Udbytte, gennemsnit (1–5)"),
        ("satisfaction", "came_to_something_percent"): _(
            "Har fundet hjælp eller sat noget i gang (%)"
        ),
    }
    for key, label in words.sources:
        labels[("source", key)] = _("Sager fra kilden: %(source)s") % {"source": label}
    for key, label in words.themes:
        labels[("theme", key)] = _("Sager om temaet: %(theme)s") % {"theme": label}
    for code, label in words.municipalities:
        labels[("municipality", str(code))] = _("Sager fra %(place)s") % {"place": label}
    for key, label in words.referral_statuses:
        labels[("referral_status", key)] = _("Henvisninger med status: %(status)s") % {
            "status": label
        }
    return labels


def _scopes(facts: Facts) -> list[tuple[Scope, Organisation | None]]:
    hubs = list(Organisation.objects.hubs().order_by("slug"))
    operator_ids = {r.operator for r in facts.referrals if r.operator}
    operator_ids |= {o for c in facts.cases for o in c.operators}
    operators = list(Organisation.objects.filter(pk__in=operator_ids).order_by("slug"))
    ministry = Organisation.objects.filter(slug=settings.QUARTERLY_REPORT_MINISTRY).first()
    return [
        *((Scope(HUB, hub.pk), hub) for hub in hubs),
        *((Scope(OPERATOR, org.pk), org) for org in operators),
        (Scope(MINISTRY, ministry.pk if ministry else None), ministry),
    ]


def quarterly_reports_build(
    *, quarter: Quarter, today: dt.date, min_count: int | None = None
) -> list[QuarterlyReport]:
    """Build (or rebuild) the reports of ``quarter`` for every scope; return them."""
    if quarter.end > today:
        raise ValueError(f"{quarter} has not ended on {today}")
    k = min_count if min_count is not None else settings.REPORT_MIN_COUNT
    facts = load_facts(quarter=quarter, today=today)
    with translation.override("da"):
        words = vocabulary()
        labels = _labels(words)
        scopes = _scopes(facts)
        peer_figures: dict[Scope, Figures] = {
            scope: quarterly.figures(scope, quarter, facts, words) for scope, _org in scopes
        }
        hubs = {s: f for s, f in peer_figures.items() if s.kind == HUB}
        operators = {s: f for s, f in peer_figures.items() if s.kind == OPERATOR}
        headers = [
            _("Afsnit"),
            _("Nøgle"),
            _("Tal"),
            quarter.danish,
            quarter.previous.danish,
            quarter.last_year.danish,
            _("Landsmedian %(quarter)s") % {"quarter": quarter.danish},
            _("Ændring fra forrige kvartal"),
            _("Ændring fra samme kvartal sidste år"),
        ]
        reports = []
        with transaction.atomic():
            for scope, organisation in scopes:
                rows = quarterly.report_rows(
                    scope=scope,
                    quarter=quarter,
                    facts=facts,
                    vocabulary=words,
                    peers=operators if scope.kind == OPERATOR else hubs,
                    labels=labels,
                    min_count=k,
                )
                name = organisation.name if organisation else _("Hele landet")
                title = _("Kvartalsrapport %(quarter)s: %(name)s") % {
                    "quarter": quarter.danish,
                    "name": name if scope.kind != MINISTRY else _("hele landet"),
                }
                notes = [
                    _(
                        "Dannet %(day)s. Tal under %(k)s vises ikke (..), heller ikke når de "
                        "kan regnes ud af andre tal."
                    )
                    % {"day": today.isoformat(), "k": k},
                    _(
                        "Landsmedianen er medianen over alle %(hubs)s (for en operatør: over "
                        "alle operatører) i kvartalet."
                    )
                    % {"hubs": HUB_TERM.many},
                ]
                report, _created = QuarterlyReport.objects.update_or_create(
                    year=quarter.year,
                    quarter=quarter.number,
                    scope=scope.kind,
                    organisation=organisation,
                    defaults={
                        "min_count": k,
                        "created_at": timezone.now(),
                        "xlsx": to_xlsx(rows, headers=headers, title=title, notes=notes),
                        "csv": to_csv(rows, headers=headers),
                    },
                )
                reports.append(report)
    return reports


def first_working_day_of_quarter(day: dt.date) -> bool:
    start = Quarter.of(day).start
    current = start
    while not is_working_day(current):
        current += dt.timedelta(days=1)
    return day == current


def report_url(report: QuarterlyReport, fmt: str = "xlsx") -> str:
    return settings.SITE_URL + reverse(
        "admin:governance_quarterlyreport_download", args=[report.pk, fmt]
    )


def recipients(report: QuarterlyReport) -> list[Any]:
    if report.organisation_id is None:
        return []
    from accounts.models import User

    users = User.objects.filter(
        organisation_id=report.organisation_id, is_active=True, is_staff=True
    ).exclude(email="")
    return [u for u in users.order_by("pk") if u.has_perm("governance.view_quarterlyreport")]


def quarterly_reports_send(*, today: dt.date) -> int:
    """On the first working day of a quarter: build last quarter's reports and queue one e-mail
    per recipient and report (once). Returns how many e-mails were queued."""
    if not first_working_day_of_quarter(today):
        return 0
    quarter = Quarter.of(today).previous
    reports = quarterly_reports_build(quarter=quarter, today=today)
    return quarterly_reports_mail(reports)


def quarterly_reports_mail(reports: Iterable[QuarterlyReport]) -> int:
    queued = 0
    with transaction.atomic():
        for report in reports:
            for user in recipients(report):
                mail = outbox.notification_queue(
                    kind=GovernanceMail.QUARTERLY_REPORT,
                    recipient=user.email,
                    template="quarterly_report",
                    context={
                        "report": report,
                        "organisation": report.organisation,
                        "xlsx_url": report_url(report, "xlsx"),
                        "csv_url": report_url(report, "csv"),
                        "list_url": settings.SITE_URL
                        + reverse("admin:governance_quarterlyreport_changelist"),
                    },
                    dedupe_key=f"quarterly-report:{report.year}-{report.quarter}:"
                    f"{report.scope}:{report.organisation_id}:{user.pk}",
                )
                queued += mail is not None
    logger.info("quarterly reports: %s e-mails queued", queued)
    return queued
