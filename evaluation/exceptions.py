"""The evaluation app's one domain error and the import rejection that carries every bad row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _


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
    """The file has errors, so nothing was written. ``errors`` holds the first of them, in order."""

    def __init__(self, errors: Sequence[RowError], total: int, *, message: str = "") -> None:
        self.errors = list(errors)
        self.total = total
        super().__init__(
            message or _("Filen har %(count)s fejl; intet er indlæst.") % {"count": total}
        )
