from __future__ import annotations

import datetime as dt
from importlib import import_module
from typing import Any

import pytest
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from offers.models import Municipality, Offer, OfferSearchTerm, Organisation, Theme
from offers.search import (
    FACET_BITS,
    OfferSearch,
    SearchResult,
    facet_bits,
    facet_mask,
    refresh_search_vectors,
    run_search,
)
from tests.offers.factories import OfferFactory, local_to, make_offer, regional_in

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


# --- Searching ----------------------------------------------------------------------------------

TODAY = dt.date(2026, 6, 15)


def search(**params: Any) -> SearchResult:
    return run_search(OfferSearch(**params), today=TODAY)


def ids(result: SearchResult) -> list[str]:
    return [offer.external_id for offer in result.offers]


def counts(result: SearchResult, facet: str) -> dict[str, int]:
    return {value.value: value.count for value in result.facets[facet]}


@pytest.mark.parametrize(
    ("title", "other_title", "query"),
    [
        pytest.param(
            "Eksport til nye markeder", "Byggetilladelse", "eksportere", id="another-form-of-a-word"
        ),
        pytest.param(
            "Eksportrådgivning til små virksomheder",
            "Byggetilladelse",
            "rådgivning",
            id="a-compound-word-by-its-last-part",
        ),
        pytest.param(
            "Rådgivning om eksport",
            "Rådgivning om byggeri",
            "eksportrådgivning",
            id="the-parts-of-a-compound-query-word-written-apart",
        ),
        pytest.param(
            "Eksport til Tyskland",
            "Eksport til Sverige",
            "eksport tyskland",
            id="only-an-offer-with-every-word-of-the-query",
        ),
    ],
)
def test_it_finds_the_offer_by_its_words(title, other_title, query):
    make_offer(external_id="found", title=title)
    make_offer(external_id="other", title=other_title)

    assert ids(search(q=query)) == ["found"]


def test_it_finds_an_offer_despite_a_typo_and_suggests_the_right_word():
    make_offer(external_id="digital", title="Digitalisering af små virksomheder")
    make_offer(external_id="andet", title="Byggetilladelse")

    result = search(q="digitalsering")

    assert ids(result) == ["digital"]
    assert result.suggestion == "digitalisering"


def test_it_ranks_a_title_match_above_offers_that_only_mention_the_word():
    make_offer(
        external_id="omtale",
        title="Automatisering",
        description="Robotter, robotter og robotter: vi taler om robotter i hele forløbet.",
    )
    make_offer(external_id="titel", title="Robotter i produktionen")

    assert ids(search(q="robotter")) == ["titel", "omtale"]


@pytest.mark.parametrize("text", ["'\"!:*", "&&&", "og i på", "\x00", "   "])
def test_it_treats_text_without_searchable_words_as_no_text(text):
    make_offer(external_id="eneste")

    assert ids(search(q=text)) == ["eneste"]


def test_it_understands_quoted_phrases_and_excluded_words():
    make_offer(external_id="tyskland", title="Eksport til Tyskland")
    make_offer(external_id="sverige", title="Eksport til Sverige")

    assert ids(search(q="eksport -sverige")) == ["tyskland"]
    assert ids(search(q='"eksport til sverige"')) == ["sverige"]


@pytest.fixture
def catalogue():
    """A small catalogue whose facet counts are worked out by hand in the tests below."""
    make_offer(
        external_id="a",
        title="Eksportrådgivning",
        themes=["export"],
        level="state",
        phases=["growth"],
        company_sizes=["small", "medium"],
        price="free",
        owner="eksportraadet",
    )
    make_offer(
        external_id="b",
        title="Digitalisering i Nordjylland",
        themes=["digitalisation"],
        phases=["startup", "growth"],
        company_sizes=["micro"],
        price="subsidised",
        operator="vaeksthus-nordjylland",
        **regional_in(1081),
    )
    make_offer(
        external_id="c",
        title="Byggetilladelse i Aarhus",
        themes=["authority"],
        phases=["established"],
        company_sizes=["micro", "small"],
        price="free",
        **local_to(751),
    )
    make_offer(
        external_id="d",
        title="Kapital til vækst",
        themes=["capital", "growth"],
        level="state",
        phases=["growth"],
        company_sizes=["medium", "large"],
        price="paid",
        owner="vaekstfonden",
        industries=["C"],
    )
    make_offer(
        external_id="lukket",
        title="Eksport – fristen er udløbet",
        themes=["export"],
        price="free",
        application_deadline=TODAY - dt.timedelta(days=1),
    )
    make_offer(external_id="kladde", title="Eksport i kladde", themes=["export"], status="draft")


def test_each_facet_counts_with_the_other_facets_filters_applied(catalogue):
    result = search(theme=("export",), price=("free",))

    assert ids(result) == ["a"]
    assert result.total == 1
    # Themes of free offers (a: export, c: authority): ticking a second theme widens the search.
    themes = counts(result, "theme")
    assert themes["export"] == 1
    assert themes["authority"] == 1
    assert themes["capital"] == 0
    # Prices of export offers: only a, which is free.
    assert counts(result, "price") == {"free": 1, "subsidised": 0, "paid": 0, "not_stated": 0}
    # Levels apply both filters.
    assert counts(result, "level") == {"state": 1, "region": 0, "municipality": 0}


def test_it_counts_and_filters_a_facet_with_or_within_and_across(catalogue):
    result = search(phase=("startup",))

    assert ids(result) == ["b"]
    assert counts(result, "phase") == {"idea": 0, "startup": 1, "growth": 3, "established": 1}

    wider = search(phase=("startup", "established"))
    assert sorted(ids(wider)) == ["b", "c"]

    narrower = search(phase=("startup", "established"), size=("small",))
    assert ids(narrower) == ["c"]


def test_an_offer_counts_for_a_region_when_nationwide_listed_or_through_a_municipality(catalogue):
    result = search()

    assert counts(result, "region") == {
        "1081": 3,  # a, d nationwide; b lists the region
        "1082": 3,  # a, d; c lists Aarhus Kommune, which is in Midtjylland
        "1083": 2,
        "1084": 2,
        "1085": 2,
    }
    assert sorted(ids(search(region=(1082,)))) == ["a", "c", "d"]


def test_it_filters_by_municipality_including_offers_for_its_region(catalogue):
    assert sorted(ids(search(municipality=(751,)))) == ["a", "c", "d"]
    # Morsø is in Nordjylland, which b lists as a region.
    assert sorted(ids(search(municipality=(773,)))) == ["a", "b", "d"]


def test_an_offer_without_industries_counts_for_every_industry(catalogue):
    result = search()

    assert counts(result, "industry")["C"] == 4
    assert counts(result, "industry")["A"] == 3
    assert sorted(ids(search(industry=("A",)))) == ["a", "b", "c"]


def test_it_counts_operators_with_their_names(catalogue):
    operators = {v.value: (v.label, v.count) for v in search().facets["operator"]}

    assert operators["vaeksthus-nordjylland"] == ("Væksthus Nordjylland", 1)
    assert operators["eksportraadet"] == ("Eksportrådet", 1)


def test_it_hides_closed_offers_and_never_shows_drafts(catalogue):
    assert "lukket" not in ids(search(q="eksport"))

    result = search(q="eksport", include_closed=True)

    assert sorted(ids(result)) == ["a", "lukket"]
    closed = next(offer for offer in result.offers if offer.external_id == "lukket")
    assert not closed.is_open_on(TODAY)


def test_it_ignores_filter_values_that_match_nothing_and_reports_them(catalogue):
    result = search(theme=("export", "findes-ikke"), region=(9999,))

    assert ids(result) == ["a"]
    assert result.unknown == {"theme": ["findes-ikke"], "region": ["9999"]}


@pytest.fixture
def geography():
    """Offers for the whole country, a region, a municipality and mixes of them.

    Vejle (630) and Odense (461) are in Syddanmark (1083), Aarhus (751) in Midtjylland, Morsø
    (773) in Nordjylland (1081).
    """
    make_offer(external_id="hele-landet", themes=["export"])
    make_offer(external_id="syddanmark", themes=["capital"], nationwide=False, regions=[1083])
    make_offer(external_id="vejle", themes=["export"], nationwide=False, municipalities=[630])
    make_offer(
        external_id="vejle-og-syddanmark",
        themes=["export"],
        nationwide=False,
        regions=[1083],
        municipalities=[630],
    )
    make_offer(
        external_id="aarhus-og-vejle",
        themes=["capital"],
        nationwide=False,
        municipalities=[751, 630],
    )
    make_offer(external_id="nord", themes=["export"], nationwide=False, regions=[1081])
    # Never counted: closed, or not published.
    make_offer(
        external_id="vejle-lukket",
        themes=["export"],
        nationwide=False,
        municipalities=[630],
        application_deadline=TODAY - dt.timedelta(days=1),
    )
    make_offer(external_id="vejle-kladde", nationwide=False, municipalities=[630], status="draft")


def available_in(code: int, offers: list[Offer]) -> int:
    """The geography rule, written out plainly: how many of ``offers`` apply in a municipality."""
    region = Municipality.objects.get(code=code).region_id
    return sum(
        1
        for offer in offers
        if offer.nationwide or region in offer.regions or code in offer.municipalities
    )


def test_it_counts_offers_for_every_municipality_by_the_geography_rule(geography):
    result = search()

    municipality = counts(result, "municipality")
    assert municipality["630"] == 5  # all but nord; vejle-og-syddanmark once
    assert municipality["461"] == 3  # hele-landet, syddanmark, vejle-og-syddanmark
    assert municipality["751"] == 2  # hele-landet, aarhus-og-vejle
    assert municipality["773"] == 2  # hele-landet, nord
    assert municipality["101"] == 1  # hele-landet
    assert len(result.offers) == result.total == 6  # open and published only
    codes = Municipality.objects.values_list("code", flat=True)
    assert municipality == {str(code): available_in(code, result.offers) for code in codes}


def test_each_municipality_count_is_what_ticking_it_finds(geography):
    result = search()

    for value in result.facets["municipality"]:
        assert search(municipality=(int(value.value),)).total == value.count, value.label


def test_it_lists_all_98_municipalities_by_name_with_the_labels_of_the_filter_chips(geography):
    result = search(municipality=(630,))

    values = result.facets["municipality"]
    assert len(values) == Municipality.objects.count() == 98
    labels = [str(m) for m in Municipality.objects.order_by("name", "code")]
    assert [v.label for v in values] == labels
    assert "Bornholms Regionskommune" in labels
    vejle = next(v for v in values if v.value == "630")
    assert (vejle.label, vejle.selected) == ("Vejle Kommune", True)
    assert [chip.label for chip in result.active_filters] == [vejle.label]
    assert not any(v.selected for v in values if v.value != "630")


def test_ticking_a_municipality_leaves_the_other_municipalities_counts(geography):
    result = search(municipality=(630,))

    assert sorted(ids(result)) == [
        "aarhus-og-vejle",
        "hele-landet",
        "syddanmark",
        "vejle",
        "vejle-og-syddanmark",
    ]
    assert counts(result, "municipality") == counts(search(), "municipality")
    # The other facets apply the municipality filter.
    assert counts(result, "region") == {"1081": 1, "1082": 2, "1083": 5, "1084": 1, "1085": 1}
    assert counts(result, "theme")["export"] == 3
    assert counts(result, "theme")["capital"] == 2


def test_municipality_counts_apply_the_other_filters(geography):
    municipality = counts(search(theme=("export",)), "municipality")

    assert municipality["630"] == 3  # hele-landet, vejle, vejle-og-syddanmark
    assert municipality["461"] == 2  # hele-landet, vejle-og-syddanmark
    assert municipality["751"] == 1  # hele-landet
    assert municipality["773"] == 2  # hele-landet, nord
    both = search(theme=("export",), municipality=(630, 751))
    assert counts(both, "municipality") == municipality
    assert sorted(ids(both)) == ["hele-landet", "vejle", "vejle-og-syddanmark"]


def test_an_offer_listing_a_code_twice_counts_once():
    make_offer(nationwide=False, regions=[1083, 1083], municipalities=[751, 751])

    municipality = counts(search(), "municipality")

    assert (municipality["630"], municipality["751"], municipality["101"]) == (1, 1, 0)


def test_it_counts_municipalities_without_another_query(geography, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        result = search()
    assert counts(result, "municipality")["630"] == 5
    with django_assert_max_num_queries(3):
        result = search(q="testtilbud", theme=("export",), municipality=(630,))
    assert counts(result, "municipality")["461"] == 2


def test_it_sorts_by_deadline_with_open_ended_offers_last():
    make_offer(external_id="senere", application_deadline=TODAY + dt.timedelta(days=30))
    make_offer(external_id="loebende")
    make_offer(external_id="snart", application_deadline=TODAY + dt.timedelta(days=3))

    assert ids(search(sort="deadline")) == ["snart", "senere", "loebende"]


def test_it_sorts_the_newest_offers_first():
    for days, external_id in [(30, "gammel"), (1, "ny"), (10, "mellem")]:
        make_offer(external_id=external_id)
        Offer.objects.filter(external_id=external_id).update(
            published_at=timezone.now() - dt.timedelta(days=days)
        )

    assert ids(search(sort="newest")) == ["ny", "mellem", "gammel"]


def test_it_pages_twenty_offers_at_a_time_and_moves_past_the_end_to_the_last_page():
    for number in range(45):
        make_offer(external_id=f"tilbud-{number:02d}", title=f"Tilbud {number:02d}")

    first = search()
    last = search(page=3)
    beyond = search(page=999)

    assert (first.total, first.num_pages, len(first.offers)) == (45, 3, 20)
    assert ids(last) == [f"tilbud-{n}" for n in range(40, 45)]
    assert beyond.page == 3
    assert ids(beyond) == ids(last)
    assert run_search(OfferSearch(page=999), today=TODAY, clamp_page=False).offers == []


def test_it_answers_a_search_in_at_most_three_queries(catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        result = search(
            q="eksportrådgivning digitalsering",
            theme=("export", "digitalisation"),
            region=(1081,),
            municipality=(773,),
            operator=("eksportraadet",),
            include_closed=True,
        )
        [offer.owner.name for offer in result.offers]


def test_it_keeps_every_state_of_the_search_in_the_query_string():
    offer_search = OfferSearch(
        q="eksport", theme=("export",), region=(1084,), include_closed=True, sort="newest", page=2
    )

    assert offer_search.querystring() == (
        "q=eksport&theme=export&region=1084&include_closed=1&sort=newest&page=2"
    )
    assert offer_search.without("theme", "export").querystring() == (
        "q=eksport&region=1084&include_closed=1&sort=newest"
    )


def test_every_fixed_facet_value_has_its_own_bit_in_a_bigint():
    assert len(FACET_BITS) == len(set(FACET_BITS)) <= 63
    bits = facet_bits(
        level="region",
        price="free",
        phases=["idea", "growth"],
        company_sizes=["micro"],
        industries=[],
        nationwide=False,
        reach=[1084],
    )

    assert bits & facet_mask("phase", ["growth"])
    assert not bits & facet_mask("phase", ["startup"])
    assert bits & facet_mask("industry", ["*"])
    assert bits & facet_mask("region", ["1084"])
    assert not bits & facet_mask("region", ["*", "1081"])


def test_the_migration_fills_the_same_facet_bits_as_the_search_module():
    fill = import_module("offers.migrations.0004_search_facet_bits").FILL
    make_offer(themes=["export"], level="state", price="paid", industries=["C", "U"])
    make_offer(
        level="municipality",
        price="free",
        phases=["idea", "established"],
        company_sizes=["micro", "large"],
        nationwide=False,
        regions=[1081],
        municipalities=[101],
    )
    columns = ("pk", "facet_bits", "theme_ids", "reach_regions")
    computed = list(Offer.objects.order_by("pk").values_list(*columns))
    Offer.objects.update(facet_bits=0, theme_ids=[], reach_regions=[])

    with connection.cursor() as cursor:
        cursor.execute(fill)

    assert list(Offer.objects.order_by("pk").values_list(*columns)) == computed
