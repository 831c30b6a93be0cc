"""Durations as editors write them in Danish ("3–4 måneder", "Op til 40 dage"), read as data.

An offer's expected time (``delivery_time``) is free text in Danish. The common shapes (a number
or a range of days, weeks, months, years or hours, perhaps "op til", "ca." or "mindst" before it
and "pr. kursus" after it) are read into a :class:`Duration`, so the page can say them in the
reader's language; anything else is shown as written, marked as Danish. Pure: no Django.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Final

UNITS: Final = {
    "time": "hour",
    "timer": "hour",
    "dag": "day",
    "dage": "day",
    "arbejdsdag": "working_day",
    "arbejdsdage": "working_day",
    "uge": "week",
    "uger": "week",
    "måned": "month",
    "måneder": "month",
    "md.": "month",
    "mdr.": "month",
    "år": "year",
}
QUALIFIERS: Final = {
    "op til": "up_to",
    "højst": "up_to",
    "maks.": "up_to",
    "ca.": "about",
    "cirka": "about",
    "omkring": "about",
    "mindst": "at_least",
    "min.": "at_least",
}
PER: Final = {
    "pr. kursus": "course",
    "pr. forløb": "programme",
    "pr. møde": "meeting",
    "pr. projekt": "project",
}

_NUMBER = r"\d+(?:,\d+)?"
_PATTERN: Final = re.compile(
    rf"^(?:(?P<qualifier>{'|'.join(re.escape(q) for q in QUALIFIERS)})\s+)?"
    rf"(?P<low>{_NUMBER})(?:\s*(?:-|–|—|til)\s*(?P<high>{_NUMBER}))?\s*"
    rf"(?P<unit>{'|'.join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))})"
    rf"(?:\s+(?P<per>{'|'.join(re.escape(p) for p in PER)}))?\.?$",
    re.IGNORECASE,
)


@dataclasses.dataclass(frozen=True, slots=True)
class Duration:
    low: str  # as written, decimal comma and all
    high: str | None
    unit: str  # hour, day, working_day, week, month, year
    qualifier: str | None = None  # up_to, about, at_least
    per: str | None = None  # course, programme, meeting, project

    @property
    def count(self) -> float:
        """The number that decides singular or plural: the upper end."""
        return float((self.high or self.low).replace(",", "."))


def parse_duration(text: str) -> Duration | None:
    """The duration ``text`` states, or None when it is not one of the shapes above."""
    match = _PATTERN.match(" ".join(text.split()))
    if match is None:
        return None
    qualifier = match["qualifier"]
    per = match["per"]
    return Duration(
        low=match["low"],
        high=match["high"],
        unit=UNITS[match["unit"].lower()],
        qualifier=QUALIFIERS[qualifier.lower()] if qualifier else None,
        per=PER[per.lower()] if per else None,
    )
