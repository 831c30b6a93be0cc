"""``manage.py import_participations FILE.csv``: which companies took part in which offer."""

from __future__ import annotations

from evaluation.importers import PARTICIPATION_COLUMNS, participations_import
from evaluation.management.csv_import import CsvImportCommand


class Command(CsvImportCommand):
    help = (
        "Indlæs deltagelser fra en CSV-fil med kolonnerne "
        + ",".join(PARTICIPATION_COLUMNS)
        + " (offer er tilbuddets eksterne id). En fil med fejl indlæses slet ikke."
    )
    importer = staticmethod(participations_import)
