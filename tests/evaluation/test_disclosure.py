"""The disclosure rule on plain results (evaluation/disclosure.py): no database, no Django."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from evaluation import disclosure
from evaluation.estimators import IndicatorResult, pool

K = 20


def cell(estimate: float, n: int, *, se: float = 0.5, controls: int | None = None, **more):
    """A measured cohort result, as estimate_cohort gives it without a threshold."""
    return IndicatorResult(
        indicator="employment",
        status="ok",
        estimate=estimate,
        std_error=se,
        ci_low=estimate - 1.96 * se,
        ci_high=estimate + 1.96 * se,
        n_treated=n,
        n_control=3 * n if controls is None else controls,
        n_unmatched=more.pop("unmatched", 0),
        naive_estimate=more.pop("naive", estimate + 1.0),
        naive_std_error=0.4,
        extra=estimate * n,
        extra_ci_low=(estimate - 1.96 * se) * n,
        extra_ci_high=(estimate + 1.96 * se) * n,
        **more,
    )


NUMBERS = (
    "estimate",
    "std_error",
    "ci_low",
    "ci_high",
    "naive_estimate",
    "naive_std_error",
    "extra",
    "extra_ci_low",
    "extra_ci_high",
)


def carries_nothing(result: IndicatorResult) -> bool:
    return all(getattr(result, name) is None for name in NUMBERS) and (
        result.n_treated,
        result.n_control,
        result.n_unmatched,
        result.balance,
    ) == (0, 0, 0, {})


class TestCells:
    def test_a_cell_is_publishable_with_k_participants_and_k_controls(self):
        assert disclosure.is_publishable(cell(1.0, K), min_treated=K)
        assert not disclosure.is_publishable(cell(1.0, K - 1), min_treated=K)
        assert not disclosure.is_publishable(cell(1.0, 40, controls=K - 1), min_treated=K)
        no_data = IndicatorResult(indicator="employment", status="no_data", n_unmatched=5)
        assert not disclosure.is_publishable(no_data, min_treated=K)

    def test_a_withheld_cell_keeps_its_status_and_nothing_else(self):
        small = disclosure.publish_cell(cell(2.5, 8, unmatched=2), min_treated=K)
        assert small.status == "too_few"
        assert carries_nothing(small)
        no_data = IndicatorResult(indicator="export", status="no_data", n_unmatched=7)
        shown = disclosure.publish_cell(no_data, min_treated=K)
        assert shown.status == "no_data" and carries_nothing(shown)

    def test_a_publishable_cell_is_unchanged(self):
        big = cell(2.5, 30, unmatched=2)
        assert disclosure.publish_cell(big, min_treated=K) is big


class TestPooling:
    def test_the_pooled_figure_leaves_out_a_small_cohort_entirely(self):
        cohorts = {2018: cell(1.0, 40), 2019: cell(2.0, 60), 2020: cell(9.0, 8)}

        cells, pooled = disclosure.publish_offer(cohorts, min_treated=K)

        assert carries_nothing(cells[2020]) and cells[2020].status == "too_few"
        assert cells[2018] == cohorts[2018] and cells[2019] == cohorts[2019]
        assert pooled is not None
        assert (pooled.n_treated, pooled.n_cohorts) == (100, 2)
        assert pooled.estimate == pytest.approx((1.0 * 40 + 2.0 * 60) / 100)
        # What the public can compute from the two published cohorts is the pooled figure.
        assert pooled == disclosure.combine([cells[2018], cells[2019]], min_treated=K)

    def test_the_pooled_figure_is_the_same_whatever_the_small_cohort_holds(self):
        published = {2018: cell(1.0, 40), 2019: cell(2.0, 60)}
        pooled = [
            disclosure.publish_offer(
                {**published, 2020: cell(value, n, unmatched=u)}, min_treated=K
            )[1]
            for value, n, u in [(9.0, 8, 0), (-30.0, 19, 3), (0.0, 2, 1)]
        ]
        without = disclosure.publish_offer(published, min_treated=K)[1]
        assert pooled == [without] * 3

    def test_the_naive_difference_is_weighted_by_the_published_counts(self):
        # With the participants' own weights (n_treated + n_unmatched), the pooled naive figure
        # and the published cohorts would give an equation in the unpublished n_unmatched.
        a = cell(1.0, 40, naive=3.0, unmatched=3)
        b = cell(2.0, 60, naive=5.0, unmatched=11)

        pooled = disclosure.combine([a, b], min_treated=K)

        assert pooled.naive_estimate == pytest.approx((3.0 * 40 + 5.0 * 60) / 100)
        assert pooled.naive_estimate != pytest.approx(pool([a, b], min_treated=K).naive_estimate)
        assert pooled.n_unmatched == 14  # kept for analysts, never published

    def test_no_publishable_cohort_means_a_withheld_pooled_figure(self):
        cells, pooled = disclosure.publish_offer(
            {2018: cell(1.0, 12), 2019: cell(2.0, 12)}, min_treated=K
        )
        assert pooled is not None and pooled.status == "too_few" and carries_nothing(pooled)
        # Together they would pass the threshold; pooling them would publish small groups' sum
        # and, next to a later publishable year, let one be undone.
        assert all(c.status == "too_few" for c in cells.values())

    def test_only_no_data_stays_no_data_and_nothing_is_none(self):
        empty = IndicatorResult(indicator="export", status="no_data", n_cohorts=0)
        _, pooled = disclosure.publish_offer({2018: empty}, min_treated=K)
        assert pooled is not None and pooled.status == "no_data"
        assert disclosure.publish_offer({}, min_treated=K) == ({}, None)
        with pytest.raises(ValueError):
            disclosure.combine([], min_treated=K)


class TestRollUps:
    def test_a_roll_up_is_the_same_with_and_without_a_small_offer(self):
        big = disclosure.combine([cell(1.0, 40), cell(2.0, 60)], min_treated=K)
        other = disclosure.combine([cell(-1.0, 25)], min_treated=K)
        small = disclosure.combine([cell(7.0, 12)], min_treated=K)

        with_small = disclosure.combine([big, other, small], min_treated=K)
        without = disclosure.combine([big, other], min_treated=K)

        assert with_small == without
        assert with_small.n_treated == 125
        assert with_small.estimate == pytest.approx((1.6 * 100 + -1.0 * 25) / 125)

    def test_a_roll_up_of_small_offers_only_is_withheld(self):
        small = disclosure.combine([cell(7.0, 12)], min_treated=K)
        rolled = disclosure.combine([small, replace(small)], min_treated=K)
        assert rolled.status == "too_few" and carries_nothing(rolled)

    def test_every_published_count_is_at_least_k_and_nested_differences_too(self):
        cohorts = [cell(1.0, n, controls=c) for n, c in [(20, 20), (31, 70), (45, 130)]]
        offers = [disclosure.combine([c], min_treated=K) for c in cohorts]
        for inner in range(1, 4):
            small_set = disclosure.combine(offers[:inner], min_treated=K)
            for outer in range(inner + 1, 4):
                large_set = disclosure.combine(offers[:outer], min_treated=K)
                assert large_set.n_treated - small_set.n_treated >= K
                assert large_set.n_control - small_set.n_control >= K


class TestCounts:
    @pytest.mark.parametrize(
        ("status", "n_treated", "n_control", "expected"),
        [
            ("ok", 212, 597, (212, 597)),
            ("ok", 20, 19, (20, None)),
            ("ok", 19, 60, (None, 60)),
            ("too_few", 12, 40, (None, None)),
            ("no_data", 0, 0, (None, None)),
        ],
    )
    def test_counts_below_k_and_of_figures_without_a_number_are_not_shown(
        self, status, n_treated, n_control, expected
    ):
        counts = disclosure.public_counts(status, n_treated, n_control, min_treated=K)
        assert (counts["n_treated"], counts["n_control"]) == expected
        assert counts["n_unmatched"] is None

    def test_shown_count(self):
        assert disclosure.shown_count(20, min_treated=K) == 20
        assert disclosure.shown_count(19, min_treated=K) is None
        assert disclosure.shown_count(0, min_treated=K) is None
        assert disclosure.shown_count(None, min_treated=K) is None


def test_the_pooled_estimate_is_exactly_the_weighted_mean_of_the_published_cells():
    """The property the proof rests on: an aggregate is a function of published cells only."""
    cohorts = {2016 + i: cell(0.3 * i - 0.5, 20 + 7 * i, se=0.1 + i / 10) for i in range(6)}
    cohorts[2022] = cell(4.0, 3)
    cells, pooled = disclosure.publish_offer(cohorts, min_treated=K)
    shown = [c for c in cells.values() if c.status == "ok"]
    assert pooled is not None and pooled.estimate is not None and pooled.std_error is not None
    total = sum(c.n_treated for c in shown)
    assert pooled.n_treated == total
    assert math.isclose(
        pooled.estimate, sum(c.n_treated * (c.estimate or 0.0) for c in shown) / total
    )
    assert math.isclose(
        pooled.std_error,
        math.sqrt(sum((c.n_treated / total) ** 2 * (c.std_error or 0.0) ** 2 for c in shown)),
    )
