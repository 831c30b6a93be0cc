from __future__ import annotations

import pytest

from tests.routing.factories import OfferFactory, index_offers


@pytest.fixture
def export_offers(db) -> None:
    """Three offers: a nationwide export offer for small companies, a capital offer, and an
    export offer only for Aarhus."""
    OfferFactory(
        external_id="eksportstart",
        title="Eksportstart – kom i gang med eksport",
        summary="Rådgivning til små virksomheder, der vil eksportere for første gang.",
        themes=["export"],
        company_sizes=["micro", "small"],
    )
    OfferFactory(external_id="kapital-lan", title="Lån til vækst", themes=["capital"])
    OfferFactory(
        external_id="aarhus-lokal",
        title="Eksportnetværk i Aarhus",
        themes=["export"],
        nationwide=False,
        level="municipality",
        municipalities=[751],
    )
    index_offers()
