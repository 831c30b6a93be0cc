"""The accessibility statement on /om/#tilgaengelighed: what Danish public websites must state
(webtilgængelighedsloven § 4): the compliance status against EN 301 549 (WCAG 2.1 AA), the day
it was last reviewed, how the portal was assessed, the known limitations, where to report a
problem, where to complain, and a link to the official statement made with
Digitaliseringsstyrelsen's WAS-Tool. The date and both links come from settings."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from portal.settings import env_date

pytestmark = pytest.mark.django_db


def _statement(client: Client, language: str) -> str:
    client.cookies["django_language"] = language
    html = client.get("/om/").text
    assert f'<html lang="{language}"' in html
    return html[html.index('id="tilgaengelighed"') : html.index("</main>")]


@pytest.mark.parametrize(("language", "day"), [("da", "9. marts 2027"), ("en", "9 March 2027")])
def test_it_states_the_status_the_review_date_and_links_the_was_statement(
    client: Client, settings, language: str, day: str
) -> None:
    settings.ACCESSIBILITY_STATEMENT_DATE = dt.date(2027, 3, 9)
    settings.ACCESSIBILITY_STATEMENT_URL = "https://www.was.digst.dk/erhvervsfremme-example-dk"
    settings.ACCESSIBILITY_COMPLAINT_URL = "https://digst.dk/klage-over-tilgaengelighed/"
    settings.PORTAL_ACCESSIBILITY_EMAIL = "wcag@portal.example.dk"

    statement = _statement(client, language)

    with translation.override(language):
        status = gettext("Status: Delvist overholdt.")
        how = gettext("Sådan har vi vurderet portalen")
        limitations = gettext("Kendte begrænsninger")
        report = gettext("Sådan melder du et problem med tilgængeligheden")
    # The date in the reader's language: "9. marts 2027" in Danish, "9 March 2027" in English.
    assert day in statement
    assert f"<strong>{status}</strong>" in statement
    assert "EN 301 549" in statement and "WCAG 2.1" in statement
    for heading in (how, limitations, report):
        assert heading in statement
    # The official statement in WAS-Tool and Digitaliseringsstyrelsen's complaint page, both
    # Danish pages.
    assert (
        '<a href="https://www.was.digst.dk/erhvervsfremme-example-dk" hreflang="da">' in statement
    )
    assert '<a href="https://digst.dk/klage-over-tilgaengelighed/" hreflang="da">' in statement
    # Reporting a problem still goes to the statement's own address.
    assert "mailto:wcag@portal.example.dk" in statement


def test_the_status_says_partially_compliant_and_claims_no_official_statement_until_one_is_set(
    client: Client, settings
) -> None:
    settings.ACCESSIBILITY_STATEMENT_URL = ""
    statement = " ".join(_statement(client, "da").split())

    assert "<strong>Status: Delvist overholdt.</strong>" in statement
    assert "Vi har senest gennemgået erklæringen den " in statement
    assert "Vi har selv vurderet portalen." in statement
    # Until its address on was.digst.dk is set, the page neither links to nor claims it.
    assert "offentliggjort på was.digst.dk" not in statement
    assert "was.digst.dk/" not in statement
    assert (
        '<a href="https://digst.dk/digital-inklusion/webtilgaengelighed/'
        'oplever-du-ikke-tilgaengeligt-indhold/" hreflang="da">'
    ) in statement
    # A limitation that is true: the effects charts scroll sideways on a phone, with a table.
    assert "skal du rulle vandret" in statement


def test_the_review_date_comes_from_an_iso_date(monkeypatch) -> None:
    monkeypatch.setenv("ACCESSIBILITY_STATEMENT_DATE", "2027-03-09")
    assert env_date("ACCESSIBILITY_STATEMENT_DATE", "2026-12-06") == dt.date(2027, 3, 9)

    monkeypatch.delenv("ACCESSIBILITY_STATEMENT_DATE")
    assert env_date("ACCESSIBILITY_STATEMENT_DATE", "2026-12-06") == dt.date(2026, 12, 6)

    # A line in .env without a value is unset, as for the other settings.
    monkeypatch.setenv("ACCESSIBILITY_STATEMENT_DATE", "")
    assert env_date("ACCESSIBILITY_STATEMENT_DATE", "2026-12-06") == dt.date(2026, 12, 6)

    monkeypatch.setenv("ACCESSIBILITY_STATEMENT_DATE", "9/3/2027")
    with pytest.raises(ImproperlyConfigured, match="ACCESSIBILITY_STATEMENT_DATE"):
        env_date("ACCESSIBILITY_STATEMENT_DATE", "2026-12-06")
