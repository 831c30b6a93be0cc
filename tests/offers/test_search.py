from __future__ import annotations

import pytest
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.test.utils import CaptureQueriesContext

from offers.models import Offer, OfferSearchTerm, Organisation, Theme
from offers.search import refresh_search_vectors
from tests.offers.factories import OfferFactory, make_offer

pytestmark = pytest.mark.django_db


def matching(text: str) -> set[str]:
    query = SearchQuery(text, config="danish", search_type="websearch")
    return set(Offer.objects.filter(search_vector=query).values_list("external_id", flat=True))


# --- refresh_search_vectors ---------------------------------------------------------------------


def test_it_indexes_the_parts_of_compound_words():
    make_offer(external_id="eksport", title="Eksportrådgivning til små virksomheder")

    assert matching("rådgivning") == {"eksport"}
    assert matching("eksportere") == {"eksport"}


def test_it_indexes_theme_and_organisation_names():
    make_offer(external_id="kapital", themes=["capital"], owner="vaekstfonden")

    assert matching("finansiering") == {"kapital"}
    assert matching("Vækstfonden") == {"kapital"}


def test_it_refreshes_offers_in_one_update_however_many_there_are():
    one = make_offer(description="Sparring om digitalisering")
    offers = OfferFactory.create_batch(25, description="Sparring om digitalisering")
    Offer.objects.update(search_vector=None)

    with CaptureQueriesContext(connection) as single:
        refresh_search_vectors(offer_ids=[one.pk])
    with CaptureQueriesContext(connection) as batch:
        count = refresh_search_vectors(offer_ids=[offer.pk for offer in offers])

    assert count == 25
    updates = [q for q in batch.captured_queries if q["sql"].lstrip().startswith("UPDATE")]
    assert len(updates) == 1
    assert len(batch.captured_queries) == len(single.captured_queries)
    assert len(matching("digitalisering")) == 26


def test_it_refreshes_the_offers_of_a_renamed_theme():
    make_offer(external_id="groen", themes=["growth"])
    other = make_offer(external_id="andet", themes=["export"])
    theme = Theme.objects.get(slug="growth")
    theme.name = "Grøn omstilling"
    theme.save()
    assert matching("omstilling") == set()

    count = refresh_search_vectors(theme_ids=[theme.pk])

    assert count == 1
    assert matching("omstilling") == {"groen"}
    assert other.external_id not in matching("omstilling")


def test_it_refreshes_the_offers_of_a_renamed_organisation():
    make_offer(external_id="drevet", owner="erhvervsstyrelsen", operator="vaeksthus-sjaelland")
    hub = Organisation.objects.get(slug="vaeksthus-sjaelland")
    hub.name = "Erhvervshus Sjælland"
    hub.save()

    assert refresh_search_vectors(organisation_ids=[hub.pk]) == 1
    assert matching("Erhvervshus") == {"drevet"}


def test_it_keeps_themes_and_reach_for_the_facets():
    offer = make_offer(
        themes=["export", "capital"],
        nationwide=False,
        regions=[1081],
        municipalities=[101, 751],  # København (Hovedstaden), Aarhus (Midtjylland)
    )
    offer.refresh_from_db()

    assert sorted(offer.theme_ids) == sorted(
        Theme.objects.filter(slug__in=["export", "capital"]).values_list("pk", flat=True)
    )
    assert offer.reach_regions == [1081, 1082, 1084]


def test_it_learns_only_published_words_for_spelling_suggestions():
    make_offer(description="Digitalisering af produktionen")
    make_offer(status="draft", description="Hemmeligprojektnavn")

    refresh_search_vectors()

    words = set(OfferSearchTerm.objects.values_list("word", flat=True))
    assert {"digitalisering", "produktionen"} <= words
    assert "hemmeligprojektnavn" not in words
    assert "af" not in words  # a stop word is never suggested


def test_it_returns_zero_when_nothing_matches_the_selection():
    assert refresh_search_vectors(offer_ids=[]) == 0
    assert refresh_search_vectors(theme_ids=[Theme.objects.get(slug="export").pk]) == 0


def test_it_leaves_the_change_date_alone():
    offer = make_offer()
    offer.refresh_from_db()
    before = offer.updated_at

    refresh_search_vectors(offer_ids=[offer.pk])

    offer.refresh_from_db()
    assert offer.updated_at == before
    assert offer.search_vector is not None
