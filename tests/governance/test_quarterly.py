"""The quarterly report's figures, comparisons and suppression, checked against values worked
out by hand on a small set of cases (pure: no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from governance.quarterly import (
    HUB,
    MINISTRY,
    OPERATOR,
    CaseFact,
    Facts,
    Quarter,
    ReferralFact,
    Scope,
    SurveyFact,
    Vocabulary,
    figures,
    publish,
    report_rows,
)

A, B, X = 1, 2, 10  # two hubs and an operator
K = 3
Q2 = Quarter(2026, 2)
DAY = dt.date(2026, 5, 4)

WORDS = Vocabulary(
    sources=[("web", "Portalen"), ("phone", "Telefon"), ("email", "E-mail"), ("municipal", "K")],
    themes=[("export", "Eksport"), ("growth", "Vækst"), ("capital", "Kapital")],
    municipalities=[(101, "København"), (751, "Aarhus")],
    referral_statuses=[
        ("proposed", "Foreslået"),
        ("accepted", "Accepteret"),
        ("completed", "Gennemført"),
        ("declined", "Afvist"),
    ],
)


def case(hub, source, *, themes=("export",), place=751, hours=None, within=None, ops=(), day=DAY):
    return CaseFact(hub, source, place, tuple(themes), day, hours, within, frozenset(ops))


def hand_made_facts() -> Facts:
    # Hub A, 2026-Q2: eight cases.
    a_cases = [
        case(A, "web", themes=("export", "growth"), hours=1, within=True, ops=(X,)),
        case(A, "web", themes=("export", "capital"), hours=2, within=True, ops=(X,)),
        case(A, "web", hours=3, within=True, ops=(X,)),
        case(A, "web", hours=4, within=True, ops=(X,)),
        case(A, "phone", hours=5, within=True, place=101),
        case(A, "phone", themes=("growth",), hours=6, within=False, place=101),
        case(A, "phone", themes=("growth",), within=False, place=101),  # past due, no answer
        case(A, "email", themes=("growth",), within=None),  # still within its deadline
    ]
    previous = [
        case(A, "web", hours=h, within=True, day=dt.date(2026, 2, 10)) for h in (10, 20, 30)
    ]
    last_year = [case(A, "web", hours=5, within=True, day=dt.date(2025, 5, 1))]
    b_cases = [case(B, "web"), case(B, "web")]
    referrals = [
        ReferralFact(A, X, "accepted", DAY),
        ReferralFact(A, X, "accepted", DAY),
        ReferralFact(A, X, "completed", DAY),
        ReferralFact(A, X, "declined", DAY),
    ]
    surveys = [
        SurveyFact(A, frozenset({X}), 5, True, DAY),
        SurveyFact(A, frozenset({X}), 4, True, DAY),
        SurveyFact(A, frozenset(), 3, False, DAY),
    ]
    return Facts(
        cases=a_cases + previous + last_year + b_cases, referrals=referrals, surveys=surveys
    )


def test_quarter_arithmetic():
    assert Quarter.of(dt.date(2026, 12, 31)) == Quarter(2026, 4)
    assert Quarter(2026, 1).previous == Quarter(2025, 4)
    assert Quarter(2026, 4).end == dt.date(2027, 1, 1)
    assert Quarter(2026, 3).last_year == Quarter(2025, 3)
    assert Quarter.parse("2026-K3") == Quarter.parse("2026-Q3") == Quarter(2026, 3)
    with pytest.raises(ValueError):
        Quarter.parse("2026-Q5")


def test_the_figures_of_a_hub_before_suppression():
    found = figures(Scope(HUB, A), Q2, hand_made_facts(), WORDS)

    value = {key: f.value for key, f in found.items()}
    assert value[("requests", "total")] == 8
    assert [value[("source", s)] for s in ("web", "phone", "email", "municipal")] == [4, 3, 1, 0]
    assert [value[("theme", t)] for t in ("export", "growth", "capital")] == [5, 4, 1]
    assert value[("municipality", "751")] == 5
    assert value[("municipality", "101")] == 3
    assert value[("municipality", "unknown")] == 0
    assert value[("response", "responded")] == 6
    assert value[("response", "median_hours")] == 3.5  # median of 1..6
    assert value[("response", "within_promise_percent")] == 71.4  # 5 of the 7 decided
    assert value[("referrals", "total")] == 4
    assert value[("referral_status", "accepted")] == 2
    assert value[("satisfaction", "answers")] == 3
    assert value[("satisfaction", "mean_usefulness")] == 4.0
    assert value[("satisfaction", "came_to_something_percent")] == 66.7


def test_small_numbers_are_withheld_with_what_would_reveal_them():
    shown = publish(figures(Scope(HUB, A), Q2, hand_made_facts(), WORDS), min_count=K)

    # email (1) is too small; phone (3) goes too, or 8 - 4 - 3 would give it away.
    assert [shown[("source", s)] for s in ("web", "phone", "email", "municipal")] == [
        4,
        None,
        None,
        0,
    ]
    assert shown[("requests", "total")] == 8
    assert shown[("theme", "capital")] is None  # 1 case
    assert shown[("theme", "growth")] == 4
    # 6 answered of 8 would tell that 2 are not: the answered count is withheld.
    assert shown[("response", "responded")] is None
    assert shown[("response", "median_hours")] == 3.5  # rests on 6 cases
    # Each status is below 3, and together they are 4: the total alone is shown.
    assert shown[("referrals", "total")] == 4
    assert [shown[("referral_status", s)] for s in ("accepted", "completed", "declined")] == [
        None,
        None,
        None,
    ]
    assert shown[("referral_status", "proposed")] == 0
    assert shown[("satisfaction", "mean_usefulness")] == 4.0


def test_the_report_compares_with_last_quarter_last_year_and_the_national_median():
    facts = hand_made_facts()
    hubs = {Scope(HUB, hub): figures(Scope(HUB, hub), Q2, facts, WORDS) for hub in (A, B)}

    rows = {
        (r.section, r.key): r
        for r in report_rows(
            scope=Scope(HUB, A),
            quarter=Q2,
            facts=facts,
            vocabulary=WORDS,
            peers=hubs,
            labels={},
            min_count=K,
        )
    }

    total = rows[("requests", "total")]
    assert (total.this, total.previous, total.last_year) == (8, 3, None)  # 1 case in 2025-Q2
    assert total.change_previous == 5
    assert total.change_last_year is None
    assert total.median == 5.0  # hubs: 8 and 2
    web = rows[("source", "web")]
    assert (web.this, web.previous, web.median, web.change_previous) == (4, 3, 3.0, 1)
    # Median of 3 (hub A) and 0 (hub B) is 1.5: a small number, withheld.
    assert rows[("source", "phone")].median is None
    # Hub B has no answered case, so the median of medians is hub A's alone.
    assert rows[("response", "median_hours")].median == 3.5
    assert rows[("response", "median_hours")].previous == 20.0
    assert rows[("response", "median_hours")].change_previous == -16.5


def test_an_operator_sees_the_cases_and_referrals_that_concern_it():
    found = figures(Scope(OPERATOR, X), Q2, hand_made_facts(), WORDS)

    assert found[("requests", "total")].value == 4  # the four cases referred to X
    assert found[("source", "web")].value == 4
    assert found[("referrals", "total")].value == 4
    assert found[("satisfaction", "answers")].value == 2


def test_the_ministry_sees_the_whole_country():
    found = figures(Scope(MINISTRY), Q2, hand_made_facts(), WORDS)

    assert found[("requests", "total")].value == 10
    assert found[("source", "web")].value == 6
