"""The hubs' name is data: one setting and the organisations' names rename them everywhere a
company reads, in both languages."""

from __future__ import annotations

import importlib

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.utils import translation

from offers.hub_terms import HUB_TERM
from offers.models import Organisation
from routing.models import GuidanceRequest
from routing.services import guidance_request_submit
from tests.offers.factories import make_export_start
from tests.routing.factories import submission

pytestmark = pytest.mark.django_db

ERHVERVSHUS = ["Erhvervshus", "Erhvervshuset", "Erhvervshuse", "Erhvervshusene"]


@pytest.fixture
def erhvervshuse(settings, eager_tasks) -> None:
    settings.HUB_TERM = ERHVERVSHUS
    for hub in Organisation.objects.hubs():
        hub.name = hub.name.replace("Væksthus", "Erhvervshus")
        hub.save(update_fields=["name"])


def test_the_term_follows_the_language() -> None:
    assert (HUB_TERM.one, HUB_TERM.the, HUB_TERM.many, HUB_TERM.the_many) == (
        "Væksthus",
        "Væksthuset",
        "Væksthuse",
        "Væksthusene",
    )
    with translation.override("en"):
        assert (HUB_TERM.the, HUB_TERM.the_many) == ("Væksthus", "Væksthuse")


@pytest.mark.parametrize("language", ["da", "en"])
def test_no_page_a_company_reads_says_vaeksthus_once_the_hubs_are_erhvervshuse(
    client: Client, erhvervshuse: None, language: str
) -> None:
    offer = make_export_start()
    guidance_request = guidance_request_submit(submission=submission(), channel="form")
    client.cookies["django_language"] = language
    pages = [
        "/",
        "/om/",
        "/privatliv/",
        "/vejledning/",
        "/tilbud/?q=eksport",
        offer.get_absolute_url(),
        guidance_request.get_absolute_url(),
        f"/vejledning/{guidance_request.token}/kvittering/",
        "/servicestandarder/",
        "/no-such-page/",
    ]
    for path in pages:
        html = client.get(path, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert "Væksthus" not in html, path
        if path != "/tilbud/?q=eksport":  # its help box shows only without results
            assert "Erhvervshus" in html, path


def test_the_receipt_names_the_hub_by_its_name(
    erhvervshuse: None, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        guidance_request_submit(submission=submission(), channel="form")

    receipt = next(m for m in mail.outbox if "mette" in m.to[0].lower())
    assert "Væksthus" not in receipt.body
    assert GuidanceRequest.objects.get().hub.name in receipt.body


def test_a_term_without_its_four_forms_stops_the_start(monkeypatch) -> None:
    import portal.settings

    monkeypatch.setenv("HUB_TERM", "Erhvervshus,Erhvervshuset")
    try:
        with pytest.raises(ImproperlyConfigured, match="four comma-separated forms"):
            importlib.reload(portal.settings)
    finally:
        monkeypatch.delenv("HUB_TERM")
        importlib.reload(portal.settings)
