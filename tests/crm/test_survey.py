"""Closing tells the company what happened; the survey follows, with a signed link and one
reminder."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core import signing

from crm import services
from crm.models import Case, CaseFollowUp, Notification, SurveyAnswer
from crm.survey import survey_token

CPH = ZoneInfo("Europe/Copenhagen")
Step = CaseFollowUp.Step
CLOSED_AT = dt.datetime(2026, 5, 4, 14, 0, tzinfo=CPH)


@pytest.fixture
def closed_case(make_case, adviser, offer, time_machine):
    time_machine.move_to(CLOSED_AT - dt.timedelta(days=3), tick=False)
    case = make_case()
    services.case_assign(case=case, adviser=adviser, actor=adviser)
    services.referral_create(case=case, offer=offer, note="Ring til Anne", actor=adviser)
    time_machine.move_to(CLOSED_AT, tick=False)
    return services.case_close(case=case, outcome=Case.Outcome.REFERRED, actor=adviser)


def surveys_on(time_machine, when: dt.datetime) -> dict[str, int]:
    time_machine.move_to(when, tick=False)
    return services.surveys_run(now=when)


def survey_path(case: Case) -> str:
    return f"/tilfredshed/{survey_token(case.pk)}/"


ANSWER = {
    "contacted": "yes",
    "usefulness": "4",
    "result": "started",
    "additionality": "later_or_less",
}


def test_closing_tells_the_company_which_offers_and_operators_it_was_referred_to(
    closed_case, offer
):
    mail = Notification.objects.get(kind=Notification.Kind.CASE_CLOSED)

    assert mail.recipient == closed_case.contact.email
    assert f"Din sag {closed_case.reference} er afsluttet" == mail.subject
    assert "Eksportstart for små virksomheder" in mail.body
    assert offer.operator.name in mail.body
    assert "Henvist til tilbud eller operatør" in mail.body
    assert "Mette Kristensen" in mail.body
    # The adviser's internal note on the referral stays internal.
    assert "Ring til Anne" not in mail.body


def test_closing_names_the_contacts_of_the_offer(make_case, adviser, offer):
    offer.contact_email = "eksport@eksportraadet.dk"
    offer.contact_phone = "+45 33 92 00 00"
    offer.save(update_fields=["contact_email", "contact_phone"])
    case = make_case()
    services.case_assign(case=case, adviser=adviser, actor=adviser)
    services.referral_create(case=case, offer=offer, actor=adviser)
    services.case_close(case=case, outcome=Case.Outcome.REFERRED, actor=adviser)

    body = Notification.objects.get(kind=Notification.Kind.CASE_CLOSED).body
    assert "eksport@eksportraadet.dk" in body
    assert "+45 33 92 00 00" in body


def test_the_survey_goes_out_ten_days_after_closing_and_once(closed_case, time_machine):
    assert surveys_on(time_machine, CLOSED_AT + dt.timedelta(days=9, hours=23))[Step.SURVEY] == 0

    counts = surveys_on(time_machine, CLOSED_AT + dt.timedelta(days=10, hours=1))
    again = surveys_on(time_machine, CLOSED_AT + dt.timedelta(days=10, hours=2))

    assert counts[Step.SURVEY] == 1
    assert again[Step.SURVEY] == 0
    [mail] = Notification.objects.filter(kind=Notification.Kind.SURVEY)
    assert mail.recipient == closed_case.contact.email
    assert "/tilfredshed/" in mail.body
    assert closed_case.timeline.filter(action="crm.survey.sent").count() == 1


def test_one_reminder_then_nothing(closed_case, time_machine):
    surveys_on(time_machine, CLOSED_AT + dt.timedelta(days=10, hours=1))
    assert surveys_on(time_machine, CLOSED_AT + dt.timedelta(days=16))[Step.SURVEY_REMINDER] == 0

    assert surveys_on(time_machine, CLOSED_AT + dt.timedelta(days=17))[Step.SURVEY_REMINDER] == 1
    for days in (18, 24, 40):
        assert set(surveys_on(time_machine, CLOSED_AT + dt.timedelta(days=days)).values()) == {0}

    assert Notification.objects.filter(kind=Notification.Kind.SURVEY).count() == 1
    assert Notification.objects.filter(kind=Notification.Kind.SURVEY_REMINDER).count() == 1


def test_no_reminder_after_an_answer(closed_case, client, time_machine):
    surveys_on(time_machine, CLOSED_AT + dt.timedelta(days=10, hours=1))
    client.post(survey_path(closed_case), ANSWER)

    assert surveys_on(time_machine, CLOSED_AT + dt.timedelta(days=17))[Step.SURVEY_REMINDER] == 0


def test_no_survey_for_cases_not_handled_or_withdrawn_or_long_closed(
    make_case, adviser, time_machine
):
    time_machine.move_to(CLOSED_AT, tick=False)
    withdrawn = make_case()
    services.case_close(case=withdrawn, outcome=Case.Outcome.WITHDRAWN, actor=adviser)
    not_handled = make_case()
    Case.objects.filter(pk=not_handled.pk).update(
        status=Case.Status.CLOSED, outcome=Case.Outcome.NOT_HANDLED, closed_at=CLOSED_AT
    )
    time_machine.move_to(CLOSED_AT - dt.timedelta(days=40), tick=False)
    long_ago = make_case()
    services.case_close(case=long_ago, outcome=Case.Outcome.GUIDED, actor=adviser)

    counts = surveys_on(time_machine, CLOSED_AT + dt.timedelta(days=11))

    assert counts[Step.SURVEY] == 0


def test_the_link_opens_the_survey_without_login_and_records_nothing_on_opening(
    closed_case, client
):
    response = client.get(survey_path(closed_case))

    assert response.status_code == 200
    assert "Blev du kontaktet af en rådgiver?" in response.text
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "same-origin"
    assert not SurveyAnswer.objects.exists()


def test_an_answer_reaches_the_adviser_and_the_case_timeline(closed_case, adviser, client):
    response = client.post(survey_path(closed_case), ANSWER, follow=True)

    assert "Tak for dine svar" in response.text
    answer = SurveyAnswer.objects.get(case=closed_case)
    assert (answer.contacted, answer.usefulness, answer.result, answer.additionality) == (
        True,
        4,
        "started",
        "later_or_less",
    )
    entry = closed_case.timeline.get(action="crm.survey.answered")
    assert "Udbytte: 4 af 5" in entry.text
    assert not entry.is_public
    mail = Notification.objects.get(kind=Notification.Kind.SURVEY_ANSWERED)
    assert mail.recipient == adviser.email
    assert "Udbytte: 4 af 5" in mail.body


def test_a_second_answer_is_refused_with_thanks(closed_case, client):
    client.post(survey_path(closed_case), ANSWER)
    response = client.post(survey_path(closed_case), {**ANSWER, "usefulness": "1"})

    assert response.status_code == 200
    assert "Tak for dine svar" in response.text
    assert SurveyAnswer.objects.get(case=closed_case).usefulness == 4


@pytest.mark.parametrize(
    ("field", "value"),
    [("usefulness", "9"), ("result", "rich"), ("contacted", "maybe"), ("additionality", "")],
)
def test_a_bad_answer_gets_a_field_error_not_a_500(closed_case, client, field, value):
    response = client.post(survey_path(closed_case), {**ANSWER, field: value})

    assert response.status_code == 200
    assert "form-error" in response.text
    assert not SurveyAnswer.objects.exists()


def test_a_tampered_link_gets_a_clear_page(closed_case, client):
    token = survey_token(closed_case.pk)
    other_id = signing.dumps(closed_case.pk + 1, salt="crm.survey").split(":")[0]
    tampered = [
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        other_id + ":" + token.split(":", 1)[1],
        "not-a-link",
        # Signed by the portal, but for another purpose.
        signing.dumps(closed_case.pk, salt="governance.saved-search"),
    ]
    for value in tampered:
        response = client.get(f"/tilfredshed/{value}/")
        assert response.status_code == 404, value
        assert "Linket virker ikke" in response.text
        response = client.post(f"/tilfredshed/{value}/", ANSWER)
        assert response.status_code == 404
    assert not SurveyAnswer.objects.exists()


def test_an_expired_link_says_so(closed_case, client, settings, time_machine):
    path = survey_path(closed_case)
    time_machine.move_to(CLOSED_AT + dt.timedelta(days=settings.SURVEY_LINK_DAYS + 1), tick=False)

    response = client.get(path)
    posted = client.post(path, ANSWER)

    assert response.status_code == 410
    assert "Linket er udløbet" in response.text
    assert posted.status_code == 410
    assert not SurveyAnswer.objects.exists()


def test_a_link_for_an_open_case_finds_nothing(make_case, client):
    case = make_case()

    assert client.get(survey_path(case)).status_code == 404


def test_another_hubs_adviser_does_not_see_the_answers(
    closed_case, client, other_adviser, logged_in, make_case
):
    client.post(survey_path(closed_case), ANSWER)
    # The other hub shares the company's history, so it can open the case page.
    other_case = make_case(company=closed_case.company, hub=other_adviser.organisation)
    assert other_case.pk

    page = logged_in(other_adviser).get(f"/admin/crm/case/{closed_case.pk}/change/")

    assert page.status_code == 200
    assert "Udbytte" not in page.text


def test_the_own_adviser_sees_the_answers_on_the_case_page(closed_case, client, adviser, logged_in):
    client.post(survey_path(closed_case), ANSWER)

    page = logged_in(adviser).get(f"/admin/crm/case/{closed_case.pk}/change/")

    assert "Udbytte: 4 af 5" in page.text


def test_the_answer_is_in_the_persons_data_export(closed_case, client):
    client.post(survey_path(closed_case), ANSWER)

    data = services.person_export(email=closed_case.contact.email)

    [exported] = data["contacts"][0]["cases"]
    assert exported["survey"]["usefulness"] == 4
    assert exported["survey"]["result"] == "started"
