"""Every role tries the writes it should not have, crafted POSTs included, and changes nothing.

Roles: an anonymous visitor, a company holding another case's status link, an adviser of
another hub, an editor of another organisation, an analyst. Targets: a case of Væksthus
Midtjylland (its quick forms, the admin change form, the referral actions) and an offer of Region
Midtjylland (the API, the admin change form, the import). Each attempt must be refused (login,
403, 404, or a field error) and leave the data as it was.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from crm import services
from crm.models import Case, Referral, TimelineEntry
from offers.models import Offer, Organisation, Theme
from routing.models import GuidanceRequest
from routing.services import guidance_request_submit
from tests.crm.factories import CompanyFactory, ContactFactory
from tests.offers.factories import make_midt_digital
from tests.routing.factories import submission

pytestmark = pytest.mark.django_db

CASE_ACTIONS = {
    "take": {},
    "assign": {"assign-adviser": "{own_adviser}"},
    "note": {"note-kind": "note", "note-text": "Skrevet af en uvedkommende"},
    "transition": {"transition-status": "in_progress"},
    "refer": {"refer-offer": "{offer}", "refer-note": "Uvedkommende henvisning"},
    "transfer": {"transfer-hub": "{other_hub}", "transfer-reason": "Uvedkommende"},
    "close": {"close-outcome": "not_relevant"},
}


@pytest.fixture
def world(make_user):
    hub = Organisation.objects.get(slug="vaeksthus-midtjylland")
    own_adviser = make_user("mette", organisation="vaeksthus-midtjylland", role="Rådgiver")
    offer = make_midt_digital(
        external_id="region-midt-digital", operator="region-midtjylland", themes=[]
    )
    company = CompanyFactory.create()
    case = services.case_create(
        company=company,
        contact=ContactFactory.create(company=company),
        hub=hub,
        needs="Vi vil gerne digitalisere.",
        themes=Theme.objects.filter(slug="digitalisation"),
        source=Case.Source.WEB,
    )
    services.case_assign(case=case, adviser=own_adviser, actor=own_adviser)
    referral = services.referral_create(
        case=case, offer=offer, operator=None, note="", actor=own_adviser
    )
    other_request = guidance_request_submit(submission=submission(), channel="api")
    return {
        "case": case,
        "offer": offer,
        "referral": referral,
        "own_adviser": own_adviser,
        "other_hub": Organisation.objects.get(slug="vaeksthus-nordjylland"),
        "other_token": other_request.token,
    }


OUTSIDERS_OF_THE_CASE = [
    "anonymous",
    "status link of another case",
    "adviser of another hub",
    "editor of another organisation",
    "editor of the case's region",
    "analyst",
]
OUTSIDERS_OF_THE_OFFER = [
    "anonymous",
    "status link of another case",
    "adviser of the case's hub",
    "adviser of another hub",
    "editor of another organisation",
    "editor of the case's region",
    "analyst",
]


@pytest.fixture
def visitor(request, make_user, world) -> tuple[str, Client]:
    client = Client()
    role = request.param
    if role == "adviser of the case's hub":
        client.force_login(world["own_adviser"])
    elif role == "status link of another case":
        # The company has seen its own status page; that opens nothing else.
        assert client.get(f"/vejledning/{world['other_token']}/").status_code == 200
    elif role == "adviser of another hub":
        client.force_login(make_user("ole", organisation="vaeksthus-nordjylland", role="Rådgiver"))
    elif role == "editor of another organisation":
        client.force_login(make_user("peter", organisation="kommune-630", role="Redaktør"))
    elif role == "editor of the case's region":
        client.force_login(make_user("anne", organisation="region-midtjylland", role="Redaktør"))
    elif role == "analyst":
        client.force_login(make_user("karen", organisation="erhvervsstyrelsen", role="Analytiker"))
    return role, client


def _case_state(case: Case) -> tuple:
    case.refresh_from_db()
    return (
        case.status,
        case.adviser_id,
        case.hub_id,
        case.closed_at,
        TimelineEntry.objects.filter(case=case).count(),
        Referral.objects.filter(case=case).count(),
        tuple(Referral.objects.filter(case=case).values_list("status", flat=True)),
    )


def _refused(response) -> bool:
    """Sent to the login, refused outright, or (the admin's "not found") sent to its index."""
    if response.status_code == 302:
        return response["Location"].startswith("/admin/login/") or response["Location"] == "/admin/"
    return response.status_code in {400, 401, 403, 404, 405}


@pytest.mark.parametrize("visitor", OUTSIDERS_OF_THE_CASE, indirect=True)
def test_nobody_outside_the_hub_works_its_case(world, visitor) -> None:
    role, client = visitor
    case = world["case"]
    before = _case_state(case)
    values = {
        "own_adviser": world["own_adviser"].pk,
        "offer": world["offer"].pk,
        "other_hub": world["other_hub"].pk,
    }

    for name, data in CASE_ACTIONS.items():
        posted = {key: str(value).format(**values) for key, value in data.items()}
        url = reverse("admin:crm_case_action", args=[case.pk, name])
        response = client.post(url, posted)
        assert _refused(response), (role, name, response.status_code)
    for name in ("accept", "complete", "decline"):
        url = reverse("admin:crm_case_referral_action", args=[case.pk, world["referral"].pk, name])
        response = client.post(url, {"outcome-outcome": "Deltog", "outcome": "Deltog"})
        assert _refused(response), (role, name, response.status_code)
    response = client.post(
        reverse("admin:crm_case_change", args=[case.pk]),
        {"needs": "Overskrevet", "status": "closed"},
    )
    assert _refused(response), (role, "change", response.status_code)

    assert _case_state(case) == before
    assert Case.objects.get(pk=case.pk).needs == "Vi vil gerne digitalisere."


@pytest.mark.parametrize("visitor", OUTSIDERS_OF_THE_OFFER, indirect=True)
def test_nobody_outside_the_organisation_changes_its_offer(world, visitor) -> None:
    role, client = visitor
    offer = world["offer"]
    before = Offer.objects.filter(pk=offer.pk).values().get()
    api = f"/api/offers/{offer.external_id}/"

    changed = {
        "external_id": offer.external_id,
        "title": "Overtaget",
        "summary": "Et tilbud i en andens navn.",
        "level": "municipality",
        "owner": "kommune-630",
        "operator": "region-midtjylland",
        "themes": ["digitalisation"],
        "phases": ["growth"],
        "company_sizes": ["small"],
        "price": "free",
        "status": "published",
    }
    for method in ("patch", "put"):
        response = getattr(client, method)(
            api, json.dumps(changed), content_type="application/json"
        )
        assert _refused(response), (role, method, response.status_code)
    response = client.post(
        "/api/offers/",
        json.dumps({**changed, "external_id": "overtaget-tilbud"}),
        content_type="application/json",
    )
    if role == "editor of the case's region":
        # Its own organisation may create offers, but not in another organisation's name.
        assert response.status_code == 400 and "owner" in response.json()
    else:
        assert _refused(response), (role, "create", response.status_code)
    response = client.post(
        reverse("admin:offers_offer_change", args=[offer.pk]), {"title": "Overtaget"}
    )
    if role == "editor of the case's region":
        # Its own offer: the admin answers with the form (a field error for what is missing).
        assert response.status_code == 200
    else:
        assert _refused(response), (role, "admin change", response.status_code)

    assert Offer.objects.filter(pk=offer.pk).values().get() == before
    assert not Offer.objects.filter(external_id="overtaget-tilbud").exists()


def test_a_status_link_opens_its_own_case_only(world, client) -> None:
    other = GuidanceRequest.objects.get(token=world["other_token"])
    case = world["case"]
    before = _case_state(case)

    # Feedback on another company's case, by its id or reference, is not possible through a link.
    for path in (f"/vejledning/{case.pk}/", f"/vejledning/{case.reference}/"):
        assert client.post(path, {"rating": "1", "comment": "Dårligt"}).status_code == 404
    assert client.get(f"/api/guidance-requests/{case.reference}/").status_code == 404
    assert client.get(f"/api/guidance-requests/{other.token}/").status_code == 200

    assert _case_state(case) == before
