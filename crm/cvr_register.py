"""Looking a company up in the CVR register by its number: what the register shows publicly.

The source is pluggable: ``settings.CVR_LOOKUP_PROVIDER`` names a class with a ``lookup(cvr)``
method (see :class:`CvrProvider`). The default, :class:`LocalRegisterProvider`, reads a copy of
the register's open data kept in PostgreSQL (``crm.CvrRegisterEntry``, loaded by
``manage.py import_cvr_register``), so a lookup needs no outside service. Another provider (the
register's own search service, a vendor's) is a class of the same shape.

A provider answers a :class:`RegisterCompany` or None when the number is not in the register, and
raises :class:`CvrLookupUnavailable` when it cannot answer now; a caller then lets the person type
the details as before.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from typing import Protocol

from django.conf import settings
from django.db import DatabaseError
from django.utils.module_loading import import_string

from offers import db07
from offers.models import CompanySize

logger = logging.getLogger(__name__)


class CvrLookupUnavailable(Exception):
    """The register cannot be asked now (down, timed out, not loaded)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RegisterCompany:
    """One company as the register shows it publicly: no owners, no people, no contact data."""

    cvr: str
    name: str
    address: str = ""
    postcode: str = ""
    city: str = ""
    municipality_code: int | None = None
    industry_code: str = ""  # DB07, six digits
    employees_min: int | None = None
    employees_max: int | None = None

    @property
    def industry_section(self) -> str | None:
        return db07.section_of_code(self.industry_code)

    @property
    def industry_group(self) -> str | None:
        return db07.group_of_code(self.industry_code)

    @property
    def size(self) -> CompanySize | None:
        """The catalogue's size class when the whole employee band lies within one."""
        if self.employees_min is None or self.employees_max is None:
            return None
        low = CompanySize.for_employees(self.employees_min)
        return low if low == CompanySize.for_employees(self.employees_max) else None


class CvrProvider(Protocol):
    def lookup(self, cvr: str) -> RegisterCompany | None:
        """The company with this (valid, eight-digit) CVR number, or None when there is none.

        Raises :class:`CvrLookupUnavailable` when the source cannot answer now.
        """
        ...


class LocalRegisterProvider:
    """The register's open data as loaded into ``crm.CvrRegisterEntry``."""

    def lookup(self, cvr: str) -> RegisterCompany | None:
        from crm.models import CvrRegisterEntry

        try:
            entry = CvrRegisterEntry.objects.filter(cvr=cvr).first()
        except DatabaseError as error:
            logger.warning("CVR register lookup failed: %s", type(error).__name__)
            raise CvrLookupUnavailable from error
        if entry is None:
            return None
        return RegisterCompany(
            cvr=entry.cvr,
            name=entry.name,
            address=entry.address,
            postcode=entry.postcode,
            city=entry.city,
            municipality_code=entry.municipality_code,
            industry_code=entry.industry_code,
            employees_min=entry.employees_min,
            employees_max=entry.employees_max,
        )


@functools.cache
def _provider(path: str) -> CvrProvider:
    provider: CvrProvider = import_string(path)()
    return provider


def cvr_provider() -> CvrProvider:
    """The provider ``settings.CVR_LOOKUP_PROVIDER`` names (one instance per process)."""
    return _provider(settings.CVR_LOOKUP_PROVIDER)


def cvr_lookup(cvr: str) -> RegisterCompany | None:
    """Ask the configured provider; see :class:`CvrProvider` for the answers."""
    return cvr_provider().lookup(cvr)
