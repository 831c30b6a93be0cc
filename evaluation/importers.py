"""Bulk imports of the register panel and of participations.

A file is read once, in chunks of rows. Each chunk is validated column by column with numpy (a
Python check per value would take minutes on three million rows) and streamed into a temporary
table with binary ``COPY``; one ``INSERT ... SELECT ... ON CONFLICT DO UPDATE`` then upserts the
whole file. All of it runs in one transaction, so a file with a single bad row writes nothing, and
every bad row is reported with its line and column.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errorgroups import ErrorGroups, kind_of
from evaluation import industry as industries
from evaluation.cvr import valid_cvr_numbers
from evaluation.exceptions import ImportRejected, RowError

PANEL_COLUMNS: Final = (
    "cvr",
    "year",
    "employees_fte",
    "revenue_dkk",
    "value_added_dkk",
    "export_dkk",
    "industry",
    "municipality",
)
PARTICIPATION_COLUMNS: Final = ("cvr", "offer", "year")
# The business register goes back to the 1990s; anything before 1980 is a typo.
FIRST_YEAR: Final = 1980
# About 200,000 panel rows: big enough for numpy to pay off, small enough to stream.
CHUNK_BYTES: Final = 8 * 1024 * 1024
# Digits before the decimal separator that a float64 still holds to the krone.
_LONGEST_DECIMAL: Final = 15

# NULLs travel through the fixed-width binary COPY as values that cannot occur in valid data.
_NULL_NON_NEGATIVE: Final = -1
_NULL_SIGNED: Final = int(np.iinfo(np.int64).min)
_COPY_HEADER: Final = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_COPY_TRAILER: Final = b"\xff\xff"
_LONGEST_INTEGER: Final = 18  # digits that always fit in a signed 64-bit integer

type BoolArray = npt.NDArray[np.bool_]
type IntArray = npt.NDArray[np.int64]
type FloatArray = npt.NDArray[np.float64]
type BytesArray = npt.NDArray[np.bytes_]


@dataclass(frozen=True, slots=True)
class ImportReport:
    rows: int
    inserted: int
    updated: int
    unchanged: int
    seconds: float
    # Amounts written with decimals (1893252.0, 12,5), stored rounded to whole kroner.
    rounded: int = 0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float(self.rows)


# --- public services --------------------------------------------------------------------------


def panel_import(*, source: Path | str | IO[bytes]) -> ImportReport:
    """Upsert register rows by (cvr, year) from a CSV file with :data:`PANEL_COLUMNS`."""
    from offers.models import Municipality

    started = time.perf_counter()
    municipalities = np.array(sorted(Municipality.objects.values_list("code", flat=True)))
    errors = _Errors()
    keys: list[IntArray] = []
    key_lines: list[IntArray] = []
    rows = 0
    rounded = 0
    with ExitStack() as stack:
        data = _open(source, stack)
        delimiter = _check_header(data, PANEL_COLUMNS)
        stack.enter_context(transaction.atomic())
        cursor = stack.enter_context(connection.cursor())
        # ON COMMIT DROP removes it, unless this runs inside a caller's longer transaction.
        cursor.execute("DROP TABLE IF EXISTS evaluation_panel_staging")
        cursor.execute(
            "CREATE TEMPORARY TABLE evaluation_panel_staging ("
            " cvr integer, year smallint, employees_fte double precision, revenue_dkk bigint,"
            " value_added_dkk bigint, export_dkk bigint, industry text, industry_section text,"
            " industry_classification text, municipality smallint) ON COMMIT DROP"
        )
        with cursor.copy("COPY evaluation_panel_staging FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(_COPY_HEADER)
            for lines, columns in _chunks(data, len(PANEL_COLUMNS), errors, delimiter):
                chunk = _validate_panel(lines, columns, municipalities, errors)
                rows += len(lines)
                rounded += chunk.rounded
                keys.append(chunk.cvr[chunk.key_ok] * 10_000 + chunk.year[chunk.key_ok])
                key_lines.append(lines[chunk.key_ok])
                if not errors:
                    copy.write(chunk.copy_payload())
            copy.write(_COPY_TRAILER)
        _check_duplicates(keys, key_lines, errors, column="year", describe=_describe_panel_key)
        if errors:
            raise errors.rejection()
        if rows == 0:
            raise ImportRejected([], 0, message=_("Filen har ingen rækker; intet er indlæst."))
        # Sorting 3 million rows in memory instead of on disk; only for this transaction.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(_PANEL_UPSERT, [_NULL_NON_NEGATIVE, _NULL_SIGNED, _NULL_NON_NEGATIVE])
        inserted, updated = cursor.fetchone()
        cursor.execute("ANALYZE evaluation_panelrow")
    return ImportReport(
        rows=rows,
        inserted=inserted,
        updated=updated,
        unchanged=rows - inserted - updated,
        seconds=time.perf_counter() - started,
        rounded=rounded,
    )


def participations_import(*, source: Path | str | IO[bytes]) -> ImportReport:
    """Upsert participations (cvr, offer external_id, year) from a CSV file."""
    from offers.models import Offer

    started = time.perf_counter()
    offer_ids = dict(Offer.objects.values_list("external_id", "id"))
    errors = _Errors()
    keys: list[IntArray] = []
    key_lines: list[IntArray] = []
    payloads: list[bytes] = []
    rows = 0
    with ExitStack() as stack:
        data = _open(source, stack)
        delimiter = _check_header(data, PARTICIPATION_COLUMNS)
        for lines, columns in _chunks(data, len(PARTICIPATION_COLUMNS), errors, delimiter):
            cvr, offer, year, ok = _validate_participations(lines, columns, offer_ids, errors)
            rows += len(lines)
            # The key packs cvr, offer and year so duplicates in the file sort next to each other.
            keys.append((offer[ok] * 100_000_000 + cvr[ok]) * 10_000 + year[ok])
            key_lines.append(lines[ok])
            if not errors:
                payloads.append(
                    _copy_rows([cvr.astype(">i4"), offer.astype(">i8"), year.astype(">i2")])
                )
        _check_duplicates(
            keys, key_lines, errors, column="year", describe=_describe_participation_key
        )
        if errors:
            raise errors.rejection()
        if rows == 0:
            raise ImportRejected([], 0, message=_("Filen har ingen rækker; intet er indlæst."))
        stack.enter_context(transaction.atomic())
        cursor = stack.enter_context(connection.cursor())
        cursor.execute("DROP TABLE IF EXISTS evaluation_participation_staging")
        cursor.execute(
            "CREATE TEMPORARY TABLE evaluation_participation_staging ("
            " cvr integer, offer_id bigint, year smallint) ON COMMIT DROP"
        )
        with cursor.copy(
            "COPY evaluation_participation_staging FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.write(_COPY_HEADER)
            for payload in payloads:
                copy.write(payload)
            copy.write(_COPY_TRAILER)
        cursor.execute(_PARTICIPATION_UPSERT)
        inserted, updated = cursor.fetchone()
    return ImportReport(
        rows=rows,
        inserted=inserted,
        updated=updated,
        unchanged=rows - inserted - updated,
        seconds=time.perf_counter() - started,
    )


_PANEL_UPSERT: Final = """
WITH upserted AS (
    INSERT INTO evaluation_panelrow AS p (
        cvr, year, employees_fte, revenue_dkk, value_added_dkk, export_dkk,
        industry, industry_section, industry_classification, municipality
    )
    SELECT cvr, year, employees_fte, NULLIF(revenue_dkk, %s), NULLIF(value_added_dkk, %s),
           NULLIF(export_dkk, %s), rtrim(industry), industry_section, industry_classification,
           NULLIF(municipality, -1)
    FROM evaluation_panel_staging
    -- Rows in index order touch each index page once instead of at random.
    ORDER BY cvr, year
    ON CONFLICT (cvr, year) DO UPDATE SET
        employees_fte = EXCLUDED.employees_fte,
        revenue_dkk = EXCLUDED.revenue_dkk,
        value_added_dkk = EXCLUDED.value_added_dkk,
        export_dkk = EXCLUDED.export_dkk,
        industry = EXCLUDED.industry,
        industry_section = EXCLUDED.industry_section,
        industry_classification = EXCLUDED.industry_classification,
        municipality = EXCLUDED.municipality
    -- Re-importing the same file rewrites nothing.
    WHERE (p.employees_fte, p.revenue_dkk, p.value_added_dkk, p.export_dkk, p.industry,
           p.industry_section, p.industry_classification, p.municipality)
          IS DISTINCT FROM
          (EXCLUDED.employees_fte, EXCLUDED.revenue_dkk, EXCLUDED.value_added_dkk,
           EXCLUDED.export_dkk, EXCLUDED.industry, EXCLUDED.industry_section,
           EXCLUDED.industry_classification, EXCLUDED.municipality)
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM upserted
"""

# An imported row wins over the mark a CRM referral left, so the next sync keeps it.
_PARTICIPATION_UPSERT: Final = """
WITH upserted AS (
    INSERT INTO evaluation_participation AS p (cvr, offer_id, year, source)
    SELECT cvr, offer_id, year, 'import' FROM evaluation_participation_staging
    ON CONFLICT (cvr, offer_id, year) DO UPDATE SET source = 'import'
    WHERE p.source <> 'import'
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM upserted
"""


# --- reading --------------------------------------------------------------------------------


def _open(source: Path | str | IO[bytes], stack: ExitStack) -> IO[bytes]:
    if isinstance(source, (str, Path)):
        try:
            return stack.enter_context(open(source, "rb"))
        except OSError as exc:
            raise ImportRejected(
                [], 0, message=_("Filen kan ikke åbnes: %(error)s") % {"error": exc.strerror}
            ) from exc
    return source


def _check_header(data: IO[bytes], expected: tuple[str, ...]) -> bytes:
    """Read the first line, insist on exactly the expected columns and return the delimiter.

    Commas, or semicolons as spreadsheets with a Danish locale write them: the header decides,
    since only one of the two splits it into the expected columns.
    """
    wanted = ",".join(expected)
    first = data.readline()
    if not first.strip():
        message = _("Filen er tom. Første linje skal være kolonnerne %(columns)s.") % {
            "columns": wanted
        }
        raise ImportRejected([RowError(1, "", message)], 1, message=message)
    try:
        # Spreadsheet programs put a byte-order mark before the header.
        text = first.decode("utf-8-sig")
        header = next(csv.reader([text]))
        by_semicolon = next(csv.reader([text], delimiter=";"))
    except (csv.Error, UnicodeDecodeError) as exc:
        message = _("Første linje kan ikke læses (%(error)s). Forventede kolonnerne %(columns)s.")
        message %= {"error": exc, "columns": wanted}
        raise ImportRejected([RowError(1, "", message)], 1, message=message) from None
    found = [name.strip().lower() for name in header]
    if found == list(expected):
        return b","
    if [name.strip().lower() for name in by_semicolon] == list(expected):
        return b";"
    missing = [name for name in expected if name not in found]
    unexpected = [name for name in found if name not in expected]
    parts = [
        _("Forkerte kolonner i første linje. Forventede præcis: %(columns)s.") % {"columns": wanted}
    ]
    if missing:
        parts.append(_("Mangler: %(names)s.") % {"names": ", ".join(missing)})
    if unexpected:
        parts.append(_("Ukendte: %(names)s.") % {"names": ", ".join(unexpected)})
    if not missing and not unexpected:
        parts.append(
            _("Kolonnerne står i en anden rækkefølge: %(found)s.") % {"found": ",".join(found)}
        )
    if len(header) == 1 and ";" in header[0]:
        parts.append(
            _("Filen ser ud til at bruge semikolon som skilletegn, men kolonnerne passer ikke.")
        )
    message = " ".join(parts)
    raise ImportRejected([RowError(1, "", message)], 1, message=message)


def _chunks(
    data: IO[bytes], width: int, errors: _Errors, delimiter: bytes = b","
) -> Iterator[tuple[IntArray, list[BytesArray]]]:
    """The rows after the header in blocks, as byte-string columns with each row's line number.

    Plain rows (no quotes) are split in C with one ``bytes.split`` per block; a block with
    quotes, blank lines or rows of the wrong width goes through the csv module row by row.
    """
    line = 2
    pending = b""
    finished = False
    while True:
        if not finished:
            read = data.read(CHUNK_BYTES)
            finished = not read
            pending += read
        if not pending:
            return
        if finished:
            block, pending = pending, b""
            if not block.endswith(b"\n"):
                block += b"\n"
        else:
            cut = pending.rfind(b"\n") + 1
            # Read on until the block ends with a whole line outside any quoted field.
            if cut == 0 or pending.count(b'"', 0, cut) % 2:
                continue
            block, pending = pending[:cut], pending[cut:]
        try:
            block.decode("utf-8")
        except UnicodeDecodeError as exc:
            errors.add(line + block.count(b"\n", 0, exc.start), "", _("teksten er ikke UTF-8"))
            return
        block = block.replace(b"\r\n", b"\n")
        count = block.count(b"\n")
        columns = _split_plain(block, count, width, delimiter)
        if columns is not None:
            yield np.arange(line, line + count, dtype=np.int64), columns
        else:
            found = _split_csv(block, line, width, errors, delimiter)
            if found is None:
                return
            if len(found[0]):
                yield found
        line += count


def _split_plain(block: bytes, count: int, width: int, delimiter: bytes) -> list[BytesArray] | None:
    if b'"' in block:
        return None
    fields = block.replace(b"\n", delimiter).split(delimiter)
    # The block ends with a newline, so the split leaves one empty field at the end.
    if len(fields) != count * width + 1:
        return None
    table = np.array(fields[:-1], dtype=np.bytes_).reshape(count, width)
    return [np.ascontiguousarray(table[:, i]) for i in range(width)]


def _split_csv(
    block: bytes, first_line: int, width: int, errors: _Errors, delimiter: bytes
) -> tuple[IntArray, list[BytesArray]] | None:
    """The careful path: quoted fields, blank lines, rows of the wrong width."""
    reader = csv.reader(
        io.StringIO(block.decode("utf-8"), newline=""),
        delimiter=delimiter.decode("ascii"),
        strict=True,
    )
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for row in reader:
            end = first_line + reader.line_num - 1
            if len(row) == width:
                rows.append(row)
                lines.append(end)
            elif row:  # a blank line is skipped
                errors.add(
                    end,
                    "",
                    _("forventede %(expected)s kolonner, fandt %(found)s")
                    % {"expected": width, "found": len(row)},
                )
    except csv.Error as exc:
        errors.add(
            first_line + reader.line_num - 1, "", _("ugyldig CSV (%(error)s)") % {"error": exc}
        )
        return None
    if not rows:
        return np.zeros(0, dtype=np.int64), [np.zeros(0, dtype="S1") for _ in range(width)]
    columns = [
        np.strings.encode(np.array(column, dtype=np.str_), "utf-8")
        for column in zip(*rows, strict=True)
    ]
    return np.array(lines, dtype=np.int64), columns


# --- validation -----------------------------------------------------------------------------


class _Errors:
    """Every error is counted; each kind keeps its first rows as examples (``core.errorgroups``)."""

    def __init__(self) -> None:
        self.groups: ErrorGroups[RowError] = ErrorGroups()

    def __bool__(self) -> bool:
        return bool(self.groups)

    @property
    def total(self) -> int:
        return self.groups.total

    def add(self, line: int, column: str, message: str) -> None:
        self.groups.add(column, kind_of(message), RowError(int(line), column, message))

    def add_kind(self, column: str, kind: str, examples: list[RowError], count: int) -> None:
        self.groups.add_many(column, kind, examples, count)

    def wants(self, column: str, kind: str) -> int:
        return self.groups.wants_example(column, kind)

    def rejection(self) -> ImportRejected:
        return ImportRejected(
            self.groups.shown(_line),
            self.total,
            groups=self.groups.ordered(_line),
        )


def _line(error: RowError) -> int:
    return error.line


class _ChunkErrors:
    """One chunk's checks: counts each kind of error, formats a message only for its examples."""

    def __init__(self, lines: IntArray, columns: tuple[str, ...], found: _Errors) -> None:
        self.lines = lines
        self.found = found

    def where(
        self, bad: BoolArray, column: str, values: BytesArray, message: Callable[[str], str]
    ) -> None:
        rows = np.flatnonzero(bad)
        if not len(rows):
            return
        # The message without its value is the kind: one check of one column.
        kind = kind_of(message(""))
        examples = []
        for row in rows[: self.found.wants(column, kind)]:
            value = bytes(values[row]).decode("utf-8", errors="replace").strip()
            examples.append(RowError(int(self.lines[row]), column, message(value)))
        self.found.add_kind(column, kind, examples, len(rows))


def _unsigned(text: BytesArray) -> tuple[BytesArray, BoolArray]:
    signed = np.strings.startswith(text, b"-") | np.strings.startswith(text, b"+")
    return np.where(signed, np.strings.slice(text, 1, None), text), signed


def _integers(raw: BytesArray) -> tuple[IntArray, BoolArray, BoolArray]:
    """Whole numbers with an optional sign: values (0 where not valid), valid, empty."""
    text = np.strings.strip(raw)
    empty = text == b""
    digits, _signed = _unsigned(text)
    length = np.strings.str_len(digits)
    valid = np.strings.isdigit(digits) & (length > 0) & (length <= _LONGEST_INTEGER)
    return np.where(valid, text, b"0").astype(np.int64), valid, empty


@dataclass(slots=True)
class _Numbers:
    """One column read as numbers (docs/interfaces.md, "Numbers in register files").

    Whole numbers, or decimals with one decimal separator, point or comma, digits on both
    sides, no thousands separators and no exponent. A value with one to three digits, a
    separator and exactly three digits (``1.250``, ``250,000``) is *ambiguous*: spreadsheets
    write thousands separators that way, so it is refused rather than guessed.
    """

    values: FloatArray
    whole: BoolArray  # valid and written without decimals
    decimal: BoolArray  # valid and written with decimals
    ambiguous: BoolArray
    empty: BoolArray

    @property
    def valid(self) -> BoolArray:
        return self.whole | self.decimal


def _numbers(raw: BytesArray) -> _Numbers:
    text = np.strings.strip(raw)
    empty = text == b""
    unsigned, _signed = _unsigned(text)
    length = np.strings.str_len(unsigned)
    whole = np.strings.isdigit(unsigned) & (length > 0) & (length <= _LONGEST_INTEGER)
    point = np.strings.replace(unsigned, b",", b".")
    separators = np.strings.count(unsigned, b".") + np.strings.count(unsigned, b",")
    position = np.strings.find(point, b".")
    digits = np.strings.replace(point, b".", b"", 1)
    decimal = (
        (separators == 1)
        & np.strings.isdigit(digits)
        & (position > 0)
        & (position < length - 1)
        & (position <= _LONGEST_DECIMAL)
    )
    ambiguous = decimal & (position <= 3) & (length - position - 1 == 3)
    decimal &= ~ambiguous
    values = np.where(whole | decimal, np.strings.replace(text, b",", b"."), b"0").astype(
        np.float64
    )
    return _Numbers(values, whole, decimal, ambiguous, empty)


def _decimals(raw: BytesArray) -> tuple[FloatArray, BoolArray, BoolArray, BoolArray]:
    """Decimal numbers (12.5 or 12,5): values, valid, empty, ambiguous."""
    numbers = _numbers(raw)
    valid = numbers.valid & np.isfinite(numbers.values)
    return numbers.values, valid, numbers.empty, numbers.ambiguous


def _cvr_column(raw: BytesArray, errors: _ChunkErrors) -> tuple[IntArray, BoolArray]:
    text = np.strings.strip(raw)
    shaped = (np.strings.str_len(text) == 8) & np.strings.isdigit(text)
    numbers = np.where(shaped, text, b"0").astype(np.int64)
    valid = shaped & valid_cvr_numbers(numbers)
    errors.where(
        ~valid,
        "cvr",
        raw,
        lambda value: (
            _("ugyldigt CVR-nummer “%(value)s” (8 cifre, og kontrolcifferet skal passe)")
            % {"value": value}
        ),
    )
    return numbers, valid


def _year_column(raw: BytesArray, errors: _ChunkErrors) -> tuple[IntArray, BoolArray]:
    last_year = timezone.localdate().year
    year, numeric, _empty = _integers(raw)
    valid = numeric & (year >= FIRST_YEAR) & (year <= last_year)
    errors.where(
        ~valid,
        "year",
        raw,
        lambda value: (
            _("år skal være et helt tal fra %(first)s til %(last)s, ikke “%(value)s”")
            % {"first": FIRST_YEAR, "last": last_year, "value": value}
        ),
    )
    return year, valid


def _amount_column(
    raw: BytesArray, column: str, errors: _ChunkErrors, *, signed: bool
) -> tuple[IntArray, int]:
    """Kroner or empty; empty becomes the column's NULL stand-in. Decimals are rounded to whole
    kroner (half away from zero); returns the values and how many were written with decimals."""
    numbers = _numbers(raw)
    exact = np.where(numbers.whole, np.strings.strip(raw), b"0").astype(np.int64)
    rounded = (np.sign(numbers.values) * np.floor(np.abs(numbers.values) + 0.5)).astype(np.int64)
    values = np.where(numbers.decimal, rounded, exact)
    number = numbers.valid
    errors.where(
        numbers.ambiguous,
        column,
        raw,
        lambda value: (
            _(
                "beløbet “%(value)s” er tvetydigt: tre cifre efter punktum eller komma kan være "
                "en tusindtalsseparator; skriv beløbet uden separator (fx 1250) eller med flere "
                "eller færre decimaler"
            )
            % {"value": value}
        ),
    )
    errors.where(
        ~number & ~numbers.empty & ~numbers.ambiguous,
        column,
        raw,
        lambda value: (
            _(
                "beløbet skal være et tal i kroner, fx 1893252 eller 1893252.0, uden "
                "tusindtalsseparator (eller tomt), ikke “%(value)s”"
            )
            % {"value": value}
        ),
    )
    if not signed:
        errors.where(
            number & (values < 0),
            column,
            raw,
            lambda value: _("beløbet kan ikke være negativt (%(value)s)") % {"value": value},
        )
    stored = np.where(number, values, _NULL_SIGNED if signed else _NULL_NON_NEGATIVE)
    return stored, int(np.count_nonzero(numbers.decimal))


@dataclass(slots=True)
class _PanelChunk:
    cvr: IntArray
    year: IntArray
    employees: FloatArray
    revenue: IntArray
    value_added: IntArray
    export: IntArray
    industry: BytesArray
    section: BytesArray
    classification: BytesArray
    municipality: IntArray
    key_ok: BoolArray
    rounded: int

    def copy_payload(self) -> bytes:
        return _copy_rows(
            [
                self.cvr.astype(">i4"),
                self.year.astype(">i2"),
                self.employees.astype(">f8"),
                self.revenue.astype(">i8"),
                self.value_added.astype(">i8"),
                self.export.astype(">i8"),
                self.industry,
                self.section,
                self.classification,
                self.municipality.astype(">i2"),
            ]
        )


def _validate_panel(
    lines: IntArray,
    columns: list[BytesArray],
    municipalities: IntArray,
    found: _Errors,
) -> _PanelChunk:
    errors = _ChunkErrors(lines, PANEL_COLUMNS, found)
    raw = dict(zip(PANEL_COLUMNS, columns, strict=True))
    cvr, cvr_ok = _cvr_column(raw["cvr"], errors)
    year, year_ok = _year_column(raw["year"], errors)

    employees, fte_number, _empty, fte_ambiguous = _decimals(raw["employees_fte"])
    errors.where(
        fte_ambiguous,
        "employees_fte",
        raw["employees_fte"],
        lambda value: (
            _(
                "antallet “%(value)s” er tvetydigt: tre cifre efter punktum eller komma kan være "
                "en tusindtalsseparator"
            )
            % {"value": value}
        ),
    )
    errors.where(
        ~fte_number & ~fte_ambiguous,
        "employees_fte",
        raw["employees_fte"],
        lambda value: (
            _(
                "fuldtidsansatte skal være et tal med punktum eller komma som decimaltegn, "
                "ikke “%(value)s”"
            )
            % {"value": value}
        ),
    )
    errors.where(
        fte_number & (employees < 0),
        "employees_fte",
        raw["employees_fte"],
        lambda value: _("negativt antal fuldtidsansatte (%(value)s)") % {"value": value},
    )
    revenue, revenue_rounded = _amount_column(
        raw["revenue_dkk"], "revenue_dkk", errors, signed=False
    )
    # Value added is negative when inputs cost more than the sales bring in.
    value_added, value_added_rounded = _amount_column(
        raw["value_added_dkk"], "value_added_dkk", errors, signed=True
    )
    export, export_rounded = _amount_column(raw["export_dkk"], "export_dkk", errors, signed=False)

    code, section, classification, industry_ok = _industry_column(raw["industry"], year)
    errors.where(
        ~industry_ok,
        "industry",
        raw["industry"],
        lambda value: (
            _(
                "ukendt branche “%(value)s” (et hovedafsnit som C eller en DB07/DB25-kode på 2–6 "
                "cifre; valgfrit med præfikset db07: eller db25:)"
            )
            % {"value": value}
        ),
    )

    municipality, municipality_number, municipality_empty = _integers(raw["municipality"])
    known = municipality_number & np.isin(municipality, municipalities)
    errors.where(
        ~known & ~municipality_empty,
        "municipality",
        raw["municipality"],
        lambda value: (
            _("ukendt kommunekode “%(value)s” (tre cifre, fx 101 for København)") % {"value": value}
        ),
    )

    return _PanelChunk(
        cvr=cvr,
        year=year,
        employees=employees,
        revenue=revenue,
        value_added=value_added,
        export=export,
        industry=np.strings.ljust(np.where(industry_ok, code, b""), 6).astype("S6"),
        section=np.where(industry_ok, section, b"A").astype("S1"),
        classification=classification.astype("S4"),
        municipality=np.where(known, municipality, -1),
        key_ok=cvr_ok & year_ok,
        rounded=revenue_rounded + value_added_rounded + export_rounded,
    )


def _industry_column(
    raw: BytesArray, year: IntArray
) -> tuple[BytesArray, BytesArray, BytesArray, BoolArray]:
    """Code without prefix, section letter, classification and validity per row."""
    text = np.strings.upper(np.strings.strip(raw))
    prefixed_07 = np.strings.startswith(text, b"DB07:")
    prefixed_25 = np.strings.startswith(text, b"DB25:")
    code = np.where(prefixed_07 | prefixed_25, np.strings.slice(text, 5, None), text)
    db07, db25 = industries.DB07.encode(), industries.DB25.encode()
    by_year = np.where(year >= industries.DB25_FROM_YEAR, db25, db07)
    classification = np.where(prefixed_07, db07, np.where(prefixed_25, db25, by_year))
    length = np.strings.str_len(code)
    is_letter = (length == 1) & np.strings.isalpha(code)
    is_digits = (length >= 2) & (length <= 6) & np.strings.isdigit(code)
    division = np.where(is_digits, np.strings.slice(code, 0, 2), b"0").astype(np.int64)
    section = np.full(len(code), b"", dtype="S1")
    for name in (industries.DB07, industries.DB25):
        rows = classification == name.encode()
        letters = np.array([letter.encode() for letter in industries.SECTIONS[name]])
        letter_rows = rows & is_letter & np.isin(code, letters)
        section[letter_rows] = code[letter_rows]
        digit_rows = rows & is_digits
        table = np.strings.encode(industries.DIVISION_TO_SECTION[name], "ascii")
        section[digit_rows] = table[division[digit_rows]]
    return code, section, classification, section != b""


def _validate_participations(
    lines: IntArray,
    columns: list[BytesArray],
    offer_ids: dict[str, int],
    found: _Errors,
) -> tuple[IntArray, IntArray, IntArray, BoolArray]:
    errors = _ChunkErrors(lines, PARTICIPATION_COLUMNS, found)
    raw = dict(zip(PARTICIPATION_COLUMNS, columns, strict=True))
    cvr, cvr_ok = _cvr_column(raw["cvr"], errors)
    external_ids, inverse = np.unique(np.strings.strip(raw["offer"]), return_inverse=True)
    ids = np.array(
        [offer_ids.get(bytes(value).decode("utf-8"), -1) for value in external_ids],
        dtype=np.int64,
    )
    offer = ids[inverse.reshape(-1)]
    offer_ok = offer >= 0
    errors.where(
        ~offer_ok,
        "offer",
        raw["offer"],
        lambda value: (
            _("ukendt tilbud “%(value)s” (brug tilbuddets eksterne id)") % {"value": value}
        ),
    )
    year, year_ok = _year_column(raw["year"], errors)
    return cvr, offer, year, cvr_ok & offer_ok & year_ok


def _check_duplicates(
    keys: list[IntArray],
    lines: list[IntArray],
    errors: _Errors,
    *,
    column: str,
    describe: Callable[[int], str],
) -> None:
    """Name every repeated key with the line it first appeared on."""
    if not keys:
        return
    all_keys = np.concatenate(keys)
    all_lines = np.concatenate(lines)
    order = np.argsort(all_keys, kind="stable")
    ordered = all_keys[order]
    repeats = np.flatnonzero(ordered[1:] == ordered[:-1]) + 1
    if not len(repeats):
        return
    # Runs of three or more all point back to the first occurrence.
    starts_run = np.r_[True, ordered[1:] != ordered[:-1]]
    run_start = np.maximum.accumulate(np.where(starts_run, np.arange(len(ordered)), 0))
    # In file order, so the examples are the first repeats.
    repeats = repeats[np.argsort(all_lines[order[repeats]], kind="stable")]
    kind = "duplicate"
    examples = [
        RowError(
            int(all_lines[order[i]]),
            column,
            _("%(what)s står allerede på linje %(line)s")
            % {"what": describe(int(ordered[i])), "line": int(all_lines[order[run_start[i]]])},
        )
        for i in repeats[: errors.wants(column, kind)]
    ]
    errors.add_kind(column, kind, examples, len(repeats))


def _describe_panel_key(key: int) -> str:
    return _("CVR %(cvr)s i %(year)s") % {"cvr": key // 10_000, "year": key % 10_000}


def _describe_participation_key(key: int) -> str:
    return _("Samme virksomhed (CVR %(cvr)s), tilbud og år (%(year)s)") % {
        "cvr": (key // 10_000) % 100_000_000,
        "year": key % 10_000,
    }


# --- binary COPY ----------------------------------------------------------------------------


def _copy_rows(columns: list[npt.NDArray[Any]]) -> bytes:
    """Rows in PostgreSQL's binary COPY format, built by numpy as one fixed-width record array.

    Each row is a 16-bit field count, then per field a 32-bit length and the big-endian value;
    every column here has a fixed width (text is padded), so the layout is a numpy dtype.
    """
    fields: list[tuple[str, Any]] = [("count", ">i2")]
    for i, column in enumerate(columns):
        fields += [(f"length{i}", ">i4"), (f"value{i}", column.dtype)]
    records = np.empty(len(columns[0]), dtype=np.dtype(fields))
    records["count"] = len(columns)
    for i, column in enumerate(columns):
        records[f"length{i}"] = column.dtype.itemsize
        records[f"value{i}"] = column
    return records.tobytes()


def read_text(data: str) -> IO[bytes]:
    """An in-memory file for :func:`panel_import` / :func:`participations_import`."""
    return io.BytesIO(data.encode("utf-8"))


def report_rejection(rejected: ImportRejected, out: IO[str] | Any) -> None:
    """Each kind of error: its first rows, one per line, then how many more rows had it."""
    if [str(e.message) for e in rejected.errors] == [str(rejected)]:
        return  # a file-level error (wrong header, empty file) is the message itself
    for line in rejected.report_lines():
        out.write(line)
