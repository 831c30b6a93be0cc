"""Companies (by CVR) and their contact persons, found or created for a case."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Company, Contact, normalise_cvr, validate_cvr
from crm.services.common import CrmError
from offers.models import CompanySize, Industry, Municipality


@transaction.atomic
def company_find_or_create(
    *,
    cvr: str | None,
    name: str,
    municipality: Municipality | None,
    industry: str | None,
    employees: int | None,
    industry_classification: str = "DB07",
) -> Company:
    """The company with this CVR, or a new one.

    An existing company keeps the facts it has: only blank facts are filled in from the request,
    because what is stored was either typed by an adviser or came from an earlier request, and a
    form filled in by a visitor must not overwrite what an adviser has checked. Without a CVR
    (someone who has not started a company yet) a new company is always created.
    """
    name = (name or "").strip()
    if not name:
        raise CrmError(_("Skriv virksomhedens navn."), field="company_name")
    if industry and industry not in Industry.values:
        raise CrmError(_("Ukendt branche."), field="industry")
    if employees is not None and employees < 0:
        raise CrmError(_("Antal ansatte kan ikke være negativt."), field="employees")
    size = CompanySize.for_employees(employees)
    if cvr:
        cvr = normalise_cvr(cvr)
        try:
            validate_cvr(cvr)
        except ValidationError as error:
            raise CrmError(error.messages[0], field="cvr") from None
        company = Company.objects.select_for_update().filter(cvr=cvr).first()
        if company is not None:
            changed: list[str] = []
            facts: dict[str, Any] = {
                "municipality": municipality,
                "industry": industry or "",
                "employees": employees,
                "size_class": size.value if size else "",
            }
            for field, value in facts.items():
                if value not in (None, "") and getattr(company, field) in (None, ""):
                    setattr(company, field, value)
                    changed.append(field)
            if changed:
                company.save(update_fields=[*changed, "updated_at"])
            return company
    return Company.objects.create(
        cvr=cvr or None,
        name=name,
        municipality=municipality,
        industry=industry or "",
        industry_classification=industry_classification,
        employees=employees,
        size_class=size.value if size else "",
    )


@transaction.atomic
def contact_find_or_create(
    *,
    company: Company,
    name: str,
    email: str,
    phone: str,
    consent_version: str,
    keep_details: bool = False,
) -> Contact:
    """The company's contact with this e-mail (any case), or a new one; consent is recorded now.

    An existing contact gets the name and phone given, unless ``keep_details``: an adviser who
    registers a case for a person known only to other hubs must not rewrite what they keep.
    """
    name, email, phone = (name or "").strip(), (email or "").strip(), (phone or "").strip()
    if not name:
        raise CrmError(_("Skriv kontaktpersonens navn."), field="contact_name")
    if not email:
        raise CrmError(_("Skriv en e-mailadresse."), field="contact_email")
    now = timezone.now()
    contact = (
        Contact.objects.select_for_update()
        .filter(company=company, anonymised_at__isnull=True)
        .with_email(email)
        .first()
    )
    if contact is None:
        return Contact.objects.create(
            company=company,
            name=name,
            email=email,
            phone=phone,
            consent_at=now,
            consent_version=consent_version,
        )
    if not keep_details:
        contact.name = name
        if phone:
            contact.phone = phone
    contact.consent_at = now
    contact.consent_version = consent_version
    contact.save(update_fields=["name", "phone", "consent_at", "consent_version"])
    return contact
