"""Editors extend the needs vocabulary in the admin: rows merged with the file, picked up by the
matching at its next request, scoped to editors and superusers, errors at the field."""

from __future__ import annotations

import pytest
from django.test import Client

from routing.models import VocabularyWord
from routing.vocabulary import load_vocabulary_data, merged
from routing.vocabulary_store import current_vocabulary, latest_vocabulary

URL = "/admin/routing/vocabularyword/"


def test_merged_adds_a_word_to_a_concept_and_makes_a_new_concept() -> None:
    data = load_vocabulary_data()
    result = merged(
        data,
        [
            ("export", "zorblat", "need", "", ""),
            ("drones", "dronefoto", "words", "dronefoto", "drone photography"),
            ("drones", "luftfoto", "need", "", ""),
        ],
    )
    export = next(c for c in result["concepts"] if c["id"] == "export")
    assert export["need"][-1] == "zorblat"
    drones = next(c for c in result["concepts"] if c["id"] == "drones")
    assert drones["label"] == {"da": "dronefoto", "en": "drone photography"}
    assert drones["words"] == ["dronefoto"]
    assert drones["need"] == ["luftfoto"]
    # The file's own data is not changed.
    assert "zorblat" not in next(c for c in data["concepts"] if c["id"] == "export")["need"]


@pytest.mark.django_db
def test_the_matching_picks_an_added_word_up_and_drops_a_deleted_one() -> None:
    assert "export" not in current_vocabulary(max_age=0).need_concepts("vi vil sælge zorblat")
    word = VocabularyWord.objects.create(concept="export", word="zorblat")
    assert "export" in current_vocabulary(max_age=0).need_concepts("vi vil sælge zorblat")
    word.word = "quux-marked"
    word.save()
    vocabulary = current_vocabulary(max_age=0)
    assert "export" in vocabulary.need_concepts("et quux-marked")
    assert "export" not in vocabulary.need_concepts("vi vil sælge zorblat")
    VocabularyWord.objects.create(
        concept="drones", word="dronefoto", label_da="dronefoto", label_en="drone photography"
    )
    rebuilt = current_vocabulary(max_age=0)
    assert rebuilt.concepts["drones"].label_en == "drone photography"
    # Reasons are worded with the vocabulary built last, without a query.
    assert latest_vocabulary() is rebuilt
    VocabularyWord.objects.all().delete()
    assert "export" not in current_vocabulary(max_age=0).need_concepts("et quux-marked")


@pytest.mark.django_db
def test_a_process_reads_the_version_at_most_once_a_second(django_assert_num_queries) -> None:
    current_vocabulary(now=1000.0)
    VocabularyWord.objects.create(concept="export", word="zorblat")
    with django_assert_num_queries(0):
        trusted = current_vocabulary(now=1000.5)
    assert "export" not in trusted.need_concepts("zorblat")
    assert "export" in current_vocabulary(now=1001.5).need_concepts("zorblat")


@pytest.mark.django_db
def test_an_editor_adds_a_word_in_the_admin(client: Client, editor) -> None:
    client.force_login(editor)
    assert client.get(URL).status_code == 200
    response = client.post(f"{URL}add/", {"concept": "cyber", "word": "Hakket", "where": "need"})
    assert response.status_code == 302, response.content.decode()[:2000]
    word = VocabularyWord.objects.get()
    assert (word.concept, word.word) == ("cyber", "hakket")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"concept": "cyber", "word": "x", "where": "need"}, "word"),
        ({"concept": "cyber", "word": "hacket", "where": "need"}, "word"),
        ({"concept": "nyt-begreb", "word": "noget nyt", "where": "need"}, "label_da"),
        (
            {"concept": "nyt-begreb", "word": "noget nyt", "where": "need", "label_da": "nyt"},
            "label_en",
        ),
        ({"concept": "Ikke et id!", "word": "noget", "where": "need"}, "concept"),
        ({"concept": "cyber", "word": "noget", "where": "overalt"}, "where"),
    ],
)
@pytest.mark.django_db
def test_a_bad_word_is_refused_at_its_field(client: Client, editor, data, field) -> None:
    client.force_login(editor)
    response = client.post(f"{URL}add/", data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors, errors
    assert not VocabularyWord.objects.exists()


@pytest.mark.django_db
def test_advisers_and_analysts_get_nothing(client: Client, make_user) -> None:
    word = VocabularyWord.objects.create(concept="cyber", word="hakket")
    for role in ("Rådgiver", "Analytiker"):
        client.force_login(
            make_user(f"user-{role}", organisation="vaeksthus-midtjylland", role=role)
        )
        assert client.get(URL).status_code == 403
        assert client.post(f"{URL}add/", {"concept": "cyber", "word": "angreb2"}).status_code == 403
        assert client.post(f"{URL}{word.pk}/delete/", {"post": "yes"}).status_code == 403
    assert list(VocabularyWord.objects.values_list("word", flat=True)) == ["hakket"]


@pytest.mark.django_db
def test_a_superuser_may_edit_too(client: Client, superuser) -> None:
    client.force_login(superuser)
    response = client.post(f"{URL}add/", {"concept": "funding", "word": "kroner", "where": "need"})
    assert response.status_code == 302
