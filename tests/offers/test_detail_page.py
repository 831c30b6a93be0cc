"""The offer page: the offer's own way in first, and its Danish texts marked as Danish."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from tests.offers.factories import make_offer

pytestmark = pytest.mark.django_db


def _header(html: str) -> str:
    return html[
        html.index('<header class="offer-header">') : html.index(
            "</header>", html.index('<header class="offer-header">')
        )
    ]


def test_an_open_offer_with_a_website_makes_that_the_primary_action(client: Client) -> None:
    offer = make_offer(
        external_id="med-side", url="https://eksport.example.dk/soeg", operator="eksportraadet"
    )

    header = _header(client.get(offer.get_absolute_url()).text)

    primary = re.search(r'<a class="button button-primary" href="([^"]+)"[^>]*>([^<]+)', header)
    assert primary is not None
    assert primary.group(1) == "https://eksport.example.dk/soeg"
    assert primary.group(2).startswith("Søg hos Eksportrådet")
    assert 'class="button button-secondary" href="/vejledning/?offer=med-side"' in header


@pytest.mark.parametrize(
    "changes",
    [
        {"url": ""},
        {"url": "https://x.example.dk", "application_deadline": dt.date(2020, 1, 1)},
    ],
)
def test_without_a_website_or_when_closed_guidance_is_the_primary_action(
    client: Client, changes: dict
) -> None:
    offer = make_offer(external_id="uden-side", **changes)

    header = _header(client.get(offer.get_absolute_url()).text)

    assert 'class="button button-primary" href="/vejledning/?offer=uden-side"' in header
    assert "Søg hos" not in header


def test_on_the_english_site_the_danish_texts_say_they_are_danish(client: Client) -> None:
    offer = make_offer(
        external_id="paa-dansk",
        title="Eksportstart",
        summary="De første skridt.",
        description="En rådgiver hjælper.",
        expected_result="En plan.",
        how_to_apply="Ring til os.",
        last_reviewed=timezone.localdate(),
    )

    english = client.get(offer.get_absolute_url(), headers={"accept-language": "en"}).text
    danish = client.get(offer.get_absolute_url(), headers={"accept-language": "da"}).text

    assert '<html lang="en">' in english
    assert '<h1 lang="da">Eksportstart</h1>' in english
    # The breadcrumb ends with the title too.
    assert re.search(r'aria-current="page">.*<span lang="da">Eksportstart</span></li>', english)
    assert '<p class="font-lead" lang="da">De første skridt.</p>' in english
    for text in ("En rådgiver hjælper.", "En plan.", "Ring til os."):
        assert re.search(rf'<div lang="da"><p>{text}</p>', english), text
    assert "describes it in Danish" in english
    assert "offer-language-note" not in danish
