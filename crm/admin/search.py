"""What the search box of the case and company lists understands: a case reference, a CVR
number, or a name (of the company, or of the contact within the user's own hub)."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet

from crm.models import Case, Company, Contact
from crm.permissions import cases_found_by_contact

CVR_TERM = re.compile(r"^(?:DK)?\s*(\d{2}\s?\d{2}\s?\d{2}\s?\d{2})$", re.IGNORECASE)
REFERENCE_TERM = re.compile(r"^EF-\d{4}-\d+$", re.IGNORECASE)


def normalised_term(search_term: str) -> str:
    return " ".join(search_term.split())


def cvr_in(term: str) -> str | None:
    """The CVR number the term is (``DK 12 34 56 78`` and the like), without spaces; or None."""
    cvr = CVR_TERM.match(term)
    return re.sub(r"\s", "", cvr.group(1)) if cvr else None


def cases_matching(cases: QuerySet[Case], term: str, *, user: Any) -> QuerySet[Case]:
    """The cases among ``cases`` that ``term`` (normalised, not empty) finds for ``user``."""
    if REFERENCE_TERM.match(term):
        return cases.filter(reference=term.upper())
    cvr = cvr_in(term)
    if cvr is not None:
        return cases.filter(company__cvr=cvr)
    # A union of two index lookups (trigram name → company or contact → its cases): an OR of
    # the two would make PostgreSQL test every open case of the hub against both.
    matches = Case.objects.filter(company__in=Company.objects.filter(name__icontains=term)).values(
        "pk"
    )
    by_contact = cases_found_by_contact(
        user, Case.objects.filter(contact__in=Contact.objects.filter(name__icontains=term))
    )
    if by_contact is not None:
        matches = matches.union(by_contact.values("pk"))
    return cases.filter(pk__in=matches)


def companies_matching(companies: QuerySet[Company], term: str) -> QuerySet[Company]:
    """The companies among ``companies`` that ``term`` (normalised, not empty) finds."""
    cvr = cvr_in(term)
    if cvr is not None:
        return companies.filter(cvr=cvr)
    return companies.filter(name__icontains=term)
