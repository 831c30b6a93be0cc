import csv
import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command

from offers import demo
from offers.catalogue_format import ALL_FIELDS, FIELDS
from offers.exporting import export_json
from offers.importing import import_offers
from offers.models import Offer
from offers.services import CONSTRAINT_FIELDS
from tests.offers.catalogue_factories import found_by_search
from tests.offers.factories import local_to, make_offer, regional_in


def row(**overrides):
    data = {
        "external_id": "eksportstart",
        "title": "Eksportstart",
        "summary": "Kom godt i gang med eksport.",
        "description": "Et forløb for nye eksportører.",
        "level": "state",
        "owner": "eksportraadet",
        "operator": "vaeksthus-midtjylland",
        "themes": ["export"],
        "phases": ["growth", "established"],
        "company_sizes": ["small", "medium"],
        "industries": [],
        "nationwide": True,
        "regions": [],
        "municipalities": [],
        "url": "https://www.eksportraadet.dk/eksportstart",
        "contact_email": "eksport@um.dk",
        "contact_phone": "+45 33 92 00 00",
        "price": "subsidised",
        "application_deadline": None,
        "valid_from": "2026-01-01",
        "valid_to": None,
        "status": "published",
        "last_reviewed": "2026-10-01",
    }
    data.update(overrides)
    return data


def jsonl(*rows):
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def messages(result):
    return [str(error) for error in result.errors]


def test_it_imports_json_lines_with_every_field(db):
    result = import_offers(
        source=jsonl(
            row(),
            row(
                external_id="aarhus-byggetilladelse",
                title="Hurtig byggetilladelse",
                operator="kommune-751",
                themes=["authority"],
                price="free",
                how_to_apply="Ring til erhvervsservice.",
                languages=["da", "en"],
                cannot_combine_with=["eksportstart"],
                **local_to(751),
            ),
        )
    )

    assert result.ok, messages(result)
    assert result.created == ["eksportstart", "aarhus-byggetilladelse"]
    offer = Offer.objects.get(external_id="aarhus-byggetilladelse")
    assert offer.owner.slug == "kommune-751"
    assert offer.municipalities == [751]
    assert offer.languages == ["da", "en"]
    assert offer.how_to_apply == "Ring til erhvervsservice."
    assert list(offer.themes.values_list("slug", flat=True)) == ["authority"]
    # Symmetrical: the other offer knows it too.
    assert list(
        Offer.objects.get(external_id="eksportstart").cannot_combine_with.values_list(
            "external_id", flat=True
        )
    ) == ["aarhus-byggetilladelse"]
    # Searchable straight away.
    assert found_by_search(Offer.objects.get(external_id="eksportstart"), "eksportstart")


def test_it_imports_a_json_array(db):
    source = json.dumps([row(), row(external_id="eksportstart-2")], indent=2)

    result = import_offers(source=source)

    assert result.ok, messages(result)
    assert Offer.objects.count() == 2


def test_it_updates_offers_by_external_id_and_leaves_unchanged_ones_alone(db):
    import_offers(source=jsonl(row(), row(external_id="andet-tilbud")))
    offer = Offer.objects.get(external_id="eksportstart")
    offer.how_to_apply = "Skrevet af en redaktør."
    offer.save()
    history = Offer.history.count()

    result = import_offers(
        source=jsonl(
            row(title="Eksportstart 2027", themes=["export", "capital"]),
            row(external_id="andet-tilbud"),
        )
    )

    assert result.ok
    assert result.updated == ["eksportstart"]
    assert result.unchanged == ["andet-tilbud"]
    offer.refresh_from_db()
    assert offer.title == "Eksportstart 2027"
    assert set(offer.themes.values_list("slug", flat=True)) == {"export", "capital"}
    # A field the file leaves out keeps what the editor wrote.
    assert offer.how_to_apply == "Skrevet af en redaktør."
    assert Offer.history.count() == history + 1
    assert found_by_search(offer, "2027")


def test_it_writes_nothing_when_one_row_is_bad(db):
    make_offer(external_id="eksportstart", title="Gammel titel")
    source = jsonl(row(title="Ny titel"), row(external_id="nyt-tilbud", owner="kommune-9999"))

    result = import_offers(source=source)

    assert messages(result) == ["linje 2, felt owner: ukendt organisation 'kommune-9999'"]
    assert Offer.objects.get(external_id="eksportstart").title == "Gammel titel"
    assert not Offer.objects.filter(external_id="nyt-tilbud").exists()


def test_it_reports_every_bad_row_with_its_line_and_field(db):
    source = "\n".join(
        [
            json.dumps(row(external_id="a")),
            json.dumps(row(external_id="b", themes=["export", "rumfart"])),
            "",
            json.dumps(row(external_id="c", level="kommunal", valid_from="1. maj 2026")),
            "{ikke json",
            json.dumps(
                row(external_id="d", valid_from="2026-05-01", application_deadline="2026-04-01")
            ),
            json.dumps(row(external_id="a")),
            json.dumps(row(external_id="e", nationwide="ja", title="")),
            json.dumps(
                row(
                    external_id="f",
                    level="municipality",
                    owner="kommune-751",
                    operator="kommune-751",
                    nationwide=False,
                    regions=[1082],
                )
            ),
            json.dumps(
                {k: v for k, v in row(external_id="g").items() if k != "summary"} | {"titel": "x"}
            ),
        ]
    )

    result = import_offers(source=source)

    assert messages(result) == [
        "linje 2, felt themes: ukendt tema 'rumfart'",
        'linje 4, felt level: ugyldig værdi "kommunal" (tilladt: state, region, municipality)',
        'linje 4, felt valid_from: skal være en dato på formen ÅÅÅÅ-MM-DD, ikke "1. maj 2026"',
        "linje 5: ugyldig JSON (Expecting property name enclosed in double quotes)",
        "linje 6, felt application_deadline: Ansøgningsfristen kan ikke ligge før gyldig fra.",
        "linje 7, felt external_id: 'a' står også i linje 1",
        "linje 8, felt nationwide: skal være true eller false",
        "linje 8, felt title: må ikke være tom",
        "linje 9, felt municipalities: Et kommunalt tilbud skal angive sine kommuner.",
        "linje 10, felt summary: mangler",
        "linje 10, felt titel: ukendt felt",
    ]
    assert not Offer.objects.exists()


def test_it_reports_the_line_where_an_object_starts_in_a_json_array(db):
    good = json.dumps(row(external_id="god"), indent=2)  # 24 lines
    bad = json.dumps(row(external_id="daarlig", operator="vaeksthus-fyn"), indent=2)
    source = "[\n" + good + ",\n" + bad + "\n]\n"

    result = import_offers(source=source)

    start = 2 + good.count("\n") + 1
    assert messages(result) == [
        f"linje {start}, felt operator: ukendt organisation 'vaeksthus-fyn'"
    ]


def test_it_keeps_a_cluster_offer_nationwide(db):
    result = import_offers(
        source=jsonl(
            row(owner="cluster-energi", operator="cluster-energi", nationwide=False, regions=[1083])
        )
    )

    assert messages(result) == [
        "linje 1, felt nationwide: Klyngers tilbud gælder altid i hele landet."
    ]


def test_it_resolves_cannot_combine_with_after_all_rows(db):
    make_offer(external_id="gammelt-tilbud")
    result = import_offers(
        source=jsonl(
            row(external_id="a", cannot_combine_with=["b", "gammelt-tilbud"]),
            row(external_id="b"),
            row(external_id="c", cannot_combine_with=["findes-ikke"]),
        )
    )

    assert messages(result) == ["linje 3, felt cannot_combine_with: ukendt tilbud 'findes-ikke'"]

    result = import_offers(
        source=jsonl(
            row(external_id="a", cannot_combine_with=["b", "gammelt-tilbud"]), row(external_id="b")
        )
    )
    assert result.ok
    assert set(
        Offer.objects.get(external_id="a").cannot_combine_with.values_list("external_id", flat=True)
    ) == {"b", "gammelt-tilbud"}
    assert list(
        Offer.objects.get(external_id="gammelt-tilbud").cannot_combine_with.values_list(
            "external_id", flat=True
        )
    ) == ["a"]


def test_it_writes_nothing_on_a_dry_run_but_says_what_would_change(db):
    make_offer(external_id="eksportstart", title="Gammel titel")

    result = import_offers(source=jsonl(row(), row(external_id="nyt")), dry_run=True)

    assert result.ok
    assert result.created == ["nyt"]
    assert result.updated == ["eksportstart"]
    assert Offer.objects.get(external_id="eksportstart").title == "Gammel titel"
    assert not Offer.objects.filter(external_id="nyt").exists()


def test_the_command_exits_non_zero_and_lists_the_errors(db, tmp_path):
    path = tmp_path / "tilbud.jsonl"
    path.write_text(jsonl(row(), row(external_id="x", themes=["rumfart"])), encoding="utf-8")
    err = io.StringIO()

    with pytest.raises(CommandError, match="1 error"):
        call_command("import_offers", str(path), stderr=err)

    assert "linje 2, felt themes: ukendt tema 'rumfart'" in err.getvalue()
    assert not Offer.objects.exists()


def test_the_command_imports_and_dry_runs(db, tmp_path):
    path = tmp_path / "tilbud.json"
    path.write_text(json.dumps([row()]), encoding="utf-8")
    out = io.StringIO()

    call_command("import_offers", str(path), "--dry-run", stdout=out)
    assert "1 offers would be created" in out.getvalue()
    assert not Offer.objects.exists()

    call_command("import_offers", str(path), stdout=out)
    assert Offer.objects.filter(external_id="eksportstart").exists()


def test_export_then_import_gives_identical_offers(db, tmp_path):
    import_offers(
        source=jsonl(
            row(cannot_combine_with=["b"]),
            row(external_id="b", status="draft", industries=["C", "J"], languages=["da"]),
            row(
                external_id="c",
                operator="region-sjaelland",
                themes=["growth", "digitalisation"],
                **regional_in(1085),
                municipalities=[259],
                application_deadline="2026-12-31",
                status="archived",
                how_to_apply="Søg via regionen.",
                expected_result="Flere ansatte.",
                delivery_time="3 måneder",
            ),
        )
    )
    path = tmp_path / "eksport.json"
    call_command("export_offers", "--output", str(path), stderr=io.StringIO())
    first = path.read_text(encoding="utf-8")
    records = json.loads(first)
    assert [list(r) for r in records] == [list(ALL_FIELDS)] * 3

    Offer.cannot_combine_with.through.objects.all().delete()
    Offer.objects.all().delete()
    result = import_offers(source=first)
    assert result.ok and len(result.created) == 3

    again = io.StringIO()
    export_json(Offer.objects.all(), again)
    assert again.getvalue() == first


def test_export_filters_by_status_and_writes_json_lines(db):
    make_offer(external_id="offentlig")
    make_offer(external_id="kladde", status="draft")
    out = io.StringIO()

    call_command("export_offers", "--format", "jsonl", "--status", "published", stdout=out)

    lines = out.getvalue().splitlines()
    assert [json.loads(line)["external_id"] for line in lines] == ["offentlig"]


def test_it_exports_hsds_csv_with_open_referral_columns(db, tmp_path):
    import_offers(
        source=jsonl(
            row(),
            row(
                external_id="regional",
                operator="region-sjaelland",
                themes=["growth"],
                **regional_in(1085),
                municipalities=[259],
                status="draft",
            ),
        )
    )
    target = tmp_path / "hsds.zip"

    call_command("export_offers", "--format", "hsds", "--output", str(target), stderr=io.StringIO())

    with zipfile.ZipFile(target) as archive:
        tables = {
            name: list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"))))
            for name in archive.namelist()
        }
    assert set(tables) >= {"services.csv", "organizations.csv", "service_areas.csv"}
    services = {s["id"]: s for s in tables["services.csv"]}
    assert services["eksportstart"]["organization_id"] == "vaeksthus-midtjylland"
    assert services["eksportstart"]["name"] == "Eksportstart"
    assert services["eksportstart"]["email"] == "eksport@um.dk"
    assert services["eksportstart"]["status"] == "active"
    assert services["regional"]["status"] == "inactive"
    for column in ("id", "organization_id", "name", "description", "url", "email", "status"):
        assert column in tables["services.csv"][0]
    organisations = {o["id"]: o for o in tables["organizations.csv"]}
    assert organisations["vaeksthus-midtjylland"]["name"] == "Væksthus Midtjylland"
    areas = [a for a in tables["service_areas.csv"] if a["service_id"] == "regional"]
    assert {a["name"] for a in areas} == {"Region Sjælland", "Køge Kommune"}
    assert all(a["description"] for a in areas)


def test_it_exports_hsds_into_a_folder(db, tmp_path):
    make_offer(external_id="eksportstart")

    call_command(
        "export_offers",
        "--format",
        "hsds",
        "--output",
        str(tmp_path / "hsds"),
        stderr=io.StringIO(),
    )

    header = (tmp_path / "hsds" / "service_areas.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",")[:2] == ["id", "service_id"]
    assert "name" in header.split(",")


def test_an_editor_imports_only_offers_of_their_own_organisation(db, make_user):
    editor = make_user("redaktoer", organisation="vaeksthus-midtjylland", role="Redaktør")
    make_offer(external_id="fremmed", **local_to(751))

    result = import_offers(
        source=jsonl(
            row(owner="vaeksthus-midtjylland"),  # owned and operated by the editor's own
            row(external_id="andres", owner="eksportraadet", operator="eksportraadet"),
            row(external_id="fremmed", owner="eksportraadet", operator="vaeksthus-midtjylland"),
        ),
        user=editor,
    )

    assert messages(result) == [
        "linje 2, felt owner: din organisation hverken ejer eller driver tilbuddet",
        "linje 3, felt external_id: tilbuddet 'fremmed' tilhører en anden organisation",
    ]
    assert Offer.objects.get(external_id="fremmed").owner.slug == "kommune-751"
    assert not Offer.objects.filter(external_id="eksportstart").exists()

    result = import_offers(source=jsonl(row(owner="vaeksthus-midtjylland")), user=editor)
    assert result.ok
    assert Offer.objects.get(external_id="eksportstart").history.first().history_user == editor


def test_every_offer_constraint_is_checked_row_by_row_before_writing(db):
    # The importer mirrors the DB constraints in Python to report fields; none may be missed.
    assert {c.name for c in Offer._meta.constraints} == set(CONSTRAINT_FIELDS)
    assert set(FIELDS) <= set(ALL_FIELDS)


def test_the_demo_catalogue_loads_once_and_a_second_run_changes_nothing(db):
    out = io.StringIO()

    demo.load(stdout=out)
    assert Offer.objects.count() >= 150
    assert Offer.objects.filter(search_vector__isnull=True).count() == 0
    history = Offer.history.count()

    demo.load(stdout=out)

    assert Offer.history.count() == history
    assert (
        out.getvalue()
        .splitlines()[-1]
        .endswith(f"0 new, 0 updated, {Offer.objects.count()} unchanged")
    )
