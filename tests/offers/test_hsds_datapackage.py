"""The open data at /data/hsds/: a data package with its licence that validates against the
Open Referral HSDS 3.0.0 schemas with frictionless, offline."""

from __future__ import annotations

import csv
import io
import json

import frictionless
import pytest

from offers.hsds import SCHEMA_PATH, hsds_schema
from offers.importing import import_offers
from tests.offers.factories import local_to, regional_in
from tests.offers.test_importexport import jsonl, messages, row


@pytest.fixture
def catalogue(db):
    result = import_offers(
        source=jsonl(
            row(),
            row(
                external_id="regional",
                operator="region-sjaelland",
                themes=["growth"],
                **regional_in(1085),
                municipalities=[259],
                application_deadline="2027-03-01",
            ),
            row(
                external_id="kommunal",
                operator="kommune-751",
                themes=["authority"],
                price="free",
                **local_to(751),
            ),
            row(external_id="kladde", title="Hemmelig kladde", status="draft"),
        )
    )
    assert result.ok, messages(result)


def fetch_package(client, tmp_path):
    """The published package, saved as a folder the way a tool downloads it."""
    answer = client.get("/data/hsds/datapackage.json")
    assert answer.status_code == 200
    descriptor = answer.json()
    for resource in descriptor["resources"]:
        name = resource["path"].rsplit("/", 1)[1]
        table = client.get(f"/data/hsds/{name}")
        assert table.status_code == 200
        assert table["Content-Type"] == "text/csv; charset=utf-8"
        (tmp_path / name).write_bytes(table.content)
        resource["path"] = name
    (tmp_path / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    return descriptor


def test_the_published_package_validates_against_the_hsds_schemas(catalogue, client, tmp_path):
    descriptor = fetch_package(client, tmp_path)

    report = frictionless.validate(str(tmp_path / "datapackage.json"))

    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    # Checked against Open Referral's own schemas, not against ones the portal made up.
    vendored = {r["name"]: r["schema"] for r in hsds_schema()["resources"]}
    assert {r["name"]: r["schema"] for r in descriptor["resources"]} == vendored
    assert set(vendored) == {"organization", "program", "service", "service_area", "funding"}


def test_the_package_names_its_licence(catalogue, client):
    descriptor = client.get("/data/hsds/").json()

    assert descriptor["licenses"] == [
        {
            "name": "CC-BY-4.0",
            "path": "https://creativecommons.org/licenses/by/4.0/",
            "title": "Creative Commons Attribution 4.0",
        }
    ]
    # Stable, absolute addresses a harvester can follow.
    assert [r["path"] for r in descriptor["resources"]] == [
        "http://testserver/data/hsds/organizations.csv",
        "http://testserver/data/hsds/programs.csv",
        "http://testserver/data/hsds/services.csv",
        "http://testserver/data/hsds/service_areas.csv",
        "http://testserver/data/hsds/funding.csv",
    ]


def test_only_published_offers_are_published(catalogue, client):
    services = list(csv.DictReader(io.StringIO(client.get("/data/hsds/services.csv").text)))

    assert sorted(s["id"] for s in services) == ["eksportstart", "kommunal", "regional"]
    assert "Hemmelig kladde" not in client.get("/data/hsds/services.csv").text


def test_a_broken_table_fails_the_validation(catalogue, client, tmp_path):
    # The check can fail: a service without a status and a duplicate id are both caught.
    fetch_package(client, tmp_path)
    path = tmp_path / "services.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = next(csv.reader([lines[0]]))
    broken = dict.fromkeys(header, "")
    broken.update(id="eksportstart", organization_id="eksportraadet", name="Kopi")
    buffer = io.StringIO()
    csv.DictWriter(buffer, fieldnames=header).writerow(broken)
    path.write_text("\n".join(lines) + "\n" + buffer.getvalue(), encoding="utf-8")

    report = frictionless.validate(str(tmp_path / "datapackage.json"))

    types = {error[0] for error in report.flatten(["type"])}
    assert not report.valid
    assert {"constraint-error", "primary-key"} & types


def test_an_unknown_table_is_not_found(db, client):
    assert client.get("/data/hsds/secrets.csv").status_code == 404


def test_the_vendored_schema_says_where_it_comes_from():
    readme = (SCHEMA_PATH.parent / "README.md").read_text(encoding="utf-8")

    assert "67e7b37a4b1e03324d6bd107c56cafd153b9d2d0" in readme
    assert "CC-BY-SA-4.0" in readme
    assert hsds_schema()["version"] == "3.0.0"
