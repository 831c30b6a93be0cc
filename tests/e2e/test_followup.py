"""No request falls through: a request passes its deadline, the reminders go out, the adviser
refers the company to an operator, the operator declines with a reason, the adviser refers it
elsewhere and closes, the company answers the survey from its e-mail, and the hub's service
standard counts it. The operator's pages (at 1280 and 390 px) and the survey pages pass axe
(WCAG 2.1 A and AA)."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone
from playwright.sync_api import expect

from crm import services
from crm.models import Case, Notification, Referral, SurveyAnswer
from offers.models import Organisation, Theme
from tests.crm.factories import CompanyFactory, ContactFactory


def log_in(page, live_url: str, username: str, next_url: str) -> None:
    page.goto(f"{live_url}/admin/login/?next={next_url}")
    page.get_by_label("Brugernavn").fill(username)
    page.get_by_label("Adgangskode").fill("a-long-test-password")
    page.get_by_role("button", name="Log ind").click()


def test_a_late_case_is_chased_closed_and_rated_by_the_company(
    page, browser, live_url, make_user, assert_accessible, screenshot
) -> None:
    adviser = make_user(
        "mette", organisation="vaeksthus-midtjylland", role="Rådgiver", email="mette@vh.dk"
    )
    make_user("eksport-anna", organisation="eksportraadet", role="Operatør", email="a@eks.dk")
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

    # The adviser takes the case and refers the company to an operator, sharing the contact.
    log_in(page, live_url, "mette", f"/admin/crm/case/{case.pk}/change/")
    page.get_by_role("button", name="Tag sagen").click()
    expect(page.get_by_text("Du har taget sagen.")).to_be_visible()
    page.get_by_text("Henvis til et tilbud").click()
    page.get_by_label("Eller en operatør").select_option(label="Eksportrådet")
    page.get_by_label("Del kontaktpersonens navn, e-mail og telefon med operatøren").check()
    page.get_by_role("button", name="Henvis", exact=True).click()
    expect(page.get_by_text("Virksomheden er henvist til Eksportrådet")).to_be_visible()

    # The operator logs in, finds the referral with the company's need and the shared contact,
    # and declines it for lack of capacity.
    operator_context = browser.new_context(locale="da-DK", viewport={"width": 1280, "height": 900})
    operator = operator_context.new_page()
    log_in(operator, live_url, "eksport-anna", "/admin/crm/operatorreferral/")
    expect(operator.get_by_role("heading", level=1)).to_have_text(
        "Henvisninger til jeres organisation"
    )
    assert_accessible(operator)
    screenshot(operator, "operator-list-1280")
    operator.get_by_role("link", name=case.company.name).click()
    expect(operator.get_by_text("Vi vil gerne eksportere til Tyskland.")).to_be_visible()
    expect(operator.get_by_text(case.contact.email)).to_be_visible()
    assert_accessible(operator)
    screenshot(operator, "operator-referral-1280")
    operator.get_by_label("Årsag").select_option(label="Vi har ikke kapacitet lige nu")
    operator.get_by_label("Uddybning").fill("Fuldt booket til marts.")
    operator.get_by_role("button", name="Afvis", exact=True).click()
    expect(operator.get_by_text("I har afvist henvisningen.")).to_be_visible()
    expect(operator.get_by_text("Afvist: Vi har ikke kapacitet lige nu")).to_be_visible()
    assert_accessible(operator)
    screenshot(operator, "operator-declined-1280")
    operator.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(operator)
    screenshot(operator, "operator-declined-390")
    operator.goto(live_url + "/admin/crm/operatorreferral/")
    assert_accessible(operator)
    screenshot(operator, "operator-list-390")
    operator_context.close()
    answered = Notification.objects.get(kind="referral_answered", case=case)
    assert answered.recipient == "mette@vh.dk"
    assert "Vi har ikke kapacitet lige nu" in answered.body

    # The adviser sees the answer, refers the company elsewhere and closes the case.
    page.reload()
    expect(page.get_by_text("Afvist: Vi har ikke kapacitet lige nu")).to_be_visible()
    page.get_by_text("Henvis til et tilbud").click()
    page.get_by_label("Eller en operatør").select_option(label="Innovationsfonden")
    page.get_by_role("button", name="Henvis", exact=True).click()
    expect(page.get_by_text("Virksomheden er henvist til Innovationsfonden")).to_be_visible()
    # After a referral the close form is open, the outcome preset to "referred".
    expect(page.locator("#id_close-outcome")).to_have_value("referred")
    page.get_by_role("button", name="Luk sagen").click()
    expect(
        page.get_by_text("Sagen er lukket: Henvist til tilbud eller operatør.").first
    ).to_be_visible()
    assert list(case.referrals.order_by("id").values_list("status", flat=True)) == [
        Referral.Status.DECLINED,
        Referral.Status.PROPOSED,
    ]
    case.refresh_from_db()
    assert (case.status, case.adviser) == (Case.Status.CLOSED, adviser)
    closing = Notification.objects.get(kind="case_closed", case=case)
    assert "Innovationsfonden" in closing.body

    # The hub's report of declines and silence (one referral: too few to show its figures).
    page.goto(live_url + "/analyse/henvisninger/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Henvisninger, der ikke lykkes")
    expect(page.get_by_role("row", name=re.compile("Eksportrådet"))).to_contain_text("færre end")
    assert_accessible(page)
    screenshot(page, "referral-report-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(page)
    screenshot(page, "referral-report-390")
    page.set_viewport_size({"width": 1280, "height": 900})

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
