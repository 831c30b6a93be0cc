"""The front page opens the catalogue by a company's situation, not by administrative themes."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client

from offers.models import Theme
from portal.situations import SITUATIONS

pytestmark = pytest.mark.django_db


def test_every_situation_names_themes_that_exist() -> None:
    slugs = set(Theme.objects.values_list("slug", flat=True))
    for situation in SITUATIONS:
        assert situation.themes and set(situation.themes) <= slugs, situation.title


def test_the_home_page_lists_the_situations_and_each_opens_a_search(client: Client) -> None:
    html = client.get("/").text

    assert "Hvad vil du gerne?" in html
    for title in ("Start virksomhed", "Sælg i udlandet", "Find finansiering"):
        assert title in html
    # Administrative category names are no longer the way in.
    assert "Find tilbud efter emne" not in html
    for situation in SITUATIONS:
        assert f'href="{situation.url.replace("&", "&amp;")}"' in html
        query = parse_qs(urlparse(situation.url).query)
        assert query["theme"] == list(situation.themes)
        assert client.get(situation.url).status_code == 200


def test_the_situations_are_in_english_on_the_english_site(client: Client) -> None:
    html = client.get("/", headers={"accept-language": "en"}).text
    assert "Sell abroad" in html and "Sælg i udlandet" not in html
