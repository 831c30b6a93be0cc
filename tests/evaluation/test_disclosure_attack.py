"""An attacker with every published number cannot recover a group below the threshold.

Real runs on a synthetic register: one offer with a cohort year below ``EFFECT_MIN_TREATED``,
and, separately, an offer below the threshold inside a roll-up. The attacker takes the pooled
figures and roll-ups from ``GET /api/effects/`` (exact floats), the cohort figures the offer page
shows (exact stored values, which is more than the rounded page gives), and solves the
weighted-mean equations for the group that is not published.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from django.conf import settings

from evaluation import estimators, services
from evaluation.models import EffectEstimate, EffectRun
from tests.offers.factories import make_offer

K = settings.EFFECT_MIN_TREATED
SMALL = 8


def api_rows(client, **query: Any) -> list[dict[str, Any]]:
    response = client.get("/api/effects/", query)
    assert response.status_code == 200
    return response.json()["results"]


def assert_no_small_count(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        for name in ("n_treated", "n_control"):
            assert row[name] is None or row[name] >= K, (row["key"], row["indicator"], name)
        assert row["n_unmatched"] is None
        if row["status"] != "ok":
            assert (row["n_treated"], row["n_control"]) == (None, None)


def hidden_group(total: dict[str, Any], parts: list[dict[str, Any]]) -> tuple[int, float]:
    """What the published aggregate holds beyond the published parts: (count, count x effect).

    The aggregate is a weighted mean, ``E * N = sum_i e_i * n_i``; whatever is not a published
    part is the group ``G`` with ``E * N - sum_published e_i * n_i = e_G * n_G``.
    """
    n_rest = total["n_treated"] - sum(p["n_treated"] for p in parts)
    weighted_rest = total["estimate"] * total["n_treated"] - sum(
        p["estimate"] * p["n_treated"] for p in parts
    )
    return n_rest, weighted_rest


def cohort_figures(offer, indicator: str) -> list[dict[str, Any]]:
    """The cohort figures the offer page publishes, at full precision."""
    return [
        {"n_treated": e.n_treated, "estimate": e.estimate, "n_control": e.n_control}
        for e in EffectEstimate.objects.published().filter(
            offer=offer, indicator=indicator, cohort_year__isnull=False, status="ok"
        )
    ]


def page_row(page: str, label: str) -> str:
    text = re.sub(r"\s+", " ", page)
    match = re.search(rf'<th scope="row">{label}</th>(.*?)</tr>', text)
    assert match, label
    return match.group(1)


@pytest.mark.django_db
def test_a_cohort_below_the_threshold_cannot_be_subtracted_from_the_pooled_figure(
    client, build_register
):
    offer = make_offer(external_id="vaekst-forloeb", themes=["growth"])
    build_register(
        {
            offer: {
                "effect": 1.5,
                "per_year": {2018: 50, 2019: 45, 2020: SMALL},
                "years": [2018, 2019, 2020],
            }
        }
    )
    run = services.effects_compute(sync=True)
    assert run.status == EffectRun.Status.COMPLETED

    pooled = {r["indicator"]: r for r in api_rows(client, offer="vaekst-forloeb")}
    assert_no_small_count(list(pooled.values()))
    measured = [name for name in estimators.INDICATORS if pooled[name]["status"] == "ok"]
    assert "employment" in measured and "revenue" in measured
    for indicator in measured:
        cohorts = cohort_figures(offer, indicator)
        assert len(cohorts) == 2, indicator  # 2018 and 2019; 2020 is withheld
        n_rest, weighted_rest = hidden_group(pooled[indicator], cohorts)
        scale = abs(pooled[indicator]["estimate"] * pooled[indicator]["n_treated"]) + 1.0
        # The equation for the 2020 cohort is 0 * e = 0: its count is not in the published
        # figures, and any estimate for it fits them equally well.
        assert n_rest == 0, (
            f"{indicator}: the 2020 cohort's count is {n_rest}, its effect "
            f"{weighted_rest / n_rest if n_rest else math.nan}"
        )
        assert abs(weighted_rest) <= 1e-9 * scale, indicator
        assert pooled[indicator]["n_control"] == sum(c["n_control"] for c in cohorts)
        assert pooled[indicator]["n_cohorts"] == 2

    # The page shows the 2020 row without a number and without its count.
    for indicator in estimators.INDICATORS:
        page = client.get("/effekter/vaekst-forloeb/", {"indikator": indicator}).content.decode()
        cells = re.findall(r'effect-number">([^<]*)<', page_row(page, "Deltog i 2020"))
        assert set(cells) <= {f"færre end {K}", "–"}, (indicator, cells)
        assert "For få deltagere til at måle" in page_row(page, "Deltog i 2020")

    # Nothing stored as published holds the small cohort's numbers or counts.
    small = EffectEstimate.objects.published().filter(offer=offer, cohort_year=2020)
    assert small.count() == len(estimators.INDICATORS)
    assert not small.exclude(n_treated=0, n_control=0, n_unmatched=0).exists()
    assert not small.filter(estimate__isnull=False).exists()
    assert not small.filter(naive_estimate__isnull=False).exists()


@pytest.mark.django_db
def test_an_offer_below_the_threshold_cannot_be_subtracted_from_a_roll_up(client, build_register):
    big = make_offer(external_id="stort-tilbud", themes=["growth"], operator="erhvervsstyrelsen")
    small = make_offer(
        external_id="lille-tilbud", themes=["growth"], operator="vaeksthus-midtjylland"
    )
    years = [2018, 2019, 2020]
    build_register(
        {
            big: {"effect": 1.0, "per_year": 40, "years": years},
            # 15 participants in all: below the threshold pooled, and in every year.
            small: {"effect": 4.0, "per_year": 5, "years": years},
        }
    )
    run = services.effects_compute(sync=True)
    assert run.status == EffectRun.Status.COMPLETED

    offers = {
        (r["key"], r["indicator"]): r
        for r in api_rows(client, offer=[big.external_id, small.external_id])
    }
    # Theme "growth" holds both offers; operator "erhvervsstyrelsen" only the big one.
    with_small = {r["indicator"]: r for r in api_rows(client, theme="growth")}
    without_small = {r["indicator"]: r for r in api_rows(client, operator="erhvervsstyrelsen")}
    everything = list(offers.values()) + list(with_small.values()) + list(without_small.values())
    assert_no_small_count(everything)
    assert all(r["status"] != "ok" for r in everything if r["key"] == "lille-tilbud")

    assert with_small["employment"]["status"] == "ok"
    for indicator in estimators.INDICATORS:
        published = [offers[("stort-tilbud", indicator)]]
        if published[0]["status"] != "ok":
            continue
        rolled = with_small[indicator]
        # With and without the small offer: the same figure, to the last digit.
        for name in ("estimate", "std_error", "n_treated", "n_control", "extra", "naive_estimate"):
            assert rolled[name] == without_small[indicator][name], (indicator, name)
        n_rest, weighted_rest = hidden_group(rolled, published)
        assert n_rest == 0, f"{indicator}: the small offer's count is {n_rest}"
        assert abs(weighted_rest) <= 1e-9 * (abs(rolled["estimate"] * rolled["n_treated"]) + 1)

    # The pages say "færre end 20" for the small offer and show no count of it.
    page = re.sub(r"\s+", " ", client.get("/effekter/").content.decode())
    # The small offer is listed apart, among offers without a measured effect, with no number.
    assert '<a href="/effekter/lille-tilbud/"' not in page.split('class="effect-unmeasured"')[0]
    item = re.search(r'<li><a href="/effekter/lille-tilbud/"[^>]*>[^<]*</a>:([^<]*)</li>', page)
    assert item is not None
    assert not re.search(r"\d", item.group(1))
