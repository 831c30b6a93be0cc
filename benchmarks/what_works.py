"""What works for companies like yours, on a world with known answers.

Builds a synthetic national register (``evaluation.synthetic``) and a catalogue of offers whose
true employment effect differs by offer and by segment (size band x industry section:
``theta = mu_offer + a_offer,size + b_offer,section``). Participation is selective (larger and
growing companies take part more often) and offers differ in size, so many segments are small.
Then it runs the effect pipeline's own code on it, in this process and without a database: the
panel arrays and cohort frames of ``evaluation.panel``, the matched difference-in-differences of
``evaluation.estimators`` for each offer and each segment (``evaluation.services.segment_cells``),
the disclosure rule (``evaluation.disclosure``, ``evaluation.segments.publish_segments``) and the
shrinkage (``evaluation.segments``); and the matching of ``routing.matching`` followed by
``routing.effect_ranking`` for 1,000 synthetic companies. It prints:

1. the RMSE of the shown segment estimates against the true segment effect (the mean realised
   effect of the segment's participants): shrunk, raw, and the offer's overall estimate;
2. the coverage of the shrunk 95 % intervals;
3. the mean true effect (for the company's own segment) of the top 5 offers, effect-informed
   against relevance-only ranking with the same eligibility, and the relevance of both (the share
   of top-5 offers that have one of the company's themes);
4. the time per match (matching + effect ranking, with the company's evidence already loaded;
   the two indexed queries that load it are timed by ``benchmarks/routing.py``).

Goals (issue 20): shrunk RMSE below both others; coverage 90-98 %; at least 20 % more true effect
with no loss of relevance; matching p95 <= 20 ms.

Usage: ``.venv/bin/python benchmarks/what_works.py [--companies 300000] [--offers 120] [--seed 1]``
(no database; about a minute per 100,000 companies on one core).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DATABASE_URL", "postgresql://localhost/unused")
os.environ.setdefault("REDIS_URL", "redis://localhost:6379/0")
os.environ.setdefault("DEBUG", "true")

import django

django.setup()

from evaluation import disclosure, estimators, segments  # noqa: E402
from evaluation.estimators import CohortData  # noqa: E402
from evaluation.panel import PanelArrays, PanelCache, Participations, size_class, subset  # noqa: E402
from evaluation.services import segment_cells  # noqa: E402
from evaluation.synthetic import make_panel  # noqa: E402
from routing import effect_ranking  # noqa: E402
from routing.effect_ranking import Evidence  # noqa: E402
from routing.matching import SIZE_CLASSES, CompanyProfile, OfferCandidate, match  # noqa: E402

THEMES = ("export", "growth", "capital", "innovation", "digital", "green", "startup", "skills")
FIRST_YEAR = 2013
YEARS = 10
COHORTS = range(2015, 2021)
K = 20


def build_world(companies: int, offers: int, seed: int):
    rng = np.random.default_rng(seed)
    panel = make_panel(
        companies=companies, first_year=FIRST_YEAR, years=YEARS, seed=seed, entry_exit=False
    )
    sections = sorted(set(panel.industry.tolist()))
    section_code = {s: ord(s) - 65 for s in sections}
    mu = rng.normal(0.8, 0.8, offers)
    by_size = rng.normal(0.0, 0.7, (offers, 4))
    by_section = {s: rng.normal(0.0, 0.7, offers) for s in sections}

    def theta(o: int, size: int, section: str) -> float:
        return float(mu[o] + by_size[o, size] + by_section[section][o])

    before = panel.employees.copy()
    taken = np.zeros(len(panel.cvr), dtype=bool)
    rows = []
    # Offers differ in reach: a few large programmes, many small ones.
    per_year = np.maximum(3, np.round(rng.lognormal(np.log(35), 0.9, offers))).astype(int)
    for o in range(offers):
        for year in COHORTS:
            chosen = panel.participants(
                rng, year=year, count=int(per_year[o]), selection=1.0, eligible=~taken
            )
            taken[chosen] = True
            base = panel.employees[chosen, panel.column(year) - 1]
            sizes = size_class(base)
            for size in range(4):
                for section in sections:
                    group = chosen[(sizes == size) & (panel.industry[chosen] == section)]
                    if len(group):
                        panel.add_effect(
                            group, year, employees=theta(o, size, section), revenue=0.0
                        )
            rows += [(int(c), o, year) for c in chosen.tolist()]
    realised = panel.employees - before  # each participant's true effect, per year
    return panel, rows, theta, realised, sections, section_code


def panel_arrays(panel) -> PanelArrays:
    company, column = np.nonzero(panel.present)
    return PanelArrays(
        cvr=panel.cvr[company].astype(np.int64),
        year=(column + panel.first_year).astype(np.int64),
        employees=panel.employees[company, column],
        revenue=panel.revenue[company, column],
        value_added=panel.value_added[company, column],
        export=panel.export[company, column],
        industry=np.array([ord(s) - 65 for s in panel.industry[company]], dtype=np.int64),
    )


def estimate(panel, rows, realised, offers: int):
    cache = PanelCache(
        key=(0, "what-works"),
        panel=panel_arrays(panel),
        participations=Participations(
            cvr=np.array([panel.cvr[c] for c, _o, _y in rows], dtype=np.int64),
            offer=np.array([o for _c, o, _y in rows], dtype=np.int64),
            year=np.array([y for _c, _o, y in rows], dtype=np.int64),
        ),
        load_seconds=0.0,
    )
    index_of = {int(c): i for i, c in enumerate(panel.cvr.tolist())}
    results = {}
    for o in range(offers):
        cvr, year = cache.participations.of_offer(o)
        cohort: dict[int, estimators.IndicatorResult] = {}
        by_segment: dict = defaultdict(dict)
        truth_parts: dict = defaultdict(list)
        for t in COHORTS:
            frame = cache.frame(t)
            positions = frame.positions(np.unique(cvr[year == t]))
            if not len(positions):
                continue
            treated = subset(frame.units, positions)
            data = CohortData(treated=treated, control=cache.control(t))
            cohort[t] = estimators.estimate_cohort(data, min_treated=2)["employment"]
            for key, by_indicator in segment_cells(
                cache, t, treated, estimators.DEFAULT_NEIGHBOURS
            ).items():
                by_segment[key][t] = by_indicator["employment"]
            keys = treated.size_class * 64 + treated.industry.astype(np.int64)
            for c, key in zip(treated.cvr.tolist(), keys.tolist(), strict=True):
                effect = realised[index_of[c], panel.column(t) + 2]
                truth_parts[divmod(int(key), 64)].append((t, effect))
        cells, overall = disclosure.publish_offer(cohort, min_treated=K)
        shown = segments.offer_segments(
            by_segment, cohort_cells=cells, overall=overall, min_treated=K
        )
        published = {t for t, c in cells.items() if c.status == "ok"}
        truth = {
            key: float(np.mean([e for t, e in parts if t in published]))
            for key, parts in truth_parts.items()
            if any(t in published for t, _e in parts)
        }
        results[o] = (overall, shown, truth)
    return results


def report_estimates(results) -> None:
    errors: dict[str, list[float]] = {"shrunk": [], "raw": [], "overall": []}
    covered: list[bool] = []
    withheld = shown_count = 0
    for overall, shown, truth in results.values():
        measured = [k for k in truth]
        shown_count += len(shown)
        withheld += len(measured) - len(shown)
        for key, (raw, shrunk) in shown.items():
            true = truth[key]
            errors["shrunk"].append(shrunk.estimate - true)
            errors["raw"].append(float(raw.estimate or 0.0) - true)
            errors["overall"].append(float(overall.estimate or 0.0) - true)
            covered.append(shrunk.ci_low <= true <= shrunk.ci_high)
    print(
        f"segments with participants: {shown_count + withheld}; shown: {shown_count}; "
        f"withheld (fewer than {K}, or subtractable): {withheld}"
    )
    for name, values in errors.items():
        rmse = float(np.sqrt(np.mean(np.square(values)))) if values else float("nan")
        print(f"RMSE of segment estimates, {name:>7}: {rmse:.3f} FTE")
    print(
        f"coverage of the shrunk 95 % intervals: {100 * np.mean(covered):.1f} % "
        f"({sum(covered)} of {len(covered)})"
    )


def report_ranking(panel, results, theta, sections, section_code, offers: int, seed: int) -> None:
    rng = np.random.default_rng(seed + 99)
    candidates = []
    for o in range(offers):
        themes = tuple(rng.choice(THEMES, size=int(rng.integers(1, 3)), replace=False).tolist())
        industries = (
            tuple(rng.choice(sections, size=4, replace=False).tolist())
            if rng.random() < 0.2
            else ()
        )
        candidates.append(
            OfferCandidate(
                external_id=f"offer-{o:03d}",
                title=f"Tilbud {o}",
                themes=themes,
                phases=(),
                company_sizes=(),
                industries=industries,
                nationwide=True,
                region_codes=(),
                municipality_codes=(),
                is_open=True,
                text_rank=0.0,
            )
        )
    # Text relevance depends on the need: an offer about one of the company's themes ranks
    # 0-0.15 against its needs text, another 0-0.06 (sometimes a shared word makes it relevant).
    last = panel.column(FIRST_YEAR + YEARS - 1)
    picks = rng.choice(len(panel.cvr), size=1_000, replace=False)
    effect_top: list[float] = []
    relevance_top: list[float] = []
    effect_rel: list[float] = []
    relevance_rel: list[float] = []
    timings: list[float] = []
    relevance_timings: list[float] = []
    for c in picks.tolist():
        size = int(size_class(np.array([panel.employees[c, last]]))[0])
        section = str(panel.industry[c])
        themes = tuple(rng.choice(THEMES, size=int(rng.integers(1, 3)), replace=False).tolist())
        profile = CompanyProfile(
            municipality_code=None,
            region_code=None,
            phase=None,
            employees=int(panel.employees[c, last]),
            industry=section,
            themes=themes,
            needs_text="",
        )
        key = (size, section_code[section])
        evidence = {}
        for o, (overall, shown, _truth) in results.items():
            if key in shown:
                s = shown[key][1]
                evidence[f"offer-{o:03d}"] = Evidence(
                    estimate=s.estimate,
                    ci_low=s.ci_low,
                    ci_high=s.ci_high,
                    n_treated=shown[key][0].n_treated,
                    size=SIZE_CLASSES[size],
                    section=section,
                )
            elif overall is not None and disclosure.is_publishable(overall, min_treated=K):
                evidence[f"offer-{o:03d}"] = Evidence(
                    estimate=float(overall.estimate or 0.0),
                    ci_low=float(overall.ci_low or 0.0),
                    ci_high=float(overall.ci_high or 0.0),
                    n_treated=overall.n_treated,
                    scope=effect_ranking.OFFER,
                )
        offers_for_need = [
            dataclasses.replace(
                offer,
                text_rank=float(
                    rng.uniform(0.0, 0.15 if set(offer.themes) & set(themes) else 0.06)
                ),
            )
            for offer in candidates
        ]
        started = time.perf_counter()
        plain = match(profile, offers_for_need, limit=10)
        relevance_timings.append(1000 * (time.perf_counter() - started))
        started = time.perf_counter()
        ranked = match(profile, offers_for_need, limit=10 + effect_ranking.EXTRA_POOL)
        informed = effect_ranking.rerank(ranked, evidence, limit=10)
        timings.append(1000 * (time.perf_counter() - started))

        for shown_list, into_effect, into_relevance in (
            (informed, effect_top, relevance_top),
            (plain, effect_rel, relevance_rel),
        ):
            ids = [int(m.external_id.split("-")[1]) for m in shown_list[:5]]
            if not ids:
                continue
            into_effect.append(np.mean([theta(o, size, section) for o in ids]))
            into_relevance.append(
                np.mean([bool(set(candidates[o].themes) & set(themes)) for o in ids])
            )
    gain = (np.mean(effect_top) / np.mean(effect_rel) - 1) * 100
    print(
        f"top 5 for 1,000 companies: mean true effect {np.mean(effect_top):.3f} FTE "
        f"effect-informed vs {np.mean(effect_rel):.3f} relevance-only ({gain:+.1f} %)"
    )
    print(
        f"relevance (share of top 5 with one of the company's themes): "
        f"{100 * np.mean(relevance_top):.1f} % vs {100 * np.mean(relevance_rel):.1f} %"
    )
    print(
        f"time per match ({offers} offers, matching + effect ranking): "
        f"p50 {statistics.median(timings):.2f} ms, p95 {np.percentile(timings, 95):.2f} ms; "
        f"relevance only: p50 {statistics.median(relevance_timings):.2f} ms, "
        f"p95 {np.percentile(relevance_timings, 95):.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=300_000)
    parser.add_argument("--offers", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    panel, rows, theta, realised, sections, section_code = build_world(
        args.companies, args.offers, args.seed
    )
    print(
        f"panel: {len(panel.cvr):,} companies x {YEARS} years; {args.offers} offers; "
        f"{len(rows):,} participations ({time.perf_counter() - started:.0f} s)"
    )
    started = time.perf_counter()
    results = estimate(panel, rows, realised, args.offers)
    print(f"estimated every offer and segment in {time.perf_counter() - started:.0f} s")
    report_estimates(results)
    report_ranking(panel, results, theta, sections, section_code, args.offers, args.seed)


if __name__ == "__main__":
    main()
