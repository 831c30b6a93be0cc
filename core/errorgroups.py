"""Repeated import errors grouped by kind, so a report names every kind of mistake in a screenful.

A file of 50,000 rows with the same mistake used to give 1,000 lines of the same message. Here
each *kind* of error (its column and its message with the quoted values and numbers taken out)
keeps its first ``EXAMPLES_PER_KIND`` rows as examples and counts the rest, which a report shows
as one line: "kolonne revenue_dkk: 49.997 rækker mere som linje 2".

Pure: no Django, no database; the importers format the lines in their own words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

EXAMPLES_PER_KIND = 3
# Kinds are few in practice (columns × checks); the cap only guards against a file whose every
# row fails in a way of its own.
MAX_KINDS = 100

# Quoted values (“…”, '…', "…") and numbers vary from row to row; the rest of a message is its kind.
_VARYING = re.compile(r"“[^”]*”|'[^']*'|\"[^\"]*\"|\(\s*-?[\d.,]+\s*\)|-?\d[\d.,]*")


def kind_of(message: str) -> str:
    """The message with its row-specific values taken out: equal for errors of one kind."""
    return _VARYING.sub("…", message)


@dataclass
class ErrorGroup[E]:
    """One kind of error: its first examples, in file order, and how many rows had it."""

    column: str
    kind: str
    examples: list[E] = field(default_factory=list)
    count: int = 0

    @property
    def more(self) -> int:
        """Rows of this kind not shown as an example."""
        return self.count - len(self.examples)


class ErrorGroups[E]:
    """Collects errors kind by kind; add them in file order so the examples are the first rows."""

    def __init__(self, *, examples: int = EXAMPLES_PER_KIND, max_kinds: int = MAX_KINDS) -> None:
        self.examples = examples
        self.max_kinds = max_kinds
        self.groups: dict[tuple[str, str], ErrorGroup[E]] = {}
        self.total = 0
        # Errors of kinds beyond ``max_kinds``: counted, not shown.
        self.uncounted_kinds = 0

    def __bool__(self) -> bool:
        return self.total > 0

    def wants_example(self, column: str, kind: str) -> int:
        """How many more examples of this kind would be kept (so callers format only those)."""
        group = self.groups.get((column, kind))
        if group is None:
            return self.examples if len(self.groups) < self.max_kinds else 0
        return max(self.examples - len(group.examples), 0)

    def add_many(self, column: str, kind: str, examples: Iterable[E], count: int) -> None:
        """``count`` rows of one kind, of which ``examples`` are the first (already formatted)."""
        self.total += count
        group = self.groups.get((column, kind))
        if group is None:
            if len(self.groups) >= self.max_kinds:
                self.uncounted_kinds += count
                return
            group = self.groups[(column, kind)] = ErrorGroup(column, kind)
        room = self.examples - len(group.examples)
        group.examples.extend(list(examples)[: max(room, 0)])
        group.count += count

    def add(self, column: str, kind: str, error: E) -> None:
        self.add_many(column, kind, [error], 1)

    def ordered(self, line_of: Callable[[E], int]) -> list[ErrorGroup[E]]:
        """The groups in the order of their first example's line."""
        return sorted(
            (group for group in self.groups.values() if group.examples),
            key=lambda group: line_of(group.examples[0]),
        )

    def shown(self, line_of: Callable[[E], int]) -> list[E]:
        """Every example kept, in line order."""
        return sorted(
            (error for group in self.groups.values() for error in group.examples), key=line_of
        )


def group_errors[E](
    errors: Iterable[E],
    *,
    column: Callable[[E], str],
    message: Callable[[E], str],
    line: Callable[[E], int],
    examples: int = EXAMPLES_PER_KIND,
) -> ErrorGroups[E]:
    """Group a complete list of errors by column and kind of message."""
    groups: ErrorGroups[E] = ErrorGroups(examples=examples)
    for error in sorted(errors, key=line):
        groups.add(column(error), kind_of(message(error)), error)
    return groups
