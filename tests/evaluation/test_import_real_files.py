"""import_panel and import_participations with files as spreadsheets and pandas write them."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from stdnum.dk import cvr as stdnum_cvr

from evaluation.exceptions import ImportRejected
from evaluation.importers import panel_import, participations_import, read_text
from evaluation.models import PanelRow, Participation
from tests.offers.factories import make_offer

HEADER = "cvr,year,employees_fte,revenue_dkk,value_added_dkk,export_dkk,industry,municipality"


def valid_cvrs(count: int) -> list[int]:
    found: list[int] = []
    number = 10_000_000
    while len(found) < count:
        if stdnum_cvr.is_valid(str(number)):
            found.append(number)
        number += 1
    return found


def rejection(source: str) -> ImportRejected:
    with pytest.raises(ImportRejected) as caught:
        panel_import(source=read_text(source))
    return caught.value


@pytest.mark.django_db
class TestNumbersAsSpreadsheetsWriteThem:
    def test_pandas_float_columns_are_rounded_to_whole_kroner_and_counted(self):
        # What DataFrame.to_csv writes for a column with a missing value: floats everywhere.
        source = (
            f"{HEADER}\n"
            "13585628,2020,12.0,1893252.0,310000.0,,C,751\n"
            "10000068,2020,3.5,480000.4,-1500.5,2000.5,M,101\n"
        )

        report = panel_import(source=read_text(source))

        rows = {row.cvr: row for row in PanelRow.objects.all()}
        assert rows[13585628].revenue_dkk == 1_893_252
        assert rows[13585628].value_added_dkk == 310_000
        assert rows[13585628].export_dkk is None
        # Half a krone rounds away from zero, whatever the sign.
        assert (rows[10000068].revenue_dkk, rows[10000068].value_added_dkk) == (480_000, -1_501)
        assert rows[10000068].export_dkk == 2_001
        assert report.rounded == 5

    def test_the_command_says_that_amounts_were_rounded(self, tmp_path):
        path = tmp_path / "panel.csv"
        path.write_text(f"{HEADER}\n13585628,2020,12,1893252.0,1,1,C,751\n", encoding="utf-8")
        out = io.StringIO()

        call_command("import_panel", str(path), stdout=out)

        assert "1 beløb var skrevet med decimaler og er gemt afrundet til hele kroner." in (
            out.getvalue()
        )

    def test_a_file_of_whole_kroner_says_nothing_about_rounding(self, tmp_path):
        path = tmp_path / "panel.csv"
        path.write_text(f"{HEADER}\n13585628,2020,12,1893252,1,1,C,751\n", encoding="utf-8")
        out = io.StringIO()

        call_command("import_panel", str(path), stdout=out)

        assert "afrundet" not in out.getvalue()

    def test_a_danish_spreadsheet_with_semicolons_bom_and_decimal_commas_is_read(self):
        source = (
            "\ufeff" + HEADER.replace(",", ";") + "\r\n"
            "13585628;2020;12,5;1893252,75;310000;0;C;751\r\n"
            '"10000068";"2021";"3";"480000,0";"";"0";"M";"101"\r\n'
        )

        report = panel_import(source=read_text(source))

        assert report.rows == 2
        first = PanelRow.objects.get(cvr=13585628)
        assert (first.employees_fte, first.revenue_dkk) == (12.5, 1_893_253)
        assert PanelRow.objects.get(cvr=10000068).revenue_dkk == 480_000

    def test_excel_style_quoting_with_a_decimal_comma_in_a_comma_separated_file(self):
        source = f'{HEADER}\n"13585628","2020","12,5","1893252,0","","0","C","751"\n'

        panel_import(source=read_text(source))

        row = PanelRow.objects.get(cvr=13585628)
        assert (row.employees_fte, row.revenue_dkk) == (12.5, 1_893_252)

    @pytest.mark.parametrize("value", ["1.250", '"250,000"', "-12.500"])
    def test_three_digits_after_one_separator_is_ambiguous_and_refused(self, value):
        error = rejection(f"{HEADER}\n13585628,2020,1,{value},1,1,C,751\n")

        assert str(error.errors[0]).startswith(
            f"Linje 2, kolonne revenue_dkk: beløbet “{value.strip(chr(34))}” er tvetydigt"
        )
        assert not PanelRow.objects.exists()

    @pytest.mark.parametrize(
        ("value", "stored"),
        [("1893252.000", 1_893_252), ("1250.00", 1_250), ("12.5", 13), ("1250,5", 1_251)],
    )
    def test_decimals_that_cannot_be_thousands_separators_are_accepted(self, value, stored):
        panel_import(source=read_text(f'{HEADER}\n13585628,2020,1,"{value}",1,1,C,751\n'))

        assert PanelRow.objects.get().revenue_dkk == stored

    @pytest.mark.parametrize("value", ["1.893.252", "1,893,252.00", "1e6", ".5", "5."])
    def test_thousands_separators_and_exponents_are_refused(self, value):
        error = rejection(f'{HEADER}\n13585628,2020,1,"{value}",1,1,C,751\n')

        assert "uden tusindtalsseparator" in str(error.errors[0])


@pytest.mark.django_db
class TestRepeatedErrorsAreGrouped:
    def test_fifty_thousand_rows_with_one_mistake_fit_on_a_screen(self, tmp_path):
        cvrs = valid_cvrs(50_000)
        rows = [f"{cvr},2020,1,mange,1,1,C,751" for cvr in cvrs]
        rows[100] = f"{cvrs[100]},2020,1,1,1,1,X,751"  # one mistake of another kind
        path = tmp_path / "panel.csv"
        path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
        err = io.StringIO()

        with pytest.raises(CommandError, match=r"Filen har 50\.000 fejl|Filen har 50000 fejl"):
            call_command("import_panel", str(path), stderr=err)

        lines = err.getvalue().splitlines()
        assert lines == [
            "Linje 2, kolonne revenue_dkk: beløbet skal være et tal i kroner, fx 1893252 eller "
            "1893252.0, uden tusindtalsseparator (eller tomt), ikke “mange”",
            "Linje 3, kolonne revenue_dkk: beløbet skal være et tal i kroner, fx 1893252 eller "
            "1893252.0, uden tusindtalsseparator (eller tomt), ikke “mange”",
            "Linje 4, kolonne revenue_dkk: beløbet skal være et tal i kroner, fx 1893252 eller "
            "1893252.0, uden tusindtalsseparator (eller tomt), ikke “mange”",
            "kolonne revenue_dkk: 49.996 rækker mere som linje 2",
            "Linje 102, kolonne industry: ukendt branche “X” (et hovedafsnit som C eller en "
            "DB07/DB25-kode på 2–6 cifre; valgfrit med præfikset db07: eller db25:)",
        ]
        # All or nothing: not one of the 50,000 rows was written.
        assert not PanelRow.objects.exists()

    def test_different_values_of_one_kind_are_one_group(self):
        rows = [
            f"{cvr},2020,1,1,1,1,C,{code}"
            for cvr, code in zip(valid_cvrs(5), range(991, 996), strict=True)
        ]

        error = rejection(HEADER + "\n" + "\n".join(rows) + "\n")

        assert error.total == 5
        assert error.report_lines()[-1] == "kolonne municipality: 2 rækker mere som linje 2"
        assert "ukendt kommunekode “993”" in error.report_lines()[2]

    def test_rows_of_the_wrong_width_are_grouped_too(self):
        rows = [f"{cvr},2020,1,1,1,C,751" for cvr in valid_cvrs(6)]

        error = rejection(HEADER + "\n" + "\n".join(rows) + "\n")

        assert error.report_lines()[3] == "3 rækker mere som linje 2"

    def test_duplicates_in_a_participations_file_are_grouped(self):
        make_offer(external_id="eksport")
        cvrs = valid_cvrs(2)
        rows = [f"{cvrs[0]},eksport,2020"] * 6 + [f"{cvrs[1]},ukendt,2020"]

        with pytest.raises(ImportRejected) as caught:
            participations_import(source=read_text("cvr,offer,year\n" + "\n".join(rows) + "\n"))

        lines = caught.value.report_lines()
        assert lines[0].startswith("Linje 3, kolonne year: Samme virksomhed")
        assert "kolonne year: 2 rækker mere som linje 3" in lines
        assert any(line.startswith("Linje 8, kolonne offer: ukendt tilbud") for line in lines)
        assert not Participation.objects.exists()
