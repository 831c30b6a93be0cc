"""The routing demo data loads through the real services, and loading it twice adds nothing."""

from __future__ import annotations

import io

import pytest

from crm.models import Case
from routing import demo
from routing.models import GuidanceRequest, RoutingRule
from routing.statistics import guidance_statistics

pytestmark = pytest.mark.django_db


def test_it_loads_requests_with_response_times_once(make_user) -> None:
    for slug in ("nordjylland", "midtjylland", "syddanmark", "hovedstaden", "sjaelland"):
        make_user(f"demo-{slug}", organisation=f"vaeksthus-{slug}", role="Rådgiver")
    out = io.StringIO()

    demo.load(stdout=out)
    demo.load(stdout=out)

    assert GuidanceRequest.objects.count() == len(demo.REQUESTS)
    assert Case.objects.count() == len(demo.REQUESTS)
    assert RoutingRule.objects.count() == 2
    assert "demo guidance requests: 0 new" in out.getvalue()
    latest = GuidanceRequest.objects.latest("created_at").created_at.date()
    figures = guidance_statistics(today=latest)
    assert sum(hub.responded for hub in figures.hubs) == 7
    assert len(figures.by_month) >= 4
