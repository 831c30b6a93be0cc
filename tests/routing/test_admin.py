"""Routing rules and guidance requests in the admin: scoped, read-only requests, no N+1."""

from __future__ import annotations

import pytest
from django.test import Client

from offers.models import Municipality, Organisation, Theme
from routing.models import GuidanceRequest, RoutingRule
from routing.services import guidance_request_submit
from tests.routing.factories import rule, submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def requests_in_two_hubs(export_offers: None) -> list[GuidanceRequest]:
    aarhus = Municipality.objects.select_related("region").get(code=751)
    made = [guidance_request_submit(submission=submission(), channel="form") for _ in range(3)]
    made += [
        guidance_request_submit(submission=submission(municipality=aarhus), channel="api")
        for _ in range(2)
    ]
    return made


def test_it_lists_an_adviser_only_their_hub_requests(
    client: Client, make_user, requests_in_two_hubs: list[GuidanceRequest]
) -> None:
    client.force_login(make_user("lars", organisation="vaeksthus-midtjylland", role="Rådgiver"))

    html = client.get("/admin/routing/guidancerequest/").content.decode()

    shown = [r for r in requests_in_two_hubs if r.case.reference in html]
    assert [r.hub.slug for r in shown] == ["vaeksthus-midtjylland"] * 2


def test_it_gives_an_adviser_nothing_of_another_hub(
    client: Client, make_user, requests_in_two_hubs: list[GuidanceRequest]
) -> None:
    client.force_login(make_user("lars", organisation="vaeksthus-midtjylland", role="Rådgiver"))
    south = requests_in_two_hubs[0]

    response = client.get(f"/admin/routing/guidancerequest/{south.pk}/change/")

    assert response.status_code == 302  # the admin's "does not exist" redirect
    assert south.case.reference not in client.get(response["Location"]).content.decode()


def test_it_never_shows_the_private_token_to_staff(
    client: Client, admin_user, requests_in_two_hubs: list[GuidanceRequest]
) -> None:
    client.force_login(admin_user)
    request = requests_in_two_hubs[0]

    html = client.get(f"/admin/routing/guidancerequest/{request.pk}/change/").content.decode()

    assert request.case.reference in html
    assert "Væksthuset i virksomhedens region (Region Syddanmark)" in html
    assert request.token not in html
    assert request.token_hash not in html


def test_it_lists_requests_in_a_fixed_number_of_queries(
    client: Client, admin_user, export_offers: None, django_assert_max_num_queries
) -> None:
    client.force_login(admin_user)
    for _ in range(8):
        guidance_request_submit(submission=submission(), channel="form")

    with django_assert_max_num_queries(8):
        response = client.get("/admin/routing/guidancerequest/")

    assert response.status_code == 200


def test_it_lists_routing_rules_in_a_fixed_number_of_queries(
    client: Client, admin_user, django_assert_max_num_queries
) -> None:
    client.force_login(admin_user)
    for code in (630, 621, 751, 101):
        rule(scope="municipality", municipality=code, hub="vaeksthus-midtjylland")
    rule(scope="theme", theme="export", hub="vaeksthus-hovedstaden")

    with django_assert_max_num_queries(8):
        response = client.get("/admin/routing/routingrule/")

    assert response.status_code == 200
    assert "Vejle Kommune" in response.content.decode()


def test_it_lets_a_superuser_add_a_rule_and_refuses_one_without_its_target(
    client: Client, admin_user
) -> None:
    client.force_login(admin_user)
    hub_id = Organisation.objects.get(slug="vaeksthus-midtjylland").pk
    base = {"hub": hub_id, "priority": 100, "reason": "Driftsaftale", "active": "on"}

    bad = client.post("/admin/routing/routingrule/add/", {**base, "scope": "municipality"})
    good = client.post(
        "/admin/routing/routingrule/add/",
        {**base, "scope": "theme", "theme": Theme.objects.get(slug="export").pk},
    )

    assert bad.status_code == 200
    assert "Angiv præcis det, reglen gælder for" in bad.content.decode()
    assert good.status_code == 302
    assert RoutingRule.objects.filter(theme__slug="export").count() == 1


def test_it_lets_an_adviser_read_but_not_change_rules(client: Client, make_user) -> None:
    client.force_login(make_user("lars", organisation="vaeksthus-midtjylland", role="Rådgiver"))
    existing = rule(scope="municipality", municipality=630, hub="vaeksthus-midtjylland")

    assert client.get("/admin/routing/routingrule/").status_code == 200
    assert client.get("/admin/routing/routingrule/add/").status_code == 403
    response = client.post(f"/admin/routing/routingrule/{existing.pk}/change/", {"priority": 1})
    assert response.status_code == 403
