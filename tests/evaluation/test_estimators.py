"""The effect estimator (matched difference-in-differences) on synthetic register panels."""

import dataclasses
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from evaluation.estimators import (
    COVARIATES,
    INDICATORS,
    METHOD,
    METHOD_UNADJUSTED,
    CohortData,
    IndicatorResult,
    UnitData,
    apply_min_treated,
    estimate_cohort,
    pool,
    roll_up,
)

Z_975 = 1.959963984540054
EFFECT_FTE = 2.0
EFFECT_REVENUE = 1_500_000.0
SECTIONS = np.array(list("CFGJM"))
SECTION_SHARES = [0.15, 0.2, 0.3, 0.15, 0.2]
UNIT_FIELDS = tuple(f.name for f in dataclasses.fields(UnitData))

type Columns = dict[str, npt.NDArray[Any]]
type Estimated = tuple[CohortData, dict[str, IndicatorResult]]


# --- synthetic panels ---------------------------------------------------------------------------


def synthetic_panel(
    seed: int,
    n: int = 20_000,
    *,
    participation: float = 0.3,
    effect_fte: float = EFFECT_FTE,
    effect_revenue: float = EFFECT_REVENUE,
) -> tuple[Columns, npt.NDArray[np.bool_]]:
    """Companies with heavy-tailed size, their own growth trends, and selective participation.

    Larger companies and companies that grew from t-2 to t-1 take part more often. That growth
    continues to t+2, so the naive comparison credits the offer with growth that would have
    happened anyway.
    """
    rng = np.random.default_rng(seed)
    industry = rng.choice(SECTIONS, size=n, p=SECTION_SHARES)
    employees_pre = np.round(rng.lognormal(1.6, 1.1, n), 1)
    growth = rng.normal(0.03, 0.08, n)
    employees = np.maximum(np.round(employees_pre * (1 + growth) + rng.normal(0, 0.3, n), 1), 0.0)
    revenue_per_fte = rng.lognormal(np.log(1.2e6), 0.5, n)
    revenue_pre = employees_pre * revenue_per_fte
    revenue_noise = rng.normal(0, 5e4, n) * np.sqrt(employees_pre + 1)
    revenue = np.maximum(revenue_pre * (1 + growth) + revenue_noise, 0.0)

    observed_growth = (employees - employees_pre) / np.maximum(employees_pre, 1.0)
    logit = -4.6 + 0.55 * np.log1p(employees) + 8.0 * observed_growth
    participates = rng.random(n) < participation / (1 + np.exp(-logit))

    three_years = (1 + growth) ** 3
    fte_noise = rng.normal(0, 1.0, n) * np.sqrt(1 + 0.05 * employees)
    employment_end = np.maximum(employees * three_years + fte_noise, 0.0)
    employment_end += effect_fte * participates
    revenue_end = revenue * three_years + rng.normal(0, 2e5, n) * np.sqrt(1 + employees)
    revenue_end += effect_revenue * participates
    exporter = rng.random(n) < 0.3
    columns: Columns = {
        "cvr": np.arange(10_000_000, 10_000_000 + n, dtype=np.int64),
        "industry": industry,
        "size_class": np.digitize(employees, [10, 50, 250]).astype(np.int64),
        "employees": employees,
        "revenue": revenue,
        "employees_pre": employees_pre,
        "revenue_pre": revenue_pre,
        "employment_base": employees,
        "employment_end": employment_end,
        "revenue_base": revenue,
        "revenue_end": revenue_end,
        "value_added_base": 0.4 * revenue * rng.uniform(0.8, 1.2, n),
        "value_added_end": 0.4 * revenue_end * rng.uniform(0.8, 1.2, n),
        # Most companies export nothing: many identical zeros in the outcome.
        "export_base": np.where(exporter, 0.3 * revenue, 0.0),
        "export_end": np.where(exporter, 0.3 * revenue_end, 0.0),
    }
    return columns, participates


def units(columns: Columns, rows: npt.NDArray[Any]) -> UnitData:
    return UnitData(**{name: columns[name][rows] for name in UNIT_FIELDS})


def cohort(columns: Columns, treated: npt.NDArray[np.bool_]) -> CohortData:
    return CohortData(treated=units(columns, treated), control=units(columns, ~treated))


def companies(
    *,
    first_cvr: int,
    industry: Sequence[str],
    size_class: Sequence[int],
    employees: Sequence[float],
    employment_change: Sequence[float],
    revenue: Sequence[float] | None = None,
) -> UnitData:
    """A handful of hand-made companies with no pre-trend; only employment changes."""
    n = len(industry)
    fte = np.asarray(employees, dtype=np.float64)
    sales = np.asarray(revenue if revenue is not None else [1e6] * n, dtype=np.float64)
    return UnitData(
        cvr=np.arange(first_cvr, first_cvr + n, dtype=np.int64),
        industry=np.asarray(industry),
        size_class=np.asarray(size_class, dtype=np.int64),
        employees=fte,
        revenue=sales,
        employees_pre=fte,
        revenue_pre=sales,
        employment_base=fte,
        employment_end=fte + np.asarray(employment_change, dtype=np.float64),
        revenue_base=sales,
        revenue_end=sales,
        value_added_base=0.4 * sales,
        value_added_end=0.4 * sales,
        export_base=np.zeros(n),
        export_end=np.zeros(n),
    )


def manufacturers(
    *, first_cvr: int, employees: Sequence[float], employment_change: Sequence[float]
) -> UnitData:
    """Companies that share one cell: industry C, size class 1."""
    n = len(employees)
    return companies(
        first_cvr=first_cvr,
        industry=["C"] * n,
        size_class=[1] * n,
        employees=employees,
        employment_change=employment_change,
    )


def join(*groups: UnitData) -> UnitData:
    return UnitData(
        **{name: np.concatenate([getattr(g, name) for g in groups]) for name in UNIT_FIELDS}
    )


def covers(result: IndicatorResult, value: float) -> bool:
    assert result.ci_low is not None and result.ci_high is not None
    return result.ci_low <= value <= result.ci_high


def number(value: float | None) -> float:
    assert value is not None
    return value


@pytest.fixture(scope="module")
def selective_cohort() -> Estimated:
    columns, participates = synthetic_panel(seed=2024)
    data = cohort(columns, participates)
    return data, estimate_cohort(data)


# --- the effect under selection -----------------------------------------------------------------


def test_it_recovers_an_injected_employment_effect_despite_selection(
    selective_cohort: Estimated,
) -> None:
    data, results = selective_cohort
    employment = results["employment"]

    assert employment.status == "ok"
    assert employment.n_treated + employment.n_unmatched == len(data.treated) > 300
    assert covers(employment, EFFECT_FTE)
    naive_bias = abs(number(employment.naive_estimate) - EFFECT_FTE)
    assert naive_bias > 4 * number(employment.std_error)
    assert naive_bias > Z_975 * number(employment.naive_std_error)


def test_it_recovers_an_injected_revenue_effect_despite_selection(
    selective_cohort: Estimated,
) -> None:
    _, results = selective_cohort
    revenue = results["revenue"]

    assert covers(revenue, EFFECT_REVENUE)
    naive_bias = abs(number(revenue.naive_estimate) - EFFECT_REVENUE)
    assert naive_bias > 4 * number(revenue.std_error)
    assert naive_bias > Z_975 * number(revenue.naive_std_error)


def test_it_reports_an_effect_of_two_fte_as_about_two(selective_cohort: Estimated) -> None:
    _, results = selective_cohort

    assert 1.5 < number(results["employment"].estimate) < 2.5
    assert results["employment"].extra == pytest.approx(
        number(results["employment"].estimate) * results["employment"].n_treated
    )


def test_it_balances_the_matching_covariates(selective_cohort: Estimated) -> None:
    _, results = selective_cohort
    balance = results["employment"].balance

    assert set(balance) == set(COVARIATES)
    for name in COVARIATES:
        assert balance[name]["before"] > 0.1, name
        assert abs(balance[name]["after"]) < 0.05, name


def test_it_removes_more_selection_bias_with_the_bias_adjustment_than_without() -> None:
    columns, participates = synthetic_panel(seed=2024)
    data = cohort(columns, participates)

    adjusted = estimate_cohort(data)["employment"]
    plain = estimate_cohort(data, bias_adjustment=False)["employment"]

    assert adjusted.method == METHOD
    assert plain.method == METHOD_UNADJUSTED
    assert abs(number(plain.estimate) - EFFECT_FTE) < abs(number(plain.naive_estimate) - EFFECT_FTE)
    assert abs(number(adjusted.estimate) - EFFECT_FTE) < abs(number(plain.estimate) - EFFECT_FTE)


def test_it_finds_no_effect_in_a_placebo_cohort() -> None:
    columns, participates = synthetic_panel(seed=7, effect_fte=0.0, effect_revenue=0.0)
    rng = np.random.default_rng(8)
    non_participants = np.flatnonzero(~participates)
    placebo = np.zeros(len(participates), dtype=bool)
    placebo[rng.choice(non_participants, size=300, replace=False)] = True
    keep = ~participates | placebo

    results = estimate_cohort(cohort({k: v[keep] for k, v in columns.items()}, placebo[keep]))

    for indicator in INDICATORS:
        assert results[indicator].status == "ok", indicator
        assert covers(results[indicator], 0.0), indicator


def test_its_confidence_interval_covers_the_truth_in_about_95_percent_of_samples() -> None:
    hits = []
    for seed in range(40):
        columns, participates = synthetic_panel(seed=100 + seed, n=3_000, participation=0.6)
        result = estimate_cohort(cohort(columns, participates))["employment"]
        hits.append(covers(result, EFFECT_FTE))

    assert 0.85 <= np.mean(hits) <= 1.0


# --- matching rules -----------------------------------------------------------------------------


def test_it_uses_and_averages_all_controls_tied_at_the_nearest_distance() -> None:
    treated = companies(
        first_cvr=1,
        industry=["C"] * 10 + ["G"] * 10,
        size_class=[1] * 20,
        employees=[10.0] * 10 + [30.0] * 10,
        employment_change=[10.0] * 10 + [5.0] * 10,
    )
    control = companies(
        first_cvr=100,
        # Three identical companies at one distance from the C-treated, one farther away, and a
        # single nearest company for the G-treated. Demeaning three 12.3s leaves rounding noise
        # that the bias adjustment must not read as spread.
        industry=["C", "C", "C", "C", "G", "G"],
        size_class=[1] * 6,
        employees=[12.3, 12.3, 12.3, 20.0, 31.0, 40.0],
        employment_change=[1.0, 2.0, 3.0, 100.0, 4.0, 200.0],
    )

    for bias_adjustment in (True, False):
        result = estimate_cohort(
            CohortData(treated=treated, control=control),
            neighbours=1,
            bias_adjustment=bias_adjustment,
        )["employment"]

        # C: 10 - (1 + 2 + 3) / 3 = 8; G: 5 - 4 = 1; ten treated in each.
        assert result.estimate == 4.5
        assert result.n_treated == 20
        assert result.n_control == 4


def test_it_treats_controls_equally_far_on_either_side_as_ties() -> None:
    treated = manufacturers(first_cvr=1, employees=[1.0] * 20, employment_change=[5.0] * 20)
    control = manufacturers(
        first_cvr=100,
        # 0.9 and 1.1 FTE are equally far from 1.0, but not in binary floating point.
        employees=[0.9, 1.1, 1.5],
        employment_change=[1.0, 3.0, 50.0],
    )

    result = estimate_cohort(
        CohortData(treated=treated, control=control), neighbours=1, bias_adjustment=False
    )["employment"]

    assert result.estimate == pytest.approx(5.0 - 2.0, rel=1e-12)
    assert result.n_control == 2


def test_it_computes_the_abadie_imbens_standard_error() -> None:
    treated = manufacturers(first_cvr=1, employees=[10.0] * 2, employment_change=[5.0, 7.0])
    control = manufacturers(
        first_cvr=100, employees=[10.0, 10.0, 10.0, 30.0], employment_change=[1.0, 2.0, 6.0, 100.0]
    )

    result = estimate_cohort(CohortData(treated=treated, control=control), min_treated=2)

    # Both treated use the three identical controls (mean 3): contributions 2 and 4, ATT 3.
    # Each control has K = 2/3 and K' = 2/9, so K^2 - K' = 2/9. Its variance from the other
    # two (J = 2): 2/3 * (1 - 4)^2 = 6, 2/3 * (2 - 3.5)^2 = 1.5, 2/3 * (6 - 1.5)^2 = 13.5.
    # V = ((2 - 3)^2 + (4 - 3)^2 + 2/9 * 21) / 2^2 = 5/3.
    employment = result["employment"]
    assert employment.estimate == pytest.approx(3.0, rel=1e-12)
    assert employment.std_error == pytest.approx(math.sqrt(5 / 3), rel=1e-12)
    assert employment.n_control == 3


def test_it_matches_only_within_the_same_industry_and_size_class() -> None:
    treated = manufacturers(first_cvr=1, employees=[10.0] * 20, employment_change=[3.0] * 20)
    control = companies(
        first_cvr=100,
        industry=["G", "C", "C"],
        size_class=[1, 2, 1],
        # Identical covariates but another industry or size class, and a farther control in
        # the treated companies' own cell.
        employees=[10.0, 10.0, 25.0],
        employment_change=[100.0, 100.0, 1.0],
    )

    result = estimate_cohort(CohortData(treated=treated, control=control), neighbours=1)

    assert result["employment"].estimate == 2.0
    assert result["employment"].n_control == 1


def test_it_drops_and_counts_treated_companies_whose_cell_has_no_controls() -> None:
    columns, participates = synthetic_panel(seed=11, n=4_000, participation=1.0)
    data = cohort(columns, participates)
    stranded = companies(
        first_cvr=1,
        industry=["Q", "C"],
        size_class=[1, 9],
        employees=[12.0, 12.0],
        employment_change=[100_000.0, 100_000.0],
    )

    results = estimate_cohort(
        CohortData(treated=join(data.treated, stranded), control=data.control)
    )

    employment = results["employment"]
    assert employment.n_unmatched == 2
    assert employment.n_treated == len(data.treated)
    assert number(employment.estimate) < 10
    # The naive comparison uses every treated company, matched or not.
    assert number(employment.naive_estimate) > 100


def test_it_reports_too_few_below_the_minimum_number_of_treated() -> None:
    columns, participates = synthetic_panel(seed=3, n=4_000)
    treated = participates & (np.cumsum(participates) <= 19)
    data = cohort(columns, treated)

    results = estimate_cohort(data, min_treated=20)

    for indicator in INDICATORS:
        result = results[indicator]
        assert result.status == "too_few"
        assert result.estimate is None
        assert result.std_error is None
        assert result.ci_low is None and result.ci_high is None
        assert result.naive_estimate is None
        assert result.extra is None
        assert result.balance == {}
    assert results["employment"].n_treated + results["employment"].n_unmatched == 19


def test_it_drops_companies_without_fte_from_productivity_only() -> None:
    columns, participates = synthetic_panel(seed=5, n=6_000, participation=1.0)
    no_fte_at_end = np.random.default_rng(6).random(len(participates)) < 0.1
    columns["employment_end"] = np.where(no_fte_at_end, 0.0, columns["employment_end"])
    # Productivity is undefined for these companies, so what they report as value added must
    # not matter.
    other_value_added = columns | {
        "value_added_end": np.where(no_fte_at_end, 1e12, columns["value_added_end"])
    }

    results = estimate_cohort(cohort(columns, participates))
    with_other_value_added = estimate_cohort(cohort(other_value_added, participates))

    has_fte = (columns["employment_base"] > 0) & (columns["employment_end"] > 0)
    productivity = results["productivity"]
    assert productivity.status == "ok"
    assert productivity.n_treated + productivity.n_unmatched == (participates & has_fte).sum()
    assert productivity.extra is None
    employment = results["employment"]
    assert employment.n_treated + employment.n_unmatched == participates.sum()
    assert dataclasses.asdict(with_other_value_added["productivity"]) == dataclasses.asdict(
        productivity
    )
    assert with_other_value_added["employment"] == employment


def test_it_reports_no_data_for_an_indicator_nobody_reported() -> None:
    columns, participates = synthetic_panel(seed=9, n=3_000, participation=1.0)
    columns["export_end"] = np.full(len(participates), np.nan)

    results = estimate_cohort(cohort(columns, participates))

    assert results["export"].status == "no_data"
    assert results["export"].estimate is None
    assert results["employment"].status == "ok"


def test_it_gives_identical_results_for_identical_input() -> None:
    columns, participates = synthetic_panel(seed=13, n=5_000, participation=1.0)

    first = estimate_cohort(cohort(columns, participates))
    second = estimate_cohort(cohort(columns, participates))

    assert {k: dataclasses.asdict(v) for k, v in first.items()} == {
        k: dataclasses.asdict(v) for k, v in second.items()
    }


def test_it_does_not_depend_on_the_order_of_the_companies() -> None:
    columns, participates = synthetic_panel(seed=13, n=5_000, participation=1.0)
    order = np.random.default_rng(14).permutation(len(participates))

    original = estimate_cohort(cohort(columns, participates))
    shuffled = estimate_cohort(
        cohort({k: v[order] for k, v in columns.items()}, participates[order])
    )

    for indicator in INDICATORS:
        assert shuffled[indicator].n_control == original[indicator].n_control
        assert number(shuffled[indicator].estimate) == pytest.approx(
            number(original[indicator].estimate), rel=1e-9
        )
        assert number(shuffled[indicator].std_error) == pytest.approx(
            number(original[indicator].std_error), rel=1e-9
        )


def test_its_results_serialise_to_json(selective_cohort: Estimated) -> None:
    _, results = selective_cohort

    payload = json.loads(json.dumps({k: dataclasses.asdict(v) for k, v in results.items()}))

    assert list(payload) == list(INDICATORS)
    assert payload["employment"]["baseline_offset"] == -1
    assert payload["employment"]["outcome_offset"] == 2
    assert payload["employment"]["method"] == METHOD


def test_it_refuses_a_company_that_is_both_treated_and_control() -> None:
    columns, participates = synthetic_panel(seed=1, n=1_000, participation=1.0)
    data = cohort(columns, participates)

    with pytest.raises(ValueError, match="both treated and control"):
        CohortData(treated=data.treated, control=join(data.control, data.treated))


# --- pooling ------------------------------------------------------------------------------------


def cohort_result(**values: Any) -> IndicatorResult:
    return IndicatorResult(indicator="employment", status="ok", **values)


def test_it_pools_cohorts_weighted_by_their_matched_treated() -> None:
    first = cohort_result(
        estimate=2.0,
        std_error=0.5,
        n_treated=30,
        n_control=70,
        n_unmatched=2,
        naive_estimate=5.0,
        naive_std_error=0.4,
    )
    second = cohort_result(
        estimate=4.0,
        std_error=1.0,
        n_treated=10,
        n_control=25,
        n_unmatched=0,
        naive_estimate=3.0,
        naive_std_error=0.8,
    )

    pooled = pool([first, second])

    # w = 30/40, 10/40; var = 0.75^2 * 0.5^2 + 0.25^2 * 1^2 = 0.203125
    assert pooled.status == "ok"
    assert pooled.estimate == pytest.approx(2.5, rel=1e-12)
    assert pooled.std_error == pytest.approx(math.sqrt(0.203125), rel=1e-12)
    assert pooled.ci_low == pytest.approx(2.5 - Z_975 * math.sqrt(0.203125), rel=1e-9)
    assert pooled.ci_high == pytest.approx(2.5 + Z_975 * math.sqrt(0.203125), rel=1e-9)
    # Naive weights count every treated company with the outcome: 32/42 and 10/42.
    assert pooled.naive_estimate == pytest.approx((32 * 5.0 + 10 * 3.0) / 42, rel=1e-12)
    assert pooled.naive_std_error == pytest.approx(
        math.sqrt((32 * 0.4) ** 2 + (10 * 0.8) ** 2) / 42, rel=1e-12
    )
    assert (pooled.n_treated, pooled.n_control, pooled.n_unmatched) == (40, 95, 2)
    assert pooled.n_cohorts == 2
    assert pooled.extra == pytest.approx(100.0, rel=1e-12)


def test_it_pools_small_cohorts_into_a_measurable_offer() -> None:
    columns, participates = synthetic_panel(seed=21, n=4_000)
    first, second = participates.copy(), participates.copy()
    first[np.flatnonzero(participates)[15:]] = False
    second[np.flatnonzero(participates)[:15]] = False
    second[np.flatnonzero(participates)[30:]] = False

    cohorts = [
        estimate_cohort(cohort(columns, treated), min_treated=2)["employment"]
        for treated in (first, second)
    ]

    shown = [apply_min_treated(result, 20) for result in cohorts]
    pooled = pool(cohorts)
    assert [result.status for result in shown] == ["too_few", "too_few"]
    assert pooled.status == "ok"
    assert pooled.n_treated == cohorts[0].n_treated + cohorts[1].n_treated >= 20
    assert pool(cohorts[:1]).status == "too_few"
    assert pool(cohorts[:1]).estimate is None


def test_it_leaves_cohorts_without_numbers_out_of_the_pool_and_counts_their_treated() -> None:
    measured = cohort_result(estimate=2.0, std_error=0.5, n_treated=30, naive_estimate=1.0)
    too_few = IndicatorResult(indicator="employment", status="too_few", n_treated=1)

    pooled = pool([measured, too_few])

    assert pooled.estimate == 2.0
    assert pooled.n_treated == 30
    assert pooled.n_unmatched == 1


def test_it_rolls_offers_up_and_counts_the_extra_jobs() -> None:
    offers = [
        cohort_result(estimate=1.0, std_error=0.2, n_treated=100, naive_estimate=2.0),
        cohort_result(estimate=3.0, std_error=0.6, n_treated=50, naive_estimate=4.0),
    ]

    total = roll_up(offers)

    assert total.estimate == pytest.approx((100 * 1.0 + 50 * 3.0) / 150, rel=1e-12)
    assert total.std_error == pytest.approx(math.sqrt((100 * 0.2) ** 2 + (50 * 0.6) ** 2) / 150)
    assert total.extra == pytest.approx(250.0, rel=1e-12)


def test_it_refuses_to_pool_different_indicators() -> None:
    with pytest.raises(ValueError, match="one indicator"):
        pool(
            [
                cohort_result(estimate=1.0, std_error=0.1, n_treated=30),
                IndicatorResult(indicator="revenue", status="ok", estimate=1.0, n_treated=30),
            ]
        )
