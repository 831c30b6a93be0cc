"""Loading the CVR register's open data into the local copy the CVR lookup reads.

The file (docs/interfaces.md, "The CVR register file") has a header row naming its columns, in any
order, in English or as the register's Danish headers; columns it does not know are skipped. It is
read as people hand it over: UTF-8 with or without a byte-order mark or, failing that, Windows-1252
(a spreadsheet's "CSV" on a Danish Windows), separated by commas, semicolons or tabs (detected
from the header), with codes whose leading zero a spreadsheet dropped, dotted industry codes
(``62.01.00``) and employee bands in the register's interval codes (``ANTAL_10_19``), as text
(``10-19``) or turned into a date by a spreadsheet (``05-sep`` for 5–9).

The load is all or nothing: the file replaces the whole table in one transaction, and a file with
one bad line changes nothing; every bad line is reported with its number, column and what is
wrong (the first :data:`MAX_REPORTED_ERRORS`).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Final

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.dk import cvr as cvr_number
from stdnum.exceptions import ValidationError as StdnumValidationError

from offers import db07

COLUMNS: Final = (
    "cvr",
    "name",
    "address",
    "postcode",
    "city",
    "municipality",
    "industry",
    "employees",
)
# The register's own Danish headers (and the common ways of writing them) for each column.
ALIASES: Final = {
    "cvr": ("cvrnr", "cvr-nr", "cvr-nummer", "cvrnummer", "cvr_nummer"),
    "name": ("navn", "virksomhedsnavn"),
    "address": ("adresse", "beliggenhedsadresse"),
    "postcode": ("postnr", "postnummer", "post_nr"),
    "city": ("by", "postdistrikt"),
    "municipality": ("kommunekode", "kommune_kode"),
    "industry": ("hovedbranche", "branchekode", "hovedbranchekode"),
    "employees": ("antal_ansatte", "antal ansatte", "ansatte", "aarsbeskaeftigelse"),
}
MAX_REPORTED_ERRORS: Final = 1_000
NAME_MAX_LENGTH: Final = 300
ADDRESS_MAX_LENGTH: Final = 300
CITY_MAX_LENGTH: Final = 100

# The register's interval codes for employees (aarsbeskaeftigelse.intervalKodeAntalAnsatte).
_BAND = re.compile(r"^(?:antal_)?(\d{1,7})\s*(?:-|–|_|til)\s*(\d{1,7})$", re.IGNORECASE)
_OPEN_BAND = re.compile(r"^(\d{1,7})\s*\+$")
# A band a spreadsheet read as a date and wrote back as one: "05-sep" is 5–9, "1-Apr" is 1–4.
_DATE_BAND = re.compile(
    r"^(\d{1,2})[-. ]([a-z]{3})\.?$",
    re.IGNORECASE,
)
_MONTHS: Final = {
    name: number
    for number, names in enumerate(
        (
            ("jan",),
            ("feb",),
            ("mar",),
            ("apr",),
            ("maj", "may"),
            ("jun",),
            ("jul",),
            ("aug",),
            ("sep",),
            ("okt", "oct"),
            ("nov",),
            ("dec",),
        ),
        start=1,
    )
    for name in names
}
# The register's bands a date can stand for (day-month): 1–1, 1–4, 2–4, 5–9.
_DATE_BANDS: Final = {(1, 1), (1, 4), (2, 4), (5, 9)}
_NOT_STATED: Final = {"", "uoplyst", "ukendt", "-"}


@dataclasses.dataclass(frozen=True, slots=True)
class LineError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return _("linje %(line)d, kolonne %(column)s: %(message)s") % {
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


class CvrImportRejected(Exception):
    """The file was not loaded; ``errors`` says why, line by line (none for a file-wide fault)."""

    def __init__(self, message: str, errors: list[LineError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


@dataclasses.dataclass(frozen=True, slots=True)
class CvrImportReport:
    rows: int
    replaced: int
    seconds: float


class _BadValue(ValueError):
    pass


def parse_employee_band(value: str) -> tuple[int | None, int | None]:
    """An employee band as the register or a spreadsheet writes it: (lowest, highest) or Nones."""
    text = value.strip()
    if text.lower() in _NOT_STATED:
        return None, None
    if text.isdigit():
        return int(text), int(text)
    if match := _BAND.match(text):
        low, high = int(match[1]), int(match[2])
        if low > high:
            raise _BadValue(_("Intervallet for ansatte går baglæns (%(value)s).") % {"value": text})
        return low, high
    if match := _OPEN_BAND.match(text):
        return int(match[1]), None
    if match := _DATE_BAND.match(text):
        band = (int(match[1]), _MONTHS.get(match[2].lower(), 0))
        if band in _DATE_BANDS:
            return band
    raise _BadValue(
        _("„%(value)s“ er ikke et interval for ansatte (f.eks. 10-19 eller ANTAL_10_19).")
        % {"value": text}
    )


def _cvr(value: str) -> str:
    try:
        return str(cvr_number.validate(value))
    except StdnumValidationError:
        raise _BadValue(
            _("„%(value)s“ er ikke et gyldigt CVR-nummer (8 cifre med korrekt kontrolciffer).")
            % {"value": value}
        ) from None


def _text(value: str, *, limit: int, required: bool = False) -> str:
    text = " ".join(value.split())
    if required and not text:
        raise _BadValue(_("Feltet må ikke være tomt."))
    if len(text) > limit:
        raise _BadValue(
            _("Højst %(limit)d tegn (der er %(length)d).") % {"limit": limit, "length": len(text)}
        )
    return text


def _postcode(value: str) -> str:
    text = value.strip()
    if not text:
        return ""
    if not text.isdigit() or len(text) > 4:
        raise _BadValue(_("„%(value)s“ er ikke et postnummer (4 cifre).") % {"value": text})
    return text.zfill(4)  # "800" from a spreadsheet is 0800


def _municipality(value: str, known: frozenset[int]) -> int | None:
    text = value.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 4 or int(text) not in known:
        raise _BadValue(_("„%(value)s“ er ikke en kommunekode.") % {"value": text})
    return int(text)


def _industry(value: str) -> str:
    text = value.strip().replace(".", "").replace(" ", "")
    if not text:
        return ""
    if text.isdigit() and len(text) == 5:
        text = "0" + text  # a spreadsheet dropped the leading zero of 011100
    if not (text.isdigit() and len(text) == 6) or (
        text != db07.NOT_STATED and db07.section_of_code(text) is None
    ):
        raise _BadValue(
            _("„%(value)s“ er ikke en branchekode fra DB07 (6 cifre).") % {"value": value.strip()}
        )
    return text


def _column_positions(header: list[str]) -> dict[str, int]:
    names = {alias: column for column in COLUMNS for alias in (column, *ALIASES[column])}
    positions: dict[str, int] = {}
    for index, raw in enumerate(header):
        column = names.get(raw.strip().strip('"').lower())
        if column is not None and column not in positions:
            positions[column] = index
    missing = [column for column in COLUMNS if column not in positions]
    if missing:
        raise CvrImportRejected(
            _("Filen mangler kolonnerne %(missing)s. Første linje skal navngive: %(columns)s.")
            % {"missing": ", ".join(missing), "columns": ",".join(COLUMNS)}
        )
    return positions


def _delimiter(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", ";", "\t")}
    return max(counts, key=lambda delimiter: counts[delimiter])


def parse_rows(
    text: IO[str], *, municipalities: frozenset[int], errors: list[LineError]
) -> Iterator[tuple[object, ...]]:
    """Validated rows (in :data:`COLUMNS`' order, the band as two values) from a text stream.

    Bad lines are appended to ``errors`` and skipped; the caller loads nothing if there are any.
    """
    header_line = text.readline()
    if not header_line.strip():
        raise CvrImportRejected(_("Filen er tom."))
    delimiter = _delimiter(header_line)
    positions = _column_positions(next(csv.reader([header_line], delimiter=delimiter)))
    reader = csv.reader(text, delimiter=delimiter)
    seen: dict[str, int] = {}
    width = max(positions.values()) + 1
    for fields in reader:
        line = reader.line_num + 1  # the header was read before the reader started counting
        if not any(field.strip() for field in fields):
            continue
        if len(fields) < width:
            fields = fields + [""] * (width - len(fields))

        def value(column: str, fields: list[str] = fields) -> str:
            return fields[positions[column]]

        row: list[object] = []
        bad = False
        checks = (
            ("cvr", lambda v: _cvr(v)),
            ("name", lambda v: _text(v, limit=NAME_MAX_LENGTH, required=True)),
            ("address", lambda v: _text(v, limit=ADDRESS_MAX_LENGTH)),
            ("postcode", _postcode),
            ("city", lambda v: _text(v, limit=CITY_MAX_LENGTH)),
            ("municipality", lambda v: _municipality(v, municipalities)),
            ("industry", _industry),
            ("employees", parse_employee_band),
        )
        for column, check in checks:
            try:
                result = check(value(column))
            except _BadValue as error:
                errors.append(LineError(line, column, str(error)))
                bad = True
                continue
            if column == "employees":
                row.extend(result)  # type: ignore[arg-type]
            else:
                row.append(result)
        if not bad:
            cvr = str(row[0])
            if cvr in seen:
                errors.append(
                    LineError(
                        line,
                        "cvr",
                        _("CVR-nummeret %(cvr)s står også på linje %(first)d.")
                        % {"cvr": cvr, "first": seen[cvr]},
                    )
                )
                continue
            seen[cvr] = line
            yield tuple(row)
        if len(errors) >= MAX_REPORTED_ERRORS:
            return


def _text_streams(source: Path | str | IO[bytes]) -> Iterable[IO[str]]:
    """The file as text: first as UTF-8 (a byte-order mark is skipped), then as Windows-1252."""
    for encoding in ("utf-8-sig", "cp1252"):
        if isinstance(source, (str, Path)):
            binary: IO[bytes] = open(source, "rb")  # noqa: SIM115 - closed below
        else:
            source.seek(0)
            binary = source
        stream = io.TextIOWrapper(binary, encoding=encoding, newline="")
        try:
            yield stream
        finally:
            stream.detach()
            if isinstance(source, (str, Path)):
                binary.close()


def cvr_register_import(*, source: Path | str | IO[bytes]) -> CvrImportReport:
    """Replace the local copy of the CVR register with the companies in ``source``."""
    from crm.models import CvrRegisterEntry
    from offers.models import Municipality

    started = time.perf_counter()
    municipalities = frozenset(Municipality.objects.values_list("code", flat=True))
    table = CvrRegisterEntry._meta.db_table
    now = timezone.now()
    for text in _text_streams(source):
        errors: list[LineError] = []
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                replaced = CvrRegisterEntry.objects.count()
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - our own table name
                rows = 0
                columns = (
                    "cvr, name, address, postcode, city, municipality_code, industry_code,"
                    " employees_min, employees_max, loaded_at"
                )
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in parse_rows(text, municipalities=municipalities, errors=errors):
                        rows += 1
                        if not errors:
                            copy.write_row((*row, now))
                if errors:
                    raise CvrImportRejected(
                        _("Filen har fejl på %(count)d linjer; intet er indlæst.")
                        % {"count": len({error.line for error in errors})},
                        errors,
                    )
                if rows == 0:
                    raise CvrImportRejected(_("Filen har ingen rækker; intet er indlæst."))
        except UnicodeDecodeError:
            continue  # not UTF-8: read it again as Windows-1252
        return CvrImportReport(rows=rows, replaced=replaced, seconds=time.perf_counter() - started)
    raise CvrImportRejected(_("Filen er hverken UTF-8 eller Windows-1252; gem den som UTF-8."))
