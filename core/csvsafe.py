"""Cells of CSV files that people open in a spreadsheet: text never runs as a formula.

Excel, LibreOffice and Google Sheets read a cell that starts with ``=``, ``+``, ``-`` or ``@``
as a formula (and a leading tab or carriage return can hide such a start), so a title, a comment
or a URL that someone typed could call functions or fetch data when an analyst opens an export
(CSV/formula injection, OWASP). Every CSV exporter writes its cells through ``safe_cell``: such
text gets a leading apostrophe, which spreadsheets show as text and never evaluate. Numbers stay
numbers: only text is changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as it may be written to a CSV cell (text that would be a formula is quoted)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in values]


def safe_record(record: Mapping[str, Any]) -> dict[str, Any]:
    return {key: safe_cell(value) for key, value in record.items()}
