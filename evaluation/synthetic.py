"""Synthetic company registers with selective participation and known effects.

Used by the demo data, the benchmark and the end-to-end tests. The numbers have Danish register
magnitudes: most companies are small (a quarter have no employees at all), revenue per full-time
employee is around 1.4 million DKK, value added around a third of revenue, and one company in six
exports. Each company has its own growth trend that persists over the years, and participation is
selective: larger and faster-growing companies take part more often. That is exactly the
situation in which a naive comparison of participants with everyone else overstates the effect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Final

import numpy as np
import numpy.typing as npt

from evaluation.cvr import make_cvr_numbers

type BoolArray = npt.NDArray[np.bool_]
type IntArray = npt.NDArray[np.int64]
type FloatArray = npt.NDArray[np.float64]

SECTION_SHARES: Final = {
    "A": 0.06,
    "C": 0.07,
    "F": 0.12,
    "G": 0.19,
    "H": 0.05,
    "I": 0.07,
    "J": 0.07,
    "K": 0.03,
    "L": 0.06,
    "M": 0.13,
    "N": 0.06,
    "Q": 0.04,
    "R": 0.02,
    "S": 0.03,
}
HEADER: Final = (
    "cvr,year,employees_fte,revenue_dkk,value_added_dkk,export_dkk,industry,municipality"
)


@dataclass(eq=False)
class SyntheticPanel:
    """Companies (rows) by years (columns); ``present`` marks the company-years in the register."""

    cvr: IntArray
    industry: npt.NDArray[np.str_]
    municipality: IntArray
    first_year: int
    present: BoolArray
    employees: FloatArray
    revenue: FloatArray
    value_added: FloatArray
    export: FloatArray
    trend: FloatArray

    @property
    def years(self) -> range:
        return range(self.first_year, self.first_year + self.present.shape[1])

    @property
    def rows(self) -> int:
        return int(self.present.sum())

    def column(self, year: int) -> int:
        if year not in self.years:
            raise ValueError(f"{year} is outside {self.years}")
        return year - self.first_year

    def participants(
        self,
        rng: np.random.Generator,
        *,
        year: int,
        count: int,
        selection: float = 1.0,
        eligible: BoolArray | None = None,
    ) -> IntArray:
        """``count`` companies present in ``year``, drawn with a lean towards size and growth.

        ``selection`` 0 draws uniformly; 1 makes a company with 50 employees about four times
        and one that grew by a fifth in the year before about twice as likely to take part as
        an otherwise equal company. The lean is on what the register shows (size and growth up
        to the year before), so matching on those can remove it; the growth it leans on
        persists, so the naive comparison cannot.
        """
        t = self.column(year)
        base = self.employees[:, max(t - 1, 0)]
        before = self.employees[:, max(t - 2, 0)]
        growth = np.clip((base - before) / np.maximum(before, 1.0), -0.5, 0.5)
        weight = np.exp(selection * (0.35 * np.log1p(base) + 3.5 * growth))
        allowed = self.present[:, t].copy()
        if eligible is not None:
            allowed &= eligible
        weight = np.where(allowed, weight, 0.0)
        count = min(count, int(allowed.sum()))
        if count == 0:
            return np.zeros(0, dtype=np.int64)
        chosen = rng.choice(len(weight), size=count, replace=False, p=weight / weight.sum())
        return np.sort(chosen).astype(np.int64)

    def add_effect(
        self, companies: IntArray, year: int, *, employees: float, revenue: float
    ) -> None:
        """A lasting effect from the year after participation on (a level shift)."""
        later = slice(self.column(year) + 1, None)
        rows = companies[:, None]
        self.employees[rows, later] = np.maximum(self.employees[rows, later] + employees, 0.0)
        self.revenue[rows, later] = np.maximum(self.revenue[rows, later] + revenue, 0.0)
        self.value_added[rows, later] += 0.4 * revenue

    def write_csv(self, out: IO[str], *, chunk: int = 200_000) -> int:
        """The panel in the ``import_panel`` format; returns the number of rows written."""
        out.write(HEADER + "\n")
        company, year_index = np.nonzero(self.present)
        written = 0
        for start in range(0, len(company), chunk):
            c = company[start : start + chunk]
            y = year_index[start : start + chunk]
            columns = zip(
                self.cvr[c].tolist(),
                (y + self.first_year).tolist(),
                np.round(self.employees[c, y], 1).tolist(),
                np.round(self.revenue[c, y]).astype(np.int64).tolist(),
                np.round(self.value_added[c, y]).astype(np.int64).tolist(),
                np.round(self.export[c, y]).astype(np.int64).tolist(),
                self.industry[c].tolist(),
                self.municipality[c].tolist(),
                strict=True,
            )
            out.write(
                "".join(
                    f"{cvr},{year},{fte},{rev},{va},{exp},{ind},{mun}\n"
                    for cvr, year, fte, rev, va, exp, ind, mun in columns
                )
            )
            written += len(c)
        return written


def make_panel(
    *,
    companies: int,
    first_year: int,
    years: int,
    seed: int,
    municipalities: Sequence[int] = (101, 147, 461, 751, 851),
    entry_exit: bool = True,
) -> SyntheticPanel:
    """A register of ``companies`` companies over ``years`` years."""
    rng = np.random.default_rng(seed)
    prefixes = rng.choice(9_000_000, size=int(companies * 1.2) + 10, replace=False) + 1_000_000
    cvr = np.sort(make_cvr_numbers(prefixes)[:companies])
    n = len(cvr)
    sections = np.array(list(SECTION_SHARES))
    shares = np.array(list(SECTION_SHARES.values()))
    industry = rng.choice(sections, size=n, p=shares / shares.sum())
    municipality = rng.choice(np.asarray(municipalities, dtype=np.int64), size=n)

    trend = rng.normal(0.02, 0.05, n)
    employees = np.zeros((n, years))
    start = np.where(rng.random(n) < 0.25, 0.0, np.round(rng.lognormal(1.3, 1.25, n), 1))
    employees[:, 0] = start
    for t in range(1, years):
        grown = employees[:, t - 1] * (1.0 + trend + rng.normal(0.0, 0.08, n))
        hires = (employees[:, t - 1] == 0) & (rng.random(n) < 0.04)
        employees[:, t] = np.where(hires, 1.0, np.maximum(np.round(grown, 1), 0.0))

    revenue_per_fte = rng.lognormal(np.log(1.4e6), 0.5, n)
    revenue = (employees + 0.4) * revenue_per_fte[:, None] * rng.lognormal(0.0, 0.08, (n, years))
    value_share = np.clip(rng.normal(0.33, 0.1, n), -0.1, 0.8)
    value_added = revenue * value_share[:, None] + rng.normal(0.0, 50_000.0, (n, years))
    exporter = rng.random(n) < 0.12 + 0.3 * (start >= 50)
    export_share = np.where(exporter, rng.beta(2.0, 5.0, n), 0.0)
    export = revenue * export_share[:, None]

    present = np.ones((n, years), dtype=bool)
    if entry_exit:
        # One in eight companies starts later, one in ten closes before the last year.
        entry = np.where(rng.random(n) < 0.125, rng.integers(1, years, n), 0)
        exit_ = np.where(rng.random(n) < 0.1, rng.integers(1, years, n), years)
        exit_ = np.maximum(exit_, entry + 1)
        columns = np.arange(years)
        present = (columns >= entry[:, None]) & (columns < exit_[:, None])
    return SyntheticPanel(
        cvr=cvr,
        industry=industry,
        municipality=municipality,
        first_year=first_year,
        present=present,
        employees=employees,
        revenue=revenue,
        value_added=value_added,
        export=export,
        trend=trend,
    )
