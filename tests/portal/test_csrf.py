"""CSRF without a token in the page (portal/csrf.py): the browser's own word on where a POST is
from, and Django's token check for everything else."""

from __future__ import annotations

import pytest
from django.test import Client

from governance.models import PageFeedback

OWN = "http://testserver"
FEEDBACK = {"path": "/om/", "answer": "yes"}


@pytest.fixture
def browser() -> Client:
    return Client(enforce_csrf_checks=True)


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-origin", "Origin": OWN},
        {"Sec-Fetch-Site": "same-origin"},
        {"Origin": OWN},  # a browser without fetch metadata
    ],
)
def test_a_post_from_our_own_page_needs_no_token(browser, db, headers) -> None:
    response = browser.post("/feedback/", FEEDBACK, headers=headers)

    assert response.status_code == 303
    assert PageFeedback.objects.count() == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://sub.testserver"},
        {"Sec-Fetch-Site": "none"},
        {"Sec-Fetch-Site": "same-origin", "Origin": "https://evil.example"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "https://testserver"},  # another scheme is another origin
        {},  # neither header: the token is needed, and there is none
    ],
)
def test_a_post_from_anywhere_else_needs_the_token(browser, db, headers) -> None:
    response = browser.post("/feedback/", FEEDBACK, headers=headers)

    assert response.status_code == 403
    assert not PageFeedback.objects.exists()


def test_the_language_switch_works_without_a_token_from_our_own_page(browser, db) -> None:
    response = browser.post(
        "/i18n/setlang/",
        {"language": "en", "next": "/om/"},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 302
    assert '<html lang="en">' in browser.get("/").content.decode()

    forged = Client(enforce_csrf_checks=True).post(
        "/i18n/setlang/",
        {"language": "en", "next": "/om/"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert forged.status_code == 403


def test_a_token_still_works_where_there_is_one(browser, db) -> None:
    browser.get("/vejledning/")  # the guidance form keeps its token (and sets the cookie)
    token = browser.cookies["csrftoken"].value

    response = browser.post("/feedback/", {**FEEDBACK, "csrfmiddlewaretoken": token})

    assert response.status_code == 303
