"""An adviser's casework in the admin: reopening a closed case, the close form after a referral,
the request's language, the case list's columns and the breadcrumb."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from crm import services
from crm.models import Case, CaseFollowUp, HubLead, Notification
from offers.models import Organisation
from routing.models import GuidanceRequest
from routing.services import guidance_request_submit
from tests.routing.factories import form_data, submission

pytestmark = pytest.mark.django_db

CPH = ZoneInfo("Europe/Copenhagen")
Step = CaseFollowUp.Step
CHANGELIST = reverse("admin:crm_case_changelist")


def page(case: Case) -> str:
    return reverse("admin:crm_case_change", args=[case.pk])


def action(case: Case, name: str) -> str:
    return reverse("admin:crm_case_action", args=[case.pk, name])


@pytest.fixture
def closed_case(make_case, adviser) -> Case:
    case = services.case_assign(case=make_case(), adviser=adviser, actor=adviser)
    services.case_note_add(case=case, kind="call", text="Ringede op.", actor=adviser)
    return services.case_close(case=case, outcome="guided", outcome_text="Vejledt", actor=adviser)


# --- Genåbn sag -------------------------------------------------------------------------------


def test_an_adviser_reopens_a_closed_case_with_a_reason(logged_in, adviser, closed_case):
    client = logged_in(adviser)
    assert "Genåbn sag" in client.get(page(closed_case)).content.decode()

    response = client.post(
        action(closed_case, "reopen"), {"reopen-reason": "Virksomheden ringede igen."}
    )

    assert response.status_code == 302
    closed_case.refresh_from_db()
    assert closed_case.status == Case.Status.ASSIGNED
    assert (closed_case.outcome, closed_case.outcome_text, closed_case.closed_at) == ("", "", None)
    entry = closed_case.timeline.get(action="crm.case.reopened")
    assert entry.text == "Virksomheden ringede igen."
    assert entry.actor == adviser
    assert entry.payload["previous_outcome"] == "guided"
    assert LogEntry.objects.filter(object_id=str(closed_case.pk)).exists()
    # Open again everywhere: the queue, the statistics' "open", the case page's quick forms.
    html = client.get(page(closed_case)).content.decode()
    assert "Sagen er genåbnet." in html
    assert "Luk sagen" in html
    assert Case.objects.open().filter(pk=closed_case.pk).exists()
    assert closed_case.reference in client.get(CHANGELIST).content.decode()


def test_a_reopening_needs_a_reason(logged_in, adviser, closed_case):
    response = logged_in(adviser).post(action(closed_case, "reopen"), {"reopen-reason": "  "})

    assert response.status_code == 400
    assert "Skriv, hvorfor sagen genåbnes." in response.content.decode()
    closed_case.refresh_from_db()
    assert closed_case.status == Case.Status.CLOSED
    with pytest.raises(services.CrmError):
        services.case_reopen(case=closed_case, reason="", actor=adviser)


def test_an_open_case_is_not_reopened(make_case, adviser):
    case = make_case()
    with pytest.raises(services.CrmError, match="allerede åben"):
        services.case_reopen(case=case, reason="Igen", actor=adviser)
    assert not case.timeline.filter(action="crm.case.reopened").exists()


def test_an_adviser_of_another_hub_gets_nothing_from_a_crafted_reopen(
    logged_in, other_adviser, closed_case
):
    client = logged_in(other_adviser)

    response = client.post(action(closed_case, "reopen"), {"reopen-reason": "Jeg prøver."})

    assert response.status_code in (403, 404)
    assert "Genåbn sag" not in client.get(page(closed_case)).content.decode()
    closed_case.refresh_from_db()
    assert closed_case.status == Case.Status.CLOSED
    assert not closed_case.timeline.filter(action="crm.case.reopened").exists()
    with pytest.raises(services.CrmError):
        services.case_reopen(case=closed_case, reason="Jeg prøver.", actor=other_adviser)


def test_the_hubs_lead_may_reopen_and_an_analyst_may_not(make_user, analyst, closed_case, hub):
    lead = make_user("chef", organisation="vaeksthus-nordjylland", first_name="Chef")
    HubLead.objects.create(hub=hub, lead=lead)

    with pytest.raises(services.CrmError):
        services.case_reopen(case=closed_case, reason="Tal", actor=analyst)
    services.case_reopen(case=closed_case, reason="Klage fra virksomheden.", actor=lead)

    closed_case.refresh_from_db()
    assert closed_case.is_open
    assert closed_case.timeline.get(action="crm.case.reopened").actor == lead


def _morning(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 6, 45, tzinfo=CPH)


def test_a_case_closed_as_not_handled_and_reopened_goes_up_the_reminder_ladder_again(
    make_case, adviser, time_machine
):
    time_machine.move_to(dt.datetime(2026, 12, 21, 10, 0, tzinfo=CPH), tick=False)
    case = make_case()
    for day in (_morning(2026, 12, 28), _morning(2026, 12, 30)):
        time_machine.move_to(day, tick=False)
        services.followup_ladder_run(now=day)
    for number in (4, 5, 6, 7, 8):
        day = _morning(2027, 1, number)
        time_machine.move_to(day, tick=False)
        services.followup_ladder_run(now=day)
    case.refresh_from_db()
    assert case.outcome == Case.Outcome.NOT_HANDLED

    time_machine.move_to(dt.datetime(2027, 1, 11, 9, 0, tzinfo=CPH), tick=False)
    services.case_reopen(case=case, reason="Blev aldrig ringet op.", actor=adviser)
    case.refresh_from_db()
    assert case.status == Case.Status.NEW  # nobody had taken it
    assert case.first_response_due == dt.date(2026, 12, 23)  # the promise stays what it was
    assert not case.follow_ups.filter(step=Step.NUDGE).exists()

    day = _morning(2027, 1, 12)
    time_machine.move_to(day, tick=False)
    counts = services.followup_ladder_run(now=day)

    assert counts[Step.NUDGE] == 1
    assert case.follow_ups.filter(step=Step.NUDGE).exists()


# --- The close form after a referral ----------------------------------------------------------


def _selected_outcome(html: str) -> str | None:
    start = html.index('name="close-outcome"')
    select = html[start : html.index("</select>", start)]
    for option in select.split("<option")[1:]:
        if "selected" in option.split(">")[0]:
            return option.split('value="')[1].split('"')[0]
    return None


def test_the_close_form_presets_referred_after_a_referral(logged_in, adviser, make_case, offer):
    case = services.case_assign(case=make_case(), adviser=adviser, actor=adviser)
    client = logged_in(adviser)
    assert _selected_outcome(client.get(page(case)).content.decode()) in (None, "")

    referral = services.referral_create(case=case, offer=offer, actor=adviser)
    assert _selected_outcome(client.get(page(case)).content.decode()) == "referred"

    services.referral_decline(referral=referral, outcome="Passer ikke.", actor=adviser)
    assert _selected_outcome(client.get(page(case)).content.decode()) in (None, "")


def test_the_preset_outcome_can_be_changed(logged_in, adviser, make_case, offer):
    case = services.case_assign(case=make_case(), adviser=adviser, actor=adviser)
    services.referral_create(case=case, offer=offer, actor=adviser)

    logged_in(adviser).post(action(case, "close"), {"close-outcome": "withdrawn"})

    case.refresh_from_db()
    assert case.outcome == Case.Outcome.WITHDRAWN


def test_the_first_activity_is_preset_to_a_call_until_the_company_is_answered(
    logged_in, adviser, make_case
):
    case = services.case_assign(case=make_case(), adviser=adviser, actor=adviser)
    client = logged_in(adviser)
    assert '<option value="call" selected>' in client.get(page(case)).content.decode()

    services.case_note_add(case=case, kind="email", text="Skrev til dem.", actor=adviser)
    html = client.get(page(case)).content.decode()
    assert '<option value="note" selected>' in html


# --- The request's language -------------------------------------------------------------------


def test_a_request_sent_in_english_is_shown_as_english_on_the_case(logged_in, adviser):
    with translation.override("en"):
        request = guidance_request_submit(submission=submission(), channel="form")
    case = request.case
    assert case.language == "en"
    case.hub = adviser.organisation
    case.save(update_fields=["hub"])

    html = logged_in(adviser).get(page(case)).content.decode()

    assert "Henvendelsens sprog" in html
    assert "Engelsk" in html
    listed = logged_in(adviser).get(CHANGELIST, {"language__exact": "en"}).content.decode()
    assert case.reference in listed
    assert (
        case.reference
        not in logged_in(adviser).get(CHANGELIST, {"language__exact": "da"}).content.decode()
    )


def test_a_request_in_danish_and_one_through_the_api_keep_their_language(db):
    with translation.override("da"):
        danish = guidance_request_submit(submission=submission(), channel="form")
    response = APIClient().post(
        "/api/guidance-requests/",
        form_data(contact_email="anna@example.com"),
        format="json",
        headers={"Accept-Language": "en-GB,en;q=0.8"},
    )

    assert response.status_code == 201, response.content
    assert danish.case.language == "da"
    api_case = GuidanceRequest.objects.exclude(pk=danish.pk).get().case
    assert api_case.language == "en"


def test_a_case_registered_by_hand_has_no_language(make_case):
    assert make_case().language == ""


# --- The case list and the breadcrumb ---------------------------------------------------------


def test_the_queue_of_my_hub_has_no_hub_column_and_the_deadline_second(
    logged_in, adviser, make_case
):
    case = make_case()
    client = logged_in(adviser)

    html = client.get(CHANGELIST).content.decode()
    table = html[html.index('id="result_list"') :]
    headers = table[: table.index("</thead>")]
    assert headers.index("column-reference") < headers.index("column-deadline")
    assert headers.index("column-deadline") < headers.index("column-company_name")
    assert "column-hub_name" not in headers
    assert "column-theme_names" not in headers
    assert "Eksport" in html[html.index(case.reference) :]  # the themes under the name

    everything = client.get(CHANGELIST, {"hub": "all"}).content.decode()
    table = everything[everything.index('id="result_list"') :]
    assert "column-hub_name" in table[: table.index("</thead>")]


def test_the_case_page_breadcrumb_is_the_admins_own(logged_in, adviser, make_case):
    case = make_case()
    html = logged_in(adviser).get(page(case)).content.decode()

    assert '<ol class="breadcrumbs">' in html
    assert f'<li aria-current="page">{case.reference}</li>' in html
    assert '<div class="breadcrumbs">' not in html


# --- The hub's name: the portal's own term ----------------------------------------------------

ERHVERVSHUS = ["Erhvervshus", "Erhvervshuset", "Erhvervshuse", "Erhvervshusene"]


def test_the_workspace_says_the_portals_term_for_a_hub(
    settings, logged_in, adviser, make_case, time_machine
):
    settings.HUB_TERM = ERHVERVSHUS
    time_machine.move_to(dt.datetime(2026, 12, 21, 10, 0, tzinfo=CPH), tick=False)
    case = make_case()
    client = logged_in(adviser)

    listing = client.get(CHANGELIST).content.decode()
    html = client.get(page(case)).content.decode()
    added = client.get(reverse("admin:crm_case_add")).content.decode()

    assert "Mit Erhvervshus" in listing
    assert "Efter Erhvervshus" in listing
    assert "Overdrag til et andet Erhvervshus" in html
    assert "<dt>Erhvervshus</dt>" in html
    assert "Erhvervshuset behandler oplysningerne" in added
    assert "Erhvervshusets kø uden rådgiver" in added
    with pytest.raises(services.CrmError, match="overdrages til et Erhvervshus"):
        services.case_transfer(
            case=case,
            hub=Organisation.objects.get(slug="erhvervsstyrelsen"),
            reason="Forkert",
            actor=adviser,
        )

    day = _morning(2026, 12, 28)
    time_machine.move_to(day, tick=False)
    services.followup_ladder_run(now=day)
    reminder = case.timeline.get(action="crm.followup.nudge")
    assert reminder.text.endswith("Erhvervshusets indbakke.")
    [nudge] = Notification.objects.filter(kind=Notification.Kind.FOLLOWUP_NUDGE)
    assert "får Erhvervshusets leder besked" in nudge.body
    assert "Væksthus" not in nudge.body


def test_the_models_labels_and_choices_say_the_portals_term_for_a_hub(
    settings, logged_in, superuser
):
    from crm.models import Case, HubLead
    from offers.models import Organisation as Org

    settings.HUB_TERM = ERHVERVSHUS

    assert str(Case.Outcome.NOT_HANDLED.label) == "Ikke behandlet: Erhvervshuset svarede ikke"
    assert str(HubLead._meta.verbose_name_plural) == "Erhvervshusenes ledere"
    assert str(Org.Kind.BUSINESS_HUB.label) == "Erhvervshus"
    leads = logged_in(superuser).get(reverse("admin:crm_hublead_changelist")).content.decode()
    assert "Erhvervshusenes ledere" in leads
    assert "Væksthus" not in leads.replace("Væksthus ", "")  # hub names ("Væksthus Fyn") stay


def test_the_request_list_names_itself_and_filters_by_hub_only(logged_in, make_user):
    superuser = make_user("admin", is_superuser=True)
    client = logged_in(superuser)

    index = client.get(reverse("admin:index")).content.decode()
    listing = client.get(reverse("admin:routing_guidancerequest_changelist")).content.decode()

    assert "Indkomne henvendelser og deres fordeling" in index
    assert "Henvendelser om vejledning" not in index
    filters = listing[listing.index('id="changelist-filter"') :]
    assert "Væksthus Midtjylland" in filters
    assert "Aarhus Kommune" not in filters
    assert "Erhvervsstyrelsen" not in filters


def test_the_case_list_names_the_themes_in_the_advisers_language(logged_in, adviser, make_case):
    case = make_case()
    theme = case.themes.get()
    theme.name_en = "Export"
    theme.save(update_fields=["name_en"])
    client = logged_in(adviser)

    danish = client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE="da").content.decode()
    english = client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert f"{theme.name}</span>" in danish[danish.index(case.reference) :]
    assert "Export</span>" in english[english.index(case.reference) :]


def test_the_workplace_header_links_the_stylesheet_that_makes_the_user_tools_readable(
    logged_in, adviser
):
    from pathlib import Path

    from django.conf import settings

    html = logged_in(adviser).get(reverse("admin:index")).content.decode()

    assert "portal/css/admin_site.css" in html
    css = (Path(settings.BASE_DIR) / "static/portal/css/admin_site.css").read_text()
    assert "#user-tools { font-size: 0.875rem; }" in css
