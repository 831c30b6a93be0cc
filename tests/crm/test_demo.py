from __future__ import annotations

from io import StringIO

import pytest
from django.utils import timezone
from stdnum.dk import cvr

from crm import demo
from crm.models import Case, Company, Feedback, HubLead, Referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def hub_advisers(make_user):
    for slug in ("nordjylland", "midtjylland", "syddanmark", "hovedstaden", "sjaelland"):
        make_user(f"raadgiver-{slug}", organisation=f"vaeksthus-{slug}", role="Rådgiver")


def test_the_demo_fills_every_hub_with_cases_in_every_status_once(hub_advisers, offer):
    # The fixture offer stands in for one offer of the demo catalogue.
    offer.external_id = "eksportraadet-markedsafklaring"
    offer.save()

    demo.load(stdout=StringIO())
    counts = (Case.objects.count(), Company.objects.count())
    again = StringIO()
    demo.load(stdout=again)

    assert (Case.objects.count(), Company.objects.count()) == counts
    assert "already loaded" in again.getvalue()
    assert counts[0] == 80
    assert set(Case.objects.values_list("status", flat=True)) == set(Case.Status.values)
    assert Case.objects.values("hub").distinct().count() == 5
    numbers = [number for number in Company.objects.values_list("cvr", flat=True) if number]
    assert all(cvr.is_valid(number) for number in numbers)
    assert Company.objects.filter(cvr=None).exists()
    assert Feedback.objects.exists()
    assert Case.objects.overdue_on(timezone.localdate()).exists()
    assert all(case.timeline.count() >= 1 for case in Case.objects.all()[:10])
    referrals = Referral.objects.filter(offer=offer)
    assert referrals.filter(status=Referral.Status.COMPLETED).exists()


def test_the_demo_names_the_hub_lead_and_gives_the_operator_referrals_to_answer(
    hub_advisers, offer, make_user
):
    offer.external_id = "eksportraadet-markedsafklaring"
    offer.save()
    lead = make_user("leder-midtjylland", organisation="vaeksthus-midtjylland", role="Rådgiver")
    operator = make_user("operatoer-eksportraadet", organisation="eksportraadet", role="Operatør")

    demo.load(stdout=StringIO())
    demo.load(stdout=StringIO())

    [hub_lead] = HubLead.objects.all()
    assert (hub_lead.hub.slug, hub_lead.lead) == ("vaeksthus-midtjylland", lead)
    theirs = Referral.objects.to_operator_of(operator)
    assert theirs.exists()
    assert theirs.filter(share_contact=True).exists()
    assert theirs.filter(share_contact=False).exists()
