"""DB07 (Dansk Branchekode 2007): its sections, main groups and six-digit codes, in one place.

A six-digit code as the CVR register gives it (``620100``, computer programming) belongs to the
two-digit main group (division) ``62`` and, through it, to the section ``J`` that offers are
tagged with. Pure Python (no Django), so ``routing.matching``, the catalogue format, the CVR
register import and the evaluation's industry sections share one table.
"""

from __future__ import annotations

from typing import Final

#: Section letter: inclusive range of its two-digit main groups (Danmarks Statistik, DB07).
#: Numbers between the ranges (04, 34, 40, ...) are no main group.
DIVISIONS: Final[dict[str, tuple[int, int]]] = {
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
#: The CVR register's code for "not stated" (uoplyst), which is no industry at all.
NOT_STATED: Final = "999999"

_SECTION_OF_NUMBER: Final = {
    number: letter
    for letter, (first, last) in DIVISIONS.items()
    for number in range(first, last + 1)
}


def section_of_group(group: str) -> str | None:
    """The DB07 section of a main group ("31" → "C"), or None for a code that is none."""
    if len(group) != 2 or not group.isdigit():
        return None
    return _SECTION_OF_NUMBER.get(int(group))


def is_group(value: object) -> bool:
    """Whether ``value`` is a DB07 main group written as two digits ("31", "01")."""
    return isinstance(value, str) and section_of_group(value) is not None


def all_groups() -> tuple[str, ...]:
    """Every DB07 main group, in order."""
    return tuple(f"{number:02d}" for number in sorted(_SECTION_OF_NUMBER))


def group_of_code(code: str) -> str | None:
    """The main group of a six-digit code ("620100" → "62"), or None for none or an unknown one."""
    if len(code) != 6 or not code.isdigit() or code == NOT_STATED:
        return None
    group = code[:2]
    return group if section_of_group(group) is not None else None


def section_of_code(code: str) -> str | None:
    """The section of a six-digit code ("620100" → "J"), or None for none or an unknown one."""
    group = group_of_code(code)
    return section_of_group(group) if group is not None else None
