"""DB07 (Dansk Branchekode 2007) main groups: two digits, each in one section.

Pure Python (no Django), so ``routing.matching`` and the catalogue format share one rule.
The main groups in use are 01-03, 05-09, 10-33, 35-39, 41-43, 45-47, 49-53, 55-56, 58-63,
64-66, 68, 69-75, 77-82, 84, 85, 86-88, 90-93, 94-96, 97-98 and 99 (Danmarks Statistik).
"""

from __future__ import annotations

#: The first main group of each section.
SECTION_STARTS: tuple[tuple[int, str], ...] = (
    (1, "A"), (5, "B"), (10, "C"), (35, "D"), (36, "E"), (41, "F"), (45, "G"), (49, "H"),
    (55, "I"), (58, "J"), (64, "K"), (68, "L"), (69, "M"), (77, "N"), (84, "O"), (85, "P"),
    (86, "Q"), (90, "R"), (94, "S"), (97, "T"), (99, "U"),
)  # fmt: skip

#: Two-digit numbers that are no DB07 main group (gaps between the sections' ranges).
_UNUSED = frozenset({4, 34, 40, 44, 48, 54, 57, 67, 76, 83, 89})


def section_of_group(group: str) -> str | None:
    """The DB07 section of a main group ("31" → "C"), or None for a code that is none."""
    if len(group) != 2 or not group.isdigit():
        return None
    number = int(group)
    if number == 0 or number in _UNUSED:
        return None
    section = None
    for start, letter in SECTION_STARTS:
        if number >= start:
            section = letter
    return section


def is_group(value: object) -> bool:
    """Whether ``value`` is a DB07 main group written as two digits ("31", "01")."""
    return isinstance(value, str) and section_of_group(value) is not None


def all_groups() -> tuple[str, ...]:
    """Every DB07 main group, in order."""
    return tuple(f"{n:02d}" for n in range(1, 100) if section_of_group(f"{n:02d}"))
