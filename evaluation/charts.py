"""Forest plots as server-rendered SVG: an estimate and its 95 % interval per row, zero marked.

No JavaScript and no inline styles (the CSP forbids both): the geometry is computed here and the
template writes it as SVG presentation attributes. The same numbers always sit in a table next
to the chart, which is what screen readers and keyboard users read.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from evaluation.presentation import is_amount

WIDTH: Final = 720
LABEL_WIDTH: Final = 250
PLOT_LEFT: Final = 262
PLOT_RIGHT: Final = 700
ROW_HEIGHT: Final = 30
TOP: Final = 16
AXIS_HEIGHT: Final = 40
LABEL_CHARACTERS: Final = 34


@dataclass(frozen=True, slots=True)
class ChartRow:
    label: str
    short_label: str
    y: int
    measured: bool
    note: str
    x_estimate: float = 0.0
    x_low: float = 0.0
    x_high: float = 0.0


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True, slots=True)
class ForestPlot:
    chart_id: str
    title: str
    description: str
    width: int
    height: int
    plot_left: int
    plot_right: int
    axis_y: int
    zero_x: float | None
    ticks: list[Tick]
    rows: list[ChartRow]


@dataclass(frozen=True, slots=True)
class PlotInput:
    """One row to draw: ``status`` "ok" with numbers, or another status with a note."""

    label: str
    status: str
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    note: str = ""


def forest_plot(
    *, chart_id: str, title: str, indicator: str, rows: Sequence[PlotInput]
) -> ForestPlot:
    measured = [
        r for r in rows if r.status == "ok" and None not in (r.estimate, r.ci_low, r.ci_high)
    ]
    low = min([0.0, *(float(r.ci_low) for r in measured if r.ci_low is not None)])
    high = max([0.0, *(float(r.ci_high) for r in measured if r.ci_high is not None)])
    if high - low <= 0:
        high = low + 1.0
    step = _nice_step((high - low) / 5)
    low = math.floor(low / step) * step
    high = math.ceil(high / step) * step

    def x(value: float) -> float:
        return round(PLOT_LEFT + (value - low) / (high - low) * (PLOT_RIGHT - PLOT_LEFT), 1)

    chart_rows = []
    for index, row in enumerate(rows):
        y = TOP + index * ROW_HEIGHT + ROW_HEIGHT // 2
        short = (
            row.label
            if len(row.label) <= LABEL_CHARACTERS
            else row.label[: LABEL_CHARACTERS - 1] + "…"
        )
        if row in measured:
            chart_rows.append(
                ChartRow(
                    label=row.label,
                    short_label=short,
                    y=y,
                    measured=True,
                    note="",
                    x_estimate=x(float(row.estimate or 0.0)),
                    x_low=x(float(row.ci_low or 0.0)),
                    x_high=x(float(row.ci_high or 0.0)),
                )
            )
        else:
            chart_rows.append(
                ChartRow(label=row.label, short_label=short, y=y, measured=False, note=row.note)
            )
    axis_y = TOP + len(rows) * ROW_HEIGHT + 4
    count = round((high - low) / step)
    ticks = [
        Tick(x=x(low + i * step), label=_axis_label(low + i * step, step, indicator))
        for i in range(count + 1)
    ]
    return ForestPlot(
        chart_id=chart_id,
        title=title,
        description=_(
            "Punktet er effekten pr. deltager, stregen det 95 %-konfidensinterval, og den "
            "stiplede linje er nul (ingen effekt). Tallene står i tabellen under diagrammet."
        ),
        width=WIDTH,
        height=axis_y + AXIS_HEIGHT,
        plot_left=PLOT_LEFT,
        plot_right=PLOT_RIGHT,
        axis_y=axis_y,
        zero_x=x(0.0),
        ticks=ticks,
        rows=chart_rows,
    )


def _nice_step(raw: float) -> float:
    """1, 2, 2.5 or 5 times a power of ten, at least ``raw``."""
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1.0, 2.0, 2.5, 5.0, 10.0):
        if multiple * power >= raw:
            return multiple * power
    return 10.0 * power


def _axis_label(value: float, step: float, indicator: str) -> str:
    if abs(value) < step / 1e6:
        return "0"
    if is_amount(indicator):
        if step >= 100_000:
            number, unit = value / 1_000_000, _("mio.")
        else:
            number, unit = value / 1_000, _("t.")
        scaled = step / (1_000_000 if step >= 100_000 else 1_000)
        text = f"{_format(number, scaled)} {unit}"
    else:
        text = _format(value, step)
    return text if value > 0 else "−" + text.lstrip("-")


def _format(value: float, step: float) -> str:
    decimals = 0 if step >= 1 else (1 if step * 10 >= 1 else 2)
    return number_format(value, decimals, use_l10n=True, force_grouping=True)
