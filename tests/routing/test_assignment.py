"""Which Væksthus gets a request: the region's by default, routing rules when they apply."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from offers.models import Municipality, Organisation
from routing.assignment import (
    DEFAULT_REASON,
    RuleCandidate,
    Scope,
    choose_hub,
    select_rule,
)
from routing.services import hub_choose
from tests.routing.factories import business_region, rule

DAY = dt.date(2026, 11, 27)
VEJLE, KOLDING, AARHUS = 630, 621, 751
REFERENCE = Path(__file__).resolve().parents[2] / "offers" / "reference" / "municipalities.csv"
REGION_SLUGS = {
    1081: "nordjylland",
    1082: "midtjylland",
    1083: "syddanmark",
    1084: "hovedstaden",
    1085: "sjaelland",
}


def candidate(rule_id: int, **changes: Any) -> RuleCandidate:
    values: dict[str, Any] = {
        "id": rule_id,
        "scope": Scope.MUNICIPALITY,
        "hub_slug": f"hub-of-rule-{rule_id}",
        "priority": 100,
        "reason": f"Regel {rule_id}",
        "municipality_codes": frozenset({VEJLE}),
    }
    values.update(changes)
    return RuleCandidate(**values)


def chosen(rules: list[RuleCandidate], *, code: int = VEJLE, themes: tuple[str, ...] = ()) -> str:
    return choose_hub(
        rules,
        municipality_code=code,
        region_slug="syddanmark",
        region_name="Region Syddanmark",
        themes=themes,
        day=DAY,
    ).hub_slug


# --- The pure rule selection, on plain data --------------------------------------------------


def test_it_sends_a_request_to_the_hub_of_its_region_when_no_rule_applies() -> None:
    assignment = choose_hub(
        [],
        municipality_code=VEJLE,
        region_slug="syddanmark",
        region_name="Region Syddanmark",
        themes=(),
        day=DAY,
    )

    assert assignment.hub_slug == "vaeksthus-syddanmark"
    assert assignment.rule_id is None
    assert assignment.reason == DEFAULT_REASON.format(region="Region Syddanmark")


def test_it_lets_a_municipality_rule_override_the_region() -> None:
    assert chosen([candidate(1)]) == "hub-of-rule-1"
    assert chosen([candidate(1)], code=KOLDING) == "vaeksthus-syddanmark"


def test_it_lets_a_business_region_rule_cover_every_member_municipality() -> None:
    members = candidate(1, scope=Scope.BUSINESS_REGION, municipality_codes={VEJLE, KOLDING})

    assert chosen([members], code=KOLDING) == "hub-of-rule-1"
    assert chosen([members], code=AARHUS) == "vaeksthus-syddanmark"


def test_it_lets_a_theme_rule_apply_only_when_the_company_chose_the_theme() -> None:
    export = candidate(1, scope=Scope.THEME, municipality_codes=frozenset(), theme_slug="export")

    assert chosen([export], themes=("capital", "export")) == "hub-of-rule-1"
    assert chosen([export], themes=("capital",)) == "vaeksthus-syddanmark"


def test_it_picks_the_rule_with_the_highest_priority() -> None:
    rules = [
        candidate(1, priority=10),
        candidate(2, priority=50),
        candidate(3, scope=Scope.THEME, theme_slug="export", priority=20),
    ]

    assert chosen(rules, themes=("export",)) == "hub-of-rule-2"


def test_it_breaks_a_priority_tie_by_the_oldest_rule_whatever_the_order() -> None:
    rules = [candidate(7), candidate(3), candidate(5)]

    assert chosen(rules) == "hub-of-rule-3"
    assert chosen(list(reversed(rules))) == "hub-of-rule-3"


@pytest.mark.parametrize(
    ("changes", "applies"),
    [
        ({"active": False}, False),
        ({"valid_to": DAY - dt.timedelta(days=1)}, False),
        ({"valid_from": DAY + dt.timedelta(days=1)}, False),
        ({"valid_from": DAY, "valid_to": DAY}, True),
        ({"valid_from": None, "valid_to": None}, True),
    ],
)
def test_it_ignores_inactive_rules_and_rules_outside_their_dates(
    changes: dict[str, Any], applies: bool
) -> None:
    found = select_rule([candidate(1, **changes)], municipality_code=VEJLE, themes=(), day=DAY)

    assert (found is not None) is applies


def test_it_records_the_rule_and_its_reason() -> None:
    assignment = choose_hub(
        [candidate(4, reason="Driftsaftale med Vejle Kommune")],
        municipality_code=VEJLE,
        region_slug="syddanmark",
        region_name="Region Syddanmark",
        themes=(),
        day=DAY,
    )

    assert (assignment.rule_id, assignment.reason) == (4, "Driftsaftale med Vejle Kommune")


# --- Against the reference data and rules in the database ------------------------------------


def _reference_municipalities() -> list[tuple[int, int]]:
    with REFERENCE.open(encoding="utf-8") as handle:
        return [(int(row["code"]), int(row["region_code"])) for row in csv.DictReader(handle)]


def _hub_for(code: int, themes: list[str] | None = None) -> str:
    municipality = Municipality.objects.select_related("region").get(code=code)
    return hub_choose(
        municipality_code=code,
        region_slug=municipality.region.slug,
        region_name=municipality.region.name,
        themes=themes or [],
        day=DAY,
    ).hub_slug


@pytest.mark.django_db
def test_it_routes_each_of_the_98_municipalities_to_its_region_hub_by_default() -> None:
    expected = {
        code: f"vaeksthus-{REGION_SLUGS[region_code]}"
        for code, region_code in _reference_municipalities()
    }

    routed = {code: _hub_for(code) for code in expected}

    assert len(routed) == 98
    assert routed == expected
    hubs = set(Organisation.objects.hubs().values_list("slug", flat=True))
    assert set(routed.values()) == hubs


@pytest.mark.django_db
def test_it_routes_by_a_municipality_rule_from_the_admin() -> None:
    rule(scope="municipality", municipality=VEJLE, hub="vaeksthus-midtjylland")

    assert _hub_for(VEJLE) == "vaeksthus-midtjylland"
    assert _hub_for(KOLDING) == "vaeksthus-syddanmark"


@pytest.mark.django_db
def test_it_routes_every_member_of_a_business_region_by_its_rule() -> None:
    region = business_region(VEJLE, 621)
    rule(scope="business_region", business_region=region, hub="vaeksthus-midtjylland")

    assert _hub_for(VEJLE) == "vaeksthus-midtjylland"
    assert _hub_for(KOLDING) == "vaeksthus-midtjylland"
    assert _hub_for(AARHUS) == "vaeksthus-midtjylland"  # its own region, no rule needed
    assert _hub_for(461) == "vaeksthus-syddanmark"  # Odense is not a member


@pytest.mark.django_db
def test_it_routes_by_a_theme_rule_and_priority_decides_between_rules() -> None:
    rule(scope="theme", theme="capital", hub="vaeksthus-hovedstaden", priority=50)
    rule(scope="municipality", municipality=VEJLE, hub="vaeksthus-midtjylland", priority=10)

    assert _hub_for(VEJLE, ["capital"]) == "vaeksthus-hovedstaden"
    assert _hub_for(VEJLE, ["export"]) == "vaeksthus-midtjylland"
    assert _hub_for(KOLDING, ["capital"]) == "vaeksthus-hovedstaden"


@pytest.mark.django_db
def test_it_ignores_an_expired_or_inactive_rule_from_the_admin() -> None:
    rule(
        scope="municipality",
        municipality=VEJLE,
        hub="vaeksthus-midtjylland",
        valid_from=dt.date(2025, 1, 1),
        valid_to=DAY - dt.timedelta(days=1),
    )
    rule(scope="municipality", municipality=VEJLE, hub="vaeksthus-sjaelland", active=False)

    assert _hub_for(VEJLE) == "vaeksthus-syddanmark"
