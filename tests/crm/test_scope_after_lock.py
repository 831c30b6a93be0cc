"""The services check state and scope on the locked case, not only on what a view read earlier."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm import services
from crm.models import Case, Referral, TimelineEntry
from crm.services import CrmError

pytestmark = pytest.mark.django_db


@pytest.fixture
def referred(make_case, adviser, offer):
    case = services.case_assign(case=make_case(), adviser=adviser, actor=adviser)
    referral = services.referral_create(case=case, offer=offer, actor=adviser)
    return case, referral


def test_a_crafted_post_cannot_complete_a_referral_of_a_closed_case(logged_in, adviser, referred):
    case, referral = referred
    services.case_close(case=case, outcome=Case.Outcome.GUIDED, actor=adviser)

    response = logged_in(adviser).post(
        reverse("admin:crm_case_referral_action", args=[case.pk, referral.pk, "complete"]),
        {f"referral-{referral.pk}-outcome": "Deltog i forløbet"},
    )

    assert response.status_code == 400
    assert "Sagen er lukket og kan ikke ændres." in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == Referral.Status.PROPOSED
    assert referral.completed_at is None
    # So it never counts as a participation for the effect measurement.
    assert not Referral.objects.filter(status=Referral.Status.COMPLETED).exists()


@pytest.mark.parametrize("finish", ["accept", "complete", "decline"])
def test_no_referral_of_a_closed_case_changes(adviser, referred, finish):
    case, referral = referred
    services.case_close(case=case, outcome=Case.Outcome.GUIDED, actor=adviser)

    with pytest.raises(CrmError, match="Sagen er lukket"):
        if finish == "accept":
            services.referral_accept(referral=referral, actor=adviser)
        elif finish == "complete":
            services.referral_complete(referral=referral, outcome="Brugt", actor=adviser)
        else:
            services.referral_decline(referral=referral, outcome="Nej tak", actor=adviser)
    referral.refresh_from_db()
    assert referral.status == Referral.Status.PROPOSED


def test_an_action_racing_a_transfer_does_not_land_on_the_other_hubs_case(
    adviser, other_hub, referred
):
    case, referral = referred
    stale = Case.objects.get(pk=case.pk)  # what the view read and checked: our hub's case
    # The transfer commits between the view's check and the service's lock.
    services.case_transfer(case=case, hub=other_hub, reason="Ligger i Nordjylland", actor=adviser)

    attempts = [
        lambda: services.case_note_add(case=stale, kind="note", text="Ringede", actor=adviser),
        lambda: services.case_close(case=stale, outcome=Case.Outcome.GUIDED, actor=adviser),
        lambda: services.case_assign(case=stale, adviser=adviser, actor=adviser),
        lambda: services.case_transition(case=stale, status="in_progress", actor=adviser),
        lambda: services.referral_create(case=stale, operator=other_hub, actor=adviser),
        lambda: services.referral_complete(referral=referral, outcome="Brugt", actor=adviser),
        lambda: services.case_transfer(case=stale, hub=other_hub, reason="x", actor=adviser),
    ]
    for attempt in attempts:
        with pytest.raises(CrmError, match="Sagen ligger nu hos Væksthus Nordjylland"):
            attempt()

    case.refresh_from_db()
    assert case.hub == other_hub
    assert case.status == Case.Status.NEW
    assert not TimelineEntry.objects.filter(case=case, action="crm.case.note").exists()
    referral.refresh_from_db()
    assert referral.status == Referral.Status.PROPOSED


def test_the_new_hubs_adviser_and_a_superuser_may_act_after_the_transfer(
    adviser, other_adviser, superuser, other_hub, referred
):
    case, _referral = referred
    services.case_transfer(case=case, hub=other_hub, reason="Ligger i Nordjylland", actor=adviser)

    services.case_note_add(case=case, kind="note", text="Overtaget", actor=other_adviser)
    services.case_note_add(case=case, kind="note", text="Set", actor=superuser)

    assert case.timeline.filter(action="crm.case.note").count() == 2
