"""Effects per segment: the shrinkage on hand-computed cases, and what may be shown.

Pure: plain :class:`IndicatorResult` values, no database.
"""

from __future__ import annotations

import math

import pytest

from evaluation.estimators import IndicatorResult
from evaluation.segments import (
    between_variance,
    industry_of_code,
    publish_segments,
    shrink,
    shrink_one,
)

K = 20


def result(estimate: float, se: float, n: int, n_control: int | None = None) -> IndicatorResult:
    return IndicatorResult(
        indicator="employment",
        status="ok",
        estimate=estimate,
        std_error=se,
        ci_low=estimate - 1.96 * se,
        ci_high=estimate + 1.96 * se,
        n_treated=n,
        n_control=n if n_control is None else n_control,
    )


def test_it_estimates_the_between_segment_variance_by_the_method_of_moments():
    # mu = 1; (3-1)^2 - 1^2 = 3; (0-1)^2 - 0.5^2 = 0.75; mean = 1.875.
    assert between_variance([3.0, 0.0], [1.0, 0.5], prior_mean=1.0) == pytest.approx(1.875)
    # Segments closer to mu than their noise: no real differences, tau^2 = 0.
    assert between_variance([1.1, 0.9], [1.0, 1.0], prior_mean=1.0) == 0.0
    assert between_variance([], [], prior_mean=1.0) == 0.0


def test_it_pulls_a_noisy_segment_most_of_the_way_to_the_offer():
    # s^2 = 4, tau^2 = 1: B = 4/5; theta = 2 + 0.2 * (7 - 2) = 3.
    # var = 0.2 * 4 + 0.8^2 * 0.5^2 = 0.8 + 0.16 = 0.96.
    shrunk = shrink_one(7.0, 2.0, prior_mean=2.0, prior_se=0.5, tau2=1.0)
    assert shrunk.shrinkage == pytest.approx(0.8)
    assert shrunk.estimate == pytest.approx(3.0)
    assert shrunk.std_error == pytest.approx(math.sqrt(0.96))
    assert shrunk.ci_low == pytest.approx(3.0 - 1.959964 * math.sqrt(0.96), abs=1e-5)
    assert shrunk.ci_high == pytest.approx(3.0 + 1.959964 * math.sqrt(0.96), abs=1e-5)


def test_it_keeps_a_precise_segment_near_its_own_estimate():
    # s^2 = 0.01, tau^2 = 0.99: B = 0.01; theta = 2 + 0.99 * 5 = 6.95.
    shrunk = shrink_one(7.0, 0.1, prior_mean=2.0, prior_se=0.5, tau2=0.99)
    assert shrunk.shrinkage == pytest.approx(0.01)
    assert shrunk.estimate == pytest.approx(6.95)


def test_without_real_differences_every_segment_gets_the_offers_estimate():
    shrunk = shrink_one(5.0, 1.0, prior_mean=2.0, prior_se=0.4, tau2=0.0)
    assert shrunk.shrinkage == 1.0
    assert shrunk.estimate == 2.0
    assert shrunk.std_error == pytest.approx(0.4)


def test_shrink_uses_tau_from_the_segments_it_is_given():
    overall = result(1.0, 0.2, 200)
    segments = {(1, 2): result(3.0, 1.0, 60), (0, 2): result(0.0, 0.5, 140)}
    # tau^2 = 1.875 (first test); B = 1/2.875 and 0.25/2.125.
    shrunk = shrink(segments, overall=overall)
    b_small = 1.0 / 2.875
    assert shrunk[(1, 2)].estimate == pytest.approx(1.0 + (1 - b_small) * 2.0)
    # Variance: (1 - B) s^2 + B^2 s_mu^2 + 2/max(S-3, 1) B^2 (y - mu)^2, with S = 2.
    variance = (1 - b_small) * 1.0 + b_small**2 * 0.04 + 2 * b_small**2 * 4.0
    assert shrunk[(1, 2)].std_error == pytest.approx(math.sqrt(variance))
    b_micro = 0.25 / 2.125
    assert shrunk[(0, 2)].estimate == pytest.approx(1.0 + (1 - b_micro) * -1.0)
    assert shrink(segments, overall=IndicatorResult(indicator="employment", status="too_few")) == {}


def test_it_decodes_the_panels_industry_codes():
    assert industry_of_code(2) == ("db07", "C")
    assert industry_of_code(32 + 12) == ("db25", "M")


# --- disclosure -----------------------------------------------------------------------------------


def attacker_subtracts(overall: IndicatorResult, shown: dict) -> tuple[int, float]:
    """What the published numbers say about everyone not in a shown segment: (count, mean)."""
    rest = overall.n_treated - sum(r.n_treated for r in shown.values())
    weighted = (overall.estimate or 0.0) * overall.n_treated - sum(
        (r.estimate or 0.0) * r.n_treated for r in shown.values()
    )
    return rest, (weighted / rest if rest else math.nan)


def test_a_segment_below_the_threshold_is_not_shown_and_cannot_be_subtracted():
    # 100 participants: three segments of 40, 45 and 15. The third is below K; withholding it
    # alone would leave 15 = 100 - 40 - 45 to subtract, so the next smallest goes too.
    segments = {
        (0, 2): result(1.0, 0.4, 40),
        (1, 2): result(2.0, 0.4, 45),
        (2, 2): result(6.0, 1.5, 15),
    }
    overall = result((40 * 1.0 + 45 * 2.0 + 15 * 6.0) / 100, 0.3, 100)
    shown = publish_segments(segments, overall=overall, min_treated=K)
    assert (2, 2) not in shown
    rest, _mean = attacker_subtracts(overall, shown)
    assert rest == 0 or rest >= K
    assert shown == {(1, 2): segments[(1, 2)]}
    rest, mean = attacker_subtracts(overall, shown)
    # What the attacker isolates is 55 companies, not the 15.
    assert rest == 55
    assert mean == pytest.approx((40 * 1.0 + 15 * 6.0) / 55)


def test_it_shows_every_segment_when_the_remainder_is_large_enough():
    segments = {(0, 2): result(1.0, 0.4, 40), (1, 2): result(2.0, 0.4, 45)}
    overall = result(1.5, 0.3, 110)  # 25 participants in segments too small to show
    shown = publish_segments(segments, overall=overall, min_treated=K)
    assert set(shown) == {(0, 2), (1, 2)}
    assert attacker_subtracts(overall, shown)[0] == 25


def test_no_segment_is_shown_when_the_offers_own_figure_is_withheld():
    segments = {(0, 2): result(1.0, 0.4, 40)}
    withheld = IndicatorResult(indicator="employment", status="too_few")
    assert publish_segments(segments, overall=withheld, min_treated=K) == {}
    assert publish_segments(segments, overall=None, min_treated=K) == {}


def test_a_segment_with_too_few_controls_is_not_shown():
    segments = {(0, 2): result(1.0, 0.4, 40, n_control=12), (1, 2): result(2.0, 0.4, 60)}
    overall = result(1.6, 0.3, 100)
    shown = publish_segments(segments, overall=overall, min_treated=K)
    assert set(shown) == {(1, 2)}


# --- a real run -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_run_stores_shown_segments_shrunk_and_nothing_small_can_be_subtracted(build_register):
    from django.conf import settings

    from evaluation import services
    from evaluation.models import EffectEstimate, EffectRun, EffectSegment
    from tests.offers.factories import make_offer

    offer = make_offer(external_id="segment-forloeb", themes=["growth"])
    build_register(
        {offer: {"effect": 1.5, "per_year": 120, "years": [2018, 2019, 2020]}},
        companies=6_000,
    )
    run = services.effects_compute(sync=True)
    assert run.status == EffectRun.Status.COMPLETED
    k = settings.EFFECT_MIN_TREATED
    stored = list(EffectSegment.objects.published().filter(offer=offer, indicator="employment"))
    assert stored, "a run with 360 participants shows some segment"
    overall = EffectEstimate.objects.published().get(
        offer=offer, indicator="employment", cohort_year__isnull=True
    )
    for segment in stored:
        assert segment.n_treated >= k and segment.n_control >= k
        assert 0.0 <= segment.shrinkage <= 1.0
        # The shown estimate lies between the segment's own and the offer's.
        low, high = sorted([segment.estimate, overall.estimate])
        assert low - 1e-9 <= segment.shrunk_estimate <= high + 1e-9
        assert segment.shrunk_ci_low < segment.shrunk_estimate < segment.shrunk_ci_high
    rest = overall.n_treated - sum(s.n_treated for s in stored)
    assert rest == 0 or rest >= k, rest
    # The segments are nested in the published figure.
    assert sum(s.n_treated for s in stored) <= overall.n_treated


def test_the_interval_widens_for_an_uncertain_shrinkage_factor():
    # As the noisy case above, estimated from S = 7 segments: the variance gains
    # 2/(7-3) * 0.8^2 * (7 - 2)^2 = 8.0, so 0.96 + 8.0 = 8.96.
    shrunk = shrink_one(7.0, 2.0, prior_mean=2.0, prior_se=0.5, tau2=1.0, segments=7)
    assert shrunk.estimate == pytest.approx(3.0)
    assert shrunk.std_error == pytest.approx(math.sqrt(8.96))
