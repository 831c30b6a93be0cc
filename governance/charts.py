"""A line chart as inline SVG geometry. Pure: no ORM, no templates.

The page's Content-Security-Policy forbids inline scripts and ``style`` attributes, so the chart
is drawn on the server and styled only with SVG presentation attributes. Each series also has its
own dash pattern and marker shape, so it is told apart without colour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: int | None
    label: str


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    dash: str
    points: list[Point]

    @property
    def path(self) -> str:
        """SVG path data; a missing value breaks the line instead of dropping it to zero."""
        parts: list[str] = []
        pen_down = False
        for point in self.points:
            if point.value is None:
                pen_down = False
                continue
            parts.append(f"{'L' if pen_down else 'M'}{point.x:.1f},{point.y:.1f}")
            pen_down = True
        return " ".join(parts)


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    series: list[Series]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    font_size: int = 14

    @property
    def plot_bottom(self) -> int:
        return self.height - self.bottom

    @property
    def plot_right(self) -> int:
        return self.width - self.right


# Colours from Det Fælles Designsystem with at least 3:1 contrast against white (WCAG 1.4.11).
PALETTE = [("#0059b3", ""), ("#b35c00", "8 4"), ("#358000", "2 4"), ("#6f2b8f", "12 4 2 4")]


def nice_maximum(value: float) -> int:
    """The smallest 1, 2 or 5 times a power of ten that is at least ``value`` (and at least 1)."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return int(step * magnitude)
    raise AssertionError("unreachable")


def _divisions(maximum: int) -> int:
    """Grid lines at whole numbers: 1, 2 or 5 times a power of ten split in 5, 4 or 5 steps."""
    if maximum <= 5:
        return maximum
    leading = int(str(maximum)[0])
    return 4 if leading == 2 else 5


def line_chart(
    *,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int | None]]],
    width: int = 720,
    height: int = 320,
    max_x_labels: int = 8,
    right: int = 16,
    font_size: int = 14,
) -> LineChart:
    """Place every series on a shared y axis from zero to a round maximum.

    ``max_x_labels`` month labels at most fit under the axis; ``right`` leaves room for the last
    one's second half. The SVG scales with the page, so a chart for a phone is drawn narrow (its
    user units close to CSS pixels) rather than a wide one shrunk until its text is unreadable.
    """
    left, top, bottom = 56, 16, 40
    plot_width, plot_height = width - left - right, height - top - bottom
    values = [value for _name, points in series for value in points if value is not None]
    maximum = nice_maximum(max(values, default=0))

    def x_at(index: int) -> float:
        if len(labels) <= 1:
            return left + plot_width / 2
        return left + plot_width * index / (len(labels) - 1)

    def y_at(value: float) -> float:
        return top + plot_height * (1 - value / maximum)

    drawn = [
        Series(
            name=name,
            colour=PALETTE[index % len(PALETTE)][0],
            dash=PALETTE[index % len(PALETTE)][1],
            points=[
                Point(
                    x=x_at(position),
                    y=y_at(value) if value is not None else 0.0,
                    value=value,
                    label=labels[position],
                )
                for position, value in enumerate(points)
            ],
        )
        for index, (name, points) in enumerate(series)
    ]
    divisions = _divisions(maximum)
    step = maximum // divisions
    ticks = [Tick(position=y_at(step * i), label=f"{step * i:d}") for i in range(divisions + 1)]
    every = max(1, math.ceil(len(labels) / max_x_labels))
    x_ticks = [
        Tick(position=x_at(i), label=label) for i, label in enumerate(labels) if i % every == 0
    ]
    return LineChart(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        series=drawn,
        y_ticks=ticks,
        x_ticks=x_ticks,
        font_size=font_size,
    )
