from __future__ import annotations

import pytest

from offers.compounds import CompoundSplitter, default_lexicon, words_in


@pytest.mark.parametrize(
    ("word", "parts"),
    [
        ("eksportrådgivning", ["eksport", "rådgivning"]),
        ("iværksættervejledning", ["iværksætter", "vejledning"]),
        ("virksomhedsudvikling", ["virksomhed", "udvikling"]),
        ("Eksportrådgivningen", ["eksport", "rådgivning"]),
        ("forretningsmodeller", ["forretning", "model"]),
        ("samarbejdsprojekter", ["samarbejde", "projekt"]),
        ("erhvervsfremmebestyrelse", ["erhverv", "fremme", "bestyrelse"]),
    ],
)
def test_it_splits_compounds_into_known_parts(word, parts):
    assert CompoundSplitter().split(word) == parts


@pytest.mark.parametrize(
    "word", ["rådgivning", "forretning", "virksomheder", "markedsføring", "eksport", "ab12cd34"]
)
def test_it_leaves_base_words_and_unknown_words_whole(word):
    # "forretning" must not become "for" + "retning".
    assert CompoundSplitter().split(word) == []


def test_it_learns_parts_from_words_seen_in_the_catalogue():
    assert CompoundSplitter().split("landdistriktsprogram") == []

    splitter = CompoundSplitter(["distrikt", "distrikter"])

    assert splitter.split("landdistriktsprogram") == ["land", "distrikt", "program"]


def test_it_splits_a_catalogue_compound_that_is_part_of_a_longer_word():
    splitter = CompoundSplitter(["eksportrådgivning"])

    assert splitter.split("eksportrådgivningsforløb") == ["eksport", "rådgivning", "forløb"]


def test_it_never_uses_stop_words_seen_in_the_catalogue_as_parts():
    splitter = CompoundSplitter(["over", "skud", "varme"])

    assert splitter.split("overskudsvarme") == []


def test_it_prefers_a_base_word_to_a_catalogue_word_for_the_last_part():
    splitter = CompoundSplitter(["partnere"])

    assert splitter.split("samarbejdspartnere") == ["samarbejde", "partner"]


def test_it_collects_the_parts_of_every_compound_in_a_text():
    text = "Eksportrådgivning og virksomhedsudvikling, 2026."

    assert CompoundSplitter().parts_of_text(text) == [
        "eksport",
        "rådgivning",
        "virksomhed",
        "udvikling",
    ]


def test_it_reads_words_with_danish_letters_and_separates_digits_and_hyphens():
    assert words_in("IT-sikkerhed i Æbeltoft 2026") == ["it", "sikkerhed", "i", "æbeltoft"]


def test_the_built_in_word_list_is_lower_case_and_without_comments():
    lexicon = default_lexicon()

    assert "virksomhed" in lexicon
    assert all(word == word.lower() and not word.startswith("#") for word in lexicon)
