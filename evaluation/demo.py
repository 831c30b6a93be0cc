"""Demo register data: a synthetic panel, participations in 40 demo offers, and a computed run.

The panel is synthetic (see :mod:`evaluation.synthetic`): 20,000 companies over 2017-2024 with
Danish magnitudes and selective participation. Each chosen offer gets an injected effect, from
none to three full-time jobs per participant, so the effects pages show a realistic spread,
including offers with too few participants to measure and years too small to show. Goes through
the same imports and the same run as production data. Idempotent: an existing panel,
participations or completed run is left alone, so a second call only checks.
"""

from __future__ import annotations

import io
import time
from typing import Any, Final

import numpy as np

from evaluation.importers import panel_import, participations_import
from evaluation.models import EffectRun, PanelRow, Participation
from evaluation.services import effects_compute
from evaluation.synthetic import make_panel
from offers.models import Municipality, Offer

SEED: Final = 2017
COMPANIES: Final = 20_000
FIRST_YEAR: Final = 2017
YEARS: Final = 8
OFFERS: Final = 40
# Participation years: 2019-2022 can be measured (t-2 and t+2 are in the panel), 2023-2024 not yet.
COHORTS: Final = (2019, 2020, 2021, 2022, 2023, 2024)
# Injected effect per participant, in FTE; revenue follows at 1.1 million DKK per FTE.
EFFECTS_FTE: Final = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, -0.5, 1.0)
REVENUE_PER_FTE: Final = 1_100_000.0


def load(*, stdout: Any) -> None:
    started = time.perf_counter()
    offers = _demo_offers()
    if not offers:
        stdout.write("demo effects: no demo offers, skipped")
        return
    if PanelRow.objects.exists() and Participation.objects.exists():
        stdout.write("demo register: panel and participations already loaded")
    else:
        _load_register(offers, stdout)
    if EffectRun.objects.completed().exists():
        stdout.write("demo effects: a completed run exists, not recomputed")
        return
    run = effects_compute(sync=True)
    stdout.write(
        f"demo effects: run {run.pk} {run.status}, {run.offers_done} offers "
        f"in {time.perf_counter() - started:.1f} s"
    )


def _demo_offers() -> list[Offer]:
    """Forty published demo offers spread over the catalogue (every fourth by external id)."""
    import json

    from offers.demo import DEMO_FILE

    ids = [
        json.loads(line)["external_id"]
        for line in DEMO_FILE.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    offers = list(Offer.objects.filter(external_id__in=ids).order_by("external_id"))
    return offers[::4][:OFFERS]


def _load_register(offers: list[Offer], stdout: Any) -> None:
    rng = np.random.default_rng(SEED)
    codes = sorted(Municipality.objects.values_list("code", flat=True)) or [101]
    panel = make_panel(
        companies=COMPANIES, first_year=FIRST_YEAR, years=YEARS, seed=SEED, municipalities=codes
    )
    participations: list[str] = ["cvr,offer,year"]
    # Each company takes part once, so one offer's effect never lands in another's outcome.
    taken = np.zeros(len(panel.cvr), dtype=bool)
    for number, offer in enumerate(offers):
        effect = EFFECTS_FTE[number % len(EFFECTS_FTE)]
        # Every seventh offer is small: too few participants to publish a number. The others
        # vary from year to year, so some years are too small to show on their own and are
        # left out of the offer's figure for all years (evaluation/disclosure.py).
        small = number % 7 == 3
        for year in COHORTS:
            per_year = 3 if small else int(rng.integers(10, 48))
            chosen = panel.participants(
                rng, year=year, count=per_year, selection=1.0, eligible=~taken
            )
            taken[chosen] = True
            panel.add_effect(chosen, year, employees=effect, revenue=effect * REVENUE_PER_FTE)
            participations.extend(
                f"{panel.cvr[c]},{offer.external_id},{year}" for c in chosen.tolist()
            )
    buffer = io.StringIO()
    panel.write_csv(buffer)
    report = panel_import(source=io.BytesIO(buffer.getvalue().encode()))
    stdout.write(f"demo register: {report.rows} panel rows in {report.seconds:.1f} s")
    report = participations_import(source=io.BytesIO("\n".join(participations).encode()))
    stdout.write(f"demo register: {report.rows} participations in {len(offers)} offers")
