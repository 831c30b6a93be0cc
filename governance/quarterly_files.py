"""A quarterly report as a spreadsheet (XLSX, written with openpyxl) and as CSV.

Both hold the same table: one row per figure, the columns in ``COLUMNS``. A withheld figure is
``..`` (as Statistics Denmark writes a confidential cell); numbers are numbers in the XLSX and
plain decimals with a point in the CSV (UTF-8 with a byte-order mark, so spreadsheets read the
Danish letters). Titles and labels go through ``core.csvsafe`` so no cell is run as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from core.csvsafe import safe_cell, safe_row
from governance.quarterly import Row

WITHHELD = ".."
COLUMN_KEYS = (
    "section",
    "key",
    "label",
    "this",
    "previous",
    "last_year",
    "median",
    "change_previous",
    "change_last_year",
)


def _value(value: float | None) -> float | int | str:
    if value is None:
        return WITHHELD
    return int(value) if float(value).is_integer() else value


def _cells(row: Row) -> list[float | int | str]:
    return [
        row.section,
        row.key,
        row.label,
        _value(row.this),
        _value(row.previous),
        _value(row.last_year),
        _value(row.median),
        _value(row.change_previous),
        _value(row.change_last_year),
    ]


def to_csv(rows: Sequence[Row], *, headers: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(safe_row(_cells(row)))
    return "\ufeff" + buffer.getvalue()


def to_xlsx(
    rows: Sequence[Row], *, headers: Sequence[str], title: str, notes: Sequence[str]
) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Rapport"
    sheet.append([_text(title)])
    sheet["A1"].font = Font(bold=True, size=14)
    for note in notes:
        sheet.append([_text(note)])
    sheet.append([])
    sheet.append(list(headers))
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    for row in rows:
        cells = _cells(row)
        sheet.append([_text(c) if isinstance(c, str) else c for c in cells])
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=4)
    for index, width in enumerate((16, 18, 48, 14, 14, 14, 14, 16, 16), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text(value: str) -> str:
    # A label from the database ("=…") must stay text.
    return str(safe_cell(value))
