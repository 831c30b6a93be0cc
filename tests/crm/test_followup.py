"""The reminder ladder on Danish working days (crm.services.followup), step by step, with the clock
moved across Christmas and Easter."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from crm import services, tasks
from crm.models import Case, CaseFollowUp, HubLead, Notification, TimelineEntry

CPH = ZoneInfo("Europe/Copenhagen")
Step = CaseFollowUp.Step


def morning(year: int, month: int, day: int) -> dt.datetime:
    # The beat schedule runs the job at 6:45.
    return dt.datetime(year, month, day, 6, 45, tzinfo=CPH)


def steps_of(case: Case) -> list[str]:
    return list(case.follow_ups.order_by("at", "id").values_list("step", flat=True))


def mails(kind: str) -> list[Notification]:
    return list(Notification.objects.filter(kind=kind).order_by("id"))


@pytest.fixture
def christmas_case(make_case, time_machine):
    """A request on Monday 21 December 2026 at 10:00: due Wednesday 23 December; 24, 25 and 31
    December and 1 January are closed, and so are the weekends."""
    time_machine.move_to(dt.datetime(2026, 12, 21, 10, 0, tzinfo=CPH), tick=False)
    case = make_case()
    assert case.first_response_due == dt.date(2026, 12, 23)
    return case


def run_on(time_machine, day: dt.datetime) -> dict[str, int]:
    time_machine.move_to(day, tick=False)
    return services.followup_ladder_run(now=day)


def test_it_nudges_the_hub_queue_on_the_first_working_day_after_the_deadline_not_over_christmas(
    christmas_case, time_machine
):
    for day in (23, 24, 25, 26, 27):
        run_on(time_machine, morning(2026, 12, day))
        assert steps_of(christmas_case) == [], day
    assert mails(Notification.Kind.FOLLOWUP_NUDGE) == []

    counts = run_on(time_machine, morning(2026, 12, 28))

    assert counts[Step.NUDGE] == 1
    assert steps_of(christmas_case) == [Step.NUDGE]
    [nudge] = mails(Notification.Kind.FOLLOWUP_NUDGE)
    # Nobody has taken the case: the hub's queue (its inbox) hears of it.
    assert nudge.recipient == christmas_case.hub.inbox_email
    assert christmas_case.reference in nudge.body
    entry = christmas_case.timeline.get(action="crm.followup.nudge")
    assert entry.kind == TimelineEntry.Kind.REMINDER
    assert not entry.is_public


def test_it_nudges_the_adviser_when_the_case_has_one(make_case, adviser, time_machine):
    time_machine.move_to(dt.datetime(2026, 12, 21, 10, 0, tzinfo=CPH), tick=False)
    case = make_case()
    # An adviser set without a first response: what a data fix or an import can leave.
    Case.objects.filter(pk=case.pk).update(adviser=adviser, status=Case.Status.ASSIGNED)

    run_on(time_machine, morning(2026, 12, 28))

    [nudge] = mails(Notification.Kind.FOLLOWUP_NUDGE)
    assert nudge.recipient == adviser.email


def test_it_alerts_the_lead_and_tells_the_company_two_working_days_after_the_nudge(
    christmas_case, make_user, time_machine
):
    lead = make_user(
        "leder", organisation="vaeksthus-midtjylland", role="Rådgiver", email="leder@vh.dk"
    )
    HubLead.objects.create(hub=christmas_case.hub, lead=lead)
    run_on(time_machine, morning(2026, 12, 28))
    run_on(time_machine, morning(2026, 12, 29))
    assert steps_of(christmas_case) == [Step.NUDGE]

    counts = run_on(time_machine, morning(2026, 12, 30))

    assert counts[Step.LEAD_ALERT] == 1
    assert counts[Step.COMPANY_UPDATE] == 1
    assert steps_of(christmas_case) == [Step.NUDGE, Step.LEAD_ALERT, Step.COMPANY_UPDATE]
    [alert] = mails(Notification.Kind.FOLLOWUP_LEAD)
    assert alert.recipient == "leder@vh.dk"
    assert christmas_case.reference in alert.body
    [update] = mails(Notification.Kind.FOLLOWUP_COMPANY)
    assert update.recipient == christmas_case.contact.email
    assert update.case_id == christmas_case.pk
    # Three working days after 30 December: 31 December, New Year's Day and the weekend are
    # closed, so Monday 4, Tuesday 5 and Wednesday 6 January.
    assert "onsdag 6. januar 2027" in update.body
    assert "Vi har ikke glemt dig" in update.body
    public = christmas_case.timeline.get(action="crm.followup.company_update")
    assert public.is_public
    assert public.payload == {"expected_by": "2027-01-06"}
    assert "6. januar 2027" in public.text


def test_without_a_named_lead_the_alert_goes_to_the_hub_inbox(christmas_case, time_machine):
    for day in (28, 30):
        run_on(time_machine, morning(2026, 12, day))

    [alert] = mails(Notification.Kind.FOLLOWUP_LEAD)
    assert alert.recipient == christmas_case.hub.inbox_email


def test_it_closes_the_case_as_not_handled_after_the_new_date_has_passed(
    christmas_case, time_machine
):
    for day in (28, 30):
        run_on(time_machine, morning(2026, 12, day))
    for day in (4, 5, 6, 7):
        run_on(time_machine, morning(2027, 1, day))
        christmas_case.refresh_from_db()
        assert christmas_case.is_open, day

    counts = run_on(time_machine, morning(2027, 1, 8))

    assert counts[Step.CLOSED_NOT_HANDLED] == 1
    christmas_case.refresh_from_db()
    assert christmas_case.status == Case.Status.CLOSED
    assert christmas_case.outcome == Case.Outcome.NOT_HANDLED
    assert christmas_case.closed_at == morning(2027, 1, 8)
    assert steps_of(christmas_case)[-1] == Step.CLOSED_NOT_HANDLED
    closed = christmas_case.timeline.get(action="crm.case.closed")
    assert closed.is_public
    assert closed.payload["outcome"] == "not_handled"
    [told] = mails(Notification.Kind.CASE_NOT_HANDLED)
    assert told.recipient == christmas_case.contact.email
    # Other routes to help: the catalogue, a new request, the municipality, Virksomhedsguiden.
    assert "/tilbud/" in told.body
    assert "/vejledning/" in told.body
    assert "Aarhus" in told.body
    assert "virksomhedsguiden.dk" in told.body
    # The ordinary closing e-mail is not sent on top.
    assert mails(Notification.Kind.CASE_CLOSED) == []


def test_a_first_response_stops_the_ladder(christmas_case, adviser, time_machine):
    run_on(time_machine, morning(2026, 12, 28))
    time_machine.move_to(dt.datetime(2026, 12, 28, 9, 0, tzinfo=CPH), tick=False)
    services.case_assign(case=christmas_case, adviser=adviser, actor=adviser)
    services.case_note_add(
        case=christmas_case, kind="call", text="Ringede til virksomheden.", actor=adviser
    )

    for day in (30, 31):
        run_on(time_machine, morning(2026, 12, day))
    for day in (4, 8, 15):
        run_on(time_machine, morning(2027, 1, day))

    assert steps_of(christmas_case) == [Step.NUDGE]
    christmas_case.refresh_from_db()
    assert christmas_case.is_open
    assert mails(Notification.Kind.FOLLOWUP_LEAD) == []


def test_a_job_down_for_weeks_does_not_run_the_whole_ladder_in_one_morning(
    christmas_case, time_machine
):
    counts = run_on(time_machine, morning(2027, 2, 1))

    assert counts == {
        Step.NUDGE: 1,
        Step.LEAD_ALERT: 0,
        Step.COMPANY_UPDATE: 0,
        Step.CLOSED_NOT_HANDLED: 0,
    }
    christmas_case.refresh_from_db()
    assert christmas_case.is_open


def test_it_counts_from_easter_monday_not_through_it(make_case, time_machine):
    # Tuesday 31 March 2026: Maundy Thursday, Good Friday and Easter Monday are closed.
    time_machine.move_to(dt.datetime(2026, 3, 31, 10, 0, tzinfo=CPH), tick=False)
    case = make_case()
    assert case.first_response_due == dt.date(2026, 4, 7)

    for day in (2, 3, 6, 7):
        run_on(time_machine, morning(2026, 4, day))
    assert steps_of(case) == []
    run_on(time_machine, morning(2026, 4, 8))
    assert steps_of(case) == [Step.NUDGE]


def test_running_twice_sends_nothing_twice(christmas_case, make_case, time_machine):
    time_machine.move_to(dt.datetime(2026, 12, 21, 11, 0, tzinfo=CPH), tick=False)
    second = make_case()
    for day in (28, 30):
        run_on(time_machine, morning(2026, 12, day))
        again = run_on(time_machine, morning(2026, 12, day) + dt.timedelta(hours=3))
        assert set(again.values()) == {0}
    run_on(time_machine, morning(2027, 1, 8))
    assert set(run_on(time_machine, morning(2027, 1, 8)).values()) == {0}

    # One nudge e-mail listing both cases, one alert, one update and one closing per case.
    [nudge] = mails(Notification.Kind.FOLLOWUP_NUDGE)
    assert christmas_case.reference in nudge.body and second.reference in nudge.body
    assert len(mails(Notification.Kind.FOLLOWUP_LEAD)) == 1
    assert len(mails(Notification.Kind.FOLLOWUP_COMPANY)) == 2
    assert len(mails(Notification.Kind.CASE_NOT_HANDLED)) == 2
    assert TimelineEntry.objects.filter(action="crm.followup.nudge").count() == 2
    assert CaseFollowUp.objects.count() == 8


def test_the_ladder_works_in_batches(christmas_case, make_case, settings, time_machine):
    settings.FOLLOWUP_BATCH = 1
    time_machine.move_to(dt.datetime(2026, 12, 21, 11, 0, tzinfo=CPH), tick=False)
    make_case()
    make_case()

    counts = run_on(time_machine, morning(2026, 12, 28))

    assert counts[Step.NUDGE] == 3
    # One e-mail per batch: each lists its own case, none is lost.
    assert len(mails(Notification.Kind.FOLLOWUP_NUDGE)) == 3


def test_the_company_without_an_address_still_moves_up_the_ladder(christmas_case, time_machine):
    contact = christmas_case.contact
    contact.email = ""
    contact.save(update_fields=["email"])
    for day in (28, 30):
        run_on(time_machine, morning(2026, 12, day))

    assert Step.COMPANY_UPDATE in steps_of(christmas_case)
    assert mails(Notification.Kind.FOLLOWUP_COMPANY) == []


def test_the_rows_wait_in_the_outbox_for_the_sweep(christmas_case, time_machine):
    run_on(time_machine, morning(2026, 12, 28))

    [nudge] = mails(Notification.Kind.FOLLOWUP_NUDGE)
    # Not handed to the broker: the one-minute sweep sends it, whether Redis is up or not.
    assert nudge.status == Notification.Status.PENDING
    assert nudge.enqueued_at is None
    assert nudge.next_attempt_at <= morning(2026, 12, 28)


def test_the_daily_task_runs_the_ladder_and_the_surveys(christmas_case, time_machine):
    time_machine.move_to(morning(2026, 12, 28), tick=False)

    result = tasks.cases_follow_up.apply().get()

    assert result[Step.NUDGE] == 1
    assert result[Step.SURVEY] == 0
    assert steps_of(christmas_case) == [Step.NUDGE]


def test_the_task_is_scheduled_before_the_digest(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["crm-follow-up"]["task"] == "crm.tasks.cases_follow_up"
    follow_up, digest = (
        schedule["crm-follow-up"]["schedule"],
        schedule["crm-overdue-digest"]["schedule"],
    )
    assert (min(follow_up.hour), min(follow_up.minute)) < (min(digest.hour), min(digest.minute))


def test_the_hubs_digest_shows_the_step_each_case_has_reached(christmas_case, time_machine):
    run_on(time_machine, morning(2026, 12, 28))
    time_machine.move_to(morning(2026, 12, 28) + dt.timedelta(minutes=15), tick=False)

    services.overdue_digests_queue(day=dt.date(2026, 12, 28))

    digest = Notification.objects.get(kind=Notification.Kind.OVERDUE_DIGEST)
    assert f"{christmas_case.reference} · " in digest.body
    assert "Påmindelse til rådgiveren eller Væksthuset" in digest.body


def test_each_company_gets_its_own_name_reference_and_link(christmas_case, make_case, time_machine):
    time_machine.move_to(dt.datetime(2026, 12, 21, 11, 0, tzinfo=CPH), tick=False)
    second = make_case()
    for day in (28, 30):
        run_on(time_machine, morning(2026, 12, day))

    for case in (christmas_case, second):
        mail = Notification.objects.get(kind=Notification.Kind.FOLLOWUP_COMPANY, case=case)
        assert mail.recipient == case.contact.email
        assert f"Kære {case.contact.name}\n" in mail.body
        assert f"henvendelse {case.reference}," in mail.body
        assert mail.subject == f"Vi har ikke glemt din henvendelse ({case.reference})"
        assert "\ue000" not in mail.body + mail.subject


def test_taking_the_case_or_a_note_does_not_stop_the_ladder(christmas_case, adviser, time_machine):
    run_on(time_machine, morning(2026, 12, 28))
    time_machine.move_to(dt.datetime(2026, 12, 28, 9, 0, tzinfo=CPH), tick=False)
    services.case_assign(case=christmas_case, adviser=adviser, actor=adviser)
    services.case_note_add(case=christmas_case, kind="note", text="Ser på den.", actor=adviser)

    for day in (30, 31):
        run_on(time_machine, morning(2026, 12, day))

    # The company hears "we have not forgotten you": taking the case told it nothing.
    assert steps_of(christmas_case) == [Step.NUDGE, Step.LEAD_ALERT, Step.COMPANY_UPDATE]
    assert len(mails(Notification.Kind.FOLLOWUP_COMPANY)) == 1


def test_an_adviser_cannot_close_a_case_as_not_handled(make_case, adviser):
    case = make_case()
    services.case_assign(case=case, adviser=adviser, actor=adviser)

    with pytest.raises(services.CrmError):
        services.case_close(case=case, outcome=Case.Outcome.NOT_HANDLED, actor=adviser)

    case.refresh_from_db()
    assert case.is_open
