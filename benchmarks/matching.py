"""How good are a guidance request's matches? A judged set of needs against the demo catalogue.

``benchmarks/data/matching_needs.jsonl`` holds realistic needs as companies write them (short,
long, colloquial, with typos, some in English), each with the company's profile and graded
judgements of the demo catalogue's offers (``offers/data/demo_offers.jsonl``): 3 = exactly this,
2 = clearly useful, 1 = related; an offer not judged is unrelated (0). The judging guidelines
are in ``docs/matching.md``. Each need belongs to the ``tune`` part (what the matching was tuned
on) or the ``held-out`` part (never looked at while tuning); the figures are printed for both.

The script loads the demo catalogue as it stood in its own month (``offers.demo.DEMO_AS_OF``) into
the database given, matches every need on that day through the same code a guidance request uses
(candidates from PostgreSQL and the process's catalogue copy, scoring in ``routing.matching``)
and prints, per part:

- nDCG@5 (gain 2^grade - 1; the ideal ranking is made of the judged offers the company can use),
- precision@5 (share of the offers shown in the first five places that are related at least),
- MRR of the first "exactly this" offer (0 when none is shown),
- the share of needs with an "exactly this" offer in the first three,
- the share of all offers shown that are unrelated (grade 0) and the mean number shown,
- the time per match, p50 and p95 (each need matched several times, the first round discarded).

Usage (a database of your own; the script migrates it and upserts the demo catalogue):

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/portal_match \\
    REDIS_URL=redis://127.0.0.1:6379/7 .venv/bin/python benchmarks/matching.py [--show N]

``--need ID`` prints that need's list with each offer's grade; ``--show N`` does so for the N
needs with the lowest nDCG@5 (what to look at when tuning: only on the tune part).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import secrets
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(60))
os.environ.setdefault("LOG_LEVEL", "WARNING")

NEEDS_FILE = BASE_DIR / "benchmarks" / "data" / "matching_needs.jsonl"
PARTS = ("tune", "held-out")
CUT = 5
TIMING_ROUNDS = 5


def setup_django() -> None:
    import django

    django.setup()


def load_needs(path: Path = NEEDS_FILE) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def load_catalogue() -> None:
    """The demo catalogue as of its own month, upserted (unchanged rows are not written)."""
    import io

    from django.core.management import call_command

    from offers import demo

    call_command("migrate", verbosity=0)
    demo.load(stdout=io.StringIO(), today=demo.DEMO_AS_OF)


def profile_of(need: Mapping[str, Any]) -> Any:
    from offers.models import Municipality
    from routing.matching import CompanyProfile

    data = need["profile"]
    municipality = Municipality.objects.select_related("region").get(code=data["municipality"])
    values: dict[str, Any] = {
        "municipality_code": municipality.code,
        "region_code": municipality.region.code,
        "phase": data.get("phase"),
        "employees": data.get("employees"),
        "industry": data.get("industry"),
        "themes": tuple(data.get("themes", ())),
        "needs_text": need["needs"],
        "municipality_name": str(municipality),
        "region_name": municipality.region.name,
    }
    known = {field.name for field in dataclasses.fields(CompanyProfile)}
    # The two-digit DB07 group, where the profile carries it and the matching knows it.
    if "industry_group" in known:
        values["industry_group"] = data.get("industry_group")
    return CompanyProfile(**values)


def shown_for(profile: Any, day: Any) -> list[str]:
    """External ids of the offers shown to the company, in order (what a request stores)."""
    from routing import services

    return [m.external_id for m in services.profile_match(profile=profile, day=day)]


def scored_for(profile: Any, day: Any) -> list[tuple[str, float]]:
    from routing import services

    return [(m.external_id, m.score) for m in services.profile_match(profile=profile, day=day)]


def eligible_ids(profile: Any, day: Any) -> set[str]:
    from routing.catalogue import catalogue_at

    catalogue = catalogue_at(None)
    ok = catalogue.eligible(profile, day)
    return {catalogue.external_ids[row] for row in range(len(catalogue)) if ok[row]}


def dcg(grades: Sequence[int]) -> float:
    return sum((2**grade - 1) / math.log2(rank + 2) for rank, grade in enumerate(grades))


def need_figures(
    shown: Sequence[str], judgements: Mapping[str, int], eligible: set[str]
) -> dict[str, float]:
    grades = [judgements.get(external_id, 0) for external_id in shown]
    ideal = sorted((g for o, g in judgements.items() if o in eligible), reverse=True)[:CUT]
    best = dcg(ideal)
    top = grades[:CUT]
    first_exact = next((rank for rank, grade in enumerate(grades) if grade == 3), None)
    return {
        "ndcg": dcg(top) / best if best else 1.0,
        "precision": sum(1 for g in top if g >= 1) / len(top) if top else 0.0,
        "mrr": 1 / (first_exact + 1) if first_exact is not None else 0.0,
        "exact_top3": 1.0 if first_exact is not None and first_exact < 3 else 0.0,
        "shown": float(len(grades)),
        "unrelated": float(sum(1 for g in grades if g == 0)),
        "has_exact": 1.0 if 3 in (judgements.get(o) for o in eligible) else 0.0,
    }


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def report(part: str, rows: list[dict[str, float]], times: list[float]) -> None:
    exact = [row for row in rows if row["has_exact"]]
    shown = sum(row["shown"] for row in rows)
    print(f"\n{part}: {len(rows)} needs ({len(exact)} with an 'exactly this' offer they can use)")
    print(f"  nDCG@5                       {statistics.fmean(r['ndcg'] for r in rows):.3f}")
    print(f"  precision@5                  {statistics.fmean(r['precision'] for r in rows):.3f}")
    print(f"  MRR (first grade 3)          {statistics.fmean(r['mrr'] for r in exact):.3f}")
    print(f"  grade 3 in the top 3         {statistics.fmean(r['exact_top3'] for r in exact):.1%}")
    unrelated = sum(r["unrelated"] for r in rows) / shown if shown else 0.0
    print(f"  shown offers unrelated       {unrelated:.1%}")
    print(f"  offers shown, mean           {shown / len(rows):.2f}")
    p50, p95 = percentile(times, 0.5), percentile(times, 0.95)
    print(f"  time per match p50 / p95     {p50:.1f} / {p95:.1f} ms")


def explain(need: Mapping[str, Any], shown: Sequence[str], figures: Mapping[str, float]) -> None:
    from offers.demo import DEMO_AS_OF

    print(f"\n{need['id']} ({need['split']}) nDCG@5 {figures['ndcg']:.2f}: {need['needs'][:100]}")
    print(f"  profile {need['profile']}")
    for rank, (external_id, points) in enumerate(scored_for(profile_of(need), DEMO_AS_OF), 1):
        grade = need["judgements"].get(external_id, 0)
        print(f"  {rank:2}. [{grade}] {external_id} ({points:.1f})")
    missing = [o for o, g in need["judgements"].items() if g == 3 and o not in shown]
    if missing:
        print(f"  not shown (grade 3): {', '.join(missing)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--show", type=int, default=0, help="explain the N weakest tune needs")
    parser.add_argument("--need", action="append", default=[], help="explain this need")
    args = parser.parse_args()
    setup_django()
    from offers.demo import DEMO_AS_OF

    load_catalogue()
    day = DEMO_AS_OF
    needs = load_needs()
    figures: dict[str, dict[str, float]] = {}
    shown: dict[str, list[str]] = {}
    times: dict[str, list[float]] = {part: [] for part in PARTS}
    for round_number in range(TIMING_ROUNDS + 1):
        for need in needs:
            profile = profile_of(need)
            started = time.perf_counter()
            result = shown_for(profile, day)
            elapsed = (time.perf_counter() - started) * 1000
            if round_number:
                times[need["split"]].append(elapsed)
                continue
            shown[need["id"]] = result
            figures[need["id"]] = need_figures(
                result, need["judgements"], eligible_ids(profile, day)
            )
    print(f"{len(needs)} judged needs, matched on {day.isoformat()} (the demo catalogue's month)")
    for part in PARTS:
        report(part, [figures[n["id"]] for n in needs if n["split"] == part], times[part])
    by_id = {need["id"]: need for need in needs}
    weakest = sorted(
        (n for n in needs if n["split"] == "tune"), key=lambda n: figures[n["id"]]["ndcg"]
    )
    for need in [*weakest[: args.show], *(by_id[i] for i in args.need)]:
        explain(need, shown[need["id"]], figures[need["id"]])


if __name__ == "__main__":
    main()
