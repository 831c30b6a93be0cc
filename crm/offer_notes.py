"""Notes the adviser's offer picker shows beside an offer for the case's company.

The CRM sits below matching and effect measurement in the layers, so those apps add their notes
here at start (``add_offer_note_source`` in their ``AppConfig.ready``): the measured effect for
companies like this one (``evaluation``), the de minimis headroom (``crm.state_aid``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crm.models import Company
    from offers.models import Offer

#: (company, offers) -> offer pk -> a note in the active language.
type OfferNoteSource = Callable[["Company", Sequence["Offer"]], dict[int, str]]

_sources: list[OfferNoteSource] = []


def add_offer_note_source(source: OfferNoteSource) -> None:
    if source not in _sources:
        _sources.append(source)


def offer_notes(company: Company, offers: Sequence[Offer]) -> dict[int, list[str]]:
    """Every source's note per offer, in the order the sources were added."""
    notes: dict[int, list[str]] = {}
    for source in _sources:
        for offer_id, note in source(company, offers).items():
            if note:
                notes.setdefault(offer_id, []).append(note)
    return notes
