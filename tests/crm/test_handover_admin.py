"""Handover in one admin action: choose, see the cases, confirm; same hub only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm import services
from crm.models import Case, HubLead

URL = reverse("admin:crm_absence_handover")


@pytest.fixture
def colleague(make_user):
    return make_user(
        "anne", organisation="vaeksthus-midtjylland", role="Rådgiver", email="anne@vh.dk"
    )


@pytest.fixture
def taken(make_case, adviser):
    cases = [make_case(), make_case()]
    for case in cases:
        services.case_assign(case=case, adviser=adviser, actor=adviser)
    return cases


def test_the_adviser_sees_the_cases_then_confirms_and_each_gets_an_entry(
    logged_in, adviser, colleague, taken
):
    client = logged_in(adviser)
    assert client.get(URL).status_code == 200
    choice = {"from_adviser": adviser.pk, "to_adviser": colleague.pk}

    preview = client.post(URL, choice)

    page = preview.content.decode()
    assert preview.status_code == 200
    for case in taken:
        assert case.reference in page
        case.refresh_from_db()
        assert case.adviser == adviser  # nothing moved yet

    done = client.post(URL, {**choice, "confirm": "1"})

    assert done.status_code == 302
    for case in taken:
        case.refresh_from_db()
        assert case.adviser == colleague
        assert case.timeline.filter(action="crm.case.handed_over").count() == 1


def test_a_crafted_post_naming_a_colleague_of_another_hub_is_refused(
    logged_in, adviser, other_adviser, taken, superuser
):
    for actor in (adviser, superuser):
        client = logged_in(actor)
        response = client.post(
            URL, {"from_adviser": adviser.pk, "to_adviser": other_adviser.pk, "confirm": "1"}
        )
        assert response.status_code == 200
        assert "to_adviser" in response.context["form"].errors
    for case in taken:
        case.refresh_from_db()
        assert case.adviser == adviser
        assert not case.timeline.filter(action="crm.case.handed_over").exists()


def test_an_adviser_cannot_hand_over_a_colleagues_cases_but_the_hub_lead_can(
    logged_in, adviser, colleague, taken, make_user, hub
):
    response = logged_in(colleague).post(
        URL, {"from_adviser": adviser.pk, "to_adviser": colleague.pk, "confirm": "1"}
    )
    assert "from_adviser" in response.context["form"].errors
    assert Case.objects.filter(adviser=colleague).count() == 0

    lead = make_user("leder", organisation="vaeksthus-midtjylland", role="Rådgiver")
    HubLead.objects.create(hub=hub, lead=lead)
    response = logged_in(lead).post(
        URL, {"from_adviser": adviser.pk, "to_adviser": colleague.pk, "confirm": "1"}
    )
    assert response.status_code == 302
    assert Case.objects.filter(adviser=colleague).count() == 2


def test_another_hubs_adviser_cannot_touch_the_cases(logged_in, adviser, other_adviser, taken):
    response = logged_in(other_adviser).post(
        URL, {"from_adviser": adviser.pk, "to_adviser": other_adviser.pk, "confirm": "1"}
    )
    assert response.status_code == 200
    assert "from_adviser" in response.context["form"].errors
    assert Case.objects.filter(adviser=adviser).count() == 2


def test_users_outside_the_crm_get_nothing(logged_in, editor):
    assert logged_in(editor).get(URL).status_code == 403


def test_cases_are_not_handed_to_a_colleague_who_is_away(logged_in, adviser, colleague, taken):
    from django.utils import timezone

    today = timezone.localdate()
    services.absence_save(actor=colleague, adviser=colleague, starts_on=today, ends_on=today)

    response = logged_in(adviser).post(
        URL, {"from_adviser": adviser.pk, "to_adviser": colleague.pk, "confirm": "1"}
    )

    assert response.status_code == 200
    assert "to_adviser" in response.context["form"].errors
    assert Case.objects.filter(adviser=adviser).count() == 2
