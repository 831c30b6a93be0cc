"""``manage.py import_panel FILE.csv``: load company register rows (upsert, all-or-nothing)."""

from __future__ import annotations

from evaluation.importers import PANEL_COLUMNS, panel_import
from evaluation.management.csv_import import CsvImportCommand


class Command(CsvImportCommand):
    help = (
        "Indlæs registerdata (én række pr. virksomhed og år) fra en CSV-fil med kolonnerne "
        + ",".join(PANEL_COLUMNS)
        + ". Opdaterer eksisterende rækker; en fil med fejl indlæses slet ikke."
    )
    importer = staticmethod(panel_import)
