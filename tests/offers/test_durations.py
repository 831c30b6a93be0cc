"""An offer's expected time in the reader's language: read from the editor's Danish."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from offers.durations import Duration, parse_duration
from offers.templatetags.offer_text import duration_in_language
from tests.offers.factories import make_offer


@pytest.mark.parametrize(
    ("written", "duration"),
    [
        ("3–4 måneder", Duration("3", "4", "month")),
        ("2-4 uger", Duration("2", "4", "week")),
        ("6 måneder", Duration("6", None, "month")),
        ("Op til 40 dage", Duration("40", None, "day", qualifier="up_to")),
        ("1–5 dage pr. kursus", Duration("1", "5", "day", per="course")),
        ("ca. 1,5 år", Duration("1,5", None, "year", qualifier="about")),
        ("2 timer", Duration("2", None, "hour")),
    ],
)
def test_it_reads_the_durations_editors_write(written: str, duration: Duration) -> None:
    assert parse_duration(written) == duration


@pytest.mark.parametrize("written", ["Efter aftale", "3 måneder eller mere", "hurtigt"])
def test_it_leaves_other_text_alone(written: str) -> None:
    assert parse_duration(written) is None


@pytest.mark.parametrize(
    ("written", "english"),
    [
        ("3–4 måneder", "3–4 months"),
        ("1 uge", "1 week"),
        ("Op til 40 dage", "Up to 40 days"),
        ("1–5 dage pr. kursus", "1–5 days per course"),
        ("ca. 1,5 år", "about 1.5 years"),
        ("12 måneder", "12 months"),
    ],
)
def test_it_says_them_in_english_on_the_english_site(written: str, english: str) -> None:
    with translation.override("en"):
        assert duration_in_language(written) == {"text": english, "lang": ""}


def test_danish_stays_as_the_editor_wrote_it_and_unknown_text_is_marked_danish() -> None:
    assert duration_in_language("3–4 måneder") == {"text": "3–4 måneder", "lang": ""}
    with translation.override("en"):
        assert duration_in_language("Efter aftale") == {"text": "Efter aftale", "lang": "da"}


@pytest.mark.django_db
def test_the_offer_page_shows_the_duration_in_english(client: Client) -> None:
    offer = make_offer(delivery_time="3–4 måneder")
    client.cookies["django_language"] = "en"

    html = client.get(offer.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "<dd>3–4 months</dd>" in html
    assert "måneder" not in html
