"""Factories for effect measurement: runs and their stored results, without computing them."""

from __future__ import annotations

from typing import Any

import factory
from django.utils import timezone

from evaluation.estimators import BASELINE_OFFSET, METHOD, OUTCOME_OFFSET
from evaluation.models import (
    EffectEstimate,
    EffectRollup,
    EffectRun,
    EffectSegment,
    Participation,
)

# Valid CVR numbers (modulus 11) for hand-written test rows.
CVRS = (13585628, 10000068, 10000122, 10000149, 10000157, 10000165)


class EffectRunFactory(factory.django.DjangoModelFactory[EffectRun]):
    class Meta:
        model = EffectRun

    status = EffectRun.Status.COMPLETED
    parameters = factory.LazyFunction(lambda: {"neighbours": 3, "min_treated": 20})
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyFunction(timezone.now)


class EffectEstimateFactory(factory.django.DjangoModelFactory[EffectEstimate]):
    """A pooled, measured employment effect of +2.5 FTE on 40 participants."""

    class Meta:
        model = EffectEstimate

    run = factory.SubFactory(EffectRunFactory)
    indicator = "employment"
    status = "ok"
    estimate = 2.5
    std_error = 0.5
    ci_low = factory.LazyAttribute(lambda o: o.estimate - 1.96 * o.std_error)
    ci_high = factory.LazyAttribute(lambda o: o.estimate + 1.96 * o.std_error)
    n_treated = 40
    n_control = 110
    n_unmatched = 1
    naive_estimate = 4.0
    naive_std_error = 0.6
    n_cohorts = 3
    method = METHOD
    baseline_offset = BASELINE_OFFSET
    outcome_offset = OUTCOME_OFFSET
    extra = factory.LazyAttribute(lambda o: o.estimate * o.n_treated)
    extra_ci_low = factory.LazyAttribute(lambda o: o.ci_low * o.n_treated)
    extra_ci_high = factory.LazyAttribute(lambda o: o.ci_high * o.n_treated)
    balance = factory.LazyFunction(
        lambda: {
            "employees": {"before": 0.42, "after": 0.03},
            "revenue": {"before": 0.35, "after": 0.02},
            "employees_trend": {"before": 0.21, "after": -0.01},
            "revenue_trend": {"before": 0.18, "after": 0.01},
        }
    )


class EffectRollupFactory(factory.django.DjangoModelFactory[EffectRollup]):
    class Meta:
        model = EffectRollup

    run = factory.SubFactory(EffectRunFactory)
    dimension = "theme"
    key = "export"
    label = "Eksport"
    indicator = "employment"
    status = "ok"
    estimate = 1.5
    std_error = 0.4
    ci_low = 0.7
    ci_high = 2.3
    n_treated = 200
    n_control = 520
    naive_estimate = 2.4
    n_cohorts = 6
    method = METHOD
    extra = 300.0
    n_offers = 4


def make_run(**fields: Any) -> EffectRun:
    return EffectRunFactory.create(**fields)


def make_estimate(**fields: Any) -> EffectEstimate:
    return EffectEstimateFactory.create(**fields)


def make_rollup(**fields: Any) -> EffectRollup:
    return EffectRollupFactory.create(**fields)


def make_participation(**fields: Any) -> Participation:
    fields.setdefault("source", Participation.Source.IMPORT)
    return Participation.objects.create(**fields)


# An estimate or rollup with too few participants to publish a figure.
TOO_FEW = {
    "status": "too_few",
    "estimate": None,
    "std_error": None,
    "ci_low": None,
    "ci_high": None,
    "extra": None,
    "extra_ci_low": None,
    "extra_ci_high": None,
    "naive_estimate": None,
    "n_treated": 7,
}


def make_published_effects(*, too_few_theme_treated: int = 7) -> dict[str, Any]:
    """One run with a measured offer (employment, revenue, a cohort), an offer with too few
    participants, and rollups by level and theme, one of them too small to show."""
    from tests.offers.factories import make_offer

    run = make_run()
    growth = make_offer(external_id="vaekst-forloeb", title="Vækstforløb for små virksomheder")
    small = make_offer(external_id="lille-tilbud", title="Et lille tilbud")
    make_estimate(run=run, offer=growth, estimate=1.84, std_error=0.41, n_treated=212)
    make_estimate(
        run=run, offer=growth, indicator="revenue", estimate=1_540_000.0, std_error=300_000.0
    )
    make_estimate(run=run, offer=growth, cohort_year=2020, estimate=2.0)
    make_estimate(run=run, offer=small, **TOO_FEW)
    make_rollup(run=run, dimension="level", key="state", label="Stat", estimate=1.2)
    make_rollup(run=run, dimension="theme", key="export", label="Eksport", estimate=0.8)
    make_rollup(
        run=run,
        dimension="theme",
        key="growth",
        label="Vækst",
        **{**TOO_FEW, "n_treated": too_few_theme_treated},
    )
    return {"run": run, "growth": growth, "small": small}


def make_segment(
    *,
    offer: Any,
    run: EffectRun | None = None,
    size_band: int = 1,
    section: str = "C",
    **fields: Any,
) -> EffectSegment:
    """A shown employment segment of an offer: +2.1 FTE (0.8-3.4) on 230 participants."""
    values: dict[str, Any] = {
        "indicator": "employment",
        "status": "ok",
        "estimate": 2.3,
        "std_error": 0.7,
        "ci_low": 0.9,
        "ci_high": 3.7,
        "n_treated": 230,
        "n_control": 640,
        "n_cohorts": 3,
        "method": METHOD,
        "shrunk_estimate": 2.1,
        "shrunk_std_error": 0.66,
        "shrunk_ci_low": 0.8,
        "shrunk_ci_high": 3.4,
        "shrinkage": 0.2,
    }
    values.update(fields)
    return EffectSegment.objects.create(
        run=run or make_run(),
        offer=offer,
        size_band=size_band,
        industry_section=section,
        **values,
    )
