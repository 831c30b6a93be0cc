"""The catalogue copy that chooses which offers are scored: same rules as the pure module, exact
text rank, reused only while the catalogue's version stands."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from typing import Any

import numpy as np
import pytest
from django.db import connection
from django.utils import timezone

from offers.catalogue_version import catalogue_version
from offers.models import Offer, Theme
from routing import catalogue as catalogue_module
from routing.candidates import find_candidates, informative_stems, terms_tsquery
from routing.catalogue import catalogue_at, load_catalogue
from routing.matching import (
    CompanyProfile,
    OfferCandidate,
    is_eligible,
    score,
)
from tests.routing.factories import ALL_PHASES, ALL_SIZES, OfferFactory, index_offers
from tests.routing.profiles import company

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
MUNICIPALITIES = [(630, 1083), (751, 1082), (101, 1084), (851, 1081), (461, 1083)]
INDUSTRIES = ["A", "C", "F", "J", "M"]
THEMES = ["export", "capital", "digitalisation", "growth", "startup"]


def profile(**changes: Any) -> CompanyProfile:
    """The Vejle manufacturer with no themes, needs or place names."""
    blank = {"themes": (), "needs_text": "", "municipality_name": None, "region_name": None}
    return company(**{**blank, **changes})


def random_dates(rng: random.Random) -> dict[str, dt.date | None]:
    """valid_from, valid_to and application_deadline around today, in an order the model
    allows (neither end before the start)."""
    days = [None, None, TODAY - dt.timedelta(days=3), TODAY, TODAY + dt.timedelta(days=3)]
    start = rng.choice(days)
    ends = [d for d in days if d is None or start is None or d >= start]
    return {
        "valid_from": start,
        "valid_to": rng.choice(ends),
        "application_deadline": rng.choice(ends),
    }


def random_offers(rng: random.Random, count: int) -> None:
    for n in range(count):
        place = rng.choice(["nationwide", "region", "municipal", "both"])
        municipality, region = rng.choice(MUNICIPALITIES)
        OfferFactory(
            external_id=f"random-{rng.randrange(10**6):06d}-{n}",
            title=rng.choice(["Eksport", "Kapital til vækst", "Robotter", "Netværk"]),
            nationwide=place == "nationwide",
            regions=[region] if place in {"region", "both"} else [],
            municipalities=[municipality] if place in {"municipal", "both"} else [],
            phases=rng.sample(ALL_PHASES, rng.randint(1, 4)),
            company_sizes=rng.sample(ALL_SIZES, rng.randint(1, 4)),
            industries=rng.sample(INDUSTRIES, rng.choice([0, 0, 1, 2])),
            **random_dates(rng),
            status=rng.choice(["published", "published", "published", "draft", "archived"]),
            themes=rng.sample(THEMES, rng.randint(0, 2)),
        )
    index_offers()


def random_company(rng: random.Random) -> CompanyProfile:
    municipality, region = rng.choice([*MUNICIPALITIES, (None, None)])
    return profile(
        municipality_code=municipality,
        region_code=region,
        phase=rng.choice([None, *ALL_PHASES]),
        employees=rng.choice([None, 0, 12, 60, 400]),
        industry=rng.choice([None, *INDUSTRIES]),
        themes=tuple(rng.sample(THEMES, rng.randint(1, 3))),
    )


def as_candidate(offer: Offer) -> OfferCandidate:
    open_now = (
        (offer.valid_from is None or offer.valid_from <= TODAY)
        and (offer.valid_to is None or offer.valid_to >= TODAY)
        and (offer.application_deadline is None or offer.application_deadline >= TODAY)
    )
    return OfferCandidate(
        external_id=offer.external_id,
        title=offer.title,
        themes=tuple(sorted(t.slug for t in offer.themes.all())),
        phases=tuple(offer.phases),
        company_sizes=tuple(offer.company_sizes),
        industries=tuple(offer.industries),
        nationwide=offer.nationwide,
        region_codes=tuple(offer.regions),
        municipality_codes=tuple(offer.municipalities),
        is_open=open_now,
        text_rank=0.0,
    )


def test_its_eligibility_is_the_pure_modules_on_a_varied_catalogue() -> None:
    rng = random.Random(5)
    random_offers(rng, 80)
    copy = load_catalogue(None)
    published = [as_candidate(o) for o in Offer.objects.published().prefetch_related("themes")]
    assert len(copy) == len(published)

    for _ in range(40):
        company = random_company(rng)
        mask = copy.eligible(company, TODAY)
        from_copy = {copy.external_ids[row] for row in range(len(copy)) if mask[row]}
        pure = {offer.external_id for offer in published if is_eligible(company, offer)}
        assert from_copy == pure, company


def test_its_order_is_the_pure_score_when_themes_and_place_decide() -> None:
    rng = random.Random(11)
    random_offers(rng, 80)
    copy = load_catalogue(None)
    by_id = {
        o.external_id: as_candidate(o) for o in Offer.objects.published().prefetch_related("themes")
    }
    no_text = (np.zeros(len(copy), dtype=bool), np.zeros(len(copy)))

    for _ in range(20):
        company = random_company(rng)
        pool = copy.pool(company, day=TODAY, hit=no_text[0], rank=no_text[1], limit=1000)
        pooled = [Offer.objects.get(pk=pk).external_id for pk in pool]
        # The pool is the eligible offers sharing a chosen theme, by the base score.
        expected = [
            o.external_id
            for o in sorted(
                (
                    o
                    for o in by_id.values()
                    if is_eligible(company, o) and set(o.themes) & set(company.themes)
                ),
                key=lambda o: (-score(company, o)[0], o.external_id),
            )
        ]
        assert pooled == expected, company
        scores = [score(company, by_id[e])[0] for e in pooled]
        assert scores == sorted(scores, reverse=True)


def test_its_text_rank_is_postgresqls_ts_rank_of_the_whole_query() -> None:
    OfferFactory(external_id="a", title="Eksport og kapital", description="Eksport, eksport.")
    OfferFactory(external_id="b", title="Kapital", description="Robotter i produktionen.")
    OfferFactory(external_id="c", title="Robotter")
    OfferFactory(external_id="d", title="Turisme")
    index_offers()
    copy = load_catalogue(None)
    terms = ["eksport", "kapital", "robot"]

    hit, rank = copy.text_match(terms)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT external_id, ts_rank(search_vector, to_tsquery('simple', %s)) "
            "FROM offers_offer WHERE search_vector @@ to_tsquery('simple', %s)",
            [terms_tsquery(terms)] * 2,
        )
        expected = dict(cursor.fetchall())
    found = {copy.external_ids[row]: rank[row] for row in range(len(copy)) if hit[row]}
    assert set(found) == set(expected) == {"a", "b", "c"}
    for external_id, value in expected.items():
        assert found[external_id] == pytest.approx(value, rel=1e-5)


def test_its_cover_density_is_postgresqls_ts_rank_cd_to_the_bit() -> None:
    rng = random.Random(17)
    words = ["eksport", "kapital", "robotter", "netværk", "tyskland", "vækst", "design", "lån"]
    for n in range(40):
        OfferFactory(
            external_id=f"text-{n:02d}",
            title=" ".join(rng.sample(words, rng.randint(1, 3))),
            summary=" ".join(rng.choices(words, k=rng.randint(0, 6))),
            expected_result=" ".join(rng.choices(words, k=rng.randint(0, 4))),
            description=" ".join(rng.choices([*words, "og", "med"], k=rng.randint(0, 60))),
        )
    index_offers()
    copy = load_catalogue(None)
    stems = ["eksport", "kapital", "robot", "netværk", "tyskland", "vækst", "design", "lån"]
    with connection.cursor() as cursor:
        # Words of the organisations' names, the only ones weighted D.
        cursor.execute(
            "SELECT DISTINCT u.lexeme FROM offers_offer o, unnest(o.search_vector) AS u "
            "WHERE u.weights = '{D}' ORDER BY 1 LIMIT 3"
        )
        organisation_words = [lexeme for (lexeme,) in cursor.fetchall()]
    assert organisation_words
    stems += organisation_words

    for n in range(30):
        terms = rng.sample(stems, rng.randint(1, 5)) + organisation_words[: n % 2]
        copy.text_match(terms)
        found = copy.cover_density(terms)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT external_id, ts_rank_cd(search_vector, to_tsquery('simple', %s)) "
                "FROM offers_offer WHERE search_vector @@ to_tsquery('simple', %s)",
                [terms_tsquery(terms)] * 2,
            )
            expected = dict(cursor.fetchall())
        assert expected, terms
        offers = copy.candidates([int(pk) for pk in copy.ids], day=TODAY, text_rank=found)
        for offer in offers:
            # Equal, not approximately, and as psycopg reads PostgreSQL's float4 (5.4, not
            # 5.400000095367432): the final score rounds, and must round the same way.
            rank = expected.get(offer.external_id, 0.0)
            assert type(offer.text_rank) is float
            assert offer.text_rank == rank, (terms, offer.external_id)


def test_it_gives_the_chosen_offers_as_postgresql_has_them() -> None:
    rng = random.Random(23)
    random_offers(rng, 60)
    first, second = Offer.objects.published()[:2]
    first.cannot_combine_with.add(second)
    Offer.objects.filter(pk=first.pk).update(industry_groups=["31"], summary="Kort.")
    copy = load_catalogue(None)
    company = random_company(rng)
    everything = np.ones(len(copy), dtype=bool)
    pool = copy.pool(company, day=TODAY, hit=everything, rank=np.zeros(len(copy)), limit=1000)
    pool = list(dict.fromkeys([*pool, first.pk, second.pk]))

    found = copy.candidates(pool, day=TODAY, text_rank=np.zeros(len(copy), dtype=np.float32))

    offers = Offer.objects.in_bulk(pool)
    assert [c.external_id for c in found] == [offers[pk].external_id for pk in pool]
    for candidate, pk in zip(found, pool, strict=True):
        offer = offers[pk]
        expected = dataclasses.replace(
            as_candidate(offer),
            summary=offer.summary,
            expected_result=offer.expected_result,
            description=offer.description,
            cannot_combine_with=tuple(
                sorted(offer.cannot_combine_with.values_list("external_id", flat=True))
            ),
            industry_groups=tuple(offer.industry_groups),
        )
        assert candidate == expected
    assert dict(zip(pool, found, strict=True))[first.pk].cannot_combine_with == (
        second.external_id,
    )


def test_an_offer_withdrawn_before_its_texts_are_read_is_left_out() -> None:
    OfferFactory(external_id="withdrawn", themes=["export"])
    OfferFactory(external_id="kept", themes=["export"])
    index_offers()
    copy = load_catalogue(None)
    Offer.objects.filter(external_id="withdrawn").update(status="archived")
    company = profile(themes=("export",))
    none = (np.zeros(len(copy), dtype=bool), np.zeros(len(copy)))
    pool = copy.pool(company, day=TODAY, hit=none[0], rank=none[1], limit=10)

    found = copy.candidates(pool, day=TODAY, text_rank=none[1].astype(np.float32))

    assert len(pool) == 2
    assert [c.external_id for c in found] == ["kept"]


@pytest.mark.django_db(transaction=True)
def test_the_next_request_never_shows_an_offer_withdrawn_or_moved_since() -> None:
    catalogue_module.forget()
    OfferFactory(external_id="withdrawn", title="Eksport", themes=["export"])
    OfferFactory(external_id="moved", title="Eksport", themes=["export"])
    OfferFactory(external_id="kept", title="Eksport", themes=["export"])
    index_offers()
    company = profile(themes=("export",), needs_text="Vi vil eksportere")
    before = find_candidates(company, day=TODAY).offers
    assert sorted(c.external_id for c in before) == ["kept", "moved", "withdrawn"]

    Offer.objects.filter(external_id="withdrawn").update(status="archived")
    Offer.objects.filter(external_id="moved").update(nationwide=False, regions=[1082])

    # The version moved, so the next request takes a new copy: the withdrawn offer is gone and
    # the moved one is no longer for the company's region.
    found = find_candidates(company, day=TODAY).offers
    assert [c.external_id for c in found] == ["kept"]


def test_a_float4_is_read_as_psycopg_reads_postgresqls() -> None:
    rng = random.Random(3)
    weights = np.array([0.1, 0.2, 0.4, 1.0], dtype=np.float32).astype(np.float64)
    # Ranks as cover_density makes them: up to 40 words of up to 256 positions of each class.
    values = [
        np.float32(np.array([rng.randint(0, 2_560) for _ in range(4)], dtype=np.float64) @ weights)
        for _ in range(3_000)
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT unnest(%s::float8[])::real", [[float(v) for v in values]])
        read = [value for (value,) in cursor.fetchall()]

    assert [catalogue_module._as_read(v) for v in values] == read


def test_changing_what_an_offer_cannot_be_combined_with_marks_the_transaction() -> None:
    # This test runs in a transaction: once it has changed the list, a copy must not be reused.
    OfferFactory(external_id="first")
    OfferFactory(external_id="second")
    first = Offer.objects.get(external_id="first")
    second = Offer.objects.get(external_id="second")
    assert catalogue_version() is None  # the factories changed offers here already

    with connection.cursor() as cursor:
        # Forget that: from here on only the list changes.
        cursor.execute("SELECT set_config('offers.catalogue_changed', '', true)")
    assert catalogue_version() is not None
    first.cannot_combine_with.add(second)

    assert catalogue_version() is None


@pytest.mark.django_db(transaction=True)
def test_what_an_offer_cannot_be_combined_with_moves_the_version() -> None:
    catalogue_module.forget()
    OfferFactory(external_id="first", title="Eksport", themes=["export"])
    OfferFactory(external_id="second", title="Eksport", themes=["export"])
    index_offers()
    company = profile(themes=("export",), needs_text="Vi vil eksportere")
    before = {c.external_id: c for c in find_candidates(company, day=TODAY).offers}
    assert before["first"].cannot_combine_with == ()
    version = catalogue_version()

    Offer.objects.get(external_id="first").cannot_combine_with.add(
        Offer.objects.get(external_id="second")
    )

    assert catalogue_version() != version
    after = {c.external_id: c for c in find_candidates(company, day=TODAY).offers}
    assert after["first"].cannot_combine_with == ("second",)
    assert after["second"].cannot_combine_with == ("first",)


def test_informative_stems_leave_out_what_most_of_the_catalogue_says() -> None:
    stems = {"virksom": 900, "eksport": 80, "kautionsordning": 3, "ukendt": 0}
    assert informative_stems(stems, 1000) == ["kautionsordning", "eksport"]
    assert informative_stems({"virksom": 900, "rådgivning": 700}, 1000) == [
        "rådgivning",
        "virksom",
    ]
    assert informative_stems({"ukendt": 0}, 1000) == []


@pytest.mark.django_db(transaction=True)
def test_the_copy_is_reused_until_the_catalogue_changes(django_assert_num_queries: Any) -> None:
    catalogue_module.forget()
    OfferFactory(external_id="first", title="Eksport", themes=["export"])
    index_offers()
    company = profile(themes=("export",), needs_text="Vi vil eksportere")

    assert [c.external_id for c in find_candidates(company, day=TODAY).offers] == ["first"]
    version = catalogue_version()
    assert catalogue_at(version) is catalogue_at(version)
    # Warm: the version with the stems of the needs; the copy has the chosen offers' texts.
    with django_assert_num_queries(1):
        find_candidates(company, day=TODAY)

    OfferFactory(external_id="second", title="Eksport", themes=["export"])
    index_offers()
    assert catalogue_version() != version
    found = find_candidates(company, day=TODAY).offers
    assert sorted(c.external_id for c in found) == ["first", "second"]


def test_inside_a_transaction_that_changed_offers_the_change_is_seen() -> None:
    # This test runs in a transaction that is rolled back: its offers never commit.
    OfferFactory(external_id="uncommitted", title="Eksport", themes=["export"])
    index_offers()
    Theme.objects.filter(slug="export").update(name="Eksport og internationalisering")

    found = find_candidates(profile(themes=("export",)), day=TODAY)

    assert [c.external_id for c in found.offers] == ["uncommitted"]
    assert found.theme_labels["export"] == "eksport og internationalisering"


def test_the_copy_is_labelled_with_the_version_of_the_data_it_holds() -> None:
    # Nothing changed in this test's transaction: the version read is the committed one.
    copy = load_catalogue("an-older-version")

    assert copy.version == catalogue_version()
    assert len(copy) == Offer.objects.published().count() == 0  # an empty catalogue loads too
    assert set(copy.theme_slugs.values()) == set(Theme.objects.values_list("slug", flat=True))
    assert load_catalogue(None).version is None  # a transaction's own changes are never kept
