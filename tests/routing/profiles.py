"""Company profiles for the matching tests, on plain data (no database)."""

from __future__ import annotations

import dataclasses
from typing import Any

from routing.matching import CompanyProfile, OfferCandidate

VEJLE_EXPORTER = CompanyProfile(
    municipality_code=630,
    region_code=1083,
    phase="growth",
    employees=25,
    industry="C",
    themes=("export",),
    needs_text="Vi vil eksportere til Tyskland",
    municipality_name="Vejle Kommune",
    region_name="Region Syddanmark",
)


def company(**changes: Any) -> CompanyProfile:
    """A growing manufacturer in Vejle with 25 employees that wants to export."""
    return dataclasses.replace(VEJLE_EXPORTER, **changes)


def candidate(external_id: str = "offer-1", **changes: Any) -> OfferCandidate:
    """An open, nationwide export offer for every phase and size, with no text rank."""
    base = OfferCandidate(
        external_id=external_id,
        title=f"Tilbud {external_id}",
        themes=("export",),
        phases=("idea", "startup", "growth", "established"),
        company_sizes=("micro", "small", "medium", "large"),
        industries=(),
        nationwide=True,
        region_codes=(),
        municipality_codes=(),
        is_open=True,
        text_rank=0.0,
    )
    return dataclasses.replace(base, **changes)
