"""Every public page is reachable, and each kind of question has its own route."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

SYSTEM_PAGES = [
    "governance:service_standards",
    "offers:clusters",
    "governance:growth_index",
    "governance:business_regions",
]


def _hrefs(html: str) -> set[str]:
    return set(re.findall(r'href="([^"#]+)', html))


@pytest.mark.parametrize("language", ["da", "en"])
def test_the_footer_links_the_pages_of_the_business_support_system(
    client: Client, language: str
) -> None:
    client.cookies["django_language"] = language
    response = client.get("/")
    assert response.status_code == 200
    assert f'<html lang="{language}"' in response.text
    links = _hrefs(response.text)
    for name in SYSTEM_PAGES:
        url = reverse(name)
        assert url in links, f"{name} is linked from nowhere on the {language} home page"
        assert client.get(url).status_code == 200


def test_contact_and_accessibility_have_routes_of_their_own(client: Client, settings) -> None:
    settings.PORTAL_CONTACT_EMAIL = "kontakt@portal.example.dk"
    settings.PORTAL_ACCESSIBILITY_EMAIL = "wcag@portal.example.dk"
    html = client.get(reverse("about")).text
    contact = html[html.index('id="kontakt"') : html.index('id="tilgaengelighed"')]
    accessibility = html[html.index('id="tilgaengelighed"') : html.index("</main>")]
    assert "mailto:kontakt@portal.example.dk" in contact
    assert "mailto:wcag@portal.example.dk" in accessibility
    # The guidance form opens a case at a hub: it is no route for an accessibility complaint.
    assert reverse("routing:guidance") not in accessibility
    assert "Digitaliseringsstyrelsen" in accessibility
