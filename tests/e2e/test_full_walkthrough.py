"""The whole walk-through: every public page and the editor's pages, at 390 and 1280 px, in Danish
and English, in one browser.

On every page: the page speaks the chosen language (``<html lang>``), axe finds no WCAG A/AA
violation, nothing is wider than the screen (no sideways scrolling on a phone), and on English
pages no common Danish word shows outside an element marked ``lang="da"`` (an offer's own texts)
or a name (organisations, municipalities, regions: proper names stay Danish).

All problems are collected and reported together, each with its page, width and language; with
``E2E_SCREENSHOTS`` set, each page is saved as ``full-<page>-<width>-<language>.png``.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.urls import reverse

from evaluation.models import EffectEstimate
from offers.models import Municipality, Organisation, Region
from routing.services import guidance_request_submit
from tests.evaluation.factories import make_published_effects
from tests.offers.factories import make_export_start, make_offer
from tests.routing.factories import submission

WIDTHS = (390, 1280)
LANGUAGES = ("da", "en")

# Words that are Danish and never English: one of them outside lang="da" on an English page is
# an untranslated text.
DANISH_WORDS = (
    "og",
    "til",
    "ikke",
    "eller",
    "af",
    "med",
    "der",
    "det",
    "som",
    "på",
    "kan",
    "skal",
    "ingen",
    "tilbud",
    "tilbuddet",
    "virksomhed",
    "virksomheder",
    "virksomheden",
    "vejledning",
    "søg",
    "hjælp",
    "sager",
    "måneder",
    "uger",
    "dage",
    "gem",
    "tilbage",
    "læs",
    "mere",
    "frist",
    "fejl",
    "henvendelse",
)

# The status page repeats what the company wrote (in its own words, in any language) and the
# case's history as the hub recorded it; its wording is the routing pages' own.
DANISH_CHECK_SKIPPED = frozenset({"status"})

# Visible text outside a Danish-marked element, names taken out, as lower-case words.
DANISH_WORDS_SCRIPT = """([words, names]) => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const element = node.parentElement;
    if (!element || element.closest("script, style, noscript")) continue;
    const marked = element.closest("[lang]");
    if (marked && marked.getAttribute("lang").startsWith("da")) continue;
    if (!element.checkVisibility({visibilityProperty: true})) continue;
    let text = node.textContent;
    for (const name of names) text = text.split(name).join(" ");
    for (const word of text.toLowerCase().split(/[^a-zæøåé]+/)) {
      if (words.includes(word)) found.push(`${word} in “${node.textContent.trim().slice(0, 80)}”`);
    }
  }
  return found.slice(0, 5);
}"""


@pytest.fixture
def pages(live_url: str) -> dict[str, str]:
    """The public pages, with a catalogue, effects, clusters and growth agreements behind them."""
    from governance import demo as governance_demo

    governance_demo.load(stdout=io.StringIO())
    offer = make_export_start(
        delivery_time="3–4 måneder",
        price="subsidised",
        price_details="Du betaler halvdelen af rådgiverens honorar.",
        url="https://example.dk/eksportstart",
    )
    make_offer(
        external_id="klynge-netvaerk",
        title="Netværk for robotvirksomheder",
        summary="Mød andre virksomheder, der bruger robotter.",
        owner="cluster-robotter",  # Odense Robotics, the national cluster of its position
        themes=["export"],
    )
    effects = make_published_effects()
    EffectEstimate.objects.filter(offer=effects["growth"]).update(offer=offer)
    request = guidance_request_submit(submission=submission(), channel="form")
    region = Region.objects.order_by("code").first()
    assert region is not None
    return {
        "home": "/",
        "search": "/tilbud/",
        "search-words": "/tilbud/?q=eksport",
        "search-nothing": "/tilbud/?q=qqxyzzy",
        "offer": offer.get_absolute_url(),
        "effects": "/effekter/",
        "offer-effects": reverse("evaluation:offer", args=[offer.external_id]),
        "clusters": "/klynger/",
        "growth": "/vaekstaftaler/",
        "growth-region": reverse("governance:growth_region", args=[region.slug]),
        "business-regions": "/erhvervssamarbejder/",
        "service-standards": "/servicestandarder/",
        "about": "/om/",
        "privacy": "/privatliv/",
        "guidance": "/vejledning/",
        "status": request.get_absolute_url(),
        "saved-search-sent": "/gemte-soegninger/sendt/",
        "not-found": "/findes-ikke/",
    }


def _names() -> list[str]:
    """Proper names that stay Danish on an English page, longest first."""
    names: set[str] = {"Det Fælles Designsystem"}  # the design system /om/ names
    names |= set(Organisation.objects.values_list("name", flat=True))
    names |= set(Region.objects.values_list("name", flat=True))
    for municipality in Municipality.objects.all():
        names |= {municipality.name, str(municipality)}
    return sorted(names, key=len, reverse=True)


def _log_in(page: Any, live_url: str, username: str) -> None:
    page.goto(f"{live_url}/admin/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill("a-long-test-password")
    page.locator("#login-form [type=submit]").click()
    page.wait_for_url(f"{live_url}/admin/")


def test_every_page_fits_a_phone_passes_axe_and_speaks_one_language(
    browser, live_url, pages, make_user, assert_accessible, screenshot
) -> None:
    make_user("redaktoer-midt", organisation="region-midtjylland", role="Redaktør")
    editable = make_offer(
        external_id="midt-gennemgang",
        title="Automatiseringstjek for produktionsvirksomheder",
        owner="region-midtjylland",
        operator="vaeksthus-midtjylland",
        level="region",
        themes=["digitalisation"],
    )
    editor_pages = {
        "admin": "/admin/",
        "admin-offers": "/admin/offers/offer/",
        "admin-offer": reverse("admin:offers_offer_change", args=[editable.pk]),
        "admin-offer-new": reverse("admin:offers_offer_add"),
        "admin-import": reverse("admin:offers_offer_import"),
    }
    names = _names()
    host = live_url.split("//", 1)[1].split(":", 1)[0]
    problems: list[str] = []
    visited = 0

    def check(page: Any, name: str, width: int, language: str) -> None:
        nonlocal visited
        visited += 1
        where = f"{name} at {width} px in {language} ({page.url})"
        if page.evaluate("document.documentElement.lang") != language:
            problems.append(f"{where}: <html lang> is not {language}")
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            problems.append(f"{where}: {scroll_width} px wide, scrolls sideways")
        try:
            assert_accessible(page)
        except AssertionError as error:
            problems.append(f"{where}: {error}")
        if language == "en" and name not in DANISH_CHECK_SKIPPED:
            danish = page.evaluate(DANISH_WORDS_SCRIPT, [list(DANISH_WORDS), names])
            if danish:
                problems.append(f"{where}: Danish outside lang=da: {'; '.join(danish)}")
        screenshot(page, f"full-{name}-{width}-{language}")

    for language in LANGUAGES:
        context = browser.new_context(locale="da-DK")
        context.add_cookies(
            [{"name": "django_language", "value": language, "domain": host, "path": "/"}]
        )
        page = context.new_page()
        try:
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                for name, path in pages.items():
                    page.goto(live_url + path)
                    check(page, name, width, language)
            _log_in(page, live_url, "redaktoer-midt")
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                for name, path in editor_pages.items():
                    page.goto(live_url + path)
                    check(page, name, width, language)
        finally:
            context.close()

    assert visited == len(LANGUAGES) * len(WIDTHS) * (len(pages) + len(editor_pages))
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)
