"""Survey results and cases closed as not handled in the service standards, with small numbers
suppressed on the public page."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from crm.models import Case, CaseFollowUp, Referral, SurveyAnswer
from governance.service_standards import operator_surveys, service_standards
from offers.models import Organisation
from tests.crm.factories import CaseFactory

CPH = ZoneInfo("Europe/Copenhagen")
MARCH = dt.date(2026, 3, 1)
SENT = dt.datetime(2026, 3, 12, 6, 45, tzinfo=CPH)


def surveyed(hub, answer=None):
    case: Case = CaseFactory.create(
        hub=hub,
        status=Case.Status.CLOSED,
        outcome=Case.Outcome.GUIDED,
        closed_at=SENT - dt.timedelta(days=10),
        created_at=SENT - dt.timedelta(days=20),
        first_response_due=dt.date(2026, 2, 24),
    )
    CaseFollowUp.objects.create(case=case, step="survey", day=SENT.date(), at=SENT)
    if answer:
        contacted, usefulness, result, additionality = answer
        SurveyAnswer.objects.create(
            case=case,
            contacted=contacted,
            usefulness=usefulness,
            result=result,
            additionality=additionality,
        )
    return case


@pytest.fixture
def midt(db):
    return Organisation.objects.get(slug="vaeksthus-midtjylland")


@pytest.fixture
def nord(db):
    return Organisation.objects.get(slug="vaeksthus-nordjylland")


@pytest.fixture
def answered(midt, nord):
    # Midtjylland: eight surveys, five answered.
    for answer in [
        (True, 5, "found_support", "no"),
        (True, 4, "started", "later_or_less"),
        (True, 3, "nothing_yet", "yes"),
        (False, 1, "nothing_yet", "dont_know"),
        (True, 2, "started", "no"),
        None,
        None,
        None,
    ]:
        surveyed(midt, answer)
    # Nordjylland: two surveys, one answered.
    surveyed(nord, (True, 5, "found_support", "no"))
    surveyed(nord)
    # Midtjylland: one March case closed as not handled.
    CaseFactory(
        hub=midt,
        status=Case.Status.CLOSED,
        outcome=Case.Outcome.NOT_HANDLED,
        closed_at=SENT,
        created_at=dt.datetime(2026, 3, 2, 10, tzinfo=CPH),
        first_response_due=dt.date(2026, 3, 4),
    )


def test_it_computes_the_response_rate_and_the_results_per_hub(answered, midt):
    [row] = service_standards(
        first_month=MARCH, last_month=MARCH, today=dt.date(2026, 4, 15), hub_id=midt.pk
    )

    assert (row.surveys_sent, row.surveys_answered) == (8, 5)
    assert row.response_percent == pytest.approx(62.5)
    assert row.contacted_percent == pytest.approx(80.0)
    assert row.usefulness_mean == pytest.approx(3.0)
    assert row.came_to_something_percent == pytest.approx(60.0)
    assert row.additional_percent == pytest.approx(40.0)
    assert row.not_handled == 1
    assert row.survey_published(min_answers=5)
    assert not row.survey_published(min_answers=6)


def test_the_public_page_shows_results_only_where_enough_answered(answered, client, time_machine):
    time_machine.move_to(dt.datetime(2026, 5, 2, 12, tzinfo=CPH), tick=False)

    page = client.get("/servicestandarder/").text

    assert "Hvad fik virksomhederne ud af det?" in page
    midt_row = page.split("Væksthus Midtjylland</th>")[-1].split("</tr>")[0]
    nord_row = page.split("Væksthus Nordjylland</th>")[-1].split("</tr>")[0]
    assert "62 %" in midt_row or "63 %" in midt_row
    assert "3,0" in midt_row
    # One answer in Nordjylland: nothing that could tell what that one company said.
    assert "Færre end 5 svar" in nord_row
    assert "100 %" not in nord_row
    assert "Lukket uden svar" in page


def test_the_analysts_see_the_survey_figures(answered, make_user, client, time_machine):
    time_machine.move_to(dt.datetime(2026, 4, 15, 12, tzinfo=CPH), tick=False)
    analyst = make_user("analytiker", organisation="erhvervsstyrelsen", role="Analytiker")
    client.force_login(analyst)

    page = client.get("/analyse/servicestandarder/", {"fra": "2026-03", "til": "2026-03"})

    assert page.status_code == 200
    assert "5 af 8" in page.text


def refer(case, slug, status="completed"):
    Referral.objects.create(
        case=case,
        operator=Organisation.objects.get(slug=slug),
        status=status,
        completed_at=SENT - dt.timedelta(days=12),
    )


@pytest.fixture
def referred(midt):
    answers = [
        (True, 5, "found_support", "no"),
        (True, 4, "started", "no"),
        (True, 4, "started", "later_or_less"),
        (False, 2, "nothing_yet", "yes"),
        (True, 5, "found_support", "no"),
    ]
    cases = [surveyed(midt, answer) for answer in answers] + [surveyed(midt)]
    for case in cases:
        refer(case, "eksportraadet")
    # Twice to the same operator counts once; a declined referral does not count.
    refer(cases[0], "eksportraadet")
    refer(cases[1], "vaekstfonden", status="declined")
    refer(cases[2], "vaekstfonden")
    return cases


def test_it_computes_the_survey_per_operator_referred_to(referred):
    rows = {row.operator_name: row for row in operator_surveys(first_month=MARCH, last_month=MARCH)}

    export = rows["Eksportrådet"]
    assert (export.surveys_sent, export.surveys_answered) == (6, 5)
    assert export.usefulness_mean == pytest.approx(4.0)
    assert export.additional_percent == pytest.approx(60.0)
    assert export.survey_published(min_answers=5)
    fund = next(row for name, row in rows.items() if name != "Eksportrådet")
    assert (fund.surveys_sent, fund.surveys_answered) == (1, 1)
    assert not fund.survey_published(min_answers=5)


def test_the_public_page_suppresses_operators_with_few_answers(referred, client, time_machine):
    time_machine.move_to(dt.datetime(2026, 5, 2, 12, tzinfo=CPH), tick=False)

    page = client.get("/servicestandarder/").text

    operators = page.split("Fordelt på de operatører")[1].split("</table>")[0]
    export = operators.split("Eksportrådet</th>")[1].split("</tr>")[0]
    assert "4,0" in export
    assert operators.count("Færre end 5 svar") == 1
