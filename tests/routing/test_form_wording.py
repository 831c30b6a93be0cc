"""What the guidance form says when something is wrong: specific, in one voice, in the title."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from routing.forms import explain_invalid_cvr
from tests.routing.test_views import post_form

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        # Eight digits with a failing check digit: no such number, not "write 8 digits".
        ("12345678", "CVR-nummeret 12345678 findes ikke."),
        ("1234567", "Et CVR-nummer har 8 cifre. Du har skrevet 7 cifre."),
        ("1", "Et CVR-nummer har 8 cifre. Du har skrevet 1 ciffer."),
        ("1234567A", "Et CVR-nummer består kun af 8 cifre."),
        ("13585628", None),
    ],
)
def test_a_wrong_cvr_number_is_explained(typed: str, expected: str | None) -> None:
    problem = explain_invalid_cvr(typed)
    if expected is None:
        assert problem is None
    else:
        assert problem is not None and problem.startswith(expected)


def test_errors_put_fejl_in_the_title_and_read_as_sentences_in_the_summary(
    client: Client,
) -> None:
    response = post_form(client, needs="   ", cvr="12345678")

    html = response.content.decode()
    assert response.status_code == 200
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    assert title is not None and title.group(1).startswith("Fejl: ")
    summary = html[html.index('data-module="error-summary"') :]
    summary = summary[: summary.index("</ul>")]
    assert "hjælp til?: " not in summary
    assert "Hvad har du brug for hjælp til? Skriv kort, hvad du har brug for hjælp til." in summary
    assert "CVR-nummeret 12345678 findes ikke. Tjek, at du har skrevet det rigtigt." in summary


def test_the_form_speaks_to_one_person(client: Client) -> None:
    html = client.get("/vejledning/").content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    text = re.sub(r"<[^>]+>", " ", main)
    # "I" and "jer" address a group; the form says "du" throughout (quoted examples aside).
    assert not re.search(r"\b(jer|jeres)\b|\bI (har|kan|vil|er|skal)\b", text)
    assert "du har brug for" in text


def test_a_valid_form_has_no_error_title(client: Client) -> None:
    html = client.get("/vejledning/").content.decode()
    assert "<title>Fejl:" not in html
