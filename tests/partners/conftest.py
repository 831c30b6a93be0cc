from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from offers.models import Organisation
from partners.models import Partner
from partners.services import api_key_create
from tests.routing.conftest import export_offers  # noqa: F401  (the offers matched)

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def vejle(db) -> Partner:
    return Partner.objects.create(
        name="Vejle Kommune, Erhverv",
        slug="vejle",
        organisation=Organisation.objects.get(slug="kommune-630"),
        origins=["https://www.vejle.dk", "http://127.0.0.1:8765"],
        accent_colour="#005a31",
    )


@pytest.fixture
def aarhus(db) -> Partner:
    return Partner.objects.create(
        name="Aarhus Erhverv",
        slug="aarhus",
        organisation=Organisation.objects.get(slug="kommune-751"),
        origins=["https://www.aarhus.dk"],
    )


@pytest.fixture
def make_key():
    def make(partner: Partner, scopes=("catalogue:read", "guidance:submit"), now=None, **kw):
        return api_key_create(
            partner=partner, name="Hjemmesiden", scopes=scopes, now=now or timezone.now(), **kw
        )

    return make
