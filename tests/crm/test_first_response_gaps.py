"""The gaps of the reminder ladder: taking a case is no first response, an answered case that goes
quiet is chased, and the status page shows the date the company was last promised."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from crm import services
from crm.models import Case, CaseFollowUp, Notification, TimelineEntry
from crm.services.common import FIRST_RESPONSE_KINDS, is_first_response
from routing.models import GuidanceRequest, token_digest

CPH = ZoneInfo("Europe/Copenhagen")
Step = CaseFollowUp.Step


def morning(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 6, 45, tzinfo=CPH)


def at(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(year, month, day, hour, 0, tzinfo=CPH)


def test_one_definition_of_a_first_response():
    # A real contact with the company answers it; an internal note or a referral it may not
    # have heard of does not.
    for kind in ("meeting", "call", "email"):
        assert is_first_response(kind), kind
    for kind in (
        "note",
        "referral",
        "assignment",
        "created",
        "status_change",
        "transfer",
        "reminder",
        "closed",
    ):
        assert not is_first_response(kind), kind
    assert TimelineEntry.Kind.ASSIGNMENT not in FIRST_RESPONSE_KINDS


def test_taking_the_case_does_not_silence_the_ladder(make_case, adviser, time_machine):
    # Monday 21 December 2026 at 10:00: due Wednesday 23 December.
    time_machine.move_to(at(2026, 12, 21), tick=False)
    case = make_case()
    services.case_assign(case=case, adviser=adviser, actor=adviser)

    time_machine.move_to(morning(2026, 12, 28), tick=False)
    services.followup_ladder_run(now=morning(2026, 12, 28))
    time_machine.move_to(morning(2026, 12, 30), tick=False)
    services.followup_ladder_run(now=morning(2026, 12, 30))

    steps = list(case.follow_ups.order_by("at", "id").values_list("step", flat=True))
    assert steps == [Step.NUDGE, Step.LEAD_ALERT, Step.COMPANY_UPDATE]
    [nudge] = Notification.objects.filter(kind=Notification.Kind.FOLLOWUP_NUDGE)
    assert nudge.recipient == adviser.email


def quiet_case(make_case, adviser, time_machine) -> Case:
    """Answered by a call on Monday 4 January 2027, then nothing."""
    time_machine.move_to(at(2027, 1, 4, 9), tick=False)
    case = make_case()
    services.case_assign(case=case, adviser=adviser, actor=adviser)
    services.case_note_add(case=case, kind="call", text="Ringede op", actor=adviser)
    return case


def stale(time_machine, when: dt.datetime) -> int:
    time_machine.move_to(when, tick=False)
    return services.stale_cases_run(now=when)[Step.STALE]


@pytest.mark.django_db
def test_an_answered_case_with_no_activity_is_chased_after_the_working_days(
    make_case, adviser, time_machine, settings
):
    settings.FOLLOWUP_STALE_WORKING_DAYS = 10
    case = quiet_case(make_case, adviser, time_machine)

    # Ten working days after Monday 4 January is Monday 18 January.
    for day in (8, 11, 15, 17):
        assert stale(time_machine, morning(2027, 1, day)) == 0, day
    assert stale(time_machine, morning(2027, 1, 18)) == 1
    # Run twice on a day: nothing twice.
    assert stale(time_machine, morning(2027, 1, 18).replace(hour=12)) == 0

    [mail] = Notification.objects.filter(kind=Notification.Kind.FOLLOWUP_STALE)
    assert mail.recipient == adviser.email
    assert case.reference in mail.body
    entry = case.timeline.get(action="crm.followup.stale")
    assert not entry.is_public and entry.payload == {"to": "adviser"}
    # Still quiet: chased again ten working days later (Monday 1 February), not before.
    assert stale(time_machine, morning(2027, 1, 29)) == 0
    assert stale(time_machine, morning(2027, 2, 1)) == 1
    assert case.timeline.filter(action="crm.followup.stale").count() == 2


@pytest.mark.django_db
def test_activity_resets_the_quiet_count_and_unanswered_or_closed_cases_are_not_chased(
    make_case, adviser, time_machine, settings
):
    settings.FOLLOWUP_STALE_WORKING_DAYS = 10
    case = quiet_case(make_case, adviser, time_machine)
    time_machine.move_to(morning(2027, 1, 4), tick=False)
    unanswered = make_case()
    closed = make_case()
    services.case_assign(case=closed, adviser=adviser, actor=adviser)
    services.case_note_add(case=closed, kind="note", text="Vejledt", actor=adviser)
    services.case_close(case=closed, outcome=Case.Outcome.GUIDED, actor=adviser)
    time_machine.move_to(at(2027, 1, 14), tick=False)
    services.case_note_add(case=case, kind="meeting", text="Møde", actor=adviser)

    assert stale(time_machine, morning(2027, 1, 18)) == 0
    # Ten working days after Thursday 14 January: Thursday 28 January.
    assert stale(time_machine, morning(2027, 1, 27)) == 0
    assert stale(time_machine, morning(2027, 1, 28)) == 1
    assert not unanswered.timeline.filter(action="crm.followup.stale").exists()
    assert not closed.timeline.filter(action="crm.followup.stale").exists()


@pytest.mark.django_db
def test_a_quiet_case_of_an_adviser_away_goes_to_the_hub_inbox(
    make_case, adviser, time_machine, settings
):
    settings.FOLLOWUP_STALE_WORKING_DAYS = 10
    case = quiet_case(make_case, adviser, time_machine)
    services.absence_save(
        actor=adviser,
        adviser=adviser,
        starts_on=dt.date(2027, 1, 15),
        ends_on=dt.date(2027, 1, 22),
    )

    assert stale(time_machine, morning(2027, 1, 18)) == 1

    [mail] = Notification.objects.filter(kind=Notification.Kind.FOLLOWUP_STALE)
    assert mail.recipient == case.hub.inbox_email
    assert case.timeline.get(action="crm.followup.stale").payload == {"to": "hub"}


def test_the_status_page_shows_the_new_promised_date_after_we_have_not_forgotten_you(
    make_case, client, time_machine
):
    time_machine.move_to(at(2026, 12, 21), tick=False)
    case = make_case()
    request = GuidanceRequest.objects.create(
        case=case,
        channel="form",
        token="t" * 43,
        token_hash=token_digest("t" * 43),
        municipality=case.company.municipality or _any_municipality(),
        hub=case.hub,
    )
    assert services.expected_response_by(case) == dt.date(2026, 12, 23)
    time_machine.move_to(at(2026, 12, 28, 11), tick=False)
    assert "23. december 2026" in client.get(request.get_absolute_url()).content.decode()

    for day in (28, 30):
        time_machine.move_to(morning(2026, 12, day), tick=False)
        services.followup_ladder_run(now=morning(2026, 12, day))

    assert services.expected_response_by(case) == dt.date(2027, 1, 6)
    time_machine.move_to(at(2026, 12, 30, 11), tick=False)
    page = client.get(request.get_absolute_url()).content.decode()
    assert "6. januar 2027" in page
    assert "23. december 2026" not in page


def _any_municipality():
    from offers.models import Municipality

    return Municipality.objects.get(code=630)


@pytest.mark.django_db
def test_quiet_cases_are_chased_batch_after_batch(make_case, adviser, time_machine, settings):
    settings.FOLLOWUP_STALE_WORKING_DAYS = 10
    settings.FOLLOWUP_BATCH = 1
    cases = [quiet_case(make_case, adviser, time_machine) for _ in range(3)]

    assert stale(time_machine, morning(2027, 1, 18)) == 3
    assert stale(time_machine, morning(2027, 1, 18).replace(hour=9)) == 0

    for case in cases:
        assert case.timeline.filter(action="crm.followup.stale").count() == 1
