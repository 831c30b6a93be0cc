"""A new request from a company with a case at the same hub (open, or closed within three weeks)
is attached to that case instead of opening a silent second one; at another hub a new case opens,
flagged as related to the first."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import User
from crm import services as crm_services
from crm.models import Case, Company, Contact, Notification
from offers.models import Municipality, Organisation
from routing.models import GuidanceRequest, RepeatRequest, RoutingMail
from routing.services import IdempotencyConflict, guidance_request_submit
from tests.routing.factories import next_cvr, submission

pytestmark = pytest.mark.django_db
CPH = ZoneInfo("Europe/Copenhagen")


@pytest.fixture
def adviser(make_user) -> User:
    # Vejle (630) lies in Region Syddanmark.
    return make_user(
        "sofie", organisation="vaeksthus-syddanmark", role="Rådgiver", email="sofie@vh.dk"
    )


def submit(**changes):
    return guidance_request_submit(submission=submission(**changes), channel="form")


def test_an_open_case_takes_the_new_request_and_the_adviser_is_told(
    export_offers: None, adviser: User
) -> None:
    cvr = next_cvr()
    first = submit(cvr=cvr, contact_email="anne@firma.dk")
    crm_services.case_assign(case=first.case, adviser=adviser, actor=adviser)

    second = submit(cvr=cvr, contact_email="bo@firma.dk", needs="Nu vil vi også rejse kapital.")

    assert second.pk == first.pk
    assert Case.objects.count() == 1 and GuidanceRequest.objects.count() == 1
    case = Case.objects.get()
    entry = case.timeline.get(action="crm.case.repeat_request")
    assert not entry.is_public
    assert "Nu vil vi også rejse kapital." in entry.text
    assert entry.payload["needs"] == "Nu vil vi også rejse kapital."
    assert entry.payload["matches"]
    assert case.timeline.get(action="crm.case.repeat_request_received").is_public
    told = Notification.objects.get(kind=Notification.Kind.REPEAT_REQUEST)
    assert told.recipient == "sofie@vh.dk"
    assert case.reference in told.subject
    # The sender gets a receipt with the case's reference and the request's own status link; the
    # case's link stays with the case's contact.
    receipt = Notification.objects.filter(kind=RoutingMail.REQUEST_RECEIPT).latest("id")
    assert receipt.recipient == "bo@firma.dk"
    assert case.reference in receipt.body
    assert second.get_absolute_url() in receipt.body
    assert first.get_absolute_url() not in receipt.body
    assert "allerede en sag" in receipt.body
    # The new person is a contact of the same company.
    assert Contact.objects.filter(company=case.company).count() == 2


def test_a_case_closed_within_three_weeks_reopens_with_the_reason(
    export_offers: None, adviser: User, time_machine
) -> None:
    cvr = next_cvr()
    time_machine.move_to(dt.datetime(2027, 3, 1, 10, tzinfo=CPH), tick=False)
    first = submit(cvr=cvr)
    crm_services.case_assign(case=first.case, adviser=adviser, actor=adviser)
    crm_services.case_close(case=first.case, outcome=Case.Outcome.GUIDED, actor=adviser)

    time_machine.move_to(dt.datetime(2027, 3, 21, 10, tzinfo=CPH), tick=False)
    second = submit(cvr=cvr)

    assert second.case_id == first.case_id
    case = Case.objects.get()
    assert case.status == Case.Status.ASSIGNED and case.outcome == "" and case.closed_at is None
    reopened = case.timeline.get(action="crm.case.reopened")
    assert reopened.is_public
    assert reopened.payload["reason"] == "ny henvendelse"
    assert reopened.payload["previous_outcome"] == "guided"


def test_a_case_closed_longer_ago_gets_a_new_case(
    export_offers: None, adviser: User, time_machine
) -> None:
    cvr = next_cvr()
    time_machine.move_to(dt.datetime(2027, 3, 1, 10, tzinfo=CPH), tick=False)
    first = submit(cvr=cvr)
    crm_services.case_assign(case=first.case, adviser=adviser, actor=adviser)
    crm_services.case_close(case=first.case, outcome=Case.Outcome.GUIDED, actor=adviser)

    time_machine.move_to(dt.datetime(2027, 3, 23, 10, tzinfo=CPH), tick=False)
    second = submit(cvr=cvr)

    assert second.case_id != first.case_id
    assert Case.objects.count() == 2


def test_without_a_cvr_the_same_e_mail_is_the_same_company(export_offers: None) -> None:
    first = submit(cvr=None, company_name="", contact_email="ida@example.dk")

    second = submit(cvr=None, company_name="", contact_email="IDA@example.dk")
    other = submit(cvr=None, company_name="", contact_email="jens@example.dk")

    assert second.case_id == first.case_id
    assert other.case_id != first.case_id
    # The company the second request made while it was being read is not left behind.
    assert Company.objects.filter(cvr__isnull=True).count() == 2


def test_another_hub_gets_a_new_case_flagged_as_related(export_offers: None) -> None:
    cvr = next_cvr()
    first = submit(cvr=cvr)
    aarhus = Municipality.objects.select_related("region").get(code=751)

    second = submit(cvr=cvr, municipality=aarhus)

    assert second.case_id != first.case_id
    assert second.case.hub == Organisation.objects.get(slug="vaeksthus-midtjylland")
    new_note = second.case.timeline.get(action="crm.case.related")
    assert first.case.reference in new_note.text and not new_note.is_public
    old_note = first.case.timeline.get(action="crm.case.related")
    assert second.case.reference in old_note.text


def test_a_retried_repeat_request_attaches_once(export_offers: None) -> None:
    cvr = next_cvr()
    first = submit(cvr=cvr)
    body = submission(cvr=cvr, needs="Ny henvendelse om kapital.")

    again = [
        guidance_request_submit(submission=body, channel="api", idempotency_key="k-1")
        for _ in range(2)
    ]

    assert {request.pk for request in again} == {first.pk}
    assert RepeatRequest.objects.count() == 1
    assert first.case.timeline.filter(action="crm.case.repeat_request").count() == 1
    with pytest.raises(IdempotencyConflict):
        guidance_request_submit(
            submission=submission(cvr=cvr, needs="Noget andet"),
            channel="api",
            idempotency_key="k-1",
        )


def test_the_hub_inbox_hears_of_it_when_the_adviser_is_away(
    export_offers: None, adviser: User
) -> None:
    cvr = next_cvr()
    first = submit(cvr=cvr)
    crm_services.case_assign(case=first.case, adviser=adviser, actor=adviser)
    today = timezone.localdate()
    crm_services.absence_save(
        actor=adviser, adviser=adviser, starts_on=today - dt.timedelta(days=1), ends_on=today
    )

    submit(cvr=cvr)

    told = Notification.objects.get(kind=Notification.Kind.REPEAT_REQUEST)
    assert told.recipient == first.case.hub.inbox_email


def test_erasing_a_colleague_masks_their_repeat_request_on_the_companys_case(
    export_offers: None,
) -> None:
    cvr = next_cvr()
    first = submit(cvr=cvr, contact_name="Anne Larsen", contact_email="anne@firma.dk")
    submit(
        cvr=cvr,
        contact_name="Bo Bentsen",
        contact_email="bo@firma.dk",
        contact_phone="+45 77 77 77 77",
        needs="Ring til Bo Bentsen på +45 77 77 77 77.",
    )

    crm_services.person_erase(email="bo@firma.dk", erased_by="test")

    entry = first.case.timeline.get(action="crm.case.repeat_request")
    assert "Bo Bentsen" not in entry.text and "77 77 77 77" not in entry.text
    assert "Bo Bentsen" not in str(entry.payload)
    # Anne's own case texts keep what they say.
    assert first.case.contact.name == "Anne Larsen"


def test_a_case_closed_as_not_handled_reopens_and_the_ladder_starts_over(
    export_offers: None, time_machine
) -> None:
    cvr = next_cvr()
    # Monday 21 December 2026 at 10:00; the ladder closes it as not handled on 8 January.
    time_machine.move_to(dt.datetime(2026, 12, 21, 10, tzinfo=CPH), tick=False)
    first = submit(cvr=cvr)
    for day in (
        dt.datetime(2026, 12, 28, 6, 45, tzinfo=CPH),
        dt.datetime(2026, 12, 30, 6, 45, tzinfo=CPH),
        dt.datetime(2027, 1, 8, 6, 45, tzinfo=CPH),
    ):
        time_machine.move_to(day, tick=False)
        crm_services.followup_ladder_run(now=day)
    case = Case.objects.get(pk=first.case_id)
    assert case.outcome == Case.Outcome.NOT_HANDLED

    time_machine.move_to(dt.datetime(2027, 1, 11, 10, tzinfo=CPH), tick=False)
    submit(cvr=cvr)
    case.refresh_from_db()
    assert case.is_open and not case.follow_ups.exists()

    nudged = dt.datetime(2027, 1, 12, 6, 45, tzinfo=CPH)
    time_machine.move_to(nudged, tick=False)
    assert crm_services.followup_ladder_run(now=nudged)["nudge"] == 1
