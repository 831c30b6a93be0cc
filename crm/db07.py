"""DB07 industry codes as the CVR register gives them (six digits), to the catalogue's terms.

A main industry code such as ``620100`` (computer programming) belongs to the two-digit group
(division) ``62`` and, through it, to the section ``J`` that offers are tagged with. Pure: no
Django, tested on plain strings.
"""

from __future__ import annotations

from typing import Final

# Section letter: inclusive ranges of two-digit divisions (Danmarks Statistik, DB07).
DIVISIONS: Final = {
    "A": (1, 3),
    "B": (5, 9),
    "C": (10, 33),
    "D": (35, 35),
    "E": (36, 39),
    "F": (41, 43),
    "G": (45, 47),
    "H": (49, 53),
    "I": (55, 56),
    "J": (58, 63),
    "K": (64, 66),
    "L": (68, 68),
    "M": (69, 75),
    "N": (77, 82),
    "O": (84, 84),
    "P": (85, 85),
    "Q": (86, 88),
    "R": (90, 93),
    "S": (94, 96),
    "T": (97, 98),
    "U": (99, 99),
}
#: The register's code for "not stated" (uoplyst), which is no industry at all.
NOT_STATED: Final = "999999"

_SECTION_OF_DIVISION: Final = {
    division: letter
    for letter, (first, last) in DIVISIONS.items()
    for division in range(first, last + 1)
}


def group(code: str) -> str | None:
    """The two-digit group (division) of a six-digit code, or None for none or an unknown one."""
    if len(code) != 6 or not code.isdigit() or code == NOT_STATED:
        return None
    division = code[:2]
    return division if int(division) in _SECTION_OF_DIVISION else None


def section(code: str) -> str | None:
    """The section letter (``"C"``) of a six-digit code, or None for none or an unknown one."""
    division = group(code)
    return _SECTION_OF_DIVISION[int(division)] if division is not None else None
