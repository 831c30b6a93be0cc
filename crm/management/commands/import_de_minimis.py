"""``manage.py import_de_minimis FILE.csv``: the register extract of companies' de minimis aid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.services import CrmError, de_minimis_import
from crm.services.state_aid import DE_MINIMIS_COLUMNS


class Command(BaseCommand):
    help = (
        "Erstat registerudtrækket af de minimis-støtte med en CSV-fil med kolonnerne "
        + ",".join(DE_MINIMIS_COLUMNS)
        + " (granted_on som ÅÅÅÅ-MM-DD, amount_dkk i hele kroner). En fil med fejl indlæses slet "
        "ikke, og fejlene nævner linjen."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            with path.open("rb") as source:
                count = de_minimis_import(source=source)
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror}") from None
        except CrmError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"{count} linjer indlæst.")
