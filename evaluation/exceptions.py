"""The evaluation app's one domain error and the import rejection that carries every bad row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.errorgroups import ErrorGroup


class EvaluationError(Exception):
    """Something an analyst can act on; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class RowError:
    """One bad value in an import file. ``column`` is empty when the whole row is wrong."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.column:
            return _("Linje %(line)s, kolonne %(column)s: %(message)s") % {
                "line": self.line,
                "column": self.column,
                "message": self.message,
            }
        return _("Linje %(line)s: %(message)s") % {"line": self.line, "message": self.message}


class ImportRejected(EvaluationError):
    """The file has errors, so nothing was written.

    ``errors`` holds the first rows of each kind of error, in line order; ``groups`` each kind
    with its examples and how many rows had it; ``total`` counts every bad value.
    """

    def __init__(
        self,
        errors: Sequence[RowError],
        total: int,
        *,
        message: str = "",
        groups: Sequence[ErrorGroup[RowError]] = (),
    ) -> None:
        self.errors = list(errors)
        self.total = total
        self.groups = list(groups)
        super().__init__(
            message or _("Filen har %(count)s fejl; intet er indlæst.") % {"count": total}
        )

    def report_lines(self) -> list[str]:
        """Kind by kind: the examples, then one line for the rest of the kind
        ("kolonne revenue_dkk: 49.997 rækker mere som linje 2")."""
        if not self.groups:
            return [str(error) for error in self.errors]
        lines: list[str] = []
        for group in self.groups:
            lines.extend(str(error) for error in group.examples)
            if group.more:
                lines.append(repeated_message(group.column, group.more, group.examples[0].line))
        shown = sum(group.count for group in self.groups)
        if self.total > shown:
            lines.append(
                _("… og %(count)s fejl af andre slags.")
                % {"count": number_format(self.total - shown, force_grouping=True)}
            )
        return lines


def repeated_message(column: str, more: int, line: int) -> str:
    count = number_format(more, force_grouping=True)
    if column:
        return ngettext(
            "kolonne %(column)s: %(count)s række mere som linje %(line)s",
            "kolonne %(column)s: %(count)s rækker mere som linje %(line)s",
            more,
        ) % {"column": column, "count": count, "line": line}
    return ngettext(
        "%(count)s række mere som linje %(line)s",
        "%(count)s rækker mere som linje %(line)s",
        more,
    ) % {"count": count, "line": line}
