"""Embedded pages: framed by the partner's registered origins only, tagged with their source."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from crm.models import Case
from partners.models import Partner
from routing.models import GuidanceRequest
from tests.routing.factories import form_data

pytestmark = pytest.mark.django_db

NONCE = "an-embedded-form-nonce-0123456789"


def frame_ancestors(response: Any) -> str:
    policy = response["Content-Security-Policy"]
    return next(p.strip() for p in policy.split(";") if p.strip().startswith("frame-ancestors"))


@pytest.mark.parametrize(
    "path",
    [
        "/indlejret/vejle/tilbud/",
        "/indlejret/vejle/tilbud/tema/export/",
        "/indlejret/vejle/vejledning/",
    ],
)
def test_a_registered_origin_may_frame_the_embedded_pages(
    client: Client, vejle: Partner, path: str
) -> None:
    response = client.get(path)

    assert response.status_code == 200
    assert frame_ancestors(response) == "frame-ancestors https://www.vejle.dk http://127.0.0.1:8765"
    assert not response.has_header("X-Frame-Options")
    html = response.content.decode()
    assert "Vejle Kommune, Erhverv" in html
    assert "Leveret af" in html
    assert 'class="header"' not in html  # no site header or footer menu


def test_each_partner_gets_its_own_origins_also_from_the_kept_answers(
    client: Client, vejle: Partner, aarhus: Partner
) -> None:
    client.get("/indlejret/vejle/tilbud/")
    plain = client.get("/tilbud/")
    first = client.get("/indlejret/aarhus/tilbud/")
    again = client.get("/indlejret/aarhus/tilbud/")

    assert frame_ancestors(first) == "frame-ancestors https://www.aarhus.dk"
    assert frame_ancestors(again) == "frame-ancestors https://www.aarhus.dk"
    assert "Aarhus Erhverv" in again.content.decode()
    assert "Vejle Kommune, Erhverv" not in again.content.decode()
    # The plain catalogue is neither the embedded answer nor framable.
    assert frame_ancestors(plain) == "frame-ancestors 'none'"
    assert plain["X-Frame-Options"] == "DENY"
    assert "Leveret af" not in plain.content.decode()


@pytest.mark.parametrize("path", ["/", "/tilbud/", "/vejledning/", "/om/"])
def test_every_other_page_still_refuses_framing(client: Client, vejle: Partner, path: str) -> None:
    response = client.get(path)

    assert response["X-Frame-Options"] == "DENY"
    assert frame_ancestors(response) == "frame-ancestors 'none'"


def test_an_unknown_or_inactive_partner_is_a_404_that_refuses_framing(
    client: Client, vejle: Partner
) -> None:
    Partner.objects.create(name="Slukket", slug="slukket", origins=["https://x.dk"], active=False)
    for path in ["/indlejret/ukendt/vejledning/", "/indlejret/slukket/tilbud/"]:
        response = client.get(path)
        assert response.status_code == 404
        assert response["X-Frame-Options"] == "DENY"
        assert frame_ancestors(response) == "frame-ancestors 'none'"


def test_the_accent_colour_is_the_only_inline_style_allowed(client: Client, vejle: Partner) -> None:
    response = client.get("/indlejret/vejle/vejledning/")

    style_src = next(p for p in response["Content-Security-Policy"].split(";") if "style-src" in p)
    assert "'sha256-" in style_src
    assert "'unsafe-inline'" not in style_src
    assert "<style>.embed{--embed-accent:#005a31}</style>" in response.content.decode()


def test_an_accent_colour_below_4_5_to_1_on_white_is_refused(vejle: Partner) -> None:
    vejle.accent_colour = "#4caf50"
    with pytest.raises(ValidationError) as refused:
        vejle.full_clean()
    assert "accent_colour" in refused.value.message_dict
    vejle.accent_colour = "#005A31"
    vejle.full_clean()
    assert vejle.accent_colour == "#005a31"


def test_a_registered_origin_must_be_an_https_site(vejle: Partner) -> None:
    vejle.origins = ["https://www.vejle.dk/erhverv", "http://vejle.dk"]
    with pytest.raises(ValidationError) as refused:
        vejle.full_clean()
    assert len(refused.value.message_dict["origins"]) == 2


def post_embedded(client: Client, slug: str = "vejle", data: dict[str, str] | None = None) -> Any:
    return client.post(
        f"/indlejret/{slug}/vejledning/",
        {"nonce": NONCE, **form_data(), **(data or {})},
        HTTP_SEC_FETCH_SITE="same-origin",
        HTTP_ORIGIN="http://testserver",
    )


def test_a_request_from_the_embedded_form_records_the_partner_and_its_page(
    client: Client, vejle: Partner, export_offers: None
) -> None:
    shown = client.get(
        "/indlejret/vejle/vejledning/?kilde=https://www.vejle.dk/erhverv/hjaelp",
    )
    assert 'value="https://www.vejle.dk/erhverv/hjaelp"' in shown.content.decode()

    client_without_token = Client(enforce_csrf_checks=True)
    response = post_embedded(
        client_without_token, data={"kilde": "https://www.vejle.dk/erhverv/hjaelp"}
    )

    assert response.status_code == 302
    request = GuidanceRequest.objects.get()
    assert response["Location"] == f"/indlejret/vejle/vejledning/{request.token}/kvittering/"
    case = request.case
    assert case.source == Case.Source.PARTNER_EMBED
    assert case.partner == vejle
    assert case.source_page == "https://www.vejle.dk/erhverv/hjaelp"
    assert case.partner_api_key is None
    receipt = client.get(response["Location"])
    assert receipt.status_code == 200
    assert frame_ancestors(receipt).startswith("frame-ancestors https://www.vejle.dk")
    assert case.reference in receipt.content.decode()


def test_a_crafted_page_on_another_site_is_not_recorded(
    client: Client, vejle: Partner, export_offers: None
) -> None:
    post_embedded(client, data={"kilde": "https://evil.example/phish"})

    case = Case.objects.get()
    assert case.partner == vejle
    assert case.source_page == ""


def test_a_cross_site_post_without_a_token_is_still_refused(
    vejle: Partner, export_offers: None
) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/indlejret/vejle/vejledning/",
        {"nonce": NONCE, **form_data()},
        HTTP_SEC_FETCH_SITE="cross-site",
        HTTP_ORIGIN="https://www.vejle.dk",
    )

    assert response.status_code == 403
    assert not Case.objects.exists()


def test_another_partners_receipt_address_shows_nothing(
    client: Client, vejle: Partner, aarhus: Partner, export_offers: None
) -> None:
    post_embedded(client)
    token = GuidanceRequest.objects.get().token

    assert client.get(f"/indlejret/aarhus/vejledning/{token}/kvittering/").status_code == 404


def test_the_embedded_form_keeps_the_clients_rate_limit(
    client: Client, settings: Any, vejle: Partner, export_offers: None
) -> None:
    settings.RATELIMIT_ENABLE = True
    from django.core.cache import cache

    cache.clear()
    import routing.views

    original = routing.views.SUBMIT_RATE
    routing.views.SUBMIT_RATE = "1/h"
    try:
        assert post_embedded(client).status_code == 302
        limited = post_embedded(client)
    finally:
        routing.views.SUBMIT_RATE = original
    assert limited.status_code == 429
    # Still framable by the partner, so the visitor reads the message inside the frame.
    assert frame_ancestors(limited).startswith("frame-ancestors https://www.vejle.dk")


def test_the_theme_catalogue_shows_only_that_themes_offers_with_the_theme_fixed(
    client: Client, vejle: Partner, export_offers: None
) -> None:
    html = client.get("/indlejret/vejle/tilbud/tema/capital/?theme=export").content.decode()

    assert "<h1>Tilbud om Kapital og finansiering</h1>" in html
    assert "Lån til vækst" in html
    assert "Eksportstart" not in html  # a theme in the address cannot widen the page's theme
    assert "Nulstil alle filtre" not in html and "valgt)" not in html
    assert 'action="/indlejret/vejle/tilbud/tema/capital/"' in html
    assert 'target="_blank" rel="noopener"' in html
    assert client.get("/indlejret/vejle/tilbud/tema/ukendt/").status_code == 404
