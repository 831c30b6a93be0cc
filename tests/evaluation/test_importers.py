"""import_panel and import_participations: upsert, all-or-nothing, every bad row named."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from evaluation import importers
from evaluation.exceptions import ImportRejected
from evaluation.importers import panel_import, participations_import, read_text
from evaluation.models import PanelRow, Participation
from tests.evaluation.factories import CVRS, make_participation
from tests.offers.factories import make_offer

HEADER = "cvr,year,employees_fte,revenue_dkk,value_added_dkk,export_dkk,industry,municipality"
GOOD = f"""{HEADER}
13585628,2020,12.5,9500000,3100000,1200000,C,751
13585628,2021,14,10200000,-250000,,620100,751
10000068,2021,0,480000,,0,M,
10000068,2025,1.5,700000,300000,0,J,101
"""


def rejected_errors(source: str, *, participations: bool = False) -> list[str]:
    function = participations_import if participations else panel_import
    with pytest.raises(ImportRejected) as caught:
        function(source=read_text(source))
    return [str(error) for error in caught.value.errors]


@pytest.mark.django_db
class TestPanelImport:
    def test_it_stores_every_row_with_its_industry_section_and_classification(self):
        report = panel_import(source=read_text(GOOD))

        assert (report.rows, report.inserted, report.updated) == (4, 4, 0)
        rows = {(r.cvr, r.year): r for r in PanelRow.objects.all()}
        first = rows[(13585628, 2020)]
        assert (first.employees_fte, first.revenue_dkk, first.export_dkk) == (
            12.5,
            9_500_000,
            1_200_000,
        )
        assert (first.industry_section, first.industry_classification) == ("C", "db07")
        # A six-digit code is mapped to its section; value added may be negative; empty is NULL.
        second = rows[(13585628, 2021)]
        assert (second.industry, second.industry_section) == ("620100", "J")
        assert (second.value_added_dkk, second.export_dkk) == (-250_000, None)
        assert rows[(10000068, 2021)].municipality is None
        # From 2025 the register codes industries in DB25.
        assert rows[(10000068, 2025)].industry_classification == "db25"

    def test_a_second_import_updates_changed_rows_and_leaves_the_rest(self):
        panel_import(source=read_text(GOOD))
        changed = GOOD.replace("13585628,2020,12.5", "13585628,2020,13.0") + (
            "10000122,2021,3,900000,200000,0,F,851\n"
        )

        report = panel_import(source=read_text(changed))

        assert (report.inserted, report.updated, report.unchanged) == (1, 1, 3)
        assert PanelRow.objects.count() == 5
        assert PanelRow.objects.get(cvr=13585628, year=2020).employees_fte == 13.0

    def test_one_bad_row_at_the_end_writes_nothing_not_even_the_good_rows(self):
        panel_import(source=read_text(GOOD))
        bad = GOOD.replace("13585628,2020,12.5", "13585628,2020,99") + (
            "10000122,2021,-3,900000,200000,0,F,851\n"
        )

        errors = rejected_errors(bad)

        assert errors == ["Linje 6, kolonne employees_fte: negativt antal fuldtidsansatte (-3)"]
        assert PanelRow.objects.count() == 4
        assert PanelRow.objects.get(cvr=13585628, year=2020).employees_fte == 12.5

    @pytest.mark.parametrize(
        ("row", "expected"),
        [
            (
                "13585627,2020,1,1,1,1,C,751",
                "Linje 2, kolonne cvr: ugyldigt CVR-nummer “13585627” (8 cifre, og "
                "kontrolcifferet skal passe)",
            ),
            (
                "1358562,2020,1,1,1,1,C,751",
                "Linje 2, kolonne cvr: ugyldigt CVR-nummer “1358562” (8 cifre, og "
                "kontrolcifferet skal passe)",
            ),
            (
                "13585628,1850,1,1,1,1,C,751",
                "Linje 2, kolonne year: år skal være et helt tal fra 1980 til",
            ),
            ("13585628,2999,1,1,1,1,C,751", "Linje 2, kolonne year: år skal være"),
            ("13585628,20x0,1,1,1,1,C,751", "Linje 2, kolonne year: år skal være"),
            (
                "13585628,2020,-1,1,1,1,C,751",
                "Linje 2, kolonne employees_fte: negativt antal fuldtidsansatte (-1)",
            ),
            (
                "13585628,2020,12;5,1,1,1,C,751",
                "Linje 2, kolonne employees_fte: fuldtidsansatte skal være et tal med punktum",
            ),
            ("13585628,2020,nan,1,1,1,C,751", "Linje 2, kolonne employees_fte: fuldtidsansatte"),
            (
                "13585628,2020,1,mange,1,1,C,751",
                "Linje 2, kolonne revenue_dkk: beløbet skal være et tal i kroner, fx 1893252 "
                "eller 1893252.0, uden tusindtalsseparator (eller tomt), ikke “mange”",
            ),
            (
                "13585628,2020,1,1,2.500,1,C,751",
                "Linje 2, kolonne value_added_dkk: beløbet “2.500” er tvetydigt",
            ),
            (
                "13585628,2020,1,1,1,-7,C,751",
                "Linje 2, kolonne export_dkk: beløbet kan ikke være negativt (-7)",
            ),
            ("13585628,2020,1,1,1,1,X,751", "Linje 2, kolonne industry: ukendt branche “X”"),
            ("13585628,2020,1,1,1,1,04,751", "Linje 2, kolonne industry: ukendt branche “04”"),
            # V exists only in DB25.
            ("13585628,2020,1,1,1,1,V,751", "Linje 2, kolonne industry: ukendt branche “V”"),
            (
                "13585628,2020,1,1,1,1,C,999",
                "Linje 2, kolonne municipality: ukendt kommunekode “999”",
            ),
            ("13585628,2020,1,1,1,C,751", "Linje 2: forventede 8 kolonner, fandt 7"),
        ],
    )
    def test_it_names_the_line_and_column_of_each_kind_of_bad_value(self, row, expected):
        errors = rejected_errors(f"{HEADER}\n{row}\n")

        assert len(errors) == 1
        assert errors[0].startswith(expected)
        assert not PanelRow.objects.exists()

    def test_it_names_both_lines_of_a_company_year_that_appears_twice(self):
        source = GOOD + "13585628,2021,14,10200000,1,,C,751\n"

        errors = rejected_errors(source)

        assert errors == ["Linje 6, kolonne year: CVR 13585628 i 2021 står allerede på linje 3"]

    def test_it_reports_every_bad_row_not_only_the_first(self):
        rows = [f"{cvr},2020,-1,1,1,1,C,751" for cvr in CVRS[:3]]

        errors = rejected_errors(HEADER + "\n" + "\n".join(rows) + "\n")

        assert [error.split(",")[0] for error in errors] == ["Linje 2", "Linje 3", "Linje 4"]

    @pytest.mark.parametrize(
        ("header", "expected"),
        [
            (
                "cvr,year,fte,revenue_dkk,value_added_dkk,export_dkk,industry,municipality",
                "Mangler: employees_fte. Ukendte: fte.",
            ),
            ("cvr,year", "Mangler: employees_fte, revenue_dkk"),
            ("13585628,2020,12.5,9500000,3100000,1200000,C,751", "Mangler: cvr, year"),
            ("cvr;year;employees_fte", "semikolon som skilletegn, men kolonnerne passer ikke"),
            (
                "year,cvr,employees_fte,revenue_dkk,value_added_dkk,export_dkk,industry,municipality",
                "anden rækkefølge",
            ),
        ],
    )
    def test_a_wrong_header_names_the_expected_columns(self, header, expected):
        errors = rejected_errors(f"{header}\n13585628,2020,12.5,1,1,1,C,751\n")

        assert len(errors) == 1
        assert errors[0].startswith(
            "Linje 1: Forkerte kolonner i første linje. Forventede præcis: cvr,year,"
            "employees_fte,revenue_dkk,value_added_dkk,export_dkk,industry,municipality."
        )
        assert expected in errors[0]

    def test_an_empty_file_says_which_columns_it_needs(self):
        assert rejected_errors("") == [
            "Linje 1: Filen er tom. Første linje skal være kolonnerne cvr,year,employees_fte,"
            "revenue_dkk,value_added_dkk,export_dkk,industry,municipality."
        ]

    def test_quoted_fields_blank_lines_and_windows_line_ends_are_read(self):
        source = (
            "\ufeff" + HEADER + "\r\n"
            '"13585628","2020","12.5","9500000","","0","C","751"\r\n'
            "\r\n"
            "10000068,2021,0,480000,,0,M,101\r\n"
        )

        report = panel_import(source=read_text(source))

        assert report.rows == 2
        assert PanelRow.objects.get(cvr=13585628).revenue_dkk == 9_500_000

    @pytest.mark.parametrize("block", [16, 37, 64, 4096])
    def test_line_numbers_stay_right_across_blocks_and_after_a_quoted_field(
        self, monkeypatch, block
    ):
        # Small blocks so the file spans many of them, one with a multi-line quoted field.
        monkeypatch.setattr(importers, "CHUNK_BYTES", block)
        rows = [f"{cvr},2020,1,1,1,1,C,751" for cvr in CVRS] + [
            f"{cvr},2021,1,1,1,1,C,751" for cvr in CVRS
        ]
        rows[3] = '10000149,2020,1,1,1,1,"C\nD",751'  # lines 5-6
        rows[9] = "10000149,2021,-2,1,1,1,C,751"  # line 12

        errors = rejected_errors(HEADER + "\n" + "\n".join(rows) + "\n")

        assert errors == [
            "Linje 6, kolonne industry: ukendt branche “C\nD” (et hovedafsnit som C eller en "
            "DB07/DB25-kode på 2–6 cifre; valgfrit med præfikset db07: eller db25:)",
            "Linje 12, kolonne employees_fte: negativt antal fuldtidsansatte (-2)",
        ]

    def test_a_file_that_is_not_utf8_is_rejected_with_its_line(self):
        source = (
            HEADER + "\n13585628,2020,1,1,1,1,C,751\n"
        ).encode() + b"10000068,2020,1,1,1,1,\xe6,751\n"

        with pytest.raises(ImportRejected) as caught:
            panel_import(source=io.BytesIO(source))

        assert [str(e) for e in caught.value.errors] == ["Linje 3: teksten er ikke UTF-8"]

    def test_the_command_prints_rows_per_second(self, tmp_path):
        path = tmp_path / "panel.csv"
        path.write_text(GOOD, encoding="utf-8")
        out = io.StringIO()

        call_command("import_panel", str(path), stdout=out)

        assert "4 rækker på" in out.getvalue()
        assert "rækker/s): 4 nye, 0 opdaterede, 0 uændrede." in out.getvalue()

    def test_the_command_lists_the_errors_and_fails(self, tmp_path):
        path = tmp_path / "panel.csv"
        path.write_text(GOOD + "13585627,2020,1,1,1,1,C,751\n", encoding="utf-8")
        err = io.StringIO()

        with pytest.raises(CommandError, match=r"Filen har 1 fejl; intet er indlæst\."):
            call_command("import_panel", str(path), stderr=err)

        assert "Linje 6, kolonne cvr: ugyldigt CVR-nummer “13585627”" in err.getvalue()
        assert not PanelRow.objects.exists()

    def test_a_missing_file_is_a_clear_error(self, tmp_path):
        with pytest.raises(CommandError, match="Filen kan ikke åbnes"):
            call_command("import_panel", str(tmp_path / "findes-ikke.csv"))


@pytest.mark.django_db
class TestParticipationsImport:
    def test_it_upserts_participations_by_company_offer_and_year(self):
        offer = make_offer(external_id="eksport-kom-godt-i-gang")
        make_participation(
            cvr=13585628, offer=offer, year=2020, source=Participation.Source.CRM_REFERRAL
        )
        source = (
            "cvr,offer,year\n13585628,eksport-kom-godt-i-gang,2020\n"
            "10000068,eksport-kom-godt-i-gang,2021\n"
        )

        report = participations_import(source=read_text(source))

        assert (report.inserted, report.updated) == (1, 1)
        # The imported row now owns the participation the CRM had marked.
        assert sorted(Participation.objects.values_list("cvr", "year", "source")) == [
            (10000068, 2021, "import"),
            (13585628, 2020, "import"),
        ]

    def test_it_names_an_unknown_offer_and_writes_nothing(self):
        make_offer(external_id="eksport-kom-godt-i-gang")
        source = (
            "cvr,offer,year\n13585628,eksport-kom-godt-i-gang,2020\n"
            "10000068,eksport-kom-godt-i-gnag,2021\n"
        )

        errors = rejected_errors(source, participations=True)

        assert errors == [
            "Linje 3, kolonne offer: ukendt tilbud “eksport-kom-godt-i-gnag” (brug tilbuddets "
            "eksterne id)"
        ]
        assert not Participation.objects.exists()

    def test_it_names_invalid_cvr_impossible_year_and_duplicates(self):
        make_offer(external_id="eksport-kom-godt-i-gang")
        source = (
            "cvr,offer,year\n"
            "13585629,eksport-kom-godt-i-gang,2020\n"
            "13585628,eksport-kom-godt-i-gang,3020\n"
            "10000068,eksport-kom-godt-i-gang,2021\n"
            "10000068,eksport-kom-godt-i-gang,2021\n"
        )

        errors = rejected_errors(source, participations=True)

        assert errors[0].startswith("Linje 2, kolonne cvr: ugyldigt CVR-nummer “13585629”")
        assert errors[1].startswith("Linje 3, kolonne year: år skal være et helt tal")
        assert errors[2] == (
            "Linje 5, kolonne year: Samme virksomhed (CVR 10000068), tilbud og år (2021) står "
            "allerede på linje 4"
        )

    def test_a_wrong_header_names_the_expected_columns(self):
        errors = rejected_errors("cvr,tilbud,year\n13585628,x,2020\n", participations=True)

        assert errors[0].startswith(
            "Linje 1: Forkerte kolonner i første linje. Forventede præcis: cvr,offer,year."
        )

    def test_the_command_reports_counts(self, tmp_path):
        make_offer(external_id="eksport-kom-godt-i-gang")
        path = tmp_path / "deltagelser.csv"
        path.write_text("cvr,offer,year\n13585628,eksport-kom-godt-i-gang,2020\n")
        out = io.StringIO()

        call_command("import_participations", str(path), stdout=out)

        assert "1 rækker på" in out.getvalue()
        assert Participation.objects.get().offer.external_id == "eksport-kom-godt-i-gang"
