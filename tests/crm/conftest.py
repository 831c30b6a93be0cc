from __future__ import annotations

import pytest

from crm import services
from crm.models import Case
from offers.models import Organisation, Theme
from tests.crm.factories import CompanyFactory, ContactFactory
from tests.offers.factories import make_export_start


@pytest.fixture
def hub(db):
    return Organisation.objects.get(slug="vaeksthus-midtjylland")


@pytest.fixture
def other_hub(db):
    return Organisation.objects.get(slug="vaeksthus-nordjylland")


@pytest.fixture
def adviser(make_user):
    return make_user(
        "mette",
        organisation="vaeksthus-midtjylland",
        role="Rådgiver",
        first_name="Mette",
        last_name="Kristensen",
        email="mette@vaeksthus-midt.dk",
    )


@pytest.fixture
def other_adviser(make_user):
    return make_user("ole", organisation="vaeksthus-nordjylland", role="Rådgiver")


@pytest.fixture
def offer(db):
    return make_export_start()


@pytest.fixture
def make_case(hub):
    def make(**overrides) -> Case:
        company = overrides.pop("company", None) or CompanyFactory.create()
        contact = overrides.pop("contact", None) or ContactFactory.create(company=company)
        values = {
            "company": company,
            "contact": contact,
            "hub": hub,
            "needs": "Vi vil gerne eksportere til Tyskland.",
            "themes": Theme.objects.filter(slug="export"),
            "source": Case.Source.WEB,
        }
        values.update(overrides)
        return services.case_create(**values)

    return make


@pytest.fixture
def logged_in(client):
    def login(user):
        client.force_login(user)
        return client

    return login
