"""Reasons worded in the page's language, on the confirmation page and in what a request stores;
the English site's catalogue search through the needs vocabulary."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from routing.matching import Reason, ReasonCode
from routing.models import GuidanceRequest
from routing.reasons import reason_text, reasons_text, stored_reasons_html
from routing.services import guidance_request_submit
from tests.routing.factories import (
    OfferFactory,
    export_offers_that_cannot_be_combined,
    index_offers,
    submission,
)

pytestmark = pytest.mark.django_db

THEMES = {"export": ("eksport", "export")}
REASONS = [
    Reason(ReasonCode.NEED_WORDS, ("sælge i udlandet", "messe")),
    Reason(ReasonCode.TOPICS, ("export", "fair")),
    Reason(ReasonCode.THEMES, ("export",)),
    Reason(ReasonCode.RESULT, ("I ved, om markedet er realistisk.",)),
    Reason(ReasonCode.INDUSTRY_GROUP, ("31",)),
    Reason(ReasonCode.INDUSTRY, ("C",)),
    Reason(ReasonCode.MUNICIPALITY, ("Vejle Kommune",)),
    Reason(ReasonCode.REGION, ("",)),
    Reason(ReasonCode.SIZE, ("small",)),
    Reason(ReasonCode.PHASE, ("growth",)),
    Reason(ReasonCode.ORIGIN),
]


def test_it_words_every_reason_in_danish() -> None:
    with translation.override("da"):
        assert reasons_text(REASONS, themes=THEMES) == [
            "Svarer på det, du skriver: »sælge i udlandet« og »messe«",
            "Handler om eksport og messer",
            "Matcher dit behov: eksport",
            "Det får du ud af det: I ved, om markedet er realistisk.",
            "Målrettet møbelindustrien",
            "Målrettet din branche: fremstillingsvirksomhed",
            "Tilbydes i Vejle Kommune",
            "Tilbydes i din region",
            "For virksomheder med 10–49 ansatte",
            "For virksomheder i vækst",
            "Det tilbud, du spurgte om",
        ]


def test_it_words_every_reason_in_english_and_marks_the_danish_offer_text() -> None:
    with translation.override("en"):
        worded = [reason_text(r, themes=THEMES, html=True) for r in REASONS]

    assert worded == [
        "Answers what you wrote: “sælge i udlandet” and “messe”",
        "About export and trade fairs",
        "Matches your needs: export",
        'What you get: <span lang="da">I ved, om markedet er realistisk.</span>',
        "Aimed at the furniture industry",
        "Aimed at your industry: manufacturing",
        "Offered in Vejle Kommune",
        "Offered in your region",
        "For businesses with 10–49 employees",
        "For growing businesses",
        "The offer you asked about",
    ]


def test_a_request_stored_before_reasons_were_data_shows_its_danish_reasons() -> None:
    stored = [{"external_id": "x", "reasons": ["Matcher dit behov: eksport"]}]

    with translation.override("en"):
        assert stored_reasons_html(stored, themes={}) == [["Matcher dit behov: eksport"]]


@pytest.fixture
def submitted(export_offers: None) -> GuidanceRequest:
    return guidance_request_submit(submission=submission(), channel="form")


def test_the_confirmation_page_gives_the_reasons_in_english_on_the_english_site(
    client: Client, submitted: GuidanceRequest
) -> None:
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    html = client.get(f"/vejledning/{submitted.token}/kvittering/").content.decode()

    assert "Matches your needs: export" in html
    assert "Matcher dit behov" not in html
    assert 'lang="da"' in html


def test_the_confirmation_page_gives_the_reasons_in_danish(
    client: Client, submitted: GuidanceRequest
) -> None:
    html = client.get(f"/vejledning/{submitted.token}/kvittering/").content.decode()

    assert "Matcher dit behov: eksport" in html
    assert "Matches your needs" not in html


def test_the_confirmation_names_the_alternative_that_cannot_be_combined(
    client: Client, db: None
) -> None:
    export_offers_that_cannot_be_combined()

    request = guidance_request_submit(submission=submission(), channel="form")

    assert len(request.matches) == 1
    alternative = request.matches[0]["alternatives"][0]
    assert {request.matches[0]["external_id"], alternative["external_id"]} == {
        "eksportstart",
        "eksportklar",
    }
    html = client.get(f"/vejledning/{request.token}/kvittering/").content.decode()
    assert "Kan ikke kombineres med" in html
    assert f'href="/tilbud/{alternative["external_id"]}/"' in html


# --- The English site's catalogue search ------------------------------------------------------


@pytest.fixture
def catalogue(db: None) -> None:
    OfferFactory(
        external_id="eksport", title="Eksportrådgivning", summary="Hjælp til eksport.", themes=[]
    )
    OfferFactory(
        external_id="finansiering",
        title="Vækstlån",
        summary="Finansiering af nye planer.",
        themes=[],
    )
    OfferFactory(
        external_id="ivaerksaetter",
        title="Iværksættervejledning",
        summary="Start din virksomhed.",
        themes=[],
    )
    index_offers()


@pytest.mark.parametrize(
    ("query", "found"),
    [("export", "eksport"), ("funding", "finansiering"), ("start-up", "ivaerksaetter")],
)
def test_the_english_site_search_finds_offers_for_english_words(
    client: Client, catalogue: None, query: str, found: str
) -> None:
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    html = client.get("/tilbud/", {"q": query}).content.decode()

    assert f'href="/tilbud/{found}/"' in html


def test_the_danish_site_search_is_not_expanded(client: Client, catalogue: None) -> None:
    html = client.get("/tilbud/", {"q": "export"}).content.decode()

    assert 'href="/tilbud/eksport/"' not in html
