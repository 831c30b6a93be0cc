"""The status page words the company's timeline in the page's language, from each entry's code."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone, translation

from crm import services as crm_services
from crm.models import Case, TimelineEntry
from offers.models import Offer
from routing.models import GuidanceRequest
from routing.services import guidance_request_submit
from tests.routing.factories import OfferFactory, index_offers, submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def adviser(make_user):
    return make_user("soeren", organisation="vaeksthus-syddanmark", role="Rådgiver")


@pytest.fixture
def submitted() -> GuidanceRequest:
    OfferFactory(external_id="eksportstart", title="Eksportstart", themes=["export"])
    index_offers()
    return guidance_request_submit(submission=submission(), channel="form")


def timeline(client: Client, token: str, language: str) -> str:
    client.cookies["django_language"] = language
    html = client.get(f"/vejledning/{token}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    start = html.index('class="routing-timeline"')
    return html[start : html.index("</ol>", start)]


def test_the_english_status_page_tells_the_timeline_in_english(
    client: Client, submitted: GuidanceRequest, adviser
) -> None:
    case = submitted.case
    crm_services.case_assign(case=case, adviser=adviser, actor=adviser)
    crm_services.referral_create(
        case=case, offer=Offer.objects.get(external_id="eksportstart"), actor=adviser
    )
    crm_services.case_close(case=case, outcome="guided", actor=adviser)

    english = timeline(client, submitted.token, "en")
    danish = timeline(client, submitted.token, "da")

    assert "The request has been received by Væksthus Syddanmark." in english
    assert "An adviser has taken your case." in english
    assert "You have been referred to:" in english
    assert 'lang="da">Eksportstart</a>' in english
    assert "The case is closed" in english
    for stored in ("modtaget af", "En rådgiver har taget", "Du er henvist", "Sagen er lukket"):
        assert stored not in english
    assert "Henvendelsen er modtaget af Væksthus Syddanmark." in danish
    assert "En rådgiver har taget din sag." in danish
    assert 'lang="da"' not in danish.replace('lang="da">Eksportstart', "")


def test_an_entry_of_an_unknown_kind_keeps_its_stored_danish_text_marked_as_danish(
    client: Client, submitted: GuidanceRequest
) -> None:
    TimelineEntry.objects.create(
        case=submitted.case,
        kind=TimelineEntry.Kind.NOTE,
        action="crm.something.new",
        text="Noget nyt er sket på din sag.",
        is_public=True,
        at=timezone.now() + dt.timedelta(minutes=1),
    )

    english = timeline(client, submitted.token, "en")

    assert '<span lang="da">Noget nyt er sket på din sag.</span>' in english


def needs(client: Client, token: str, language: str) -> str:
    client.cookies["django_language"] = language
    html = client.get(f"/vejledning/{token}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    start = html.index('class="routing-needs"')
    return html[start - 3 : html.index("</p>", start)]


def test_the_company_s_own_text_is_marked_with_the_language_it_was_written_in(
    client: Client,
) -> None:
    with translation.override("en"):
        english = guidance_request_submit(
            submission=submission(needs="We want to export to Germany."), channel="form"
        )
    danish = guidance_request_submit(
        submission=submission(cvr="35120009", needs="Vi vil eksportere til Tyskland."),
        channel="form",
    )
    unknown = guidance_request_submit(
        submission=submission(cvr="35120106", needs="Hjælp til at ansætte."), channel="form"
    )
    Case.objects.filter(pk=unknown.case.pk).update(language="")

    assert needs(client, english.token, "da") == (
        '<p class="routing-needs" lang="en">We want to export to Germany.'
    )
    assert needs(client, danish.token, "en") == (
        '<p class="routing-needs" lang="da">Vi vil eksportere til Tyskland.'
    )
    assert needs(client, unknown.token, "en") == (
        '<p class="routing-needs" lang="da">Hjælp til at ansætte.'
    )
