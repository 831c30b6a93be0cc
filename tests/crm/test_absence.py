"""Advisers' absences: recorded in the admin within scope, and while one lasts, new work goes to
the hub's queue; it ends by itself on its end date."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from crm import services
from crm.models import Absence, Case, HubLead, Notification

CPH = ZoneInfo("Europe/Copenhagen")
ADD = reverse("admin:crm_absence_add")


@pytest.fixture
def colleague(make_user):
    return make_user(
        "anne", organisation="vaeksthus-midtjylland", role="Rådgiver", email="anne@vh.dk"
    )


@pytest.fixture
def lead(make_user, hub):
    user = make_user(
        "leder", organisation="vaeksthus-midtjylland", role="Rådgiver", email="leder@vh.dk"
    )
    HubLead.objects.create(hub=hub, lead=user)
    return user


def away(adviser, start: dt.date, end: dt.date) -> Absence:
    return services.absence_save(actor=adviser, adviser=adviser, starts_on=start, ends_on=end)


def test_an_absence_is_a_date_range_that_ends_by_itself(adviser):
    away(adviser, dt.date(2027, 1, 4), dt.date(2027, 1, 8))

    assert services.absence_of(adviser, dt.date(2027, 1, 3)) is None
    assert services.absence_of(adviser, dt.date(2027, 1, 4)) is not None
    assert services.absence_of(adviser, dt.date(2027, 1, 8)) is not None
    assert services.absence_of(adviser, dt.date(2027, 1, 9)) is None
    assert services.advisers_absent_on([adviser.pk, None], dt.date(2027, 1, 6)) == {adviser.pk}


def test_an_adviser_away_is_not_given_cases_but_may_take_one_themselves(
    make_case, adviser, colleague, time_machine
):
    time_machine.move_to(dt.datetime(2027, 1, 5, 10, tzinfo=CPH), tick=False)
    away(colleague, dt.date(2027, 1, 4), dt.date(2027, 1, 8))
    case = make_case()

    with pytest.raises(services.CrmError) as error:
        services.case_assign(case=case, adviser=colleague, actor=adviser)
    assert error.value.field == "adviser"
    assert "08.01.2027" in error.value.message
    case.refresh_from_db()
    assert case.adviser is None and case.status == Case.Status.NEW

    # Back at work the day after the absence ends: no job needed.
    time_machine.move_to(dt.datetime(2027, 1, 11, 10, tzinfo=CPH), tick=False)
    services.case_assign(case=case, adviser=colleague, actor=adviser)
    case.refresh_from_db()
    assert case.adviser == colleague


def test_the_ladder_treats_the_cases_of_an_adviser_away_as_the_hub_queue(
    make_case, adviser, time_machine
):
    time_machine.move_to(dt.datetime(2026, 12, 21, 10, tzinfo=CPH), tick=False)
    case = make_case()
    services.case_assign(case=case, adviser=adviser, actor=adviser)
    away(adviser, dt.date(2026, 12, 28), dt.date(2027, 1, 8))

    when = dt.datetime(2026, 12, 28, 6, 45, tzinfo=CPH)
    time_machine.move_to(when, tick=False)
    services.followup_ladder_run(now=when)

    [nudge] = Notification.objects.filter(kind=Notification.Kind.FOLLOWUP_NUDGE)
    assert nudge.recipient == case.hub.inbox_email
    assert case.timeline.get(action="crm.followup.nudge").payload == {"to": "hub"}


def test_scope_an_adviser_their_own_a_lead_their_hub_a_superuser_anyone(
    adviser, colleague, lead, other_adviser, superuser
):
    day = dt.date(2027, 1, 4)
    with pytest.raises(services.CrmError):
        services.absence_save(actor=adviser, adviser=colleague, starts_on=day, ends_on=day)
    with pytest.raises(services.CrmError):
        services.absence_save(actor=lead, adviser=other_adviser, starts_on=day, ends_on=day)
    services.absence_save(actor=lead, adviser=colleague, starts_on=day, ends_on=day)
    services.absence_save(actor=superuser, adviser=other_adviser, starts_on=day, ends_on=day)
    with pytest.raises(services.CrmError) as error:
        away(adviser, day, day - dt.timedelta(days=1))
    assert error.value.field == "ends_on"

    assert set(Absence.objects.editable_by(adviser)) == set()
    assert {a.adviser for a in Absence.objects.editable_by(lead)} == {colleague}
    # Ole's own (recorded by a superuser), and none of Midtjylland's.
    assert {a.adviser for a in Absence.objects.editable_by(other_adviser)} == {other_adviser}


def post(adviser, start="2027-01-04", end="2027-01-08") -> dict[str, str]:
    return {"adviser": str(adviser.pk), "starts_on": start, "ends_on": end, "note": "Ferie"}


def test_the_admin_form_records_the_advisers_own_absence(logged_in, adviser):
    client = logged_in(adviser)
    assert client.get(ADD).status_code == 200

    response = client.post(ADD, post(adviser))

    assert response.status_code == 302
    absence = Absence.objects.get()
    assert absence.adviser == adviser and absence.created_by == adviser
    assert (absence.starts_on, absence.ends_on) == (dt.date(2027, 1, 4), dt.date(2027, 1, 8))


def test_a_crafted_post_for_a_colleague_or_another_hub_gets_a_field_error(
    logged_in, adviser, colleague, other_adviser
):
    client = logged_in(adviser)
    for target in (colleague, other_adviser):
        response = client.post(ADD, post(target))
        assert response.status_code == 200
        assert "adviser" in response.context["adminform"].form.errors
    response = client.post(ADD, post(adviser, end="2027-01-01"))
    assert "ends_on" in response.context["adminform"].form.errors
    assert not Absence.objects.exists()


def test_another_hub_sees_and_changes_nothing(logged_in, adviser, other_adviser):
    absence = away(adviser, dt.date(2027, 1, 4), dt.date(2027, 1, 8))
    client = logged_in(other_adviser)

    listing = client.get(reverse("admin:crm_absence_changelist"))
    assert listing.status_code == 200
    assert "Mette" not in listing.content.decode()
    change = reverse("admin:crm_absence_change", args=[absence.pk])
    assert client.get(change).status_code in (302, 403, 404)
    client.post(change, post(other_adviser, start="2027-02-01", end="2027-02-02"))
    client.post(reverse("admin:crm_absence_delete", args=[absence.pk]), {"post": "yes"})
    absence.refresh_from_db()
    assert absence.adviser == adviser and absence.starts_on == dt.date(2027, 1, 4)


def test_a_lead_records_an_absence_for_a_colleague_in_the_admin(logged_in, lead, colleague):
    response = logged_in(lead).post(ADD, post(colleague))

    assert response.status_code == 302
    assert Absence.objects.get().adviser == colleague
