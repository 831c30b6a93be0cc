"""The catalogue as Open Referral HSDS tables (CSV), for portals that read that standard.

Offers are HSDS services, their operators and owners organizations, their geography service
areas (with DAWA and GeoNames URIs), and the owner is the funding source.

The tables have exactly the columns of the HSDS 3.0.0 table schemas vendored in
``offers/data/hsds/datapackage.json`` (read from there, so the export and the schema cannot
drift apart), and the published data package (``/data/hsds/``, :func:`hsds_datapackage`) names
those schemas and the portal's licence, so tools such as ``frictionless`` validate it as it is.
"""

from __future__ import annotations

import copy
import csv
import functools
import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from core.csvsafe import safe_record
from offers.exporting import offer_records
from offers.models import (
    CompanySize,
    Level,
    Municipality,
    Offer,
    Organisation,
    Phase,
    Price,
    Region,
)

SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "hsds" / "datapackage.json"
HSDS_VERSION = "3.0.0"
# The portal's own data: reuse with attribution. (The HSDS schemas are Open Referral's, under
# CC BY-SA 4.0: offers/data/hsds/README.md.)
OPEN_DATA_LICENSE = {
    "name": "CC-BY-4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
    "title": "Creative Commons Attribution 4.0",
}


@functools.cache
def hsds_schema() -> dict[str, Any]:
    """The vendored HSDS data package (the four resources the portal publishes)."""
    with SCHEMA_PATH.open(encoding="utf-8") as source:
        descriptor: dict[str, Any] = json.load(source)
    return descriptor


def _columns(path: str) -> tuple[str, ...]:
    for resource in hsds_schema()["resources"]:
        if resource["path"] == path:
            return tuple(field["name"] for field in resource["schema"]["fields"])
    raise KeyError(path)


HSDS_ORGANIZATION_COLUMNS = _columns("organizations.csv")
# Services may name a program; the portal has none, so the table is published empty.
HSDS_PROGRAM_COLUMNS = _columns("programs.csv")
HSDS_SERVICE_COLUMNS = _columns("services.csv")
HSDS_SERVICE_AREA_COLUMNS = _columns("service_areas.csv")
HSDS_FUNDING_COLUMNS = _columns("funding.csv")
HSDS_STATUS = {
    Offer.Status.PUBLISHED: "active",
    Offer.Status.DRAFT: "inactive",
    Offer.Status.ARCHIVED: "defunct",
}
_DAWA = "https://api.dataforsyningen.dk"
_PUBLIC_AUTHORITIES = (
    Organisation.Kind.STATE_AGENCY,
    Organisation.Kind.REGION,
    Organisation.Kind.MUNICIPALITY,
)


def hsds_tables(queryset: models.QuerySet[Offer]) -> dict[str, list[dict[str, Any]]]:
    """The Open Referral tables for the offers of ``queryset``, as lists of rows."""
    records = list(offer_records(queryset))
    slugs = {record["owner"] for record in records} | {record["operator"] for record in records}
    organisations = {
        org.slug: org
        for org in Organisation.objects.filter(slug__in=slugs).select_related("region")
    }
    regions = dict(Region.objects.values_list("code", "name"))
    municipalities = {m.code: str(m) for m in Municipality.objects.all()}
    kinds = dict(Organisation.Kind.choices)
    levels = dict(Level.choices)
    phases = dict(Phase.choices)
    sizes = dict(CompanySize.choices)
    prices = dict(Price.choices)

    organization_rows = [
        {
            "id": org.slug,
            "name": org.name,
            "alternate_name": "",
            "description": _("%(kind)s, %(level)s niveau")
            % {"kind": kinds[org.kind], "level": str(levels[org.level]).lower()},
            "email": org.contact_email,
            "website": org.website,
            "year_incorporated": "",
            "legal_status": _("offentlig myndighed") if org.kind in _PUBLIC_AUTHORITIES else "",
            "logo": "",
            "uri": "",
            "parent_organization_id": "",
        }
        for org in sorted(organisations.values(), key=lambda o: o.slug)
    ]
    service_rows = []
    area_rows = []
    funding_rows = []
    for record in records:
        service_id = record["external_id"]
        eligibility = "; ".join(
            part
            for part in (
                ", ".join(str(phases[p]) for p in record["phases"]),
                ", ".join(str(sizes[s]) for s in record["company_sizes"]),
                _("brancher: %(codes)s") % {"codes": ", ".join(record["industries"])}
                if record["industries"]
                else "",
            )
            if part
        )
        service_rows.append(
            {
                "id": service_id,
                "organization_id": record["operator"],
                "program_id": "",
                "name": record["title"],
                "alternate_name": "",
                "description": record["summary"]
                + ("\n\n" + record["description"] if record["description"] else ""),
                "url": record["url"],
                "email": record["contact_email"],
                "status": HSDS_STATUS[record["status"]],
                "interpretation_services": "",
                "application_process": record["how_to_apply"],
                "fees_description": " – ".join(
                    part for part in (str(prices[record["price"]]), record["price_details"]) if part
                ),
                "accreditations": "",
                "eligibility_description": eligibility,
                "minimum_age": "",
                "maximum_age": "",
                "assured_date": record["last_reviewed"] or "",
                "assurer_email": "",
                "alert": _("Ansøgningsfrist %(date)s") % {"date": record["application_deadline"]}
                if record["application_deadline"]
                else "",
            }
        )
        areas: list[tuple[str, str, str]] = []
        if record["nationwide"]:
            areas.append(("dk", _("Hele Danmark"), "https://www.geonames.org/2623032"))
        for code in record["regions"]:
            areas.append((f"region-{code}", regions[code], f"{_DAWA}/regioner/{code}"))
        for code in record["municipalities"]:
            areas.append((f"kommune-{code}", municipalities[code], f"{_DAWA}/kommuner/{code:04d}"))
        for key, name, uri in areas:
            area_rows.append(
                {
                    "id": f"{service_id}--{key}",
                    "service_id": service_id,
                    "name": name,
                    "description": _("Tilbuddet gælder for virksomheder i %(area)s.")
                    % {"area": name},
                    "extent": "",
                    "extent_type": "",
                    "uri": uri,
                }
            )
        funding_rows.append(
            {
                "id": f"{service_id}--funding",
                "organization_id": record["owner"],
                "service_id": service_id,
                "source": organisations[record["owner"]].name,
            }
        )
    return {
        "organizations.csv": organization_rows,
        "programs.csv": [],
        "services.csv": service_rows,
        "service_areas.csv": area_rows,
        "funding.csv": funding_rows,
    }


HSDS_COLUMNS = {
    "organizations.csv": HSDS_ORGANIZATION_COLUMNS,
    "programs.csv": HSDS_PROGRAM_COLUMNS,
    "services.csv": HSDS_SERVICE_COLUMNS,
    "service_areas.csv": HSDS_SERVICE_AREA_COLUMNS,
    "funding.csv": HSDS_FUNDING_COLUMNS,
}


def hsds_csv(name: str, rows: list[dict[str, Any]]) -> str:
    """One table as CSV text with its HSDS columns."""
    return _csv_text(HSDS_COLUMNS[name], rows)


def hsds_datapackage(*, base_url: str = "") -> dict[str, Any]:
    """The data package descriptor of the published catalogue: the portal's licence, and each
    table with its HSDS schema (``base_url`` + file name as the path, or the file name alone)."""
    schema = hsds_schema()
    resources = []
    for resource in schema["resources"]:
        described = copy.deepcopy(resource)
        described["path"] = base_url + resource["path"]
        described["encoding"] = "utf-8"
        resources.append(described)
    return {
        "profile": "tabular-data-package",
        "name": "erhvervsfremmeportalen-hsds",
        "title": "Erhvervsfremmeportalen: offentlige erhvervsfremmetilbud (Open Referral HSDS)",
        "description": (
            "The published offers of the Danish business support portal as Open Referral Human "
            "Services Data Specification tables: services, the organisations that run and fund "
            "them, and where they apply."
        ),
        "version": HSDS_VERSION,
        "licenses": [OPEN_DATA_LICENSE],
        "sources": [
            {
                "title": f"Open Referral Human Services Data Specification {HSDS_VERSION}",
                "path": "https://docs.openreferral.org/",
            }
        ],
        "resources": resources,
    }


def _csv_text(columns: Sequence[str], rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    # Titles, names and URLs come from editors and imports: never a formula in a spreadsheet.
    writer.writerows(safe_record(row) for row in rows)
    return buffer.getvalue()


def export_hsds(queryset: models.QuerySet[Offer], target: Path) -> dict[str, int]:
    """Write the HSDS CSV set into the folder ``target``, or a zip when it ends in ``.zip``."""
    tables = hsds_tables(queryset)
    if target.suffix.lower() == ".zip":
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, rows in tables.items():
                archive.writestr(name, _csv_text(HSDS_COLUMNS[name], rows))
    else:
        target.mkdir(parents=True, exist_ok=True)
        for name, rows in tables.items():
            (target / name).write_text(_csv_text(HSDS_COLUMNS[name], rows), encoding="utf-8")
    return {name: len(rows) for name, rows in tables.items()}
