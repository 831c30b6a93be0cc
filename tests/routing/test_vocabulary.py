"""The needs vocabulary: what a company's words and an offer's texts are about (no database)."""

import json

import pytest

from routing.vocabulary import VOCABULARY_FILE, Vocabulary, default_vocabulary


@pytest.mark.parametrize(
    ("needs", "concept"),
    [
        ("Vi vil gerne sælge i udlandet", "export"),
        ("vi har brug for penge til en ny maskine", "funding"),
        ("Vi er blevet hacket", "cyber"),
        ("eksprot til norge", "export"),
        ("finansering af ny maskine", "funding"),
        ("We want to start exporting to Germany", "export"),
        ("We need funding to grow", "funding"),
        ("Our company was hacked last month", "cyber"),
        ("start-up support for a new tech company", "startup"),
        ("fødevareeksport til messe i Tyskland", "fair"),
    ],
)
def test_it_reads_the_need_in_colloquial_danish_with_typos_and_in_english(
    needs: str, concept: str
) -> None:
    assert concept in default_vocabulary().need_concepts(needs)


def test_it_quotes_the_words_as_the_company_wrote_them() -> None:
    found = default_vocabulary().need_concepts("Fødevareeksport til messe i Tyskland")

    assert found["export"] == ("Fødevareeksport", "Tyskland")
    assert found["fair"] == ("messe",)


def test_it_finds_a_long_word_inside_a_compound_but_a_pinned_or_short_one_only_at_the_start() -> (
    None
):
    vocabulary = Vocabulary(
        {
            "groups": {},
            "concepts": [
                {"id": "export", "label": {"da": "eksport", "en": "export"}, "words": ["eksport"]},
                {"id": "ai", "label": {"da": "AI", "en": "AI"}, "need": ["^ai "]},
                {"id": "loan", "label": {"da": "lån", "en": "loans"}, "words": ["lån"]},
            ],
        }
    )

    assert set(vocabulary.need_concepts("fødevareeksport")) == {"export"}
    assert set(vocabulary.need_concepts("vi vil bruge ai i salget")) == {"ai"}
    assert set(vocabulary.need_concepts("vi søger aid og en plan")) == set()
    assert set(vocabulary.need_concepts("udlån og lån")) == {"loan"}
    assert vocabulary.need_concepts("udlån og lån")["loan"] == ("lån",)


def test_an_offer_is_strongly_about_what_its_title_and_summary_say() -> None:
    about = default_vocabulary().offer_concepts(
        "Fællesstande på internationale fagmesser",
        "Vis jeres møbler frem for indkøbere.",
        "",
        "Hjælp til eksport.",
    )

    assert about.strength["fair"] == 1.0
    assert about.strength["furniture_design"] == 0.8
    assert about.strength["export"] == 0.4
    assert "31" in about.groups


def test_it_expands_an_english_need_into_danish_search_words() -> None:
    vocabulary = default_vocabulary()

    assert "eksport" in vocabulary.expansion("export")
    assert "finansiering" in vocabulary.expansion("funding")
    assert "iværksætter" in vocabulary.expansion("start-up")


def test_the_vocabulary_file_names_each_concept_once_with_both_labels() -> None:
    data = json.loads(VOCABULARY_FILE.read_text(encoding="utf-8"))
    ids = [concept["id"] for concept in data["concepts"]]

    assert len(ids) == len(set(ids))
    assert all(c["label"]["da"] and c["label"]["en"] for c in data["concepts"])
    assert {g for c in data["concepts"] for g in c.get("groups", ())} <= set(data["groups"])


def test_it_refuses_a_vocabulary_naming_a_concept_twice() -> None:
    concept = {"id": "export", "label": {"da": "eksport", "en": "export"}}

    with pytest.raises(ValueError, match="twice"):
        Vocabulary({"groups": {}, "concepts": [concept, concept]})


@pytest.mark.parametrize(
    ("needs", "said", "not_said"),
    [
        # "leder efter" is looking for, not a need of leadership; a new manager is.
        ("Vi leder efter en erhvervsgrund tæt på motorvejen", "premises", "leadership"),
        ("We are looking for a site for our new warehouse", "premises", "leadership"),
        # A turnover figure describes the company; wanting more turnover is a need for sales.
        ("vi vil vokse hurtigt, omsætning 40 mio", "high_growth", "sales"),
        ("robot til pakkelinjen", "automation", "robot_sector"),
        ("internationale udbud", "tenders", "students"),
        ("netværk for handel på Frederiksberg", "retail", "maritime"),
        # A head count describes the company; wanting people is a need for recruitment.
        ("Vi er 45 ansatte og vil gerne eksportere", "export", "recruitment"),
        ("We have 20 employees and want to export", "export", "recruitment"),
        ("vi vil bruge AI og rådgive kunder om det", "ai", "sales"),
    ],
)
def test_words_that_only_describe_the_company_say_no_need(
    needs: str, said: str, not_said: str
) -> None:
    found = default_vocabulary().need_concepts(needs)

    assert said in found
    assert not_said not in found


def test_a_phrase_that_says_no_need_hides_only_the_words_at_its_place() -> None:
    vocabulary = default_vocabulary()

    assert "leadership" in vocabulary.need_concepts("ny leder og strategi")
    assert "sales" in vocabulary.need_concepts("vi vil gerne øge omsætningen")
    assert "robot_sector" in vocabulary.need_concepts("vi udvikler robotter til hospitaler")
    assert "recruitment" in vocabulary.need_concepts("en ph.d.-studerende ansat hos os")
    assert "recruitment" in vocabulary.need_concepts("we need to hire skilled workers")
    assert "sales" in vocabulary.need_concepts("vi mangler kunder")
    with pytest.raises(ValueError, match="not_needs"):
        Vocabulary({"groups": {}, "concepts": [], "not_needs": "leder efter"})
