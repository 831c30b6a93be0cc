"""Statistics on guidance requests, checked against figures computed by hand."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from rest_framework.test import APIClient

from crm.models import Case
from offers.models import Municipality, Theme
from routing.models import GuidanceRequest
from routing.services import guidance_request_submit
from routing.statistics import guidance_statistics
from tests.routing.factories import submission

pytestmark = pytest.mark.django_db

CPH = ZoneInfo("Europe/Copenhagen")
UTC = dt.UTC
TODAY = dt.date(2026, 11, 27)


@pytest.fixture(autouse=True)
def _clock(time_machine) -> None:
    """The figures below are worked out for this day: R5 is not yet due on it."""
    time_machine.move_to(dt.datetime(2026, 11, 27, 12, tzinfo=CPH))


def _request(
    code: int,
    themes: list[str],
    *,
    created: dt.datetime,
    due: dt.date,
    responded: dt.datetime | None,
) -> GuidanceRequest:
    request = guidance_request_submit(
        submission=submission(
            municipality=Municipality.objects.select_related("region").get(code=code),
            themes=tuple(Theme.objects.filter(slug__in=themes)),
        ),
        channel="api",
    )
    Case.objects.filter(pk=request.case_id).update(
        created_at=created, first_response_due=due, first_responded_at=responded
    )
    GuidanceRequest.objects.filter(pk=request.pk).update(created_at=created)
    return request


@pytest.fixture
def requests() -> None:
    """Five requests; the expected figures in the tests below are worked out from these.

    Syddanmark (Vejle 630, Kolding 621):
      R1 2026-03-10 10:00, due 03-12, answered after 4 h       → within the promise
      R2 2026-03-20 09:00, due 03-24, answered 03-25 (120 h)   → late
      R5 2026-11-26 10:00, due 11-30, not answered, not yet due → undecided
    Midtjylland (Aarhus 751):
      R3 2026-04-02 08:00, due 04-06, never answered            → late (overdue)
      R4 2025-12-31 23:30 UTC = 2026-01-01 00:30 in Denmark, due 01-05, answered after 2 h
    """
    _request(
        630,
        ["export"],
        created=dt.datetime(2026, 3, 10, 10, tzinfo=CPH),
        due=dt.date(2026, 3, 12),
        responded=dt.datetime(2026, 3, 10, 14, tzinfo=CPH),
    )
    _request(
        621,
        ["export", "capital"],
        created=dt.datetime(2026, 3, 20, 9, tzinfo=CPH),
        due=dt.date(2026, 3, 24),
        responded=dt.datetime(2026, 3, 25, 9, tzinfo=CPH),
    )
    _request(
        751,
        ["capital"],
        created=dt.datetime(2026, 4, 2, 8, tzinfo=CPH),
        due=dt.date(2026, 4, 6),
        responded=None,
    )
    _request(
        751,
        ["digitalisation"],
        created=dt.datetime(2025, 12, 31, 23, 30, tzinfo=UTC),
        due=dt.date(2026, 1, 5),
        responded=dt.datetime(2026, 1, 1, 1, 30, tzinfo=UTC),
    )
    _request(
        630,
        [],
        created=dt.datetime(2026, 11, 26, 10, tzinfo=CPH),
        due=dt.date(2026, 11, 30),
        responded=None,
    )


def test_it_counts_requests_by_danish_month_region_and_theme(requests: None) -> None:
    figures = guidance_statistics(today=TODAY)

    assert figures.total == 5
    assert figures.by_month == [
        {"month": "2026-01", "count": 1},
        {"month": "2026-03", "count": 2},
        {"month": "2026-04", "count": 1},
        {"month": "2026-11", "count": 1},
    ]
    assert figures.by_region == [
        {"region": 1082, "name": "Region Midtjylland", "count": 2},
        {"region": 1083, "name": "Region Syddanmark", "count": 3},
    ]
    assert figures.by_theme == [
        {"theme": "export", "name": "Eksport", "count": 2},
        {"theme": "capital", "name": "Kapital og finansiering", "count": 2},
        {"theme": "digitalisation", "name": "Digitalisering og automatisering", "count": 1},
    ]


def test_it_gives_median_response_time_and_share_within_the_promise_per_hub(
    requests: None,
) -> None:
    hubs = {hub.slug: hub for hub in guidance_statistics(today=TODAY).hubs}

    south = hubs["vaeksthus-syddanmark"]
    assert (south.requests, south.responded) == (3, 2)
    assert south.median_response_hours == 62.0  # median of 4 h and 120 h
    assert (south.within_promise, south.decided, south.within_promise_share) == (1, 2, 0.5)
    mid = hubs["vaeksthus-midtjylland"]
    assert (mid.requests, mid.responded, mid.median_response_hours) == (2, 1, 2.0)
    assert (mid.within_promise, mid.decided) == (1, 2)
    assert set(hubs) == {"vaeksthus-syddanmark", "vaeksthus-midtjylland"}


def test_it_counts_a_year_in_danish_time(requests: None) -> None:
    assert guidance_statistics(year=2026, today=TODAY).total == 5
    assert guidance_statistics(year=2025, today=TODAY).total == 0


# --- Who may read them ------------------------------------------------------------------------


def test_it_shows_analysts_the_statistics_page(
    client: Client, make_user, requests: None, django_assert_max_num_queries
) -> None:
    client.force_login(make_user("karen", organisation="erhvervsstyrelsen", role="Analytiker"))

    with django_assert_max_num_queries(10):
        response = client.get("/analyse/vejledning/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Statistik for vejledning" in html
    south = html[html.index('data-hub="vaeksthus-syddanmark"') :].split("</tr>")[0]
    assert "<td>3</td>" in south
    assert "62,0" in south
    assert "50 %" in south


def test_the_english_page_names_the_themes_in_english(
    client: Client, make_user, requests: None
) -> None:
    client.force_login(make_user("karen", organisation="erhvervsstyrelsen", role="Analytiker"))
    client.cookies["django_language"] = "en"

    html = client.get("/analyse/vejledning/").content.decode()

    themes = html[html.index("Requests per theme") :]
    assert '<th scope="row">Export</th><td>2</td>' in themes
    assert '<th scope="row">Capital and finance</th><td>2</td>' in themes
    assert "Eksport" not in themes
    assert "Kapital og finansiering" not in themes


@pytest.mark.parametrize("role", ["Rådgiver", "Redaktør"])
def test_it_refuses_the_statistics_page_to_other_roles(
    client: Client, make_user, role: str
) -> None:
    client.force_login(make_user("someone", organisation="vaeksthus-syddanmark", role=role))

    assert client.get("/analyse/vejledning/").status_code == 403


def test_it_sends_anonymous_visitors_to_the_login(client: Client) -> None:
    response = client.get("/analyse/vejledning/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_it_gives_analysts_the_same_figures_in_the_api(make_user, requests: None) -> None:
    api = APIClient()
    api.force_authenticate(make_user("karen", organisation="erhvervsstyrelsen", role="Analytiker"))

    body = api.get("/api/statistics/guidance/", {"year": "2026"}).json()

    assert body["total"] == 5
    assert body["by_month"][0] == {"month": "2026-01", "count": 1}
    south = next(hub for hub in body["hubs"] if hub["hub"] == "vaeksthus-syddanmark")
    assert south["median_response_hours"] == 62.0
    assert south["within_promise_share"] == 0.5
    assert api.get("/api/statistics/guidance/", {"year": "abc"}).status_code == 400


def test_it_refuses_the_statistics_api_to_advisers_and_anonymous_callers(make_user) -> None:
    api = APIClient()
    assert api.get("/api/statistics/guidance/").status_code in {401, 403}

    api.force_authenticate(make_user("ole", organisation="vaeksthus-nordjylland", role="Rådgiver"))
    assert api.get("/api/statistics/guidance/").status_code == 403
