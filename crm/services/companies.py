"""Companies (by CVR) and their contact persons, found or created for a case."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.hub_words import hub_text
from crm.models import Case, Company, Contact, TimelineEntry, normalise_cvr, validate_cvr
from crm.services.common import CrmError, _timeline
from offers.models import CompanySize, Industry, Municipality

if TYPE_CHECKING:
    from accounts.models import User


def company_find_or_register(
    *,
    cvr: str | None,
    name: str,
    municipality: Municipality | None,
    industry: str | None,
    employees: int | None,
    industry_classification: str = "DB07",
    address: str = "",
    postcode: str = "",
    city: str = "",
) -> tuple[Company, bool]:
    """The company with this CVR, or a new one, and whether this call registered it.

    An existing company keeps the facts it has: only blank facts are filled in from the request,
    because what is stored was either typed by an adviser or came from an earlier request, and a
    form filled in by a visitor must not overwrite what an adviser has checked. Without a CVR
    (someone who has not started a company yet) a new company is always created. The address
    (street, postcode, town) is one fact: filled in only when the company has none of it.
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
    # Checked first, then written in the caller's transaction without a savepoint of its own (two
    # statements fewer per guidance request). So a caller inside a transaction must not catch an
    # error from here and carry on in it: the error rolls back to the caller's nearest savepoint
    # or the whole transaction (a guidance request retries it whole, routing.services).
    with transaction.atomic(savepoint=False):
        if cvr:
            company = Company.objects.select_for_update().filter(cvr=cvr).first()
            if company is not None:
                changed: list[str] = []
                # The municipality by its key: comparing the related row would read it first.
                facts: dict[str, Any] = {
                    "municipality_id": municipality.pk if municipality is not None else None,
                    "industry": industry or "",
                    "employees": employees,
                    "size_class": size.value if size else "",
                }
                for field, value in facts.items():
                    if value not in (None, "") and getattr(company, field) in (None, ""):
                        setattr(company, field, value)
                        changed.append(field)
                given = {
                    "address": address.strip(),
                    "postcode": postcode.strip(),
                    "city": city.strip(),
                }
                if any(given.values()) and not (
                    company.address or company.postcode or company.city
                ):
                    for field, value in given.items():
                        setattr(company, field, value)
                    changed.extend(given)
                if changed:
                    company.save(update_fields=[*changed, "updated_at"])
                return company, False
        company = Company.objects.create(
            cvr=cvr or None,
            name=name,
            municipality=municipality,
            industry=industry or "",
            industry_classification=industry_classification,
            employees=employees,
            size_class=size.value if size else "",
            address=address.strip(),
            postcode=postcode.strip(),
            city=city.strip(),
        )
        return company, True


def company_find_or_create(
    *,
    cvr: str | None,
    name: str,
    municipality: Municipality | None,
    industry: str | None,
    employees: int | None,
    industry_classification: str = "DB07",
    address: str = "",
    postcode: str = "",
    city: str = "",
) -> Company:
    """The company with this CVR, or a new one (``company_find_or_register`` without the flag)."""
    return company_find_or_register(
        cvr=cvr,
        name=name,
        municipality=municipality,
        industry=industry,
        employees=employees,
        industry_classification=industry_classification,
        address=address,
        postcode=postcode,
        city=city,
    )[0]


def contact_find_or_create(
    *,
    company: Company,
    name: str,
    email: str,
    phone: str,
    consent_version: str,
    keep_details: bool = True,
) -> Contact:
    """The company's contact with this e-mail (any case), or a new one with the consent given now.

    A known contact keeps the name, phone and consent stored, unless ``keep_details`` is False:
    whoever knows a company's CVR and a person's address could otherwise rewrite that person for
    every hub. Only an adviser of a hub that already works with the person passes False; the
    public path never does, and keeps what was submitted on the case instead (the adviser can
    confirm it with ``contact_update``).
    """
    name, email, phone = (name or "").strip(), (email or "").strip(), (phone or "").strip()
    if not name:
        raise CrmError(_("Skriv kontaktpersonens navn."), field="contact_name")
    if not email:
        raise CrmError(_("Skriv en e-mailadresse."), field="contact_email")
    # As company_find_or_register: checked first, written without a savepoint of its own, so a
    # caller must not catch an error from here and carry on in the same transaction.
    with transaction.atomic(savepoint=False):
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
        if keep_details:
            return contact
        contact.name = name
        if phone:
            contact.phone = phone
        contact.consent_at = now
        contact.consent_version = consent_version
        contact.save(update_fields=["name", "phone", "consent_at", "consent_version"])
        return contact


def contact_submitted_details(
    contact: Contact, *, name: str, email: str, phone: str
) -> dict[str, Any]:
    """The contact details given with a new case, when they differ from the stored contact's.

    For the case's first timeline entry (``{"submitted_contact": {...}}``, else ``{}``): the
    stored contact is not changed by what a request says, and the adviser sees what was given and
    may confirm it (``contact_update``).
    """
    given = {
        "name": (name or "").strip(),
        "email": (email or "").strip(),
        "phone": (phone or "").strip(),
    }
    if given["name"] == contact.name and given["phone"] in ("", contact.phone):
        return {}
    return {"submitted_contact": given}


@transaction.atomic
def contact_update(
    *,
    contact: Contact,
    name: str,
    phone: str,
    email: str | None = None,
    role: str | None = None,
    actor: User,
) -> Contact:
    """An adviser confirms a contact's name, phone (e-mail, role), e.g. as given with a new case.

    Only a superuser or an adviser of a hub with a case for the person may change them; each case
    of the person records the change in its timeline.
    """
    contact = Contact.objects.select_for_update().select_related("company").get(pk=contact.pk)
    if not actor.is_superuser and not (
        Contact.objects.visible_to(actor).filter(pk=contact.pk).exists()
    ):
        raise CrmError(hub_text(_("Du kan kun ændre kontaktpersoner for dit eget %(hub)s' sager.")))
    if contact.is_anonymised:
        raise CrmError(_("Kontaktpersonen er anonymiseret og kan ikke ændres."))
    values = {"name": name, "phone": phone, "email": email, "role": role}
    given = {field: value.strip() for field, value in values.items() if value is not None}
    if not given["name"]:
        raise CrmError(_("Skriv kontaktpersonens navn."), field="name")
    if "email" in given and not given["email"]:
        raise CrmError(_("Skriv en e-mailadresse."), field="email")
    changed = [field for field, value in given.items() if getattr(contact, field) != value]
    if not changed:
        return contact
    for field in changed:
        setattr(contact, field, given[field])
    contact.save(update_fields=changed)
    for case in Case.objects.filter(contact=contact):
        _timeline(
            case,
            kind=TimelineEntry.Kind.PRIVACY,
            action="crm.contact.updated",
            actor=actor,
            text=str(_("Kontaktpersonens oplysninger er rettet.")),
            payload={"contact": contact.pk, "fields": changed},
        )
    return contact
