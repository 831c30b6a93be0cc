"""The English site's catalogue search expands a query through the needs vocabulary as matching
uses it: the file with the words editors added in the admin, and its kept answers change when a
word is added."""

from __future__ import annotations

import pytest
from django.test import Client

from offers.public_cache import STORE
from routing.models import VocabularyWord
from tests.offers.factories import make_offer

# Committed rows (not a test transaction's), so the public version moves as in production.
pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/offers/?q=zorblat"


def count_of(client: Client, language: str) -> int:
    answer = client.get(URL, headers={"Accept-Language": language})
    assert answer.status_code == 200
    return int(answer.json()["count"])


@pytest.fixture
def export_offers() -> None:
    STORE.clear()
    for n in range(2):
        make_offer(external_id=f"eksport-{n}", title=f"Eksportrådgivning {n}", themes=["export"])


def test_an_added_word_finds_offers_on_the_english_site_at_once(export_offers) -> None:
    client = Client()
    assert count_of(client, "en") == 0
    assert count_of(client, "en") == 0  # now a kept answer

    VocabularyWord.objects.create(concept="export", word="zorblat", where="need")

    assert count_of(client, "en") == 2
    # The Danish site keeps to its own stemming: the word is not Danish for anything.
    assert count_of(client, "da") == 0

    VocabularyWord.objects.all().delete()
    assert count_of(client, "en") == 0


def test_an_edited_word_changes_the_kept_english_answer(export_offers) -> None:
    client = Client()
    word = VocabularyWord.objects.create(concept="export", word="quuxmarket", where="need")
    assert count_of(client, "en") == 0
    word.word = "zorblat"
    word.save()
    assert count_of(client, "en") == 2
