"""``manage.py import_panel FILE.csv``: load company register rows (upsert, all-or-nothing)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluation.exceptions import ImportRejected
from evaluation.importers import PANEL_COLUMNS, panel_import, report_rejection


class Command(BaseCommand):
    help = (
        "Indlæs registerdata (én række pr. virksomhed og år) fra en CSV-fil med kolonnerne "
        + ",".join(PANEL_COLUMNS)
        + ". Opdaterer eksisterende rækker; en fil med fejl indlæses slet ikke."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV-fil (UTF-8, komma som skilletegn)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = panel_import(source=options["file"])
        except ImportRejected as rejected:
            report_rejection(rejected, self.stderr)
            raise CommandError(str(rejected)) from None
        self.stdout.write(
            f"{report.rows} rækker på {report.seconds:.1f} s ({report.rows_per_second:,.0f} "
            f"rækker/s): {report.inserted} nye, {report.updated} opdaterede, "
            f"{report.unchanged} uændrede."
        )
