"""The company's private pages: the status link first, the suggested offers and referrals kept."""

from __future__ import annotations

import pytest
from django.test import Client

from crm import services as crm_services
from offers.models import Offer, Organisation
from routing.models import GuidanceRequest
from tests.routing.test_views import adviser, submitted  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def test_the_confirmation_puts_the_status_link_before_hub_and_offers(
    client: Client,
    submitted: GuidanceRequest,  # noqa: F811
) -> None:
    html = client.get(f"/vejledning/{submitted.token}/kvittering/").text

    link = html.index(f"/vejledning/{submitted.token}/</a>")
    assert link < html.index('id="who-heading"') < html.index('id="matches-heading"')


def test_the_status_page_repeats_the_suggestions_and_links_the_referrals(
    client: Client,
    submitted: GuidanceRequest,  # noqa: F811
    adviser,  # noqa: F811
) -> None:
    case = submitted.case
    crm_services.case_assign(case=case, adviser=adviser, actor=adviser)
    offer = Offer.objects.get(external_id="eksportstart")
    declined = crm_services.referral_create(
        case=case, operator=Organisation.objects.get(slug="eifo"), actor=adviser
    )
    crm_services.referral_decline(referral=declined, outcome="Ikke relevant", actor=adviser)
    crm_services.referral_create(case=case, offer=offer, actor=adviser)

    html = client.get(f"/vejledning/{submitted.token}/").text

    referrals = html[html.index('id="referrals-heading"') : html.index('id="matches-heading"')]
    assert f'href="{offer.get_absolute_url()}"' in referrals
    assert "EIFO" not in referrals  # a declined referral is not shown as one
    suggestions = html[html.index('id="matches-heading"') : html.index('id="needs-heading"')]
    assert 'href="/tilbud/eksportstart/"' in suggestions
