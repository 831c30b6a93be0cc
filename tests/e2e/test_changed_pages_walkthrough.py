"""The pages a company reads that say the hubs' name, the privacy notice, durations and the CVR
lookup: at 390 and 1280 px, in Danish and English, no wider than the screen and axe clean."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from routing.services import guidance_request_submit
from tests.offers.factories import make_export_start
from tests.routing.factories import submission


@pytest.fixture
def paths(live_url: str) -> dict[str, str]:
    offer = make_export_start(delivery_time="3–4 måneder")
    request = guidance_request_submit(submission=submission(), channel="form")
    return {
        "home": "/",
        "about": "/om/",
        "privacy": "/privatliv/",
        "guidance": "/vejledning/",
        "search": "/tilbud/?q=eksport",
        "offer": offer.get_absolute_url(),
        "status": request.get_absolute_url(),
        "not-found": "/no-such-page/",
    }


@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize("width", [390, 1280])
def test_the_changed_pages_fit_and_pass_axe(
    page, live_url, paths, assert_accessible, screenshot, width, language
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    host = live_url.split("//", 1)[1].split(":", 1)[0]
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "domain": host, "path": "/"}]
    )
    for name, path in paths.items():
        page.goto(live_url + path)
        expect(page.locator("html")).to_have_attribute("lang", language)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, name
        assert_accessible(page)
        screenshot(page, f"walk-{name}-{width}-{language}")
    if language == "en":
        page.goto(live_url + paths["offer"])
        expect(page.locator("main")).to_contain_text("3–4 months")
