"""The local copy of the CVR register: the DB07 rules, the file's load and the lookup."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from crm.cvr_import import CvrImportRejected, cvr_register_import, parse_employee_band
from crm.cvr_register import (
    CvrLookupUnavailable,
    LocalRegisterProvider,
    RegisterCompany,
    cvr_lookup,
)
from crm.demo import CVR_REGISTER_SAMPLE
from crm.models import CvrRegisterEntry
from offers import db07
from offers.models import CompanySize

HEADER = "cvr,name,address,postcode,city,municipality,industry,employees\n"
MASKINFABRIK = (
    "35120009,Nordjysk Maskinfabrik ApS,Håndværkervej 14,9000,Aalborg,851,282900,ANTAL_20_49\n"
)
SOFTWARE = '35120106,Aarhus Software ApS,"Åboulevarden 22, 3.",8000,Aarhus C,751,620100,10-19\n'


def load(text: str, *, encoding: str = "utf-8") -> object:
    return cvr_register_import(source=io.BytesIO(text.encode(encoding)))


# --- DB07 codes (pure) ------------------------------------------------------------------------


def test_it_finds_the_section_and_group_of_a_six_digit_industry_code() -> None:
    assert (db07.section_of_code("620100"), db07.group_of_code("620100")) == ("J", "62")
    assert (db07.section_of_code("031100"), db07.group_of_code("031100")) == ("A", "03")
    assert (db07.section_of_code("471100"), db07.group_of_code("471100")) == ("G", "47")


def test_it_gives_no_section_for_not_stated_or_impossible_codes() -> None:
    assert db07.section_of_code("999999") is None  # the register's "uoplyst"
    assert db07.section_of_code("040000") is None  # there is no division 04
    assert db07.section_of_code("62010") is None
    assert db07.group_of_code("") is None


@pytest.mark.parametrize(
    ("written", "band"),
    [
        ("ANTAL_10_19", (10, 19)),
        ("antal_1000_999999", (1000, 999999)),
        ("10-19", (10, 19)),
        ("20 – 49", (20, 49)),
        ("0", (0, 0)),
        ("1000+", (1000, None)),
        ("", (None, None)),
        ("Uoplyst", (None, None)),
        # What a spreadsheet makes of "5-9" and "2-4" after reading them as dates.
        ("05-sep", (5, 9)),
        ("2-Apr", (2, 4)),
    ],
)
def test_it_reads_employee_bands_as_the_register_and_spreadsheets_write_them(
    written: str, band: tuple[int | None, int | None]
) -> None:
    assert parse_employee_band(written) == band


# --- The load (import_cvr_register) -----------------------------------------------------------


@pytest.mark.django_db
def test_it_loads_the_shipped_sample_file() -> None:
    call_command("import_cvr_register", str(CVR_REGISTER_SAMPLE), stdout=io.StringIO())

    assert CvrRegisterEntry.objects.count() == 30
    fisk = CvrRegisterEntry.objects.get(name="Limfjordens Fiskeeksport A/S")
    assert (fisk.municipality_code, fisk.industry_code) == (787, "031100")
    assert (fisk.employees_min, fisk.employees_max) == (50, 99)


@pytest.mark.django_db
def test_it_replaces_the_whole_copy_with_the_new_file() -> None:
    load(HEADER + MASKINFABRIK + SOFTWARE)
    load(HEADER + SOFTWARE.replace("Aarhus Software ApS", "Aarhus Software A/S"))

    assert list(CvrRegisterEntry.objects.values_list("name", flat=True)) == ["Aarhus Software A/S"]


@pytest.mark.django_db
def test_a_file_with_one_bad_line_changes_nothing_and_names_the_line_and_column() -> None:
    load(HEADER + MASKINFABRIK)
    bad = SOFTWARE.replace("620100", "12AB00")

    with pytest.raises(CvrImportRejected) as rejected:
        load(HEADER + SOFTWARE.replace("Aarhus", "Aros") + bad)

    assert [(e.line, e.column) for e in rejected.value.errors] == [(3, "industry")]
    assert "12AB00" in rejected.value.errors[0].message
    assert list(CvrRegisterEntry.objects.values_list("cvr", flat=True)) == ["35120009"]


@pytest.mark.django_db
def test_the_command_reports_every_bad_line_and_fails() -> None:
    text = (
        HEADER + MASKINFABRIK.replace("35120009", "35120008") + SOFTWARE.replace(",751,", ",999,")
    )
    path = Path(__file__).parent / "_bad_register.csv"
    stderr = io.StringIO()
    try:
        path.write_text(text, encoding="utf-8")
        with pytest.raises(CommandError, match="fejl på 2 linjer; intet er indlæst"):
            call_command("import_cvr_register", str(path), stdout=io.StringIO(), stderr=stderr)
    finally:
        path.unlink()

    assert "linje 2, kolonne cvr: „35120008“ er ikke et gyldigt CVR-nummer" in stderr.getvalue()
    assert "linje 3, kolonne municipality: „999“ er ikke en kommunekode" in stderr.getvalue()
    assert not CvrRegisterEntry.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_cvr_number_twice_naming_both_lines() -> None:
    with pytest.raises(CvrImportRejected) as rejected:
        load(HEADER + MASKINFABRIK + SOFTWARE + MASKINFABRIK)

    assert str(rejected.value.errors[0]) == (
        "linje 4, kolonne cvr: CVR-nummeret 35120009 står også på linje 2."
    )
    assert not CvrRegisterEntry.objects.exists()


@pytest.mark.django_db
def test_it_names_the_missing_columns_of_a_wrong_file() -> None:
    with pytest.raises(CvrImportRejected, match="mangler kolonnerne industry, employees"):
        load("cvr,name,address,postcode,city,municipality\n35120009,A,B,9000,Aalborg,851\n")


@pytest.mark.django_db
def test_it_refuses_an_empty_file() -> None:
    with pytest.raises(CvrImportRejected, match="ingen rækker"):
        load(HEADER)


@pytest.mark.django_db
def test_it_accepts_what_a_danish_spreadsheet_writes() -> None:
    # Excel on a Danish Windows: Windows-1252, semicolons, CRLF, the register's Danish headers in
    # another order with a column more, leading zeros dropped and "5-9" turned into a date.
    text = (
        "Navn;CVR-nr;Adresse;Postnr;By;Kommunekode;Hovedbranche;Antal ansatte;Virksomhedsform\r\n"
        "Limfjordens Fiskeeksport A/S;35120017;Havnevej 3;7700;Thisted;787;31100;05-sep;A/S\r\n"
        'Høje Taastrup Rør ApS;DK 35 12 00 25;"Vej 1; bagindgang";800;Høje Taastrup;169;'
        "43.22.00;;ApS\r\n"
        ";;;;;;;;\r\n"
    )

    load(text, encoding="cp1252")

    fisk = CvrRegisterEntry.objects.get(cvr="35120017")
    assert (fisk.industry_code, fisk.employees_min, fisk.employees_max) == ("031100", 5, 9)
    roer = CvrRegisterEntry.objects.get(cvr="35120025")
    assert (roer.name, roer.address, roer.postcode) == (
        "Høje Taastrup Rør ApS",
        "Vej 1; bagindgang",
        "0800",
    )
    assert (roer.industry_code, roer.employees_min) == ("432200", None)


@pytest.mark.django_db
def test_it_reads_utf8_with_a_byte_order_mark() -> None:
    load("\ufeff" + HEADER + SOFTWARE)

    assert CvrRegisterEntry.objects.get().city == "Aarhus C"


# --- The lookup -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_local_provider_answers_the_register_s_public_facts() -> None:
    load(HEADER + MASKINFABRIK)

    company = cvr_lookup("35120009")

    assert company == RegisterCompany(
        cvr="35120009",
        name="Nordjysk Maskinfabrik ApS",
        address="Håndværkervej 14",
        postcode="9000",
        city="Aalborg",
        municipality_code=851,
        industry_code="282900",
        employees_min=20,
        employees_max=49,
    )
    assert (company.industry_section, company.industry_group) == ("C", "28")
    assert company.size == CompanySize.SMALL
    assert cvr_lookup("35120017") is None


def test_a_band_across_two_size_classes_gives_no_size() -> None:
    company = RegisterCompany(cvr="35120009", name="X", employees_min=200, employees_max=499)

    assert company.size is None


@pytest.mark.django_db
def test_the_local_provider_is_unavailable_when_its_table_cannot_be_read(monkeypatch) -> None:
    from django.db import DatabaseError

    def broken(*args: object, **kwargs: object) -> None:
        raise DatabaseError("relation does not exist")

    monkeypatch.setattr(CvrRegisterEntry.objects, "filter", broken)

    with pytest.raises(CvrLookupUnavailable):
        LocalRegisterProvider().lookup("35120009")


class _FixedProvider:
    def lookup(self, cvr: str) -> RegisterCompany | None:
        return RegisterCompany(cvr=cvr, name="Fra en anden kilde A/S")


def test_another_provider_is_a_setting_away(settings) -> None:
    settings.CVR_LOOKUP_PROVIDER = f"{__name__}._FixedProvider"

    assert cvr_lookup("35120009") == RegisterCompany(cvr="35120009", name="Fra en anden kilde A/S")


def test_a_provider_that_cannot_be_imported_fails_the_start_up_check(settings) -> None:
    from crm.checks import cvr_lookup_provider_check

    settings.CVR_LOOKUP_PROVIDER = "crm.nowhere.Provider"

    assert [error.id for error in cvr_lookup_provider_check(None)] == ["crm.E001"]
    settings.CVR_LOOKUP_PROVIDER = "crm.cvr_register.LocalRegisterProvider"
    assert cvr_lookup_provider_check(None) == []
