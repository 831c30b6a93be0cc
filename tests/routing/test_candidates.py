"""Candidates from PostgreSQL: hard eligibility in SQL, Danish full-text rank of the needs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from offers.models import Theme
from routing.candidates import load_candidates, needs_words
from routing.matching import CompanyProfile, match
from routing.services import offers_match
from tests.routing.factories import OfferFactory, index_offers, submission
from tests.routing.profiles import company

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def profile(**changes: Any) -> CompanyProfile:
    """The Vejle manufacturer with no themes or needs."""
    return company(**{"themes": (), "needs_text": "", **changes})


def ids(candidates: list[Any]) -> list[str]:
    return sorted(c.external_id for c in candidates)


def test_it_splits_the_needs_into_plain_words_without_query_syntax() -> None:
    assert needs_words("Eksport & kapital | !vækst: (Tyskland) <-> 'a' eksport*") == [
        "eksport",
        "kapital",
        "vækst",
        "tyskland",
    ]
    assert needs_words("!!! ??") == []


def test_it_finds_offers_matching_any_word_of_the_needs_with_danish_stemming() -> None:
    OfferFactory(external_id="export", title="Rådgivning om eksport")
    OfferFactory(external_id="robots", title="Automatisering med robotter")
    OfferFactory(external_id="tourism", title="Turisme og oplevelser")
    index_offers()

    found = load_candidates(
        profile(needs_text="Vi vil gerne eksportere og bruge flere robotter"), day=TODAY
    )

    assert ids(found) == ["export", "robots"]
    assert all(c.text_rank > 0 for c in found)


def test_it_splits_compound_words_in_the_needs() -> None:
    OfferFactory(external_id="advice", title="Rådgivning til små virksomheder")
    index_offers()

    assert needs_words("eksportrådgivning") == ["eksportrådgivning", "eksport", "rådgivning"]
    assert ids(load_candidates(profile(needs_text="Eksportrådgivning"), day=TODAY)) == ["advice"]


def test_it_survives_needs_made_of_punctuation_and_stop_words_only() -> None:
    OfferFactory(external_id="export", title="Rådgivning om eksport", themes=["export"])
    index_offers()

    assert ids(load_candidates(profile(needs_text="&|!:*()'\""), day=TODAY)) == []
    stop_words_only = profile(needs_text="og i at det", themes=("export",))
    assert ids(load_candidates(stop_words_only, day=TODAY)) == ["export"]


def test_it_keeps_only_offers_the_company_can_use() -> None:
    variants: dict[str, dict[str, Any]] = {
        "ok-national": {},
        "ok-region": {"nationwide": False, "regions": [1083]},
        "ok-municipality": {"nationwide": False, "level": "municipality", "municipalities": [630]},
        "ok-industry": {"industries": ["C", "J"]},
        "other-region": {"nationwide": False, "regions": [1082]},
        "other-municipality": {
            "nationwide": False,
            "level": "municipality",
            "municipalities": [751],
        },
        "other-phase": {"phases": ["idea"]},
        "other-size": {"company_sizes": ["large"]},
        "other-industry": {"industries": ["A"]},
        "draft": {"status": "draft"},
        "deadline-passed": {"application_deadline": TODAY - dt.timedelta(days=1)},
        "not-yet-valid": {"valid_from": TODAY + dt.timedelta(days=1)},
    }
    for external_id, changes in variants.items():
        OfferFactory(external_id=external_id, themes=["export"], **changes)
    index_offers()

    found = load_candidates(profile(themes=("export",)), day=TODAY)

    assert ids(found) == ["ok-industry", "ok-municipality", "ok-national", "ok-region"]


def test_it_agrees_with_the_pure_eligibility_rules() -> None:
    OfferFactory(external_id="a", themes=["export"], phases=["growth"], company_sizes=["small"])
    OfferFactory(external_id="b", themes=["export"], industries=["C"])
    OfferFactory(external_id="c", themes=["export"], nationwide=False, regions=[1083])
    index_offers()
    company = profile(themes=("export",))

    found = load_candidates(company, day=TODAY)

    # b: its industry (+5); a: aimed at few phases and sizes including the company's (+2 +2);
    # c: its region (+3).
    assert [m.external_id for m in match(company, found)] == ["b", "a", "c"]


def test_it_gives_a_company_of_unknown_industry_only_offers_open_to_all() -> None:
    OfferFactory(external_id="all", themes=["export"])
    OfferFactory(external_id="industry-c", themes=["export"], industries=["C"])
    index_offers()

    assert ids(load_candidates(profile(industry=None, themes=("export",)), day=TODAY)) == ["all"]


def test_it_bounds_the_list_by_theme_overlap_then_rank() -> None:
    OfferFactory(external_id="both", themes=["export", "capital"])
    OfferFactory(external_id="one", themes=["export"])
    OfferFactory(external_id="text", title="Kapital til eksport", themes=["growth"])
    index_offers()
    company = profile(themes=("export", "capital"), needs_text="kapital")

    found = load_candidates(company, day=TODAY, limit=2)

    assert [c.external_id for c in found] == ["both", "one"]


def test_the_bounded_pool_is_cut_by_the_final_score_so_a_local_offer_is_kept() -> None:
    # Equal theme fit and no text: the local bonus alone decides, as it does in the final score.
    OfferFactory(external_id="a-nationwide", themes=["export"])
    OfferFactory(
        external_id="z-local",
        themes=["export"],
        level="municipality",
        nationwide=False,
        municipalities=[630],
    )
    index_offers()
    company = profile(themes=("export",))

    found = load_candidates(company, day=TODAY, limit=1)

    assert [c.external_id for c in found] == ["z-local"]
    assert [m.external_id for m in match(company, found)] == ["z-local"]


def test_it_always_loads_the_offer_the_company_came_from() -> None:
    OfferFactory(external_id="asked-about", title="Netværk", themes=["clusters"])
    OfferFactory(external_id="export", themes=["export"])
    index_offers()

    found = load_candidates(
        profile(themes=("export",), origin_offer_id="asked-about"), day=TODAY, limit=1
    )

    assert [c.external_id for c in found] == ["asked-about"]


def test_it_gives_the_same_matches_for_the_same_request() -> None:
    for n in range(30):
        OfferFactory(
            external_id=f"offer-{n:02d}",
            title="Eksport" if n % 3 == 0 else "Kapital",
            themes=["export"] if n % 2 else ["capital"],
        )
    index_offers()
    request = submission(
        themes=tuple(Theme.objects.filter(slug__in=["export", "capital"])),
        needs="Eksport og kapital",
    )

    first = offers_match(submission=request, day=TODAY)
    second = offers_match(submission=request, day=TODAY)

    assert len(first) == 10
    assert first == second
