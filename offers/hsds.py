"""The catalogue as Open Referral HSDS tables (CSV), for portals that read that standard.

Offers are HSDS services, their operators and owners organizations, their geography service
areas (with DAWA and GeoNames URIs), and the owner is the funding source.
"""

from __future__ import annotations

import csv
import io
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

HSDS_ORGANIZATION_COLUMNS = (
    "id",
    "name",
    "alternate_name",
    "description",
    "email",
    "website",
    "legal_status",
    "uri",
    "parent_organization_id",
)
HSDS_SERVICE_COLUMNS = (
    "id",
    "organization_id",
    "program_id",
    "name",
    "alternate_name",
    "description",
    "url",
    "email",
    "status",
    "interpretation_services",
    "application_process",
    "fees_description",
    "wait_time",
    "fees",
    "accreditations",
    "eligibility_description",
    "minimum_age",
    "maximum_age",
    "assured_date",
    "assurer_email",
    "licenses",
    "alert",
)
# HSDS 3 names the free-text area `name`; HSDS 2 readers look for `service_area`. Both are filled.
HSDS_SERVICE_AREA_COLUMNS = (
    "id",
    "service_id",
    "service_at_location_id",
    "name",
    "service_area",
    "description",
    "extent",
    "extent_type",
    "uri",
)
HSDS_FUNDING_COLUMNS = ("id", "organization_id", "service_id", "source")
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
            "legal_status": _("offentlig myndighed") if org.kind in _PUBLIC_AUTHORITIES else "",
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
                "wait_time": record["delivery_time"],
                "fees": "",
                "accreditations": "",
                "eligibility_description": eligibility,
                "minimum_age": "",
                "maximum_age": "",
                "assured_date": record["last_reviewed"] or "",
                "assurer_email": "",
                "licenses": "",
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
                    "service_at_location_id": "",
                    "name": name,
                    "service_area": name,
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
        "services.csv": service_rows,
        "service_areas.csv": area_rows,
        "funding.csv": funding_rows,
    }


HSDS_COLUMNS = {
    "organizations.csv": HSDS_ORGANIZATION_COLUMNS,
    "services.csv": HSDS_SERVICE_COLUMNS,
    "service_areas.csv": HSDS_SERVICE_AREA_COLUMNS,
    "funding.csv": HSDS_FUNDING_COLUMNS,
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
