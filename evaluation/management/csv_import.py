"""The one shape of the register import commands: a CSV file in, a report or the errors out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluation.exceptions import ImportRejected
from evaluation.importers import ImportReport, report_rejection


class CsvImportCommand(BaseCommand):
    """Subclasses name the importer; a rejected file is reported line by line, nothing loaded."""

    importer: Callable[..., ImportReport]

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV-fil (UTF-8, komma som skilletegn)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = self.importer(source=options["file"])
        except ImportRejected as rejected:
            report_rejection(rejected, self.stderr)
            raise CommandError(str(rejected)) from None
        self.stdout.write(
            f"{report.rows} rækker på {report.seconds:.1f} s ({report.rows_per_second:,.0f} "
            f"rækker/s): {report.inserted} nye, {report.updated} opdaterede, "
            f"{report.unchanged} uændrede."
        )
        if report.rounded:
            self.stdout.write(
                f"{report.rounded} beløb var skrevet med decimaler og er gemt afrundet til hele "
                "kroner."
            )
