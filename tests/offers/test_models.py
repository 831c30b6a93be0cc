import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from offers.models import Offer, Organisation, StrengthPosition
from tests.offers.factories import make_cluster, make_offer

D = dt.date


def _violate(offer: Offer, **values) -> str:
    with pytest.raises(IntegrityError) as raised, transaction.atomic():
        Offer.objects.filter(pk=offer.pk).update(**values)
    return str(raised.value)


@pytest.mark.parametrize(
    ("values", "constraint"),
    [
        (
            {"valid_from": D(2026, 5, 1), "application_deadline": D(2026, 4, 30)},
            "offers_offer_deadline_not_before_valid_from",
        ),
        (
            {"valid_from": D(2026, 5, 1), "valid_to": D(2026, 4, 30)},
            "offers_offer_valid_to_not_before_valid_from",
        ),
        (
            {"level": "municipality", "nationwide": False, "regions": [1082]},
            "offers_offer_municipal_offer_names_municipalities",
        ),
        ({"nationwide": False}, "offers_offer_geography_is_nationwide_or_named"),
        ({"nationwide": True, "regions": [1081]}, "offers_offer_geography_is_nationwide_or_named"),
        ({"phases": []}, "offers_offer_has_phases_and_sizes"),
        ({"company_sizes": []}, "offers_offer_has_phases_and_sizes"),
    ],
)
def test_it_refuses_an_offer_that_breaks_a_catalogue_rule_in_the_database(db, values, constraint):
    offer = make_offer()

    assert constraint in _violate(offer, **values)


def test_it_allows_the_deadline_on_the_first_valid_day(db):
    offer = make_offer(valid_from=D(2026, 5, 1), application_deadline=D(2026, 5, 1))

    assert Offer.objects.filter(pk=offer.pk).exists()


def test_it_refuses_two_offers_with_the_same_external_id(db):
    make_offer(external_id="eksportstart")

    with pytest.raises(IntegrityError, match="offers_offer_unique_external_id"):
        make_offer(external_id="eksportstart")


def test_it_allows_one_publicly_funded_cluster_per_strength_position_only(db):
    position = StrengthPosition.objects.get(slug="energi")
    assert (
        Organisation.objects.filter(strength_position=position, publicly_funded=True).count() == 1
    )

    with (
        pytest.raises(IntegrityError, match="one_funded_cluster_per_strength_position"),
        transaction.atomic(),
    ):
        make_cluster(
            "cluster-energi-2", "Anden energiklynge", position="energi", publicly_funded=True
        )
    # An unfunded second cluster for the same position is fine.
    make_cluster("cluster-energi-lokal", "Lokal energiklynge", position="energi", level="region")


def test_it_refuses_public_cluster_funding_for_an_organisation_that_is_not_a_cluster(db):
    with pytest.raises(IntegrityError, match="funded_cluster_has_strength_position"):
        Organisation.objects.filter(slug="region-midtjylland").update(publicly_funded=True)


@pytest.mark.parametrize(
    ("day", "is_open"),
    [
        (D(2026, 2, 28), False),  # before valid_from
        (D(2026, 3, 1), True),
        (D(2026, 6, 30), True),  # the deadline day itself
        (D(2026, 7, 1), False),  # after the deadline
    ],
)
def test_it_is_open_from_valid_from_until_the_deadline(db, day, is_open):
    offer = make_offer(valid_from=D(2026, 3, 1), application_deadline=D(2026, 6, 30))

    assert offer.is_open_on(day) is is_open
    assert Offer.objects.published().open_on(day).filter(pk=offer.pk).exists() is is_open


def test_it_closes_when_validity_ends_and_is_never_open_unless_published(db):
    offer = make_offer(valid_to=D(2026, 12, 31))
    draft = make_offer(status="draft")

    assert offer.is_open_on(D(2026, 12, 31))
    assert not offer.is_open_on(D(2027, 1, 1))
    assert not draft.is_open_on(D(2026, 6, 1))


@pytest.mark.parametrize(
    ("last_reviewed", "day", "stale"),
    [
        (None, D(2026, 6, 1), True),
        (D(2025, 6, 1), D(2026, 6, 1), False),  # exactly 12 months
        (D(2025, 5, 31), D(2026, 6, 1), True),
        # Month ends: 12 months before 28 February 2027 is 28 February 2026.
        (D(2026, 2, 28), D(2027, 2, 28), False),
        (D(2026, 2, 27), D(2027, 2, 28), True),
        # A leap day looks back to the last day of February.
        (D(2027, 2, 28), D(2028, 2, 29), False),
        (D(2027, 2, 27), D(2028, 2, 29), True),
        (D(2025, 3, 31), D(2026, 3, 31), False),
        (D(2025, 3, 30), D(2026, 3, 31), True),
    ],
)
def test_it_flags_an_offer_not_reviewed_for_twelve_months_as_stale(db, last_reviewed, day, stale):
    offer = make_offer(last_reviewed=last_reviewed)

    assert offer.is_stale_on(day) is stale
    assert Offer.objects.stale_on(day, 12).filter(pk=offer.pk).exists() is stale


def test_it_follows_the_configured_number_of_months_for_staleness(db, settings):
    settings.OFFER_STALE_MONTHS = 6
    offer = make_offer(last_reviewed=D(2026, 1, 1))

    assert offer.is_stale_on(D(2026, 7, 2))
    assert not offer.is_stale_on(D(2026, 7, 1))


def test_municipalities_are_named_as_danes_write_them(db):
    from offers.models import Municipality, Organisation

    assert str(Municipality.objects.get(code=630)) == "Vejle Kommune"
    assert str(Municipality.objects.get(code=400)) == "Bornholms Regionskommune"
    assert Organisation.objects.get(slug="kommune-400").name == "Bornholms Regionskommune"
