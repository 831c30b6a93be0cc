"""What a company reads about its request: status labels, dates, the hub's contact details.

Shared by the pages and the API so both say the same thing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from crm.cvr_register import RegisterCompany
from crm.models import Case
from offers.models import Industry, Municipality, Organisation

#: The case status in the company's words (the CRM's labels are written for advisers).
PUBLIC_STATUS: dict[str, StrOrPromise] = {
    Case.Status.NEW: _("Modtaget – venter på en rådgiver"),
    Case.Status.ASSIGNED: _("En rådgiver har taget din sag"),
    Case.Status.IN_PROGRESS: _("Rådgiveren arbejder på din sag"),
    Case.Status.REFERRED: _("Du er henvist til et tilbud"),
    Case.Status.CLOSED: _("Sagen er lukket"),
}


def public_status(status: str) -> StrOrPromise:
    return PUBLIC_STATUS.get(status, status)


def long_date(day: dt.date) -> str:
    """A date the way Danes write it in a letter: "tirsdag den 1. december 2026"."""
    # Translators: a PHP-style date format; in English e.g. "l j F Y".
    return date_format(day, str(_("l \\d\\e\\n j. F Y")))


def hub_contact(hub: Organisation) -> dict[str, Any]:
    """The hub's public contact details, as the confirmation and the API give them."""
    return {
        "slug": hub.slug,
        "name": hub.name,
        "email": hub.contact_email,
        "phone": hub.contact_phone,
        "address": hub.address,
        "website": hub.website,
    }


def employee_band(low: int | None, high: int | None) -> str:
    """An employee band as people write it: "10–19", "1.000 eller flere", "0"."""
    if low is None:
        return ""
    if high is None or high >= 999_999:
        return str(_("%(low)s eller flere")) % {"low": f"{low:,}".replace(",", ".")}
    return str(low) if low == high else f"{low}–{high}"


def register_form_values(company: RegisterCompany) -> dict[str, Any]:
    """The guidance form's company fields as the CVR register fills them (only those it has)."""
    values: dict[str, Any] = {
        "company_name": company.name,
        "address": company.address,
        "postcode": company.postcode,
        "city": company.city,
        "industry": company.industry_section or "",
        "industry_group": company.industry_group or "",
        "employees": company.employees_min,
    }
    if (
        company.municipality_code is not None
        and Municipality.objects.filter(code=company.municipality_code).exists()
    ):
        values["municipality"] = company.municipality_code
    return {name: value for name, value in values.items() if value not in (None, "")}


def register_company_json(company: RegisterCompany) -> dict[str, Any]:
    """A company as the CVR register shows it, for the guidance form to fill itself in from."""
    municipality = (
        Municipality.objects.filter(code=company.municipality_code).only("code", "name").first()
        if company.municipality_code is not None
        else None
    )
    section = company.industry_section
    return {
        "cvr": company.cvr,
        "name": company.name,
        "address": company.address,
        "postcode": company.postcode,
        "city": company.city,
        "municipality": (
            {"code": municipality.code, "name": municipality.name} if municipality else None
        ),
        "industry": (
            {
                "code": company.industry_code,
                "section": section,
                "group": company.industry_group,
                "label": str(Industry(section).label),
            }
            if section
            else None
        ),
        "employees": (
            {
                "min": company.employees_min,
                "max": company.employees_max,
                "label": employee_band(company.employees_min, company.employees_max),
            }
            if company.employees_min is not None
            else None
        ),
        "size": company.size.value if company.size else None,
    }
