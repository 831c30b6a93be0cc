"""Matching a company's needs to offers, on plain data (no database)."""

import itertools
from typing import Any

import pytest

from routing.matching import (
    TEXT_RANK_HALF,
    CompanyProfile,
    Match,
    OfferCandidate,
    Reason,
    ReasonCode,
    Rule,
    eligibility_failures,
    is_eligible,
    match,
    score,
    size_class,
    text_relevance,
)
from tests.routing import profiles

VEJLE = 630
KOLDING = 621
AARHUS = 751
SYDDANMARK = 1083
MIDTJYLLAND = 1082

LABELS = {"export": "eksport", "digitalisation": "digitalisering", "capital": "kapital"}


def company(**changes: Any) -> CompanyProfile:
    return profiles.company(**changes)


def offer(external_id: str = "offer-1", **changes: Any) -> OfferCandidate:
    return profiles.candidate(external_id, **changes)


def ids(matches: list[Match]) -> list[str]:
    return [m.external_id for m in matches]


# --- Geography --------------------------------------------------------------------------------


def test_is_eligible_says_what_eligibility_failures_says_for_every_combination() -> None:
    # is_eligible stops at the first rule that fails; eligibility_failures lists them all.
    companies = [
        company(
            **dict(
                zip(("phase", "employees", "municipality_code", "industry"), values, strict=True)
            )
        )
        for values in itertools.product(
            ("idea", "growth", None), (None, 3, 25, 500), (VEJLE, AARHUS, None), ("C", "J", None)
        )
    ]
    offers = [
        offer(**dict(zip(keys, values, strict=True)))
        for keys, choices in (
            (
                ("is_open", "nationwide", "municipality_codes"),
                ((True, False), (True, False), ((), (VEJLE,), (KOLDING,))),
            ),
            (
                ("phases", "company_sizes"),
                (((), ("idea",), ("growth", "established")), ((), ("micro",), ("small", "medium"))),
            ),
            (
                ("industries", "region_codes", "nationwide"),
                (((), ("C",), ("J", "M")), ((), (SYDDANMARK,)), (False,)),
            ),
        )
        for values in itertools.product(*choices)
    ]
    verdicts = [
        (is_eligible(c, o), not eligibility_failures(c, o)) for c in companies for o in offers
    ]
    assert all(fast == full for fast, full in verdicts)
    assert {fast for fast, _full in verdicts} == {True, False}


def test_it_includes_a_nationwide_offer() -> None:
    assert is_eligible(company(), offer(nationwide=True))


def test_it_excludes_an_offer_for_another_municipality() -> None:
    local = offer(nationwide=False, municipality_codes=(KOLDING,))

    assert eligibility_failures(company(), local) == (Rule.GEOGRAPHY,)
    assert match(company(), [local]) == []


def test_it_includes_an_offer_for_the_company_municipality() -> None:
    assert is_eligible(company(), offer(nationwide=False, municipality_codes=(KOLDING, VEJLE)))


def test_it_includes_a_regional_offer_for_the_company_region() -> None:
    regional = offer(nationwide=False, region_codes=(SYDDANMARK,))

    assert is_eligible(company(), regional)


def test_it_excludes_a_regional_offer_for_another_region() -> None:
    regional = offer(nationwide=False, region_codes=(MIDTJYLLAND,))

    assert not is_eligible(company(), regional)


def test_it_gives_a_company_without_municipality_only_nationwide_offers() -> None:
    no_place = company(municipality_code=None, municipality_name=None)
    offers = [
        offer("national", nationwide=True),
        offer("regional", nationwide=False, region_codes=(SYDDANMARK,)),
        offer("local", nationwide=False, municipality_codes=(VEJLE,)),
    ]

    assert ids(match(no_place, offers)) == ["national"]


# --- Phase, size, industry, open ----------------------------------------------------------------


def test_it_excludes_an_offer_for_another_phase() -> None:
    assert eligibility_failures(company(phase="idea"), offer(phases=("growth",))) == (Rule.PHASE,)


def test_it_includes_an_offer_for_the_company_phase() -> None:
    assert is_eligible(company(phase="growth"), offer(phases=("growth", "established")))


def test_it_passes_the_phase_rule_when_the_company_gave_no_phase() -> None:
    assert is_eligible(company(phase=None), offer(phases=("idea",)))


def test_it_treats_an_offer_without_phases_or_sizes_as_open_to_all() -> None:
    assert is_eligible(company(phase="idea", employees=500), offer(phases=(), company_sizes=()))


@pytest.mark.parametrize(
    ("employees", "expected"),
    [
        (0, "micro"),
        (9, "micro"),
        (10, "small"),
        (49, "small"),
        (50, "medium"),
        (249, "medium"),
        (250, "large"),
        (None, None),
    ],
)
def test_it_classifies_company_size_at_the_boundaries(
    employees: int | None, expected: str | None
) -> None:
    assert size_class(employees) == expected


def test_it_rejects_a_negative_head_count() -> None:
    with pytest.raises(ValueError, match="employees"):
        size_class(-1)


@pytest.mark.parametrize(
    ("employees", "eligible"),
    [(9, False), (10, True), (49, True), (50, False)],
)
def test_it_applies_the_size_rule_at_the_boundaries(employees: int, eligible: bool) -> None:
    small_only = offer(company_sizes=("small",))

    assert is_eligible(company(employees=employees), small_only) is eligible


def test_it_passes_the_size_rule_when_employees_are_unknown() -> None:
    assert is_eligible(company(employees=None), offer(company_sizes=("large",)))


def test_it_excludes_an_offer_for_other_industries() -> None:
    only_agriculture = offer(industries=("A",))

    assert eligibility_failures(company(industry="C"), only_agriculture) == (Rule.INDUSTRY,)


def test_it_includes_an_offer_targeted_at_the_company_industry() -> None:
    assert is_eligible(company(industry="C"), offer(industries=("A", "C")))


def test_it_gives_a_company_of_unknown_industry_only_offers_open_to_all_industries() -> None:
    unknown = company(industry=None)

    assert is_eligible(unknown, offer(industries=()))
    assert not is_eligible(unknown, offer(industries=("C",)))


def test_it_excludes_a_closed_offer() -> None:
    closed = offer(is_open=False)

    assert eligibility_failures(company(), closed) == (Rule.CLOSED,)
    assert match(company(), [closed]) == []


def test_it_lists_every_failed_rule_in_a_fixed_order() -> None:
    hopeless = offer(
        is_open=False,
        nationwide=False,
        municipality_codes=(AARHUS,),
        phases=("idea",),
        company_sizes=("large",),
        industries=("A",),
    )

    assert eligibility_failures(company(), hopeless) == (
        Rule.CLOSED,
        Rule.GEOGRAPHY,
        Rule.PHASE,
        Rule.SIZE,
        Rule.INDUSTRY,
    )


# --- Scoring ----------------------------------------------------------------------------------


def test_it_ranks_an_offer_covering_the_chosen_theme_above_one_that_does_not() -> None:
    needs = company(themes=("export", "digitalisation"))
    offers = [
        offer("a-capital", themes=("capital",), text_rank=TEXT_RANK_HALF),
        offer("b-export", themes=("export",), text_rank=TEXT_RANK_HALF),
    ]

    assert ids(match(needs, offers)) == ["b-export", "a-capital"]


def test_it_ranks_an_offer_covering_more_chosen_themes_higher() -> None:
    needs = company(themes=("export", "digitalisation"))
    offers = [
        offer("a-one", themes=("export",)),
        offer("b-both", themes=("export", "digitalisation", "capital")),
    ]

    result = match(needs, offers)

    # One theme of two is half the best: below the cut, so only the better one is shown.
    assert ids(result) == ["b-both"]
    assert [score(needs, o)[0] for o in offers] == [30.0, 60.0]


def test_it_lets_the_text_rank_raise_the_score() -> None:
    offers = [
        offer("a-no-text", text_rank=0.0),
        offer("b-text", text_rank=0.3),
    ]

    result = match(company(), offers)

    assert ids(result) == ["b-text"]
    # Without the text, the theme alone is less than two thirds of the best: cut off.
    assert ids(match(company(), offers, limit=10)) == ["b-text"]
    assert ids(match(company(), [offers[0]])) == ["a-no-text"]


def test_it_saturates_text_relevance() -> None:
    assert text_relevance(0.0) == 0.0
    assert text_relevance(TEXT_RANK_HALF) == pytest.approx(0.5)
    # One word in the description (about 0.1) is a small part of a perfect text match.
    assert text_relevance(0.1) <= 0.25
    assert text_relevance(-1.0) == 0.0
    assert text_relevance(float("nan")) == 0.0
    assert 0.9 < text_relevance(10 * TEXT_RANK_HALF) < text_relevance(100.0) < 1.0


def test_it_shows_an_offer_that_only_matches_the_needs_text() -> None:
    result = match(company(themes=()), [offer(themes=("capital",), text_rank=TEXT_RANK_HALF)])

    assert [(m.score, m.reasons[0]) for m in result] == [(15.0, Reason(ReasonCode.TEXT))]


def test_it_drops_an_offer_matching_neither_a_theme_nor_the_needs_text() -> None:
    # Own municipality and industry give bonuses, but bonuses alone are not relevance.
    unrelated = offer(
        themes=("capital",),
        nationwide=False,
        municipality_codes=(VEJLE,),
        industries=("C",),
        text_rank=0.01,
    )

    assert is_eligible(company(), unrelated)
    assert match(company(), [unrelated]) == []


def test_it_gives_bonuses_to_offers_aimed_at_the_company_place_and_industry() -> None:
    offers = [
        offer("a-national"),
        offer("b-regional", nationwide=False, region_codes=(SYDDANMARK,)),
        offer("c-local", nationwide=False, municipality_codes=(VEJLE,)),
        offer("d-industry", industries=("C",)),
    ]

    result = match(company(), offers)

    assert [(m.external_id, m.score) for m in result] == [
        ("c-local", 20.0),
        ("d-industry", 20.0),
        ("b-regional", 18.0),
        ("a-national", 15.0),
    ]


def test_it_drops_matches_below_the_minimum_score() -> None:
    offers = [offer("a-strong", text_rank=1.0), offer("b-weak", themes=(), text_rank=0.1)]

    assert ids(match(company(), offers, min_score=20.0)) == ["a-strong"]


# --- Reasons ----------------------------------------------------------------------------------


def test_it_explains_a_match_by_the_needs_words_the_result_the_place_and_the_focus() -> None:
    needs = company(
        themes=("export", "digitalisation", "capital"),
        needs_text="Vi vil sælge i udlandet og har brug for penge",
        phase="growth",
        employees=25,
    )
    local = offer(
        title="Eksportlån til mindre virksomheder",
        summary="Lån til jeres første eksportordre.",
        expected_result="I har finansieringen på plads. Resten følger.",
        themes=("capital", "digitalisation", "export"),
        phases=("growth",),
        company_sizes=("small", "medium"),
        industries=("C", "J"),
        nationwide=False,
        municipality_codes=(VEJLE,),
        text_rank=0.3,
    )

    assert score(needs, local)[1] == (
        Reason(ReasonCode.NEED_WORDS, ("sælge i udlandet", "udlandet", "penge")),
        Reason(ReasonCode.TOPICS, ("export", "funding")),
        Reason(ReasonCode.THEMES, ("export", "digitalisation", "capital")),
        Reason(ReasonCode.RESULT, ("I har finansieringen på plads.",)),
        Reason(ReasonCode.INDUSTRY, ("C",)),
        Reason(ReasonCode.MUNICIPALITY, ("Vejle Kommune",)),
        Reason(ReasonCode.SIZE, ("small",)),
        Reason(ReasonCode.PHASE, ("growth",)),
    )


def test_it_quotes_the_needs_words_as_the_company_wrote_them() -> None:
    # The matcher reads the text lower-cased with single spaces; the reason quotes the company.
    needs = company(
        themes=("export",),
        needs_text="Vi vil SÆLGE I  UDLANDET, især Tyskland, og har brug for Penge",
    )
    local = offer(
        title="Eksportlån til mindre virksomheder",
        summary="Lån til jeres første eksportordre.",
        themes=("export", "capital"),
        text_rank=0.3,
    )

    assert score(needs, local)[1][0] == Reason(
        ReasonCode.NEED_WORDS, ("SÆLGE I UDLANDET", "UDLANDET", "Tyskland", "Penge")
    )


def test_it_names_the_region_and_quotes_the_summary_of_an_offer_without_a_result() -> None:
    regional = offer(
        themes=("digitalisation",),
        summary="Et forløb om digitalisering. Det varer tre måneder.",
        nationwide=False,
        region_codes=(SYDDANMARK,),
    )

    assert score(company(themes=("digitalisation",)), regional)[1] == (
        Reason(ReasonCode.THEMES, ("digitalisation",)),
        Reason(ReasonCode.SUMMARY, ("Et forløb om digitalisering.",)),
        Reason(ReasonCode.REGION, ("Region Syddanmark",)),
    )


def test_it_says_size_and_phase_only_of_an_offer_aimed_at_few() -> None:
    needs = company(employees=50, phase="startup")
    broad = offer()
    focused = offer(company_sizes=("medium",), phases=("idea", "startup"))

    assert score(needs, broad)[1] == (Reason(ReasonCode.THEMES, ("export",)),)
    assert score(needs, focused)[1][-2:] == (
        Reason(ReasonCode.SIZE, ("medium",)),
        Reason(ReasonCode.PHASE, ("startup",)),
    )


def test_it_gives_no_two_different_offers_the_same_reasons() -> None:
    needs = company(needs_text="Vi vil gerne i gang med eksport")
    offers = [
        offer(
            f"offer-{n}",
            title="Eksportrådgivning",
            summary=f"Rådgivning om eksport, variant {n}.",
        )
        for n in range(5)
    ]

    result = match(needs, offers)

    assert len(result) == 5
    assert len({m.reasons for m in result}) == 5


def test_it_falls_back_to_your_municipality_without_a_name() -> None:
    unnamed = company(themes=("green",), municipality_name=None, employees=None, phase=None)
    local = offer(themes=("green",), nationwide=False, municipality_codes=(VEJLE,))

    assert score(unnamed, local)[1] == (
        Reason(ReasonCode.THEMES, ("green",)),
        Reason(ReasonCode.MUNICIPALITY, ("",)),
    )


# --- Ordering, limit, determinism ---------------------------------------------------------------


def test_it_orders_equal_scores_by_external_id() -> None:
    offers = [offer("c"), offer("a"), offer("b")]

    result = match(company(), offers)

    assert {m.score for m in result} == {15.0}
    assert ids(result) == ["a", "b", "c"]


def test_it_returns_at_most_the_limit() -> None:
    offers = [offer(f"offer-{n:02d}", text_rank=n / 100) for n in range(15)]

    assert ids(match(company(), offers)) == [f"offer-{n:02d}" for n in range(14, 4, -1)]
    assert ids(match(company(), offers, limit=3)) == ["offer-14", "offer-13", "offer-12"]
    assert match(company(), offers, limit=0) == []


def test_it_gives_the_identical_list_for_the_same_request_twice() -> None:
    offers = [
        offer(f"offer-{n}", themes=("export",) if n % 2 else ("capital",), text_rank=(n % 3) / 10)
        for n in range(20)
    ]

    first = match(company(), offers, theme_labels=LABELS)
    second = match(company(), reversed(offers), theme_labels=LABELS)

    assert first
    assert first == second
