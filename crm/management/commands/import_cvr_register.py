"""``manage.py import_cvr_register FILE.csv``: replace the local copy of the CVR register."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.cvr_import import COLUMNS, CvrImportRejected, cvr_register_import


class Command(BaseCommand):
    help = (
        "Indlæs CVR-registerets åbne data (én række pr. virksomhed) fra en CSV-fil med kolonnerne "
        + ",".join(COLUMNS)
        + ". Filen erstatter hele den lokale kopi; en fil med fejl indlæses slet ikke."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", help="CSV-fil (UTF-8 eller Windows-1252; komma eller semikolon)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = cvr_register_import(source=options["file"])
        except CvrImportRejected as rejected:
            for error in rejected.errors:
                self.stderr.write(str(error))
            raise CommandError(rejected.message) from None
        except OSError as error:
            raise CommandError(f"{options['file']}: {error.strerror}") from None
        self.stdout.write(
            f"{report.rows} virksomheder indlæst på {report.seconds:.1f} s "
            f"(erstattede {report.replaced})."
        )
