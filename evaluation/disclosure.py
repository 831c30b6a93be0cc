"""Disclosure control for published effects: what may be published, and how aggregates are built.

Register data may only be published so that no published figure, and no difference or other
combination of published figures, reveals a group of fewer than ``k`` companies
(``EFFECT_MIN_TREATED``, 20 by default). This module is the one place that decides it. The
services apply it before anything is stored as a result of a completed run, and the pages and
the API apply :func:`public_counts` to everything they show.

The rule
--------
1. **Cells.** The smallest published unit is a *cell*: one offer, one cohort year (the year of
   participation), one indicator. A cell is *publishable* when it is measured (status ``ok``),
   ``n_treated >= k`` and ``n_control >= k``: the participants it is about and the distinct
   companies they are compared with are both at least ``k``.
2. **Withheld cells carry nothing.** A cell that is not publishable is stored and shown with its
   status only: no estimate, no interval, no naive difference and no counts (all zero in the
   database, "færre end k" on the pages, ``null`` in the API). See :func:`withheld`.
3. **Aggregates are built from publishable cells only.** An offer's pooled figure (all years)
   pools its publishable cells and nothing else; a roll-up (operator, level, theme, region)
   combines the pooled figures of publishable offers and nothing else (:func:`combine`). Both the
   matched estimate and the naive difference are weighted by ``n_treated``, a published count, so
   no weight depends on anything unpublished. An aggregate without a publishable input is withheld
   like a cell. The portal publishes no other cut: company size is only a matching variable.
4. **Counts.** The public sees ``n_treated`` and ``n_control`` of published figures only, and
   never a number below ``k`` (:func:`public_counts`). ``n_unmatched`` (participants without a
   comparable company, a sub-group of a cell that may be small) is not published.

Why it is safe
--------------
Every published number is a function of the statistics of publishable cells alone: a withheld
cell enters no estimate, no weight and no count. Whatever an attacker computes from published
numbers (differences of a pooled figure and its cohorts, of a roll-up with and without an offer,
solving the weighted-mean equations) is therefore also a function of publishable cells only, and
the finest thing it can isolate is one publishable cell, which covers at least ``k``
participants and ``k`` controls. The data of a withheld cell is not in any published number, so
no equation system built from them can determine it. The counts of publishable cells are all at
least ``k``, so every published count is at least ``k``, and the difference of two nested
aggregates (one containing all the cells of the other) is the sum over whole cells in between:
zero or at least ``k``.

Complementary suppression (withholding a second cohort when one is withheld, so the pooled
figure cannot be undone) is not needed under this rule, because the pooled figure never
contained the withheld cohort. It is also the simpler rule to prove, and it keeps more
figures: the pooled figure is an effect over the years that can be shown, which the method text
on the pages says.

What is out of scope: the per-indicator cells of one cohort are different samples of the same
participants (a company without export figures is left out of the export cell), so their counts
may differ by a few; the difference says how many participants lacked an indicator's figures,
never a value of theirs. Run bookkeeping (participations per offer, found in the register) is
shown to analysts only, behind login, with counts below ``k`` masked.

No Django here: the rule is tested on plain results (``tests/evaluation/test_disclosure.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TypedDict

from evaluation.estimators import IndicatorResult, pool


def is_publishable(result: IndicatorResult, *, min_treated: int) -> bool:
    """May this cell's (or aggregate's) numbers be published? (rule 1)"""
    return (
        result.status == "ok"
        and result.estimate is not None
        and result.n_treated >= min_treated
        and result.n_control >= min_treated
    )


def withheld(result: IndicatorResult) -> IndicatorResult:
    """The result as stored and shown when it may not be published: its status only (rule 2).

    A measured cell below the threshold becomes ``too_few``; ``no_data`` stays ``no_data``.
    """
    return IndicatorResult(
        indicator=result.indicator,
        status="no_data" if result.status == "no_data" else "too_few",
        n_cohorts=0,
        method=result.method,
        baseline_offset=result.baseline_offset,
        outcome_offset=result.outcome_offset,
    )


def publish_cell(result: IndicatorResult, *, min_treated: int) -> IndicatorResult:
    """The cell as published: unchanged when publishable, :func:`withheld` otherwise."""
    if is_publishable(result, min_treated=min_treated):
        return result
    return withheld(result)


def combine(results: Sequence[IndicatorResult], *, min_treated: int) -> IndicatorResult:
    """Pool cells, or roll up pooled offer figures, from the publishable ones only (rule 3).

    Inputs of one indicator and design. The matched estimate is weighted by ``n_treated`` as in
    :func:`estimators.pool`; the naive difference is weighted by ``n_treated`` too (not by all
    participants with the outcome, whose number is not published). ``n_unmatched`` is the sum
    over the inputs used and stays internal.
    """
    usable = [r for r in results if is_publishable(r, min_treated=min_treated)]
    if not usable:
        if not results:
            raise ValueError("nothing to combine")
        first = results[0]
        empty = all(r.status == "no_data" for r in results)
        return withheld(replace(first, status="no_data" if empty else "too_few"))
    # With n_unmatched zeroed, estimators.pool weights the naive difference by n_treated.
    pooled = pool([replace(r, n_unmatched=0) for r in usable], min_treated=min_treated)
    return replace(pooled, n_unmatched=sum(r.n_unmatched for r in usable))


def publish_offer(
    cohorts: Mapping[int, IndicatorResult], *, min_treated: int
) -> tuple[dict[int, IndicatorResult], IndicatorResult | None]:
    """One offer's cohort cells as published, and its pooled figure over the publishable ones.

    ``cohorts`` maps a cohort year to that year's result for one indicator, estimated without a
    threshold. The pooled figure is None when there is no cohort at all.
    """
    cells = {year: publish_cell(r, min_treated=min_treated) for year, r in cohorts.items()}
    if not cohorts:
        return cells, None
    return cells, combine(list(cohorts.values()), min_treated=min_treated)


class PublicCounts(TypedDict):
    n_treated: int | None
    n_control: int | None
    n_unmatched: int | None


def shown_count(value: int | None, *, min_treated: int) -> int | None:
    """A count as it may be shown: None (say "færre end k") below the threshold."""
    if value is None or value < min_treated:
        return None
    return value


def public_counts(status: str, n_treated: int, n_control: int, *, min_treated: int) -> PublicCounts:
    """The counts of a stored figure as the public may see them (rule 4)."""
    if status != "ok":
        return {"n_treated": None, "n_control": None, "n_unmatched": None}
    return {
        "n_treated": shown_count(n_treated, min_treated=min_treated),
        "n_control": shown_count(n_control, min_treated=min_treated),
        "n_unmatched": None,
    }


# --- Tables of counts (the quarterly reports, governance.quarterly) ------------------------------


def suppress_breakdown(
    cells: Mapping[str, int],
    *,
    total: int,
    min_count: int,
    hidden: Sequence[str] = (),
) -> tuple[dict[str, int | None], int | None]:
    """A total and the counts it splits into, as they may be published: None is withheld.

    ``cells`` add up to ``total`` (each case in exactly one cell); ``hidden`` cells are never
    published but take part (the rest of a total, e.g. the cases not yet answered).

    1. **Primary.** A count from 1 to ``min_count - 1`` is withheld; 0 is shown (it reveals no
       one), and so is every count from ``min_count`` on.
    2. **Complementary.** The withheld cells together are the published total minus the
       published cells, so their sum must itself be 0 or at least ``min_count``: while it is not,
       the smallest published non-zero cell is withheld too.
    3. **Total.** A total below ``min_count`` (and above 0) is withheld with all its cells.

    After this no published count, and no difference of published counts in the table, is a
    group of 1 to ``min_count - 1``.
    """
    if sum(cells.values()) != total:
        raise ValueError("the cells do not add up to the total")
    if 0 < total < min_count:
        return dict.fromkeys(cells, None), None
    shown: dict[str, int | None] = {
        key: None if key in hidden or 0 < value < min_count else value
        for key, value in cells.items()
    }

    def withheld_mass() -> int:
        return sum(cells[key] for key, value in shown.items() if value is None)

    while 0 < withheld_mass() < min_count:
        candidates = sorted(
            (value, key) for key, value in shown.items() if value is not None and value > 0
        )
        if not candidates:
            break
        shown[candidates[0][1]] = None
    if 0 < withheld_mass() < min_count:
        # Nothing left to withhold in the table but the total itself.
        return dict.fromkeys(cells, None), None
    return shown, total


def shown_small_count(value: int, *, min_count: int) -> int | None:
    """A count on its own (no published total it is part of): 0 or from ``min_count`` on."""
    return value if value == 0 or value >= min_count else None
