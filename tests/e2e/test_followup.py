"""No request falls through: a request passes its deadline, the reminders go out, the adviser
refers and closes, the company answers the survey from its e-mail, and the hub's service standard
counts it. The survey pages pass axe (WCAG 2.1 A and AA)."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone
from playwright.sync_api import expect

from crm import services
from crm.models import Case, Notification, SurveyAnswer
from offers.models import Organisation, Theme
from tests.crm.factories import CompanyFactory, ContactFactory


def test_a_late_case_is_chased_closed_and_rated_by_the_company(
    page, live_url, make_user, assert_accessible
) -> None:
    adviser = make_user(
        "mette", organisation="vaeksthus-midtjylland", role="Rådgiver", email="mette@vh.dk"
    )
    company = CompanyFactory.create()
    case = services.case_create(
        company=company,
        contact=ContactFactory.create(company=company),
        hub=Organisation.objects.get(slug="vaeksthus-midtjylland"),
        needs="Vi vil gerne eksportere til Tyskland.",
        themes=Theme.objects.filter(slug="export"),
        source=Case.Source.WEB,
    )
    # The deadline passes: two weeks later the ladder has nudged the hub and, two working days
    # after that, alerted the lead and told the company it has not been forgotten.
    later = timezone.now() + dt.timedelta(days=14)
    services.followup_ladder_run(now=later)
    services.followup_ladder_run(now=later + dt.timedelta(days=7))
    assert Notification.objects.filter(kind="followup_nudge").count() == 1
    assert Notification.objects.get(kind="followup_company", case=case).recipient

    # The adviser takes the case, refers the company to an operator and closes it.
    services.case_assign(case=case, adviser=adviser, actor=adviser)
    services.referral_create(
        case=case, operator=Organisation.objects.get(slug="eksportraadet"), actor=adviser
    )
    services.case_close(case=case, outcome=Case.Outcome.REFERRED, actor=adviser)
    closing = Notification.objects.get(kind="case_closed", case=case)
    assert "Eksportrådet" in closing.body

    # Ten days later the survey goes out; its link opens without login.
    services.surveys_run(now=timezone.now() + dt.timedelta(days=11))
    mail = Notification.objects.get(kind="survey", case=case)
    link = re.search(r"https?://\S+/tilfredshed/\S+/", mail.body)
    assert link
    path = "/tilfredshed/" + link.group(0).split("/tilfredshed/")[1]

    page.goto(live_url + path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hvordan gik det?")
    assert_accessible(page)
    page.get_by_role("button", name="Send svar").click()
    expect(page.get_by_text("Der er fejl i formularen")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("group", name="Blev du kontaktet af en rådgiver?").get_by_label("Ja").check()
    page.get_by_label("4", exact=True).check()
    page.get_by_label("Vi har sat noget i gang").check()
    page.get_by_label("Ja, men senere eller i mindre omfang").check()
    page.get_by_role("button", name="Send svar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tak for dine svar")
    assert_accessible(page)
    assert SurveyAnswer.objects.get(case=case).usefulness == 4

    # A link that was tampered with gets a plain page, not an error.
    page.goto(live_url + path[:-3] + "xx/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Linket virker ikke")
    assert_accessible(page)

    # The public service standards carry the survey section (one answer: too few to show).
    page.goto(live_url + "/servicestandarder/")
    expect(page.get_by_role("heading", name="Hvad fik virksomhederne ud af det?")).to_be_visible()
    assert_accessible(page)
