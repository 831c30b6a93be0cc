"""Dates read as each language writes them: "16. maj 2027" and "16 May 2027"."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone, translation
from django.utils.formats import date_format

from tests.offers.factories import make_offer

pytestmark = pytest.mark.django_db


def test_the_date_formats_per_language() -> None:
    day = dt.date(2027, 5, 16)
    with translation.override("da"):
        assert date_format(day, "DATE_FORMAT") == "16. maj 2027"
        assert date_format(day, "SHORT_DATE_FORMAT") == "16. maj 2027"
    with translation.override("en"):
        assert date_format(day, "DATE_FORMAT") == "16 May 2027"
        assert date_format(day, "SHORT_DATE_FORMAT") == "16 May 2027"


def test_an_offer_page_writes_its_deadline_in_the_readers_language(client: Client) -> None:
    deadline = timezone.localdate() + dt.timedelta(days=400)
    offer = make_offer(external_id="med-frist", application_deadline=deadline)

    danish = client.get(offer.get_absolute_url(), headers={"accept-language": "da"}).text
    english = client.get(offer.get_absolute_url(), headers={"accept-language": "en"}).text

    with translation.override("da"):
        assert date_format(deadline, "j. F Y") in danish
    with translation.override("en"):
        expected = date_format(deadline, "j F Y")
    assert expected in english
    assert f"{deadline.day}. {expected.split(' ')[1]}" not in english  # not "16. May 2027"
