"""The routing rules every guidance request reads (``RoutingRuleQuerySet.candidates``, one
written-out statement) are exactly the live rules the ORM finds, as ``as_candidate`` makes them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Prefetch

from routing.assignment import RuleCandidate
from routing.models import RoutingRule
from tests.routing.factories import business_region, rule

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 2)
VEJLE, KOLDING, ODENSE = 630, 621, 461


def _through_the_orm(day: dt.date) -> list[RuleCandidate]:
    rules = RoutingRule.objects.live_on(day).select_related("hub", "theme", "business_region")
    members = Prefetch("business_region__member_municipalities", to_attr="members")
    return [
        r.as_candidate(
            frozenset(m.pk for m in r.business_region.members) if r.business_region else frozenset()
        )
        for r in rules.prefetch_related(members)
    ]


def test_the_candidates_are_the_live_rules_in_the_models_order() -> None:
    region = business_region(VEJLE, KOLDING)
    live = [
        rule(scope="municipality", municipality=VEJLE, hub="vaeksthus-midtjylland", priority=10),
        rule(scope="business_region", business_region=region, hub="vaeksthus-syddanmark"),
        rule(scope="theme", theme="capital", hub="vaeksthus-hovedstaden", priority=50),
        rule(
            scope="municipality",
            municipality=ODENSE,
            hub="vaeksthus-syddanmark",
            valid_from=DAY,
            valid_to=DAY,
            reason="Kun i dag",
        ),
    ]
    rule(scope="municipality", municipality=KOLDING, hub="vaeksthus-midtjylland", active=False)
    rule(scope="theme", theme="export", hub="vaeksthus-midtjylland", valid_to=DAY.replace(day=1))
    rule(scope="theme", theme="export", hub="vaeksthus-midtjylland", valid_from=DAY.replace(day=3))

    found = RoutingRule.objects.candidates(DAY)

    assert found == _through_the_orm(DAY)
    # Highest priority first (100, 100, 50, 10), then the oldest.
    assert [c.id for c in found] == [live[1].pk, live[3].pk, live[2].pk, live[0].pk]
    by_id = {c.id: c for c in found}
    assert by_id[live[1].pk].municipality_codes == frozenset({VEJLE, KOLDING})
    assert by_id[live[0].pk].municipality_codes == frozenset({VEJLE})
    assert by_id[live[2].pk].theme_slug == "capital"
    assert by_id[live[2].pk].municipality_codes == frozenset()
    assert RoutingRule.objects.candidates(DAY + dt.timedelta(days=1)) == _through_the_orm(
        DAY + dt.timedelta(days=1)
    )
