"""Referrals the operator does not answer: the operator is reminded, then the adviser, on Danish
working days (crm.services.followup.referrals_follow_up), each step once, with the clock moved
across Christmas."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from crm import services
from crm.models import Notification, Referral, ReferralFollowUp
from offers.models import Organisation

CPH = ZoneInfo("Europe/Copenhagen")
Step = ReferralFollowUp.Step


def morning(month: int, day: int, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, 6, 45, tzinfo=CPH)


def run_on(time_machine, day: dt.datetime) -> dict[str, int]:
    time_machine.move_to(day, tick=False)
    return services.followup_run(now=day)


def steps_of(referral: Referral) -> list[str]:
    return list(referral.follow_ups.order_by("at", "id").values_list("step", flat=True))


def mails(kind: str) -> list[Notification]:
    return list(Notification.objects.filter(kind=kind).order_by("id"))


@pytest.fixture
def eksportraadet(db):
    organisation = Organisation.objects.get(slug="eksportraadet")
    organisation.contact_email = "info@eksportraadet.dk"
    organisation.save(update_fields=["contact_email"])
    return organisation


@pytest.fixture
def refer(make_case, adviser, eksportraadet, time_machine):
    def make(at: dt.datetime, **fields) -> Referral:
        time_machine.move_to(at, tick=False)
        case = make_case()
        services.case_assign(case=case, adviser=adviser, actor=adviser)
        return services.referral_create(case=case, operator=eksportraadet, actor=adviser, **fields)

    return make


def test_the_operator_then_the_adviser_are_reminded_on_working_days_over_christmas(
    refer, make_user, adviser, time_machine
):
    staff = make_user(
        "eksport-anna", organisation="eksportraadet", role="Operatør", email="anna@eksport.dk"
    )
    make_user(
        "eksport-gone",
        organisation="eksportraadet",
        role="Operatør",
        email="gone@eksport.dk",
        is_active=False,
    )
    # Thursday 17 December: three working days are Friday 18, Monday 21 and Tuesday 22.
    referral = refer(dt.datetime(2026, 12, 17, 10, 0, tzinfo=CPH))

    for day in (18, 19, 20, 21):
        run_on(time_machine, morning(12, day))
        assert steps_of(referral) == [], day

    counts = run_on(time_machine, morning(12, 22))

    assert counts["referral_operator"] == 1
    assert steps_of(referral) == [Step.OPERATOR]
    [reminder] = mails(Notification.Kind.REFERRAL_OPERATOR_REMINDER)
    assert reminder.recipient == staff.email
    assert referral.case.company.name in reminder.body
    assert f"/admin/crm/operatorreferral/{referral.pk}/change/" in reminder.body
    entry = referral.case.timeline.get(action="crm.referral.operator_reminded")
    assert entry.payload == {"referral": referral.pk, "to": "operator"}

    # The same morning again: nothing twice.
    again = run_on(time_machine, morning(12, 22))
    assert again["referral_operator"] == again["referral_adviser"] == 0
    assert len(mails(Notification.Kind.REFERRAL_OPERATOR_REMINDER)) == 1

    # Two working days after Tuesday 22: Wednesday 23 and, after Christmas and the weekend,
    # Monday 28.
    for day in (23, 24, 25, 26, 27):
        run_on(time_machine, morning(12, day))
        assert steps_of(referral) == [Step.OPERATOR], day
    counts = run_on(time_machine, morning(12, 28))

    assert counts["referral_adviser"] == 1
    assert steps_of(referral) == [Step.OPERATOR, Step.ADVISER]
    [to_adviser] = mails(Notification.Kind.REFERRAL_ADVISER_REMINDER)
    assert to_adviser.recipient == adviser.email
    assert referral.case.reference in to_adviser.body
    assert "Eksportrådet" in to_adviser.body
    assert referral.case.timeline.filter(action="crm.referral.adviser_reminded").count() == 1

    run_on(time_machine, morning(1, 5, 2027))
    assert len(mails(Notification.Kind.REFERRAL_ADVISER_REMINDER)) == 1
    assert len(mails(Notification.Kind.REFERRAL_OPERATOR_REMINDER)) == 1


def test_an_operator_without_staff_is_reminded_at_its_contact_address(refer, time_machine):
    referral = refer(dt.datetime(2026, 12, 17, 10, 0, tzinfo=CPH))

    run_on(time_machine, morning(12, 22))

    [reminder] = mails(Notification.Kind.REFERRAL_OPERATOR_REMINDER)
    assert reminder.recipient == "info@eksportraadet.dk"
    assert steps_of(referral) == [Step.OPERATOR]


def test_an_operator_without_any_address_is_still_recorded_and_the_adviser_follows(
    refer, eksportraadet, time_machine
):
    eksportraadet.contact_email = ""
    eksportraadet.save(update_fields=["contact_email"])
    referral = refer(dt.datetime(2026, 12, 17, 10, 0, tzinfo=CPH))

    run_on(time_machine, morning(12, 22))
    run_on(time_machine, morning(12, 28))

    assert mails(Notification.Kind.REFERRAL_OPERATOR_REMINDER) == []
    entry = referral.case.timeline.get(action="crm.referral.operator_reminded")
    assert entry.payload["to"] == "none"
    assert steps_of(referral) == [Step.OPERATOR, Step.ADVISER]


def test_answered_referrals_and_closed_cases_get_no_reminder(
    refer, make_user, adviser, time_machine
):
    staff = make_user("eksport-anna", organisation="eksportraadet", role="Operatør")
    answered = refer(dt.datetime(2026, 12, 17, 10, 0, tzinfo=CPH))
    services.referral_accept(referral=answered, actor=staff)
    closed = refer(dt.datetime(2026, 12, 17, 11, 0, tzinfo=CPH))
    services.case_close(case=closed.case, outcome="guided", actor=adviser)
    waiting = refer(dt.datetime(2026, 12, 17, 12, 0, tzinfo=CPH))

    counts = run_on(time_machine, morning(12, 22))

    assert counts["referral_operator"] == 1
    assert steps_of(answered) == steps_of(closed) == []
    assert steps_of(waiting) == [Step.OPERATOR]


def test_an_answer_after_the_operator_reminder_stops_the_advisers(refer, make_user, time_machine):
    staff = make_user("eksport-anna", organisation="eksportraadet", role="Operatør")
    referral = refer(dt.datetime(2026, 12, 17, 10, 0, tzinfo=CPH))
    run_on(time_machine, morning(12, 22))

    services.referral_decline(referral=referral, reason="not_in_area", outcome="", actor=staff)
    run_on(time_machine, morning(12, 28))

    assert steps_of(referral) == [Step.OPERATOR]
    assert mails(Notification.Kind.REFERRAL_ADVISER_REMINDER) == []


def test_a_referral_late_on_a_friday_counts_from_that_friday(refer, time_machine):
    # Friday 11 December 2026 at 23:30 Danish time (22:30 UTC): Monday 14, Tuesday 15 and
    # Wednesday 16 are the three working days.
    referral = refer(dt.datetime(2026, 12, 11, 23, 30, tzinfo=CPH))

    run_on(time_machine, morning(12, 15))
    assert steps_of(referral) == []
    run_on(time_machine, morning(12, 16))
    assert steps_of(referral) == [Step.OPERATOR]
