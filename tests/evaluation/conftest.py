from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from evaluation.importers import panel_import, participations_import
from evaluation.panel import clear_panel_cache
from evaluation.synthetic import SyntheticPanel, make_panel
from offers.models import Offer


@pytest.fixture(autouse=True)
def _fresh_panel_cache():
    # Each test has its own database contents; a cached panel must never leak between them.
    clear_panel_cache()
    yield
    clear_panel_cache()


@dataclass
class Participants:
    """Who took part in what, by company index in the synthetic panel."""

    by_offer: dict[str, list[tuple[int, int]]] = field(default_factory=dict)


@dataclass
class Register:
    panel: SyntheticPanel
    participants: Participants


@pytest.fixture
def build_register(db) -> Callable[..., Register]:
    """Import a synthetic register and participations in the given offers.

    ``offers`` maps an offer to ``{"effect": FTE, "per_year": n, "years": [...]}`` (optional
    ``"revenue"`` in DKK and ``"selection"``; ``per_year`` may also map each year to its n).
    Each company takes part at most once.
    """

    def build(
        offers: dict[Offer, dict[str, Any]],
        *,
        companies: int = 4_000,
        first_year: int = 2016,
        years: int = 7,
        seed: int = 7,
    ) -> Register:
        panel = make_panel(
            companies=companies,
            first_year=first_year,
            years=years,
            seed=seed,
            municipalities=(101, 751, 851),
            entry_exit=False,
        )
        rng = np.random.default_rng(seed + 1)
        taken = np.zeros(len(panel.cvr), dtype=bool)
        lines = ["cvr,offer,year"]
        participants = Participants()
        for offer, spec in offers.items():
            chosen_all: list[tuple[int, int]] = []
            for year in spec["years"]:
                chosen = panel.participants(
                    rng,
                    year=year,
                    count=(
                        spec["per_year"][year]
                        if isinstance(spec["per_year"], dict)
                        else spec["per_year"]
                    ),
                    selection=spec.get("selection", 1.0),
                    eligible=~taken,
                )
                taken[chosen] = True
                panel.add_effect(
                    chosen, year, employees=spec["effect"], revenue=spec.get("revenue", 0.0)
                )
                lines += [f"{panel.cvr[c]},{offer.external_id},{year}" for c in chosen.tolist()]
                chosen_all += [(int(c), year) for c in chosen.tolist()]
            participants.by_offer[offer.external_id] = chosen_all
        buffer = io.StringIO()
        panel.write_csv(buffer)
        panel_import(source=io.BytesIO(buffer.getvalue().encode()))
        if len(lines) > 1:
            participations_import(source=io.BytesIO("\n".join(lines).encode()))
        return Register(panel=panel, participants=participants)

    return build
