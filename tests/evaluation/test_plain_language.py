"""/effekter/ for a lay reader: a sentence per offer, the largest effects first, no-data apart."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import translation

from evaluation.presentation import (
    format_interval,
    format_supported,
    plain_sentence,
    supported_step,
)
from tests.evaluation.factories import TOO_FEW, make_estimate, make_run
from tests.offers.factories import make_offer


def test_a_positive_effect_reads_as_more_and_a_negative_as_fewer() -> None:
    with translation.override("da"):
        up = plain_sentence("Eksportstart", 2.14, 0.8, 3.4, "employment")
        down = plain_sentence("Eksportstart", -1.0, -1.9, -0.2, "employment")
    assert up == (
        "Virksomheder, der brugte Eksportstart, havde to år efter i gennemsnit 2,1 flere "
        "fuldtidsansatte end lignende virksomheder."
    )
    assert "1,0 færre fuldtidsansatte" in down and "−" not in down


def test_an_interval_across_zero_says_chance_could_explain_it() -> None:
    with translation.override("da"):
        sentence = plain_sentence("Vækstforløb", 0.4, -0.3, 1.1, "employment")
    assert sentence.endswith("Forskellen er så usikker, at den kan skyldes tilfældigheder.")


def test_in_english_the_offers_danish_name_is_marked_as_danish_and_escaped() -> None:
    with translation.override("en"):
        sentence = plain_sentence("Eksport & vækst", 0.4, -0.3, 1.1, "employment", name_lang="da")
    assert sentence == (
        'Companies that used <span lang="da">Eksport &amp; vækst</span> had on average 0.4 more '
        "full-time employees two years later than similar companies. The difference is so "
        "uncertain that it could be down to chance."
    )


def test_a_negative_amount_has_one_minus_in_both_languages() -> None:
    with translation.override("en"):
        english = format_interval(-150_000.0, 170_000.0, "export")
    with translation.override("da"):
        danish = format_interval(-150_000.0, 170_000.0, "export")
    assert english == "−DKK 150,000 to +DKK 170,000"
    assert danish == "−150.000 kr. til +170.000 kr."


def test_amounts_and_ranges_read_in_english() -> None:
    with translation.override("en"):
        sentence = plain_sentence("Export start", 1_540_000.0, 900_000.0, 2_100_000.0, "revenue")
        interval = format_interval(1.0, 1.8, "employment")
    assert "DKK 1,540,000 more" in sentence
    assert interval == "+1.0 to +1.8"


@pytest.mark.django_db
def test_offers_are_ordered_by_effect_and_unmeasured_ones_are_listed_apart(
    client: Client,
) -> None:
    run = make_run()
    for external_id, title, estimate in [
        ("lille-effekt", "A: lille effekt", 0.5),
        ("stor-effekt", "B: stor effekt", 3.0),
        ("mellem-effekt", "C: mellem effekt", 1.5),
    ]:
        make_estimate(
            run=run, offer=make_offer(external_id=external_id, title=title), estimate=estimate
        )
    # Withheld: the stored estimate (99) must not move it up, nor show anywhere.
    make_estimate(
        run=run,
        offer=make_offer(external_id="for-faa", title="D: for få"),
        **{**TOO_FEW, "estimate": 99.0},
    )

    page = re.sub(r"\s+", " ", client.get("/effekter/").content.decode())

    table = page[page.index('id="table-offers"') :]
    order = re.findall(r'<th scope="row"><a href="/effekter/([a-z-]+)/', table)
    assert order == ["stor-effekt", "mellem-effekt", "lille-effekt"]
    sentences = page[page.index('class="effect-sentences"') :].split("</ul>")[0]
    assert sentences.index("B: stor effekt") < sentences.index("C: mellem effekt")
    assert "havde to år efter i gennemsnit 3,0 flere fuldtidsansatte" in sentences
    apart = page[page.index('class="effect-unmeasured"') :].split("</details>")[0]
    assert "1 tilbud uden målt effekt" in apart and "D: for få" in apart
    assert "99,0" not in page and "+99" not in page


def test_figures_are_rounded_to_what_their_interval_supports() -> None:
    # One offer, 65 companies: a revenue effect of 1.233.004 kr. ± 1,9 million.
    low, estimate, high = -632_144.0, 1_233_004.0, 3_098_152.0
    step = supported_step(low, high, "revenue")
    with translation.override("da"):
        assert step == 100_000
        assert format_supported(estimate, "revenue", step) == "+1.200.000 kr."
        assert format_supported(low, "revenue", step) == "−600.000 kr."
    # A tight interval keeps the usual display, never finer: 0.1 FTE, 1.000 kr.
    assert supported_step(2.3, 2.5, "employment") == 0.1
    assert supported_step(10_100.0, 10_300.0, "revenue") == 1000


@pytest.mark.django_db
def test_theme_names_follow_the_page_language(client: Client) -> None:
    from offers.models import Theme
    from tests.evaluation.factories import make_rollup

    export = Theme.objects.get(slug="export")
    run = make_run()
    make_rollup(run=run, dimension="theme", key="export", label=export.name, estimate=0.8)

    english = client.get("/effekter/", headers={"accept-language": "en"}).content.decode()
    danish = client.get("/effekter/", headers={"accept-language": "da"}).content.decode()

    def theme_rows(page: str) -> list[str]:
        table = page[page.index('id="table-themes"') :].split("</table>")[0]
        return re.findall(r'<th scope="row">([^<]+)</th>', table)

    assert export.name_en and theme_rows(english) == [export.name_en]
    assert theme_rows(danish) == [export.name]
