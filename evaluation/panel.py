"""The register panel in numpy arrays, and the treated and control groups built from it.

A full run estimates about 500 offers times six cohort years against some 300,000 companies.
Reading the panel per offer would read three million rows 500 times, so each worker process reads
it once per run (one binary ``COPY``, parsed as a fixed-width numpy record array) and keeps, per
cohort year, the companies that have the three register years the design needs. Controls do not
depend on the offer (companies in no offer from t-3 to t+2), so each year's control group is built
once and shared by every offer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt
from django.db import connection

from evaluation.estimators import UnitData

type BoolArray = npt.NDArray[np.bool_]
type IntArray = npt.NDArray[np.int64]
type FloatArray = npt.NDArray[np.float64]

# Years relative to participation in year t that a company needs in the register.
PRE_OFFSET: Final = -2
BASE_OFFSET: Final = -1
END_OFFSET: Final = 2
# Controls took part in no offer from t-3 to t+2.
CLEAN_FROM: Final = -3
CLEAN_TO: Final = 2
# Size classes by FTE at t-1: micro <10, small 10-49, medium 50-249, large 250+.
SIZE_LIMITS: Final = np.array([10.0, 50.0, 250.0])

_COPY_SQL: Final = """
COPY (
    SELECT cvr, year, employees_fte,
           coalesce(revenue_dkk::float8, 'NaN'), coalesce(value_added_dkk::float8, 'NaN'),
           coalesce(export_dkk::float8, 'NaN'),
           (ascii(industry_section) - 65
            + CASE WHEN industry_classification = 'db25' THEN 32 ELSE 0 END)::int2
    FROM evaluation_panelrow
) TO STDOUT (FORMAT BINARY)
"""
# Every field NOT NULL and fixed width, so each row has the same layout.
_ROW: Final = np.dtype(
    [
        ("count", ">i2"),
        ("l_cvr", ">i4"),
        ("cvr", ">i4"),
        ("l_year", ">i4"),
        ("year", ">i2"),
        ("l_fte", ">i4"),
        ("employees", ">f8"),
        ("l_revenue", ">i4"),
        ("revenue", ">f8"),
        ("l_value_added", ">i4"),
        ("value_added", ">f8"),
        ("l_export", ">i4"),
        ("export", ">f8"),
        ("l_industry", ">i4"),
        ("industry", ">i2"),
    ]
)
_HEADER_BYTES: Final = 19
_TRAILER_BYTES: Final = 2


@dataclass(frozen=True, slots=True, eq=False)
class PanelArrays:
    """All panel rows sorted by (cvr, year); NaN where an amount is missing."""

    cvr: IntArray
    year: IntArray
    employees: FloatArray
    revenue: FloatArray
    value_added: FloatArray
    export: FloatArray
    industry: IntArray

    @property
    def years(self) -> frozenset[int]:
        return frozenset(np.unique(self.year).tolist())

    @classmethod
    def load(cls) -> PanelArrays:
        buffer = bytearray()
        with connection.cursor() as cursor, cursor.copy(_COPY_SQL) as copy:
            for data in copy:
                buffer += data
        count = (len(buffer) - _HEADER_BYTES - _TRAILER_BYTES) // _ROW.itemsize
        rows = np.frombuffer(buffer, dtype=_ROW, count=max(count, 0), offset=_HEADER_BYTES)
        order = np.lexsort((rows["year"], rows["cvr"]))
        return cls(
            cvr=rows["cvr"][order].astype(np.int64),
            year=rows["year"][order].astype(np.int64),
            employees=rows["employees"][order].astype(np.float64),
            revenue=rows["revenue"][order].astype(np.float64),
            value_added=rows["value_added"][order].astype(np.float64),
            export=rows["export"][order].astype(np.float64),
            industry=rows["industry"][order].astype(np.int64),
        )


@dataclass(frozen=True, slots=True, eq=False)
class Participations:
    """Every participation as parallel arrays."""

    cvr: IntArray
    offer: IntArray
    year: IntArray

    @classmethod
    def load(cls) -> Participations:
        from evaluation.models import Participation

        rows = np.array(
            list(Participation.objects.values_list("cvr", "offer_id", "year")), dtype=np.int64
        ).reshape(-1, 3)
        return cls(cvr=rows[:, 0], offer=rows[:, 1], year=rows[:, 2])

    def of_offer(self, offer_id: int) -> tuple[IntArray, IntArray]:
        mine = self.offer == offer_id
        return self.cvr[mine], self.year[mine]


def size_class(employees: FloatArray) -> IntArray:
    """0 micro, 1 small, 2 medium, 3 large."""
    classes: IntArray = np.searchsorted(SIZE_LIMITS, employees, side="right").astype(np.int64)
    return classes


@dataclass(frozen=True, slots=True, eq=False)
class CohortFrame:
    """Companies with register rows for t-2, t-1 and t+2 and finite matching covariates."""

    year: int
    units: UnitData
    dropped_missing: int

    def positions(self, cvr: IntArray) -> IntArray:
        """Where the given companies are in the frame; companies not in it are left out."""
        found = np.searchsorted(self.units.cvr, cvr)
        found = np.clip(found, 0, max(len(self.units.cvr) - 1, 0))
        hit = (len(self.units.cvr) > 0) & (self.units.cvr[found] == cvr)
        result: IntArray = found[hit]
        return result


def build_frame(panel: PanelArrays, year: int) -> CohortFrame:
    """The cohort frame for participation year ``year``."""
    rows = {
        offset: np.flatnonzero(panel.year == year + offset)
        for offset in (PRE_OFFSET, BASE_OFFSET, END_OFFSET)
    }
    # The panel is sorted by cvr, so each year's companies come out sorted too.
    common = panel.cvr[rows[BASE_OFFSET]]
    for offset in (PRE_OFFSET, END_OFFSET):
        common = np.intersect1d(common, panel.cvr[rows[offset]], assume_unique=True)
    at = {
        offset: indices[np.searchsorted(panel.cvr[indices], common)]
        for offset, indices in rows.items()
    }
    pre, base, end = at[PRE_OFFSET], at[BASE_OFFSET], at[END_OFFSET]
    finite = (
        np.isfinite(panel.revenue[base])
        & np.isfinite(panel.revenue[pre])
        & np.isfinite(panel.employees[base])
        & np.isfinite(panel.employees[pre])
    )
    pre, base, end = pre[finite], base[finite], end[finite]
    units = UnitData(
        cvr=panel.cvr[base],
        industry=panel.industry[base],
        size_class=size_class(panel.employees[base]),
        employees=panel.employees[base],
        revenue=panel.revenue[base],
        employees_pre=panel.employees[pre],
        revenue_pre=panel.revenue[pre],
        employment_base=panel.employees[base],
        employment_end=panel.employees[end],
        revenue_base=panel.revenue[base],
        revenue_end=panel.revenue[end],
        value_added_base=panel.value_added[base],
        value_added_end=panel.value_added[end],
        export_base=panel.export[base],
        export_end=panel.export[end],
    )
    return CohortFrame(year=year, units=units, dropped_missing=int((~finite).sum()))


def subset(units: UnitData, positions: IntArray | BoolArray) -> UnitData:
    return UnitData(
        cvr=units.cvr[positions],
        industry=units.industry[positions],
        size_class=units.size_class[positions],
        employees=units.employees[positions],
        revenue=units.revenue[positions],
        employees_pre=units.employees_pre[positions],
        revenue_pre=units.revenue_pre[positions],
        employment_base=units.employment_base[positions],
        employment_end=units.employment_end[positions],
        revenue_base=units.revenue_base[positions],
        revenue_end=units.revenue_end[positions],
        value_added_base=units.value_added_base[positions],
        value_added_end=units.value_added_end[positions],
        export_base=units.export_base[positions],
        export_end=units.export_end[positions],
    )


@dataclass(slots=True, eq=False)
class PanelCache:
    """One worker process's panel, participations, frames and control groups for one run."""

    key: tuple[int, str]
    panel: PanelArrays
    participations: Participations
    load_seconds: float
    frames: dict[int, CohortFrame] = field(default_factory=dict)
    controls: dict[int, UnitData] = field(default_factory=dict)
    control_cells: dict[int, dict[tuple[int, int], UnitData]] = field(default_factory=dict)

    @property
    def measurable_years(self) -> frozenset[int]:
        """Participation years t for which the panel has t-2, t-1 and t+2."""
        years = self.panel.years
        return frozenset(
            t
            for t in range(min(years, default=0) + 2, max(years, default=0) - 1)
            if {t + PRE_OFFSET, t + BASE_OFFSET, t + END_OFFSET} <= years
        )

    def frame(self, year: int) -> CohortFrame:
        if year not in self.frames:
            self.frames[year] = build_frame(self.panel, year)
        return self.frames[year]

    def control(self, year: int) -> UnitData:
        """Frame companies that took part in no offer from t-3 to t+2."""
        if year not in self.controls:
            frame = self.frame(year)
            p = self.participations
            window = (p.year >= year + CLEAN_FROM) & (p.year <= year + CLEAN_TO)
            clean = ~np.isin(frame.units.cvr, p.cvr[window])
            self.controls[year] = subset(frame.units, clean)
        return self.controls[year]

    def control_cell(self, year: int, size: int, industry: int) -> UnitData:
        """The controls of one segment (size class, industry code): matching is exact on both,
        so a segment's participants are only ever compared with these."""
        if year not in self.control_cells:
            units = self.control(year)
            keys = units.size_class * 64 + units.industry.astype(np.int64)
            order = np.argsort(keys, kind="stable")
            bounds = np.flatnonzero(np.diff(keys[order])) + 1
            self.control_cells[year] = {
                (int(keys[part[0]] // 64), int(keys[part[0]] % 64)): subset(units, np.sort(part))
                for part in np.split(order, bounds)
                if len(part)
            }
        empty = subset(self.control(year), np.zeros(0, dtype=np.int64))
        return self.control_cells[year].get((size, industry), empty)


_cache: PanelCache | None = None


def panel_cache(key: tuple[int, str]) -> PanelCache:
    """This process's cache for the run ``key``; a new run reads the panel afresh."""
    global _cache  # one cache per worker process, replaced per run
    if _cache is None or _cache.key != key:
        _cache = None  # free the old run's arrays before reading the new ones
        started = time.perf_counter()
        panel = PanelArrays.load()
        participations = Participations.load()
        _cache = PanelCache(
            key=key,
            panel=panel,
            participations=participations,
            load_seconds=time.perf_counter() - started,
        )
    return _cache


def clear_panel_cache() -> None:
    global _cache  # one cache per worker process, replaced per run
    _cache = None
