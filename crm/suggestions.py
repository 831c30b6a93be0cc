"""How the case page words the reasons of the offers the portal suggested.

A suggestion (``CaseOffer``) keeps what the matching said twice: ``reasons``, the Danish sentences
(what the API and earlier cases have), and ``explanation``, the structured reasons (a code and its
values). Wording them in the adviser's language belongs to the matching, a layer above the CRM, so
the routing app registers its wording here when it starts (``RoutingConfig.ready``), as it
registers its outbox and personal-data handlers. Without one, or for a suggestion stored before
reasons were structured, the Danish sentences are shown as stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from crm.models import CaseOffer

Wording = Callable[[Iterable[Mapping[str, Any]]], Sequence[Sequence[str]]]

_wording: list[Wording] = []


def wording_register(wording: Wording) -> None:
    """Word stored reasons with ``wording`` (one list of texts per stored match)."""
    _wording[:] = [wording]


def suggestions_worded(suggestions: Sequence[CaseOffer]) -> list[tuple[CaseOffer, list[str]]]:
    """Each suggestion with its reasons in the active language."""
    if not _wording:
        return [(suggestion, list(suggestion.reasons)) for suggestion in suggestions]
    stored = [{"reasons": s.reasons, "explanation": s.explanation or None} for s in suggestions]
    return [
        (suggestion, list(worded))
        for suggestion, worded in zip(suggestions, _wording[0](stored), strict=True)
    ]
