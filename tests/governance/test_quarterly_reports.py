"""Quarterly reports built from the CRM: the stored XLSX and CSV hold the hand-computed figures,
each organisation downloads only its own, and the links go out once on the first working day."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.urls import reverse

from core.time import COPENHAGEN
from crm.models import Case, Notification, Referral, SurveyAnswer
from governance.models import QuarterlyReport
from governance.quarterly import Quarter
from governance.quarterly_reports import (
    first_working_day_of_quarter,
    quarterly_reports_build,
    quarterly_reports_send,
)
from offers.models import Organisation, Theme
from tests.crm.factories import CaseFactory

pytestmark = pytest.mark.django_db

Q2 = Quarter(2026, 2)
REPORT_DAY = dt.date(2026, 7, 1)  # a Wednesday: the first working day of 2026-Q3


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=COPENHAGEN)


@pytest.fixture
def crm_quarter(db, settings):
    """Hub Midtjylland in 2026-Q2: 5 cases from the portal, 3 by phone; one about capital."""
    settings.REPORT_MIN_COUNT = 3
    midt = Organisation.objects.get(slug="vaeksthus-midtjylland")
    nord = Organisation.objects.get(slug="vaeksthus-nordjylland")
    operator = Organisation.objects.get(slug="eksportraadet")
    export, capital = Theme.objects.get(slug="export"), Theme.objects.get(slug="capital")
    cases = []
    for n in range(8):
        created = at(dt.date(2026, 4, 6) + dt.timedelta(days=n))
        case = CaseFactory.create(
            hub=midt,
            source=Case.Source.WEB if n < 5 else Case.Source.PHONE,
            created_at=created,
            first_response_due=created.date() + dt.timedelta(days=2),
            first_responded_at=created + dt.timedelta(hours=n + 1),
        )
        case.themes.set([export] if n else [export, capital])
        cases.append(case)
    for case in cases[:3]:
        Referral.objects.create(
            case=case,
            operator=operator,
            status=Referral.Status.ACCEPTED,
            created_at=at(dt.date(2026, 5, 1)),
        )
    for case, usefulness in zip(cases[:3], (5, 4, 3), strict=True):
        SurveyAnswer.objects.create(
            case=case,
            contacted=True,
            usefulness=usefulness,
            result=SurveyAnswer.Result.STARTED,
            additionality=SurveyAnswer.Additionality.NO,
            answered_at=at(dt.date(2026, 6, 1)),
        )
    CaseFactory.create(hub=nord, created_at=at(dt.date(2026, 5, 5)))
    return {"midt": midt, "nord": nord, "operator": operator}


def table(report: QuarterlyReport) -> dict[str, list]:
    sheet = openpyxl.load_workbook(io.BytesIO(bytes(report.xlsx))).active
    rows = list(sheet.iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if row and row[0] == "Afsnit")
    return {f"{row[0]}:{row[1]}": list(row[3:]) for row in rows[header + 1 :]}


def test_the_spreadsheet_holds_the_hand_computed_figures(crm_quarter):
    quarterly_reports_build(quarter=Q2, today=REPORT_DAY)

    report = QuarterlyReport.objects.get(scope="hub", organisation=crm_quarter["midt"])
    figures = table(report)
    # this quarter, previous, last year, national median, change, change from last year
    assert figures["requests:total"][:3] == [8, 0, 0]
    assert figures["requests:total"][4:] == [8, 8]  # 8 - 0 and 8 - 0
    assert figures["source:web"][0] == 5
    assert figures["source:phone"][0] == 3
    assert figures["theme:export"][0] == 8
    assert figures["theme:capital"][0] == ".."  # one case
    assert figures["response:median_hours"][0] == 4.5  # hours 1..8
    assert figures["response:within_promise_percent"][0] == 100
    assert figures["referrals:total"][0] == 3
    assert figures["referral_status:accepted"][0] == 3
    assert figures["satisfaction:answers"][0] == 3
    assert figures["satisfaction:mean_usefulness"][0] == 4
    assert figures["satisfaction:came_to_something_percent"][0] == 100
    # The CSV is the same table.
    rows = list(csv.reader(io.StringIO(report.csv.removeprefix("\ufeff"))))
    assert rows[0][3:7] == ["2026-K2", "2026-K1", "2025-K2", "Landsmedian 2026-K2"]
    by_key = {f"{r[0]}:{r[1]}": r[3:] for r in rows[1:]}
    assert by_key["requests:total"][0] == "8"
    assert by_key["theme:capital"][0] == ".."


def test_the_national_median_and_the_whole_country(crm_quarter):
    quarterly_reports_build(quarter=Q2, today=REPORT_DAY)

    hub = table(QuarterlyReport.objects.get(scope="hub", organisation=crm_quarter["midt"]))
    # Five hubs: 8, 1, 0, 0, 0 requests: the median is 0.
    assert hub["requests:total"][3] == 0
    country = table(QuarterlyReport.objects.get(scope="ministry"))
    assert country["requests:total"][0] == 9
    assert country["source:web"][0] == 6


def test_the_operator_gets_a_report_of_the_cases_referred_to_it(crm_quarter):
    quarterly_reports_build(quarter=Q2, today=REPORT_DAY)

    operator = table(
        QuarterlyReport.objects.get(scope="operator", organisation=crm_quarter["operator"])
    )
    assert operator["requests:total"][0] == 3
    assert operator["referrals:total"][0] == 3


def test_a_quarter_that_has_not_ended_is_refused(db):
    with pytest.raises(ValueError):
        quarterly_reports_build(quarter=Quarter(2026, 3), today=REPORT_DAY)


def test_each_organisation_downloads_only_its_own_report(crm_quarter, make_user, client):
    quarterly_reports_build(quarter=Q2, today=REPORT_DAY)
    own = QuarterlyReport.objects.get(scope="hub", organisation=crm_quarter["midt"])
    other = QuarterlyReport.objects.get(scope="hub", organisation=crm_quarter["nord"])
    adviser = make_user("mette", organisation="vaeksthus-midtjylland", role="Rådgiver")
    client.force_login(adviser)

    listing = client.get(reverse("admin:governance_quarterlyreport_changelist"))
    mine = client.get(reverse("admin:governance_quarterlyreport_download", args=[own.pk, "xlsx"]))
    theirs = client.get(
        reverse("admin:governance_quarterlyreport_download", args=[other.pk, "xlsx"])
    )
    crafted = client.get(reverse("admin:governance_quarterlyreport_download", args=[own.pk, "pdf"]))

    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [own]
    assert mine.status_code == 200
    assert mine["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in mine["Content-Disposition"]
    assert theirs.status_code == 404
    assert crafted.status_code == 404
    assert client.get(
        reverse("admin:governance_quarterlyreport_change", args=[other.pk])
    ).status_code in (302, 404)


def test_the_ministry_downloads_the_national_report(crm_quarter, analyst, client):
    quarterly_reports_build(quarter=Q2, today=REPORT_DAY)
    national = QuarterlyReport.objects.get(scope="ministry")
    client.force_login(analyst)

    answer = client.get(
        reverse("admin:governance_quarterlyreport_download", args=[national.pk, "csv"])
    )

    assert answer.status_code == 200
    assert "requests,total" in answer.content.decode()


def test_a_visitor_without_login_gets_no_report(crm_quarter, client):
    quarterly_reports_build(quarter=Q2, today=REPORT_DAY)
    report = QuarterlyReport.objects.get(scope="ministry")

    answer = client.get(
        reverse("admin:governance_quarterlyreport_download", args=[report.pk, "csv"])
    )

    assert answer.status_code == 302
    assert "/login/" in answer["Location"]


def test_the_links_go_out_once_on_the_first_working_day(crm_quarter, make_user):
    make_user("mette", organisation="vaeksthus-midtjylland", role="Rådgiver", email="mette@vh.dk")
    make_user("ole", organisation="vaeksthus-nordjylland", role="Rådgiver", email="ole@vh.dk")

    assert quarterly_reports_send(today=dt.date(2026, 7, 2)) == 0  # not the first working day
    assert not QuarterlyReport.objects.exists()
    sent = quarterly_reports_send(today=REPORT_DAY)
    again = quarterly_reports_send(today=REPORT_DAY)

    assert (sent, again) == (2, 0)
    mail = Notification.objects.get(recipient="mette@vh.dk")
    own = QuarterlyReport.objects.get(scope="hub", organisation=crm_quarter["midt"])
    assert f"/admin/governance/quarterlyreport/{own.pk}/download/xlsx/" in mail.body
    # The e-mail carries a link, never the figures.
    assert "8" not in mail.subject
    assert Notification.objects.filter(recipient="ole@vh.dk").count() == 1


def test_the_first_working_day_skips_new_year_and_the_weekend():
    assert not first_working_day_of_quarter(dt.date(2027, 1, 1))  # New Year's Day
    assert first_working_day_of_quarter(dt.date(2027, 1, 4))  # the Monday after
    assert first_working_day_of_quarter(dt.date(2026, 10, 1))
    assert not first_working_day_of_quarter(dt.date(2026, 10, 2))


def test_the_command_builds_a_quarter_and_refuses_a_bad_one(crm_quarter, time_machine):
    from django.core.management import CommandError, call_command

    time_machine.move_to(dt.datetime(2026, 7, 3, 9, tzinfo=COPENHAGEN))
    out = io.StringIO()

    call_command("quarterly_reports", "2026-Q2", stdout=out)

    # Five hubs, one operator and the ministry.
    assert "7 reports for 2026-Q2." in out.getvalue()
    with pytest.raises(CommandError, match="not a quarter"):
        call_command("quarterly_reports", "2026-Q9")
    with pytest.raises(CommandError, match="has not ended"):
        call_command("quarterly_reports", "2026-Q3")


def test_a_hand_edited_download_address_is_a_missing_page(crm_quarter, superuser, client):
    client.force_login(superuser)
    url = reverse("admin:governance_quarterlyreport_download", args=[1, "xlsx"])

    for bad in ("99999999999999999999", "abc"):
        answer = client.get(url.replace("/1/", f"/{bad}/", 1))
        assert answer.status_code in (302, 404), bad


def test_the_report_list_costs_the_same_few_queries_for_many_reports(
    crm_quarter, superuser, client, django_assert_max_num_queries
):
    quarterly_reports_build(quarter=Q2, today=REPORT_DAY)
    quarterly_reports_build(quarter=Quarter(2026, 1), today=REPORT_DAY)
    assert QuarterlyReport.objects.count() >= 12
    client.force_login(superuser)

    with django_assert_max_num_queries(12):
        answer = client.get(reverse("admin:governance_quarterlyreport_changelist"))

    assert answer.status_code == 200
