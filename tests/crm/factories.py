from __future__ import annotations

import datetime as dt
import itertools

import factory
from django.utils import timezone

from core.cvr import valid_cvrs
from crm.models import Case, Company, Contact
from offers.models import Municipality, Organisation

_cvrs = valid_cvrs(start=3_000_000)
_references = itertools.count(900_000)


class CompanyFactory(factory.django.DjangoModelFactory[Company]):
    class Meta:
        model = Company

    cvr = factory.LazyFunction(lambda: next(_cvrs))
    name = factory.Sequence(lambda n: f"Testvirksomhed {n} ApS")
    municipality = factory.LazyFunction(lambda: Municipality.objects.get(code=751))
    industry = "C"
    employees = 12
    size_class = "small"


class ContactFactory(factory.django.DjangoModelFactory[Contact]):
    class Meta:
        model = Contact

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Kontakt Person {n}")
    email = factory.Sequence(lambda n: f"kontakt{n}@example.dk")
    phone = "+45 12 34 56 78"
    consent_at = factory.LazyFunction(timezone.now)
    consent_version = "2026-01"


class CaseFactory(factory.django.DjangoModelFactory[Case]):
    """A case written directly, for tests of reads; workflows go through crm.services."""

    class Meta:
        model = Case

    reference = factory.LazyFunction(lambda: f"EF-2026-{next(_references):06d}")
    company = factory.SubFactory(CompanyFactory)
    contact = factory.SubFactory(ContactFactory, company=factory.SelfAttribute("..company"))
    hub = factory.LazyFunction(lambda: Organisation.objects.get(slug="vaeksthus-midtjylland"))
    needs = "Vi vil gerne eksportere til Tyskland og har brug for sparring."
    source = Case.Source.WEB
    first_response_due = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=2))
