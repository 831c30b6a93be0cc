"""A partner's page on another origin frames the portal's guidance form; a company fills it in
inside the frame, without third-party cookies, and the case records the partner and the page.
axe runs inside the frame, at a phone's and a desktop's width."""

from __future__ import annotations

import http.server
import os
import re
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from crm.models import Case
from offers.models import Organisation
from partners.models import ApiKey, Partner
from tests.offers.factories import make_export_start

HOST_PAGE = """<!DOCTYPE html>
<html lang="da"><head><meta charset="utf-8"><title>Vejle Kommune – Erhverv</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Få hjælp til din virksomhed</h1>
<iframe id="efp" src="{src}" title="Få vejledning" style="width:100%;height:2600px;border:0"
 referrerpolicy="no-referrer-when-downgrade"></iframe>
</main></body></html>"""


@pytest.fixture
def partner_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A second origin (127.0.0.1 on its own port), serving the partner's HTML page."""
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()
        server.server_close()


def _frame_shot(page: Any, name: str) -> None:
    """What the visitor sees: the host page's first screen with the frame (a full-page shot leaves
    a cross-origin frame unpainted below the viewport), and the frame's whole document at the
    same width; saved to $E2E_SCREENSHOTS like the ``screenshot`` fixture's."""
    folder = os.environ.get("E2E_SCREENSHOTS", "")
    if not folder:
        return
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(Path(folder) / f"{name}.png"))
    inner = next(f for f in page.frames if "/indlejret/" in f.url)
    # In a context of its own, so its first-party cookies do not mix with the framed visit's.
    separate = page.context.browser.new_context(locale="da-DK", viewport=page.viewport_size)
    alone = separate.new_page()
    alone.goto(inner.url)
    alone.screenshot(path=str(Path(folder) / f"{name}-whole.png"), full_page=True)
    separate.close()


def _frame(page: Any) -> Any:
    frame = page.frame_locator("#efp")
    expect(frame.get_by_role("heading", level=1)).to_be_visible()
    return frame, next(f for f in page.frames if "/indlejret/" in f.url)


@pytest.mark.parametrize("width", [390, 1280])
def test_a_company_sends_the_embedded_form_from_a_partners_page(
    browser: Any,
    live_url: str,
    partner_site: tuple[str, Path],
    assert_accessible: Any,
    width: int,
) -> None:
    origin, folder = partner_site
    make_export_start(company_sizes=["micro", "small"])
    Partner.objects.create(
        name="Vejle Kommune, Erhverv", slug="vejle", origins=[origin], accent_colour="#005a31"
    )
    (folder / "erhverv.html").write_text(
        HOST_PAGE.format(src=f"{live_url}/indlejret/vejle/vejledning/"), encoding="utf-8"
    )
    context = browser.new_context(locale="da-DK", viewport={"width": width, "height": 900})
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda message: refused.append(message.text) if "frame" in message.text.lower() else None,
    )
    try:
        page.goto(f"{origin}/erhverv.html")
        frame, inner = _frame(page)
        expect(frame.get_by_text("Vejle Kommune, Erhverv")).to_be_visible()
        expect(frame.get_by_text("Leveret af")).to_be_visible()
        assert_accessible(inner)
        _frame_shot(page, f"partner-embed-form-{width}")

        frame.get_by_label("Hvad har du brug for hjælp til?").fill(
            "Vi vil gerne begynde at eksportere vores maskiner til Tyskland."
        )
        frame.get_by_label("Eksport", exact=True).check()
        frame.get_by_label("Kommune", exact=True).select_option(label="Vejle")
        frame.get_by_label("Dit navn").fill("Mette Hansen")
        frame.get_by_label("Din e-mail").fill("mette@vejle-maskinfabrik.dk")
        # No consent box: the form informs (a public task, GDPR art. 6(1)(e)); the privacy page
        # opens outside the frame.
        privacy = frame.get_by_role("link", name="Læs, hvordan vi behandler dine oplysninger")
        expect(privacy).to_have_attribute("target", "_blank")
        frame.get_by_role("button", name="Send henvendelse").click()

        expect(frame.get_by_role("heading", level=1)).to_have_text(
            "Tak – vi har modtaget din henvendelse"
        )
        case = Case.objects.get()
        expect(frame.locator(".routing-reference")).to_have_text(case.reference)
        inner = next(f for f in page.frames if "/kvittering/" in f.url)
        assert_accessible(inner)
        # No third-party cookie was needed: the frame holds none of the portal's.
        assert not [c for c in context.cookies(live_url) if c["name"] in ("csrftoken", "sessionid")]
        _frame_shot(page, f"partner-embed-receipt-{width}")
    finally:
        context.close()

    assert case.source == Case.Source.PARTNER_EMBED
    assert case.partner is not None and case.partner.slug == "vejle"
    assert case.source_page == f"{origin}/erhverv.html"


def test_a_site_that_did_not_register_is_refused_the_frame(
    browser: Any, live_url: str, partner_site: tuple[str, Path]
) -> None:
    origin, folder = partner_site
    Partner.objects.create(name="Aarhus Erhverv", slug="aarhus", origins=["https://www.aarhus.dk"])
    (folder / "fremmed.html").write_text(
        HOST_PAGE.format(src=f"{live_url}/indlejret/aarhus/vejledning/"), encoding="utf-8"
    )
    context = browser.new_context(locale="da-DK")
    page = context.new_page()
    try:
        page.goto(f"{origin}/fremmed.html")
        inner = next(f for f in page.frames if f != page.main_frame)
        # Chromium replaces a refused frame's document with its error page (waited for: the
        # frame's address is only known from an event that may come after the page's load).
        inner.wait_for_url(re.compile(r"^chrome-error://"), wait_until="commit")
        assert inner.url.startswith("chrome-error://")
        assert "/indlejret/" not in inner.url
    finally:
        context.close()


def test_the_theme_catalogue_is_accessible_inside_the_frame_and_offers_open_in_a_new_tab(
    browser: Any, live_url: str, partner_site: tuple[str, Path], assert_accessible: Any
) -> None:
    origin, folder = partner_site
    make_export_start(company_sizes=["micro", "small"])
    Partner.objects.create(name="Vejle Kommune, Erhverv", slug="vejle", origins=[origin])
    (folder / "eksport.html").write_text(
        HOST_PAGE.format(src=f"{live_url}/indlejret/vejle/tilbud/tema/export/"), encoding="utf-8"
    )
    context = browser.new_context(locale="da-DK", viewport={"width": 390, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{origin}/eksport.html")
        frame, inner = _frame(page)
        offer = frame.get_by_role("link", name="Eksportstart for små virksomheder")
        expect(offer).to_have_attribute("target", "_blank")
        # The theme is fixed: no theme filter to take off.
        expect(frame.locator("#search-filters-content legend", has_text="Tema")).to_have_count(0)
        assert_accessible(inner)
        _frame_shot(page, "partner-embed-theme-catalogue-390")
    finally:
        context.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_partner_staff_make_a_key_see_it_once_and_revoke_it(
    browser: Any, live_url: str, make_user: Any, assert_accessible: Any, screenshot: Any, width: int
) -> None:
    Partner.objects.create(
        name="Vejle Kommune, Erhverv",
        slug="vejle",
        origins=["https://www.vejle.dk"],
        organisation=Organisation.objects.get(slug="kommune-630"),
    )
    make_user("vejle-erhverv", organisation="kommune-630")
    context = browser.new_context(locale="da-DK", viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(live_url + "/admin/login/?next=/admin/partners/apikey/add/")
        page.get_by_label("Brugernavn").fill("vejle-erhverv")
        page.get_by_label("Adgangskode").fill("a-long-test-password")
        page.get_by_role("button", name="Log ind").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Ny API-nøgle")
        assert_accessible(page)
        page.get_by_label("Navn").fill("Hjemmesiden")
        page.get_by_label("Sende henvendelser om vejledning").check()
        page.get_by_role("button", name="Lav nøglen").click()

        shown = page.locator("#issued-key").input_value()
        key = ApiKey.objects.get()
        assert shown.startswith(f"efp_{key.prefix}_")
        assert_accessible(page)
        screenshot(page, f"partner-admin-key-issued-{width}")

        page.get_by_role("link", name="Til nøglen").click()
        expect(page.get_by_text(shown)).to_have_count(0)
        page.get_by_role("button", name="Spær").click()
        expect(page.get_by_text("Nøglen er spærret og virker ikke længere.")).to_be_visible()
        assert_accessible(page)
        screenshot(page, f"partner-admin-key-revoked-{width}")
    finally:
        context.close()
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_the_api_docs_page_shows_the_integrators_guide(page: Any, live_url: str) -> None:
    page.goto(live_url + "/api/docs/")

    expect(page.get_by_role("heading", name="Integrator's guide: the partner API")).to_be_visible(
        timeout=15000
    )
    expect(page.get_by_text("import os, uuid, requests")).to_be_visible()
    expect(
        page.locator(".opblock-summary-path", has_text="/api/partner/guidance-requests/")
    ).to_be_visible()
