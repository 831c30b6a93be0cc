"""What works for companies like yours: the formula, the restraint, and the reason's wording."""

from __future__ import annotations

import pytest
from django.utils import translation

from routing.effect_ranking import (
    EFFECT_POINTS_PER_FTE,
    MAX_EFFECT_POINTS,
    Evidence,
    combined_score,
    effect_points,
    rerank,
)
from routing.matching import Match, Reason, ReasonCode
from routing.reasons import reason_text


def m(external_id: str, score: float) -> Match:
    return Match(
        external_id=external_id,
        title=external_id,
        score=score,
        reasons=(Reason(ReasonCode.THEMES, ("export",)),),
    )


def ev(estimate: float, n: int = 230) -> Evidence:
    return Evidence(
        estimate=estimate,
        ci_low=estimate - 1.3,
        ci_high=estimate + 1.3,
        n_treated=n,
        size="small",
        section="C",
    )


def test_the_formula_adds_points_per_fte_within_the_cap():
    assert effect_points(ev(1.0)) == pytest.approx(EFFECT_POINTS_PER_FTE)
    assert effect_points(ev(-1.0)) == pytest.approx(-EFFECT_POINTS_PER_FTE)
    assert effect_points(ev(100.0)) == MAX_EFFECT_POINTS
    assert effect_points(ev(-100.0)) == -MAX_EFFECT_POINTS
    assert combined_score(50.0, ev(2.0)) == pytest.approx(50.0 + 2 * EFFECT_POINTS_PER_FTE)
    assert combined_score(50.0, None) == 50.0


def test_a_measured_offer_with_a_larger_effect_moves_ahead_of_a_slightly_more_relevant_one():
    matches = [m("a", 60.0), m("b", 58.0), m("c", 40.0)]
    ranked = rerank(matches, {"a": ev(0.0), "b": ev(2.0)}, limit=10)
    assert [x.external_id for x in ranked] == ["b", "a", "c"]


def test_a_much_more_relevant_offer_stays_ahead_of_any_effect():
    matches = [m("a", 70.0), m("b", 40.0)]
    ranked = rerank(matches, {"a": ev(0.0), "b": ev(50.0)}, limit=10)
    assert [x.external_id for x in ranked] == ["a", "b"]


def test_offers_without_a_measurement_keep_their_place():
    # "u1" and "u2" are unmeasured: they stay at places 1 and 3 whatever the effects are.
    matches = [m("u1", 80.0), m("a", 60.0), m("u2", 55.0), m("b", 50.0), m("c", 45.0)]
    evidence = {"a": ev(-3.0), "b": ev(0.5), "c": ev(3.0)}
    ranked = [x.external_id for x in rerank(matches, evidence, limit=10)]
    assert ranked[0] == "u1" and ranked[2] == "u2"
    assert ranked == ["u1", "c", "u2", "b", "a"]


def test_the_origin_offer_stays_first_and_the_list_is_cut_at_the_limit():
    matches = [m("origin", 30.0), m("a", 60.0), m("b", 50.0)]
    evidence = {"origin": ev(-5.0), "a": ev(0.0), "b": ev(4.0)}
    ranked = rerank(matches, evidence, limit=2, origin="origin")
    assert [x.external_id for x in ranked] == ["origin", "b"]


def test_measured_offers_get_the_effect_reason_after_their_own():
    ranked = rerank([m("a", 60.0), m("u", 50.0)], {"a": ev(2.1)}, limit=10)
    assert ranked[0].reasons[-1].code == ReasonCode.EFFECT
    assert ranked[0].reasons[0].code == ReasonCode.THEMES
    assert ranked[1].reasons == m("u", 50.0).reasons


def test_the_reason_says_who_how_much_how_sure_and_how_many_in_danish_and_english():
    reason = Evidence(
        estimate=2.1, ci_low=0.8, ci_high=3.4, n_treated=230, size="small", section="C"
    ).reason()
    with translation.override("da"):
        assert reason_text(reason) == (
            "Virksomheder som din (10–49 ansatte, fremstillingsvirksomhed), der brugte "
            "tilbuddet, havde to år efter i gennemsnit 2,1 flere årsværk end sammenlignelige "
            "virksomheder (95 % sikkerhed: 0,8–3,4; 230 virksomheder)."
        )
    with translation.override("en"):
        assert reason_text(reason) == (
            "Businesses like yours (10–49 employees, manufacturing) that used the offer had, "
            "two years later, on average 2.1 more full-time employees than comparable "
            "businesses (95 % confidence: 0.8–3.4; 230 businesses)."
        )


def test_a_negative_effect_and_an_offer_wide_figure_are_worded_as_such():
    reason = Evidence(
        estimate=-0.4, ci_low=-1.2, ci_high=0.4, n_treated=1250, scope="offer"
    ).reason()
    with translation.override("da"):
        assert reason_text(reason) == (
            "Virksomheder, der brugte tilbuddet, havde to år efter i gennemsnit 0,4 færre "
            "årsværk end sammenlignelige virksomheder (95 % sikkerhed: -1,2–0,4; "
            "1.250 virksomheder)."
        )


# --- the real list ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_company_sees_the_effect_for_companies_like_it_and_the_list_reorders():
    import datetime as dt

    from routing.services import company_profile, profile_match
    from tests.evaluation.factories import make_estimate, make_run, make_segment
    from tests.routing.factories import OfferFactory, index_offers, submission

    offers = {
        "eksport-a": OfferFactory(
            external_id="eksport-a",
            title="Eksportstart – kom i gang med eksport",
            summary="Rådgivning om eksport til nye markeder.",
            themes=["export"],
        ),
        "eksport-b": OfferFactory(
            external_id="eksport-b",
            title="Eksportklar – eksport til Tyskland",
            summary="Sparring om eksport.",
            themes=["export"],
        ),
        "eksport-c": OfferFactory(
            external_id="eksport-c",
            title="Eksportnetværk",
            summary="Netværk om eksport.",
            themes=["export"],
        ),
    }
    index_offers()
    profile = company_profile(submission())  # 25 employees (10–49), DB07 section C
    day = dt.date(2026, 3, 2)
    before = [m.external_id for m in profile_match(profile=profile, day=day)]
    assert set(before) == set(offers)

    run = make_run()
    last_measured = before[-1]
    # The last offer has a large effect for companies like this one; another offer only an
    # offer-wide effect of zero; the third no measurement at all.
    make_segment(
        offer=offers[last_measured], run=run, size_band=1, section="C", shrunk_estimate=2.5
    )
    make_segment(offer=offers[before[0]], run=run, size_band=1, section="F", shrunk_estimate=9.0)
    make_estimate(offer=offers[before[0]], run=run, cohort_year=None, estimate=0.0, n_treated=60)

    after = profile_match(profile=profile, day=day)
    ids = [m.external_id for m in after]
    # The unmeasured offer keeps its place; the measured two swap on their effect.
    assert ids[1] == before[1]
    assert ids == [last_measured, before[1], before[0]]
    with translation.override("da"):
        worded = [reason_text(r) for r in after[0].reasons]
    assert worded[-1] == (
        "Virksomheder som din (10–49 ansatte, fremstillingsvirksomhed), der brugte tilbuddet, "
        "havde to år efter i gennemsnit 2,5 flere årsværk end sammenlignelige virksomheder "
        "(95 % sikkerhed: 0,8–3,4; 230 virksomheder)."
    )
    # The section-F segment is not this company's: the offer-wide figure is used instead.
    offer_wide = after[2].reasons[-1]
    assert offer_wide.code == ReasonCode.EFFECT and offer_wide.values[0] == "offer"
    assert all(r.code != ReasonCode.EFFECT for r in after[1].reasons)
