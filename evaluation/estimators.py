"""Effect of a business-support offer on its participants: matched difference-in-differences.

The estimator follows the register-based design that Danmarks Statistik and Erhvervsstyrelsen use
for effect measurement of business support. It is pure numpy/scipy on plain arrays; the caller
builds a :class:`CohortData` from the panel for one offer and one cohort year ``t``.

Design
------
Sample
    Treated: companies participating in year ``t`` with panel rows for ``t-2``, ``t-1`` and
    ``t+2``. Controls: companies with the same rows that took part in no offer from ``t-3`` to
    ``t+2``. The caller selects both groups.

Matching (baseline ``t-1``)
    Exact on industry section and size class. Within each exact cell, the ``M`` nearest controls
    with replacement, by Euclidean distance on four standardised covariates:

    * ``employees``: FTE at ``t-1``;
    * ``revenue``: revenue at ``t-1``;
    * ``employees_trend``: ``employees(t-1) - employees_pre(t-2)``, an absolute change in FTE;
    * ``revenue_trend``: ``revenue(t-1) - revenue_pre(t-2)``, an absolute change in DKK.

    The pre-trends are absolute changes, not growth rates. The outcome is a change in levels, so
    parallel trends have to hold in levels. Growth rates are also undefined for companies that
    start from zero. Each covariate is divided by its standard deviation over the whole cohort
    (treated and controls pooled; a constant covariate keeps scale 1), so the scale comes from the
    population and not from the matched sample.

    The default is ``M = 3``. With a control pool hundreds of times larger than the treated group,
    the third neighbour is almost as close as the first, so the extra bias is small. The variance
    gets smaller, and a treated company no longer depends on one control whose outcome may be
    extreme (revenue and export have heavy tails). Abadie and Imbens (2006) bound the variance
    against the efficient estimator by a factor of ``1 + 1/(2M)``: 50 % more with ``M = 1`` and
    17 % more with ``M = 3``.

    Ties are never broken arbitrarily. Every control whose distance equals the ``M``-th nearest
    distance, up to a relative tolerance of 1e-12, is included, and all controls in a match set
    have equal weight. A cell with fewer than ``M`` controls uses all of them. Treated companies
    whose cell has no control are dropped and counted in ``n_unmatched``.

Outcome and estimate
    ``dy = y(t+2) - y(t-1)`` per indicator. The matched difference-in-differences is
    ``ATT = mean_i [dy_i - dyhat_i(0)]`` with ``dyhat_i(0) = mean_{j in match set of i} dy_j``.
    The indicators are employment (FTE); revenue, value added and export (DKK); and productivity,
    which is value added per FTE and is defined only where FTE > 0 at both ``t-1`` and ``t+2``. A
    missing (non-finite) outcome drops the company from that indicator only, in both groups.
    Matching is then redone on the companies that are left, so every remaining treated company
    gets controls that have the outcome.

Bias adjustment (default on; method ``nn-matching-did-ai-bc``)
    Nearest-neighbour matching on continuous covariates is biased by what is left of each match
    discrepancy, and that bias shrinks only slowly with the sample size (Abadie and Imbens 2006).
    It is largest where selection is strong, where the treated sit in the tail (large,
    fast-growing companies) and their neighbours are all a little smaller and slower. The
    regression adjustment of Abadie and Imbens (2011), the ``biasadj`` of Stata's
    ``teffects nnmatch``, removes it:
    ``dyhat_i(0) = mean_j [dy_j + beta'(x_i - x_j)]``. Here ``beta`` is the slope of ``dy`` on the
    standardised covariates, fitted by least squares with exact-cell fixed effects on the matched
    controls, each weighted by ``K(j)``. On the simulated panels in the tests, with strong
    selection, this cuts the bias of the employment estimate from about 0.2-0.3 FTE to under
    0.05 FTE, and the spread across samples shrinks too. With ``bias_adjustment=False`` (method
    ``nn-matching-did-ai``) the estimator is the plain matching estimator. When all matched
    controls share the same covariates, there is nothing to fit, and the two estimators agree
    exactly.

Standard error
    The Abadie-Imbens (2006) variance for the population ATT of a matching estimator with
    replacement:

    ``V = (1/N1^2) * (sum_i (dy_i - dyhat_i(0) - ATT)^2 + sum_j (K(j)^2 - K'(j)) * s2(j))``

    Here ``K(j)`` is the sum of the weights with which control ``j`` is used, ``K'(j)`` is the sum
    of the squared weights, and ``s2(j)`` is the conditional outcome variance of control ``j``. It
    is estimated by matching controls to controls: ``s2(j) = J/(J+1) * (dy_j - mean of its J
    nearest other controls in the same cell)^2``, with ``J = 2`` (the Stata ``teffects`` default)
    and ties included as above. With bias adjustment, ``dyhat_i(0)`` in the first sum is the
    adjusted one (Abadie and Imbens 2011). A control that is alone in its cell gets the cohort's
    control variance of ``dy``, which errs on the conservative side. This estimator is analytic and
    needs no seed. It accounts for controls being reused, which a naive paired bootstrap does not
    (Abadie and Imbens 2008 show that the bootstrap is invalid for nearest-neighbour matching). The
    95 % interval is ``estimate +/- z_0.975 * SE``.

Naive estimate
    The mean ``dy`` of every treated company that has the outcome, whether matched or not, minus
    the mean ``dy`` of every control that has it, with a Welch standard error. It is reported next
    to the matched estimate so that readers can see how much selection the matching removes.

Balance
    The standardised mean difference (SMD) of each matching covariate, before matching (treated
    against all controls) and after (matched treated against their weighted controls). Both use the
    same denominator, ``sqrt((var_t + var_c)/2)`` from the sample before matching, so a change in
    the SMD comes only from the means and cannot come from a change in the variances (Stuart 2010;
    Austin 2009).

Small samples
    Below ``min_treated`` matched treated companies, a result has status ``"too_few"`` and no
    numbers. :func:`pool` can pool cohorts that are too small to publish on their own (estimate
    them with a low ``min_treated``, at least 2), but a published pooled figure that contains a
    withheld cohort lets it be recovered by subtraction. The portal therefore publishes through
    :mod:`evaluation.disclosure`, which pools and rolls up publishable cells only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from statistics import NormalDist
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

type FloatArray = npt.NDArray[np.float64]
type IntArray = npt.NDArray[np.int64]
type BoolArray = npt.NDArray[np.bool_]
type CodeArray = npt.NDArray[np.str_] | npt.NDArray[np.int64]
type Status = Literal["ok", "too_few", "no_data"]
type Balance = dict[str, dict[str, float]]

INDICATORS: Final = ("employment", "revenue", "value_added", "export", "productivity")
COVARIATES: Final = ("employees", "revenue", "employees_trend", "revenue_trend")
METHOD: Final = "nn-matching-did-ai-bc"
METHOD_UNADJUSTED: Final = "nn-matching-did-ai"
BASELINE_OFFSET: Final = -1
OUTCOME_OFFSET: Final = 2
DEFAULT_NEIGHBOURS: Final = 3
DEFAULT_VARIANCE_NEIGHBOURS: Final = 2
DEFAULT_MIN_TREATED: Final = 20

_Z_975: Final = NormalDist().inv_cdf(0.975)
_TIE_TOLERANCE: Final = 1e-12
_SPREAD_FLOOR: Final = 1e-8
# "Extra jobs" is a sum over companies. A sum of value added per FTE means nothing.
_RATIO_INDICATORS: Final = frozenset({"productivity"})
_LEVEL_INDICATORS: Final = ("employment", "revenue", "value_added", "export")
_FLOAT_FIELDS: Final = (
    "employees",
    "revenue",
    "employees_pre",
    "revenue_pre",
    "employment_base",
    "employment_end",
    "revenue_base",
    "revenue_end",
    "value_added_base",
    "value_added_end",
    "export_base",
    "export_end",
)


@dataclass(frozen=True, slots=True, eq=False)
class UnitData:
    """One group of companies (treated or controls) in one cohort: one array entry per company.

    ``employees``, ``revenue`` (``t-1``) and ``employees_pre``, ``revenue_pre`` (``t-2``) are the
    matching covariates and must be finite. ``<indicator>_base`` is the indicator at ``t-1`` and
    ``<indicator>_end`` the indicator at ``t+2``. A NaN marks a value that is missing, and the
    company is then left out of that indicator. ``employees`` and ``employment_base`` usually hold
    the same FTE figures. Productivity is not an input: it is derived from value added and FTE, so
    its definition cannot differ from caller to caller.
    """

    cvr: IntArray
    industry: CodeArray
    size_class: IntArray
    employees: FloatArray
    revenue: FloatArray
    employees_pre: FloatArray
    revenue_pre: FloatArray
    employment_base: FloatArray
    employment_end: FloatArray
    revenue_base: FloatArray
    revenue_end: FloatArray
    value_added_base: FloatArray
    value_added_end: FloatArray
    export_base: FloatArray
    export_end: FloatArray

    def __post_init__(self) -> None:
        object.__setattr__(self, "cvr", _as_1d(self.cvr, np.int64, "cvr"))
        object.__setattr__(self, "size_class", _as_1d(self.size_class, np.int64, "size_class"))
        object.__setattr__(self, "industry", _as_codes(self.industry))
        for name in _FLOAT_FIELDS:
            object.__setattr__(self, name, _as_1d(getattr(self, name), np.float64, name))
        n = len(self.cvr)
        for name in ("industry", "size_class", *_FLOAT_FIELDS):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries, cvr has {n}")

    def __len__(self) -> int:
        return len(self.cvr)

    def covariates(self) -> FloatArray:
        """The matching covariates in :data:`COVARIATES` order, shape ``(n, 4)``."""
        return np.column_stack(
            [
                self.employees,
                self.revenue,
                self.employees - self.employees_pre,
                self.revenue - self.revenue_pre,
            ]
        ).astype(np.float64)

    def outcome_change(self, indicator: str) -> FloatArray:
        """``y(t+2) - y(t-1)`` per company, NaN where the indicator is undefined or missing."""
        if indicator == "productivity":
            base = _per_fte(self.value_added_base, self.employment_base)
            end = _per_fte(self.value_added_end, self.employment_end)
        elif indicator in _LEVEL_INDICATORS:
            base = getattr(self, f"{indicator}_base")
            end = getattr(self, f"{indicator}_end")
        else:
            raise ValueError(f"unknown indicator {indicator!r}; expected one of {INDICATORS}")
        change: FloatArray = end - base
        return change


@dataclass(frozen=True, slots=True, eq=False)
class CohortData:
    """Treated companies and eligible controls for one offer and one cohort year."""

    treated: UnitData
    control: UnitData

    def __post_init__(self) -> None:
        if self.treated.industry.dtype.kind != self.control.industry.dtype.kind:
            raise ValueError(
                "industry must be coded the same way (letters or integers) in both groups"
            )
        both = _common_values(self.treated.cvr, self.control.cvr)
        if len(both):
            raise ValueError(
                f"{len(both)} companies are both treated and control, e.g. cvr {both[0]}"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class IndicatorResult:
    """The effect on one indicator, for a cohort or pooled. Plain values, so ``asdict`` is JSON.

    ``n_treated`` counts the treated companies in the estimate. ``n_control`` counts the distinct
    controls used; after pooling it counts distinct controls per cohort, summed. ``n_unmatched``
    counts the treated companies that had the outcome but are not in the estimate. ``extra`` is
    ``estimate * n_treated``, e.g. extra FTE jobs among the participants; it is None for ratio
    indicators. ``balance`` maps each covariate to its SMD ``{"before": ..., "after": ...}``.
    """

    indicator: str
    status: Status
    estimate: float | None = None
    std_error: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n_treated: int = 0
    n_control: int = 0
    n_unmatched: int = 0
    naive_estimate: float | None = None
    naive_std_error: float | None = None
    extra: float | None = None
    extra_ci_low: float | None = None
    extra_ci_high: float | None = None
    n_cohorts: int = 1
    method: str = METHOD
    baseline_offset: int = BASELINE_OFFSET
    outcome_offset: int = OUTCOME_OFFSET
    balance: Balance = field(default_factory=dict)


def estimate_cohort(
    data: CohortData,
    *,
    neighbours: int = DEFAULT_NEIGHBOURS,
    min_treated: int = DEFAULT_MIN_TREATED,
    variance_neighbours: int = DEFAULT_VARIANCE_NEIGHBOURS,
    bias_adjustment: bool = True,
) -> dict[str, IndicatorResult]:
    """Matched difference-in-differences for every indicator of one cohort (see module doc)."""
    _check_at_least("neighbours", neighbours, 1)
    _check_at_least("variance_neighbours", variance_neighbours, 1)
    _check_at_least("min_treated", min_treated, 2)
    raw_t, raw_c = data.treated.covariates(), data.control.covariates()
    for name, raw in (("treated", raw_t), ("control", raw_c)):
        if not np.isfinite(raw).all():
            raise ValueError(
                f"{name} matching covariates (employees, revenue, *_pre) must be finite"
            )
    std_t, std_c = _standardise(raw_t, raw_c)
    cell_t, cell_c = _exact_cells(data.treated, data.control)
    method = METHOD if bias_adjustment else METHOD_UNADJUSTED

    samples: list[_Sample] = []
    results: dict[str, IndicatorResult] = {}
    for indicator in INDICATORS:
        dy_t = data.treated.outcome_change(indicator)
        dy_c = data.control.outcome_change(indicator)
        keep_t, keep_c = np.isfinite(dy_t), np.isfinite(dy_c)
        if not keep_t.any() or not keep_c.any():
            results[indicator] = IndicatorResult(
                indicator=indicator,
                status="no_data",
                n_unmatched=int(keep_t.sum()),
                method=method,
            )
            continue
        sample = _find_sample(samples, keep_t, keep_c)
        if sample is None:
            matches = _match(
                std_t[keep_t],
                cell_t[keep_t],
                std_c[keep_c],
                cell_c[keep_c],
                neighbours=neighbours,
                variance_neighbours=variance_neighbours,
            )
            balance = _balance(raw_t[keep_t], raw_c[keep_c], matches)
            sample = _Sample(keep_t=keep_t, keep_c=keep_c, matches=matches, balance=balance)
            samples.append(sample)
        result = _indicator_result(
            indicator,
            dy_t[keep_t],
            dy_c[keep_c],
            sample,
            method=method,
            bias_adjustment=bias_adjustment,
        )
        results[indicator] = apply_min_treated(result, min_treated)
    return results


def pool(
    results: Sequence[IndicatorResult], *, min_treated: int = DEFAULT_MIN_TREATED
) -> IndicatorResult:
    """Pool one offer's cohort results for one indicator into an ATT over all their treated.

    Each cohort is weighted by its share of the matched treated, ``w_c = n_c / N``. This gives
    exactly the mean of the per-treated contributions over all cohorts. The cohorts are
    independent samples, so ``var = sum_c w_c^2 * SE_c^2``. The naive estimate is pooled the same
    way, weighted by the treated that had the outcome. Inputs without numbers (``too_few`` or
    ``no_data``) cannot contribute. Their treated are added to ``n_unmatched``. ``min_treated``
    applies to the pooled count.
    """
    return _combine(results, min_treated=min_treated)


def roll_up(
    results: Sequence[IndicatorResult], *, min_treated: int = DEFAULT_MIN_TREATED
) -> IndicatorResult:
    """Combine pooled offer results for one indicator, per operator, level, theme or region.

    Same formula as :func:`pool`, weighted by matched treated. ``extra`` then sums the effect over
    the participants of all offers (e.g. extra jobs). The variance treats the offers as independent.
    That is an approximation: a company can take part in several offers, and offers of the same
    year draw their controls from the same pool, so the SE may be somewhat too small.
    """
    return _combine(results, min_treated=min_treated)


def apply_min_treated(result: IndicatorResult, min_treated: int) -> IndicatorResult:
    """The result as it may be shown: below ``min_treated`` treated it becomes ``too_few``."""
    if result.status != "ok" or result.n_treated >= min_treated:
        return result
    return IndicatorResult(
        indicator=result.indicator,
        status="too_few",
        n_treated=result.n_treated,
        n_control=result.n_control,
        n_unmatched=result.n_unmatched,
        n_cohorts=result.n_cohorts,
        method=result.method,
        baseline_offset=result.baseline_offset,
        outcome_offset=result.outcome_offset,
    )


# --- matching -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class _MatchSets:
    """Who is matched to whom in one estimation sample. It depends on covariates, not outcomes.

    Positions index the sample's treated and controls. Match set ``q`` is
    ``set_members[set_offsets[q]:set_offsets[q + 1]]``, and it is shared by every matched treated
    company with ``query_of == q`` (identical covariates in one cell). ``used`` lists the controls
    with weight ``K > 0`` and ``weight_sq`` gives their ``K'``. ``ball_of_used`` points to each used
    control's variance neighbourhood, which contains the control itself.
    """

    matched: IntArray
    query_of: IntArray
    set_members: IntArray
    set_offsets: IntArray
    used: IntArray
    weight: FloatArray
    weight_sq: FloatArray
    ball_of_used: IntArray
    ball_members: IntArray
    ball_offsets: IntArray
    n_unmatched: int
    query_points: FloatArray
    set_mean_x: FloatArray
    x_used: FloatArray
    cell_of_used: IntArray


def _match(
    x_t: FloatArray,
    cell_t: IntArray,
    x_c: FloatArray,
    cell_c: IntArray,
    *,
    neighbours: int,
    variance_neighbours: int,
) -> _MatchSets:
    """Exact cells, then nearest neighbours with replacement and all ties, cell by cell."""
    order = _stable_order(cell_c)
    sorted_cells = cell_c[order]
    matched: list[IntArray] = []
    query_of: list[IntArray] = []
    sets: list[IntArray] = []
    query_points: list[FloatArray] = []
    balls: list[IntArray] = []
    ball_of: list[tuple[IntArray, IntArray]] = []
    n_queries = n_balls = n_unmatched = 0
    for cell in np.unique(cell_t):
        treated = np.flatnonzero(cell_t == cell).astype(np.int64)
        lo, hi = np.searchsorted(sorted_cells, [cell, cell + 1])
        controls = order[lo:hi].astype(np.int64)
        if len(controls) == 0:
            n_unmatched += len(treated)
            continue
        # Built once and queried a few hundred times: the cheap build beats a balanced tree.
        tree = cKDTree(x_c[controls], balanced_tree=False, compact_nodes=False)
        points, inverse = _distinct_rows(x_t[treated])
        cell_sets = _nearest_with_ties(tree, points, min(neighbours, len(controls)))
        matched.append(treated)
        query_of.append(n_queries + inverse)
        query_points.append(points)
        sets.extend(controls[s] for s in cell_sets)
        n_queries += len(points)

        used_local = np.unique(np.concatenate(cell_sets))
        u_points, u_inverse = _distinct_rows(x_c[controls[used_local]])
        # k + 1 because each control finds itself (and any exact duplicates) at distance 0.
        k = min(variance_neighbours + 1, len(controls))
        balls.extend(controls[b] for b in _nearest_with_ties(tree, u_points, k))
        ball_of.append((controls[used_local], n_balls + u_inverse))
        n_balls += len(u_points)

    if not matched:
        return _no_matches(len(cell_t))
    set_members, set_offsets = _concatenate(sets)
    all_matched = np.concatenate(matched)
    all_query_of = np.concatenate(query_of)
    treated_per_query = np.bincount(all_query_of, minlength=n_queries).astype(np.float64)
    set_size = np.diff(set_offsets)
    # Each of the r treated sharing match set q gives each of its m members the weight 1/m.
    member_weight = np.repeat(treated_per_query / set_size, set_size)
    member_weight_sq = np.repeat(treated_per_query / set_size.astype(np.float64) ** 2, set_size)
    weight = np.bincount(set_members, weights=member_weight, minlength=len(cell_c))
    weight_sq = np.bincount(set_members, weights=member_weight_sq, minlength=len(cell_c))
    used_positions = np.concatenate([positions for positions, _ in ball_of])
    used_balls = np.concatenate([ball_ids for _, ball_ids in ball_of])
    by_position = np.argsort(used_positions, kind="stable")
    used = used_positions[by_position]
    ball_members, ball_offsets = _concatenate(balls)
    set_mean_x = np.add.reduceat(x_c[set_members], set_offsets[:-1], axis=0) / set_size[:, None]
    return _MatchSets(
        matched=all_matched,
        query_of=all_query_of,
        set_members=set_members,
        set_offsets=set_offsets,
        used=used,
        weight=weight[used],
        weight_sq=weight_sq[used],
        ball_of_used=used_balls[by_position],
        ball_members=ball_members,
        ball_offsets=ball_offsets,
        n_unmatched=n_unmatched,
        query_points=np.vstack(query_points),
        set_mean_x=set_mean_x,
        x_used=x_c[used],
        cell_of_used=cell_c[used],
    )


def _nearest_with_ties(tree: cKDTree, points: FloatArray, k: int) -> list[IntArray]:
    """For each point: every tree point within its k-th nearest distance, ties included."""
    distances, _ = tree.query(points, k=k)
    kth = np.asarray(distances, dtype=np.float64).reshape(len(points), -1)[:, -1]
    found = tree.query_ball_point(points, r=kth * (1.0 + _TIE_TOLERANCE), return_sorted=True)
    return [np.asarray(indices, dtype=np.int64) for indices in found]


def _distinct_rows(rows: FloatArray) -> tuple[FloatArray, IntArray]:
    """Distinct rows and, per input row, the index of its distinct row.

    Rows are compared as raw bytes, several times faster than ``np.unique(axis=0)``; ``+ 0.0``
    turns -0.0 into 0.0 so that equal numbers have equal bytes.
    """
    rows = np.ascontiguousarray(rows + 0.0)
    as_bytes = rows.view(np.dtype((np.void, rows.itemsize * rows.shape[1]))).reshape(-1)
    _, first, inverse = np.unique(as_bytes, return_index=True, return_inverse=True)
    return rows[first], inverse.reshape(-1).astype(np.int64)


def _concatenate(parts: list[IntArray]) -> tuple[IntArray, IntArray]:
    offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum([len(p) for p in parts], out=offsets[1:])
    members = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
    return members, offsets


def _no_matches(n_treated: int) -> _MatchSets:
    empty_int = np.zeros(0, dtype=np.int64)
    empty_float = np.zeros(0, dtype=np.float64)
    return _MatchSets(
        matched=empty_int,
        query_of=empty_int,
        set_members=empty_int,
        set_offsets=np.zeros(1, dtype=np.int64),
        used=empty_int,
        weight=empty_float,
        weight_sq=empty_float,
        ball_of_used=empty_int,
        ball_members=empty_int,
        ball_offsets=np.zeros(1, dtype=np.int64),
        n_unmatched=n_treated,
        query_points=np.zeros((0, len(COVARIATES)), dtype=np.float64),
        set_mean_x=np.zeros((0, len(COVARIATES)), dtype=np.float64),
        x_used=np.zeros((0, len(COVARIATES)), dtype=np.float64),
        cell_of_used=empty_int,
    )


@dataclass(frozen=True, slots=True, eq=False)
class _Sample:
    """The companies of one estimation sample with their matching and balance."""

    keep_t: BoolArray
    keep_c: BoolArray
    matches: _MatchSets
    balance: Balance


def _find_sample(samples: list[_Sample], keep_t: BoolArray, keep_c: BoolArray) -> _Sample | None:
    """Indicators with the same companies (usually all but productivity) share one matching."""
    for sample in samples:
        if np.array_equal(sample.keep_t, keep_t) and np.array_equal(sample.keep_c, keep_c):
            return sample
    return None


def _standardise(raw_t: FloatArray, raw_c: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Divide by the cohort's pooled standard deviation; centring does not change distances."""
    scale = np.vstack([raw_t, raw_c]).std(axis=0)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    return raw_t / scale, raw_c / scale


def _exact_cells(treated: UnitData, control: UnitData) -> tuple[IntArray, IntArray]:
    """One integer per (industry section, size class) combination, shared by both groups."""
    industry = _rank_codes(np.concatenate([treated.industry, control.industry]))
    size = _rank_codes(np.concatenate([treated.size_class, control.size_class]))
    n_sizes = int(size.max()) + 1 if len(size) else 1
    cells = (industry.reshape(-1) * n_sizes + size.reshape(-1)).astype(np.int64)
    return cells[: len(treated)], cells[len(treated) :]


# --- estimation -----------------------------------------------------------------------------------


def _indicator_result(
    indicator: str,
    dy_t: FloatArray,
    dy_c: FloatArray,
    sample: _Sample,
    *,
    method: str,
    bias_adjustment: bool,
) -> IndicatorResult:
    matches = sample.matches
    n_treated = len(matches.matched)
    naive, naive_se = _naive(dy_t, dy_c)
    if n_treated == 0:
        return IndicatorResult(
            indicator=indicator, status="too_few", n_unmatched=matches.n_unmatched, method=method
        )
    estimate, variance = _att_and_variance(dy_t, dy_c, matches, bias_adjustment=bias_adjustment)
    return _ok_result(
        indicator=indicator,
        estimate=estimate,
        variance=variance,
        n_treated=n_treated,
        n_control=len(matches.used),
        n_unmatched=matches.n_unmatched,
        naive=naive,
        naive_se=naive_se,
        n_cohorts=1,
        method=method,
        balance=sample.balance,
    )


def _att_and_variance(
    dy_t: FloatArray, dy_c: FloatArray, matches: _MatchSets, *, bias_adjustment: bool
) -> tuple[float, float]:
    """The matched DiD estimate and its Abadie-Imbens variance."""
    set_sums = np.add.reduceat(dy_c[matches.set_members], matches.set_offsets[:-1])
    counterfactual = set_sums / np.diff(matches.set_offsets)
    if bias_adjustment:
        slopes = _bias_slopes(dy_c[matches.used], matches)
        counterfactual = counterfactual + (matches.query_points - matches.set_mean_x) @ slopes
    contribution = dy_t[matches.matched] - counterfactual[matches.query_of]
    n_treated = len(contribution)
    estimate = float(contribution.mean())
    s2 = _conditional_variance(dy_c, matches)
    reuse = matches.weight**2 - matches.weight_sq
    total = float(((contribution - estimate) ** 2).sum() + (reuse * s2).sum())
    return estimate, total / n_treated**2


def _bias_slopes(dy_used: FloatArray, matches: _MatchSets) -> FloatArray:
    """Slopes of ``dy`` on the covariates among the matched controls, weighted by ``K``."""
    _, cell = np.unique(matches.cell_of_used, return_inverse=True)
    cell = cell.reshape(-1)
    weight = matches.weight
    cell_weight = np.bincount(cell, weights=weight)

    def within_cell(values: FloatArray) -> FloatArray:
        means = np.bincount(cell, weights=weight * values) / cell_weight
        demeaned: FloatArray = values - means[cell]
        return demeaned

    x = np.column_stack([within_cell(column) for column in matches.x_used.T])
    root = np.sqrt(weight)
    # Covariates are in cohort standard deviations, so spread below 1e-8 of one is rounding noise.
    floor = _SPREAD_FLOOR * math.sqrt(float(weight.sum()))
    return _least_squares(x * root[:, None], within_cell(dy_used) * root, floor=floor)


def _least_squares(a: FloatArray, b: FloatArray, *, floor: float) -> FloatArray:
    """Minimum-norm least squares that ignores directions without real spread.

    Singular values at or below ``floor`` are treated as zero. Demeaning identical values can leave
    rounding noise, and a relative cutoff such as ``lstsq``'s would keep it and return an
    enormous slope.
    """
    u, singular, vt = np.linalg.svd(a, full_matrices=False)
    keep = singular > floor
    inverse = np.zeros_like(singular)
    inverse[keep] = 1.0 / singular[keep]
    slopes: FloatArray = vt.T @ (inverse * (u.T @ b))
    return slopes


def _conditional_variance(dy_c: FloatArray, matches: _MatchSets) -> FloatArray:
    """``J/(J+1) * (dy_j - mean of its J nearest other controls)^2`` for each used control."""
    ball_sums = np.add.reduceat(dy_c[matches.ball_members], matches.ball_offsets[:-1])
    ball_sizes = np.diff(matches.ball_offsets)
    own = dy_c[matches.used]
    others = (ball_sizes[matches.ball_of_used] - 1).astype(np.float64)
    alone = others == 0
    safe = np.where(alone, 1.0, others)
    neighbour_mean = (ball_sums[matches.ball_of_used] - own) / safe
    s2 = safe / (safe + 1.0) * (own - neighbour_mean) ** 2
    fallback = float(dy_c.var(ddof=1)) if len(dy_c) > 1 else 0.0
    result: FloatArray = np.where(alone, fallback, s2)
    return result


def _naive(dy_t: FloatArray, dy_c: FloatArray) -> tuple[float, float | None]:
    """Difference in mean change, all treated against all controls, with a Welch SE."""
    estimate = float(dy_t.mean() - dy_c.mean())
    if len(dy_t) < 2 or len(dy_c) < 2:
        return estimate, None
    return estimate, math.sqrt(dy_t.var(ddof=1) / len(dy_t) + dy_c.var(ddof=1) / len(dy_c))


def _balance(raw_t: FloatArray, raw_c: FloatArray, matches: _MatchSets) -> Balance:
    """SMD per covariate before and after matching, over the denominator from before matching."""
    spread = np.sqrt((_sample_var(raw_t) + _sample_var(raw_c)) / 2.0)
    before = raw_t.mean(axis=0) - raw_c.mean(axis=0)
    matched_t = raw_t[matches.matched].mean(axis=0)
    matched_c = (matches.weight[:, None] * raw_c[matches.used]).sum(axis=0) / len(matches.matched)
    after = matched_t - matched_c
    return {
        name: {
            "before": _ratio_or_zero(float(before[i]), float(spread[i])),
            "after": _ratio_or_zero(float(after[i]), float(spread[i])),
        }
        for i, name in enumerate(COVARIATES)
    }


# --- pooling --------------------------------------------------------------------------------------


def _combine(results: Sequence[IndicatorResult], *, min_treated: int) -> IndicatorResult:
    if not results:
        raise ValueError("nothing to pool")
    _check_at_least("min_treated", min_treated, 1)
    first = results[0]
    for r in results:
        same = (r.indicator, r.method, r.baseline_offset, r.outcome_offset)
        if same != (first.indicator, first.method, first.baseline_offset, first.outcome_offset):
            raise ValueError("only results for one indicator, method and design can be pooled")
    usable = [r for r in results if r.status == "ok" and r.estimate is not None]
    left_out = sum(r.n_treated for r in results if r.status == "too_few")
    n_unmatched = sum(r.n_unmatched for r in results) + left_out
    if not usable:
        status: Status = "too_few" if any(r.status == "too_few" for r in results) else "no_data"
        return IndicatorResult(
            indicator=first.indicator,
            status=status,
            n_treated=left_out if status == "too_few" else 0,
            n_unmatched=n_unmatched - left_out if status == "too_few" else n_unmatched,
            n_cohorts=0,
            method=first.method,
            baseline_offset=first.baseline_offset,
            outcome_offset=first.outcome_offset,
        )
    n_treated = sum(r.n_treated for r in usable)
    weights = [r.n_treated / n_treated for r in usable]
    estimate = sum(w * _number(r.estimate) for w, r in zip(weights, usable, strict=True))
    variance = sum(w**2 * _number(r.std_error) ** 2 for w, r in zip(weights, usable, strict=True))
    naive, naive_se, naive_weights = _combine_naive(usable)
    result = _ok_result(
        indicator=first.indicator,
        estimate=estimate,
        variance=variance,
        n_treated=n_treated,
        n_control=sum(r.n_control for r in usable),
        n_unmatched=n_unmatched,
        naive=naive,
        naive_se=naive_se,
        n_cohorts=sum(r.n_cohorts for r in usable),
        method=first.method,
        balance=_combine_balance(usable, weights, naive_weights),
    )
    return apply_min_treated(
        replace(result, baseline_offset=first.baseline_offset, outcome_offset=first.outcome_offset),
        min_treated,
    )


def _combine_naive(
    usable: Sequence[IndicatorResult],
) -> tuple[float | None, float | None, list[float]]:
    """Naive estimates, weighted by all treated with the outcome (matched or not)."""
    sizes = [r.n_treated + r.n_unmatched for r in usable]
    weights = [s / sum(sizes) for s in sizes]
    if any(r.naive_estimate is None for r in usable):
        return None, None, weights
    naive = sum(w * _number(r.naive_estimate) for w, r in zip(weights, usable, strict=True))
    if any(r.naive_std_error is None for r in usable):
        return naive, None, weights
    variance = sum(
        w**2 * _number(r.naive_std_error) ** 2 for w, r in zip(weights, usable, strict=True)
    )
    return naive, math.sqrt(variance), weights


def _combine_balance(
    usable: Sequence[IndicatorResult], after_weights: list[float], before_weights: list[float]
) -> Balance:
    """Weighted mean SMDs: a summary of cohort balance, not the SMD of the pooled sample."""
    if any(set(r.balance) != set(COVARIATES) for r in usable):
        return {}
    return {
        name: {
            "before": sum(
                w * r.balance[name]["before"] for w, r in zip(before_weights, usable, strict=True)
            ),
            "after": sum(
                w * r.balance[name]["after"] for w, r in zip(after_weights, usable, strict=True)
            ),
        }
        for name in COVARIATES
    }


# --- small helpers --------------------------------------------------------------------------------

# The control group of a national cohort has some 300,000 companies and is passed in for every
# offer, so anything done to all controls on each call counts. These helpers give exactly the
# results of intersect1d, unique(return_inverse) and a stable argsort in linear time for the
# inputs that occur (sorted CVR numbers, small integer codes), and fall back to numpy otherwise.
_SMALL_RANGE: Final = 1 << 20


def _common_values(small: IntArray, large: IntArray) -> IntArray:
    """``np.intersect1d(small, large)``; with ``large`` sorted, by binary search."""
    if len(small) == 0 or len(large) == 0:
        return np.zeros(0, dtype=np.int64)
    if not bool(np.all(large[1:] >= large[:-1])):
        common: IntArray = np.intersect1d(small, large)
        return common
    at = np.minimum(np.searchsorted(large, small), len(large) - 1)
    found: IntArray = np.unique(small[large[at] == small])
    return found


def _rank_codes(values: CodeArray) -> IntArray:
    """``np.unique(values, return_inverse=True)[1]``: each value's rank among the distinct ones."""
    if values.dtype.kind in "iu" and len(values):
        integers = values.astype(np.int64)
        low, high = int(integers.min()), int(integers.max())
        if high - low < _SMALL_RANGE:
            offsets = integers - low
            present = np.zeros(high - low + 1, dtype=np.int64)
            present[offsets] = 1
            ranks: IntArray = (np.cumsum(present) - 1)[offsets]
            return ranks
    _, inverse = np.unique(values, return_inverse=True)
    result: IntArray = inverse.reshape(-1).astype(np.int64)
    return result


def _stable_order(cells: IntArray) -> IntArray:
    """``np.argsort(cells, kind="stable")``; numpy radix-sorts 16-bit integers in linear time."""
    if len(cells) and int(cells.min()) >= 0 and int(cells.max()) < np.iinfo(np.int16).max:
        order: IntArray = np.argsort(cells.astype(np.int16), kind="stable").astype(np.int64)
        return order
    fallback: IntArray = np.argsort(cells, kind="stable").astype(np.int64)
    return fallback


def _ok_result(
    *,
    indicator: str,
    estimate: float,
    variance: float,
    n_treated: int,
    n_control: int,
    n_unmatched: int,
    naive: float | None,
    naive_se: float | None,
    n_cohorts: int,
    method: str,
    balance: Balance,
) -> IndicatorResult:
    std_error = math.sqrt(max(variance, 0.0))
    ci_low, ci_high = estimate - _Z_975 * std_error, estimate + _Z_975 * std_error
    is_level = indicator not in _RATIO_INDICATORS
    return IndicatorResult(
        indicator=indicator,
        status="ok",
        estimate=estimate,
        std_error=std_error,
        ci_low=ci_low,
        ci_high=ci_high,
        n_treated=n_treated,
        n_control=n_control,
        n_unmatched=n_unmatched,
        naive_estimate=naive,
        naive_std_error=naive_se,
        extra=estimate * n_treated if is_level else None,
        extra_ci_low=ci_low * n_treated if is_level else None,
        extra_ci_high=ci_high * n_treated if is_level else None,
        n_cohorts=n_cohorts,
        method=method,
        balance=balance,
    )


def _per_fte(value: FloatArray, fte: FloatArray) -> FloatArray:
    out = np.full(value.shape, np.nan, dtype=np.float64)
    np.divide(value, fte, out=out, where=np.isfinite(fte) & (fte > 0))
    return out


def _sample_var(x: FloatArray) -> FloatArray:
    if len(x) < 2:
        return np.zeros(x.shape[1], dtype=np.float64)
    variance: FloatArray = x.var(axis=0, ddof=1)
    return variance


def _ratio_or_zero(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else 0.0


def _number(value: float | None) -> float:
    if value is None:
        raise ValueError("an ok result lacks a number")
    return value


def _check_at_least(name: str, value: int, minimum: int) -> None:
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")


def _as_1d(values: npt.ArrayLike, dtype: type[np.generic], name: str) -> npt.NDArray[np.generic]:
    array = np.asarray(values, dtype=dtype)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    return array


def _as_codes(values: npt.ArrayLike) -> CodeArray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError("industry must be one-dimensional")
    if array.dtype.kind in "iu":
        return array.astype(np.int64)
    if array.dtype.kind in "UO":
        return array.astype(np.str_)
    raise ValueError("industry must be section letters or integer codes")
