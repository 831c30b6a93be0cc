from __future__ import annotations

import pytest

from core.csvsafe import safe_cell, safe_record, safe_row


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("https://evil.example","Klik")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_it_quotes_text_a_spreadsheet_would_run_as_a_formula(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Eksportstart", "", " =ikke en formel", "a=b", 5, -3, 2.5, None])
def test_it_leaves_other_text_and_numbers_as_they_are(value):
    assert safe_cell(value) == value


def test_it_quotes_every_cell_of_a_row_and_a_record():
    assert safe_row(["=1", "ok", -1]) == ["'=1", "ok", -1]
    assert safe_record({"name": "@x", "id": "a"}) == {"name": "'@x", "id": "a"}
