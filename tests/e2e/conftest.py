"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Fixtures for tests in this folder:

- ``browser`` (session): one headless Chromium for the whole run.
- ``live_url``: the live server's base URL, e.g. ``http://localhost:41234``.
- ``page``: a fresh Danish (``da-DK``) browser context and page, closed after the test.
  ``page.goto(live_url + "/")``.
- ``assert_accessible``: ``assert_accessible(page)`` runs axe-core with the WCAG 2.0/2.1 A and AA
  rules on the page as it is now and fails listing every violation (rule, impact, selectors).

Every test collected here is marked ``e2e`` (``pytest -m "not e2e"`` skips them). They are skipped
with a reason when no Chromium is found; set ``CHROMIUM_PATH`` to use another build.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an asyncio loop in this thread; Django then refuses ORM calls from
# the test body (fixtures, factories) unless told the thread is safe, which it is here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM_PATH).exists():
        pytest.skip(
            f"No Chromium at {CHROMIUM_PATH}: install Debian's chromium or set CHROMIUM_PATH."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def live_url(live_server: Any) -> str:
    return str(live_server.url)


@pytest.fixture
def page(browser: Any, live_url: str) -> Iterator[Any]:
    context = browser.new_context(locale="da-DK", viewport={"width": 1280, "height": 900})
    browser_page = context.new_page()
    try:
        yield browser_page
    finally:
        context.close()


def _describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        targets = [
            " ".join(str(part) for part in node.get("target", []))
            for node in violation.get("nodes", [])
        ]
        lines.append(
            f"- {violation['id']} ({violation.get('impact')}): {violation.get('help')}\n"
            f"    on: {', '.join(targets)}"
        )
    return "\n".join(lines)


@pytest.fixture
def assert_accessible() -> Callable[[Any], None]:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def check(browser_page: Any) -> None:
        options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
        results = axe.run(browser_page, options=options)
        violations = results.response["violations"]
        assert not violations, (
            f"axe found {len(violations)} WCAG A/AA violation(s) on {browser_page.url}:\n"
            + _describe(violations)
        )

    return check


@pytest.fixture
def screenshot() -> Callable[[Any, str], None]:
    """``screenshot(page, "name")`` saves a full-page PNG to $E2E_SCREENSHOTS/name.png when that
    variable names a folder (for looking at a page by eye); otherwise it does nothing."""
    folder = os.environ.get("E2E_SCREENSHOTS", "")

    def take(browser_page: Any, name: str) -> None:
        if folder:
            browser_page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)

    return take
