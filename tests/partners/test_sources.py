"""Where requests came from, as the hub's case list and the routing statistics show it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from crm.models import Case
from crm.services import CaseOrigin
from partners.models import Partner
from routing.services import guidance_request_submit
from routing.statistics import guidance_statistics
from tests.routing.factories import submission

pytestmark = pytest.mark.django_db


def submit(partner: Partner | None = None, *, page: str = "") -> Case:
    if partner is None:
        return guidance_request_submit(submission=submission(), channel="form").case
    return guidance_request_submit(
        submission=submission(),
        channel="form",
        source=Case.Source.PARTNER_EMBED,
        origin=CaseOrigin(partner_id=partner.pk, page=page),
    ).case


def test_the_hubs_case_list_shows_and_filters_by_partner(
    make_user, vejle: Partner, aarhus: Partner, export_offers: None
) -> None:
    ours = submit(vejle, page="https://www.vejle.dk/erhverv")
    theirs = submit(aarhus)
    plain = submit()
    adviser = make_user("soeren", organisation="vaeksthus-syddanmark", role="Rådgiver")
    client = Client()
    client.force_login(adviser)

    listing = client.get("/admin/crm/case/").content.decode()
    assert "Indlejret formular hos partner: Vejle Kommune, Erhverv" in listing
    filtered = client.get(f"/admin/crm/case/?partner__id__exact={vejle.pk}").content.decode()
    assert ours.reference in filtered
    assert theirs.reference not in filtered and plain.reference not in filtered


def test_statistics_count_requests_per_source_and_suppress_small_numbers(
    settings: Any, vejle: Partner, aarhus: Partner, export_offers: None
) -> None:
    settings.STATISTICS_MIN_COUNT = 3
    for _ in range(3):
        submit(vejle)
    submit(aarhus)
    submit()

    figures = guidance_statistics(today=timezone.localdate())

    rows = {(row["source"], row["partner"]): row for row in figures.by_source}
    assert rows[("partner_embed", "vejle")]["count"] == 3
    assert rows[("partner_embed", "aarhus")]["count"] is None
    assert rows[("partner_embed", "aarhus")]["suppressed"] is True
    assert rows[("web", None)]["count"] is None


def test_the_statistics_api_and_page_show_the_sources(
    settings: Any, make_user, vejle: Partner, export_offers: None
) -> None:
    settings.STATISTICS_MIN_COUNT = 2
    submit(vejle)
    submit(vejle)
    analyst = make_user("karen", organisation="erhvervsstyrelsen", role="Analytiker")
    api = APIClient()
    api.force_authenticate(analyst)

    by_source = api.get("/api/statistics/guidance/").json()["by_source"]
    client = Client()
    client.force_login(analyst)
    html = client.get("/analyse/vejledning/").content.decode()

    assert by_source == [
        {
            "source": "partner_embed",
            "source_label": "Indlejret formular hos partner",
            "partner": "vejle",
            "partner_name": "Vejle Kommune, Erhverv",
            "count": 2,
            "suppressed": False,
        }
    ]
    row = html[html.index('data-source="partner_embed:vejle"') :].split("</tr>")[0]
    assert "Vejle Kommune, Erhverv" in row and "<td>2</td>" in row


def test_the_demo_partner_is_loaded_once_and_managed_by_the_municipalitys_editor() -> None:
    import io

    from partners import demo

    demo.load(stdout=io.StringIO())
    demo.load(stdout=io.StringIO())

    partner = Partner.objects.get(slug="vejle-erhverv")
    assert partner.organisation is not None and partner.organisation.slug == "kommune-630"
    partner.full_clean()  # the demo's origins and colour pass the partner's own rules


def test_the_case_page_tells_the_adviser_which_partner_and_page_it_came_from(
    make_user, vejle: Partner, export_offers: None
) -> None:
    case = submit(vejle, page="https://www.vejle.dk/erhverv")
    client = Client()
    client.force_login(make_user("soeren", organisation="vaeksthus-syddanmark", role="Rådgiver"))

    html = client.get(f"/admin/crm/case/{case.pk}/change/").content.decode()

    assert "Indlejret formular hos partner: Vejle Kommune, Erhverv" in html
    assert "https://www.vejle.dk/erhverv" in html
