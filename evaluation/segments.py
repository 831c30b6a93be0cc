"""Effects for companies like yours: per segment, shrunk toward the offer's overall effect.

Pure numpy on plain results; ``evaluation.services`` estimates the segments with the same
matched difference-in-differences as the offer's overall figure and stores what this module
decides may be published. The method is written out for readers in ``docs/effects.md``.

Segments
--------
A segment is a size band (the register's size class at ``t-1``: under 10, 10-49, 50-249, 250 or
more FTE) times an industry section (DB07, or DB25 from 2025). Matching is exact on both, so a
segment's participants are compared with controls of the same segment, as in the overall figure.
The panel the runs read carries no region, so segments have none.

Shrinkage (empirical Bayes)
---------------------------
A segment's raw estimate ``y_s`` with standard error ``s_s`` is read as ``y_s ~ N(theta_s, s_s^2)``
around its true effect, and the true effects of an offer's segments as ``theta_s ~ N(mu, tau^2)``
around the offer's overall effect ``mu`` (the offer's published pooled estimate, standard error
``s_mu``). ``tau^2``, how much the segments really differ, is estimated by the method of moments
from the segments themselves: ``tau^2 = max(0, mean_s[(y_s - mu)^2 - s_s^2])``. Each segment is
then pulled toward ``mu`` by its shrinkage factor ``B_s = s_s^2 / (s_s^2 + tau^2)``:

    ``theta_s = mu + (1 - B_s) * (y_s - mu)``,
    ``var(theta_s) = (1 - B_s) s_s^2 + B_s^2 s_mu^2 + 2 / max(S - 3, 1) * B_s^2 (y_s - mu)^2``.

The last term (Morris 1983, with ``S - 3`` degrees of freedom, at least 1) carries the
uncertainty of ``B_s`` itself, estimated from only ``S`` segments; without it the intervals of an
offer with few segments are too narrow.

A noisy segment (large ``s_s``) borrows almost everything from the offer; a precise one keeps its
own estimate. The 95 % interval is ``theta_s +/- 1.96 * sqrt(var)``.

Disclosure
----------
:func:`publish_segments` decides which segments may be shown; only those enter the shrinkage
(so ``tau^2`` carries nothing of a withheld segment):

1. A segment is shown only when it is publishable under ``evaluation.disclosure``'s rule 1
   (``n_treated >= k`` and ``n_control >= k``), and only when the offer's overall figure is
   published (segments are estimated within the published cohorts only, so they are nested in it).
2. Subtraction: the overall figure's count minus the counts of the shown segments is the count of
   the participants in withheld segments, and ``N * overall - sum n_s * y_s`` approximates their
   mean. So that remainder must be zero or at least ``k`` participants. While it is not, the
   smallest shown segment is withheld too (complementary suppression). Control counts are not
   differenced: a segment's controls are matched within the segment, so the difference of
   control counts is no group of companies whose outcome enters a published number alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Final

from evaluation.disclosure import is_publishable
from evaluation.estimators import IndicatorResult, pool

_Z_975: Final = NormalDist().inv_cdf(0.975)

#: Size bands as the panel's size classes: 0 micro, 1 small, 2 medium, 3 large.
SIZE_BANDS: Final = ("micro", "small", "medium", "large")

type SegmentKey = tuple[int, int]
"""(size class 0-3, the panel's industry code: section letter - 'A', plus 32 for DB25)."""


def segment_key(size_class: int, industry_code: int) -> SegmentKey:
    return (int(size_class), int(industry_code))


def industry_of_code(code: int) -> tuple[str, str]:
    """(classification, section letter) of the panel's industry code."""
    if code >= 32:
        return "db25", chr(code - 32 + 65)
    return "db07", chr(code + 65)


@dataclass(frozen=True, slots=True, kw_only=True)
class Shrunk:
    """A segment's shrunk estimate and what it was shrunk by."""

    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    #: ``B_s``: 0 keeps the raw estimate, 1 takes the offer's overall estimate.
    shrinkage: float


def between_variance(
    estimates: Sequence[float], std_errors: Sequence[float], *, prior_mean: float
) -> float:
    """``tau^2 = max(0, mean[(y_s - mu)^2 - s_s^2])``; 0 without segments."""
    if len(estimates) != len(std_errors):
        raise ValueError("one standard error per estimate")
    if not estimates:
        return 0.0
    excess = [(y - prior_mean) ** 2 - s**2 for y, s in zip(estimates, std_errors, strict=True)]
    return max(0.0, sum(excess) / len(excess))


def shrink_one(
    estimate: float,
    std_error: float,
    *,
    prior_mean: float,
    prior_se: float,
    tau2: float,
    segments: int | None = None,
) -> Shrunk:
    """One segment pulled toward ``prior_mean`` (module doc). With ``segments`` (how many
    segments ``tau2`` was estimated from), the variance also carries the uncertainty of the
    estimated shrinkage factor (Morris 1983)."""
    variance = std_error**2
    # An exact estimate (no sampling noise) is kept as it is.
    factor = 0.0 if variance + tau2 <= 0 else variance / (variance + tau2)
    value = prior_mean + (1.0 - factor) * (estimate - prior_mean)
    posterior = (1.0 - factor) * variance + factor**2 * prior_se**2
    if segments:
        posterior += 2.0 / max(segments - 3, 1) * factor**2 * (estimate - prior_mean) ** 2
    se = math.sqrt(max(0.0, posterior))
    return Shrunk(
        estimate=value,
        std_error=se,
        ci_low=value - _Z_975 * se,
        ci_high=value + _Z_975 * se,
        shrinkage=factor,
    )


def shrink(
    segments: Mapping[SegmentKey, IndicatorResult], *, overall: IndicatorResult
) -> dict[SegmentKey, Shrunk]:
    """Every measured segment shrunk toward the measured ``overall`` figure."""
    if overall.estimate is None or overall.std_error is None:
        return {}
    measured = {
        key: r for key, r in segments.items() if r.estimate is not None and r.std_error is not None
    }
    keys = sorted(measured)
    tau2 = between_variance(
        [float(measured[k].estimate or 0.0) for k in keys],
        [float(measured[k].std_error or 0.0) for k in keys],
        prior_mean=overall.estimate,
    )
    return {
        key: shrink_one(
            float(measured[key].estimate or 0.0),
            float(measured[key].std_error or 0.0),
            prior_mean=overall.estimate,
            prior_se=overall.std_error,
            tau2=tau2,
            segments=len(keys),
        )
        for key in keys
    }


def publish_segments(
    segments: Mapping[SegmentKey, IndicatorResult],
    *,
    overall: IndicatorResult | None,
    min_treated: int,
) -> dict[SegmentKey, IndicatorResult]:
    """The segments that may be shown (module doc, "Disclosure"); the others are left out."""
    if overall is None or not is_publishable(overall, min_treated=min_treated):
        return {}
    shown = {key: r for key, r in segments.items() if is_publishable(r, min_treated=min_treated)}

    def remainder_too_small() -> bool:
        rest = overall.n_treated - sum(r.n_treated for r in shown.values())
        return rest < 0 or 0 < rest < min_treated

    while shown and remainder_too_small():
        smallest = min(shown, key=lambda k: (shown[k].n_treated, shown[k].n_control, k))
        del shown[smallest]
    return shown


def offer_segments(
    by_segment: Mapping[SegmentKey, Mapping[int, IndicatorResult]],
    *,
    cohort_cells: Mapping[int, IndicatorResult],
    overall: IndicatorResult | None,
    min_treated: int,
) -> dict[SegmentKey, tuple[IndicatorResult, Shrunk]]:
    """One offer's shown segments for one indicator: raw (pooled over cohorts) and shrunk.

    ``by_segment`` maps a segment to its cohort results (estimated without a threshold);
    ``cohort_cells`` are the offer's cohort cells as published and ``overall`` its pooled figure.
    Only published cohorts count, so the segments are nested in the overall figure, which the
    subtraction rule of :func:`publish_segments` compares their counts with.
    """
    published_years = {t for t, cell in cohort_cells.items() if cell.status == "ok"}
    pooled = {
        key: pool([r for t, r in years.items() if t in published_years], min_treated=2)
        for key, years in by_segment.items()
        if any(t in published_years for t in years)
    }
    shown = publish_segments(pooled, overall=overall, min_treated=min_treated)
    if overall is None:
        return {}
    shrunk = shrink(shown, overall=overall)
    return {key: (shown[key], shrunk[key]) for key in sorted(shown) if key in shrunk}
