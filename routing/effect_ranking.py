"""What works for companies like yours: measured effects reorder relevant offers, with restraint.

Pure, like ``routing.matching``: plain data in and out, no ORM. ``routing.services`` loads each
listed offer's evidence (``evaluation``'s published effects) and calls :func:`rerank` once, after
the relevance ranking of ``routing.matching.match``.

Evidence
--------
For an offer, the employment effect (extra full-time employees two years after participation,
against matched comparable companies) for the company's segment (size band x industry section),
shrunk toward the offer's overall effect (``evaluation.segments``). When the company's segment is
not shown (too few, or not measured) the offer's overall effect stands in, and the reason says so.

The formula (the only place effect and relevance meet)
------------------------------------------------------
``combined = relevance score + clamp(EFFECT_POINTS_PER_FTE * effect, -MAX_EFFECT_POINTS,
+MAX_EFFECT_POINTS)``

* ``relevance score`` is the 0-100 score of ``routing.matching``; ``effect`` the shrunk estimate
  (its posterior mean, so an uncertain segment already counts closer to the offer's own effect).
* The cap keeps an offer's effect from outweighing more than :data:`MAX_EFFECT_POINTS` of
  relevance: a clearly better fit stays ahead of a slightly better effect.
* Restraint for offers without a measurement (new, or too few participants): they keep their
  exact place in the relevance ranking. Only measured offers move, and only among the places
  measured offers held, ordered by ``combined`` (ties by their relevance order). So an offer is
  neither buried nor promoted for lack of evidence, and the offer the company came from stays
  first.
* Only offers that are already in the relevant, eligible list are reordered: the effect never
  brings in an offer that matching did not find relevant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

from routing.matching import Match, Reason, ReasonCode

#: Points of relevance per extra full-time employee of effect.
EFFECT_POINTS_PER_FTE: Final = 6.0
#: At most this many points up or down.
MAX_EFFECT_POINTS: Final = 15.0
#: Relevant offers beyond the shown list that may move into it on their effect.
EXTRA_POOL: Final = 10

SEGMENT: Final = "segment"
OFFER: Final = "offer"


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """The measured employment effect of one offer for the company (see module doc)."""

    estimate: float
    ci_low: float
    ci_high: float
    #: Participants measured: of the segment, or of the offer.
    n_treated: int
    #: :data:`SEGMENT` or :data:`OFFER`.
    scope: str = SEGMENT
    #: The segment, for the reason: size band ("small") and DB07 section ("C").
    size: str = ""
    section: str = ""

    def reason(self) -> Reason:
        return Reason(
            ReasonCode.EFFECT,
            (
                self.scope,
                self.size,
                self.section,
                f"{self.estimate:.6g}",
                f"{self.ci_low:.6g}",
                f"{self.ci_high:.6g}",
                str(self.n_treated),
            ),
        )


def effect_points(evidence: Evidence) -> float:
    """The effect's share of the combined score (module doc)."""
    points = EFFECT_POINTS_PER_FTE * evidence.estimate
    return max(-MAX_EFFECT_POINTS, min(MAX_EFFECT_POINTS, points))


def combined_score(score: float, evidence: Evidence | None) -> float:
    return score if evidence is None else score + effect_points(evidence)


def rerank(
    matches: Sequence[Match],
    evidence: Mapping[str, Evidence],
    *,
    limit: int,
    origin: str | None = None,
) -> list[Match]:
    """The relevance-ranked ``matches`` reordered by the formula, cut at ``limit``.

    Measured offers get the effect reason after their own; the others are returned unchanged.
    """
    movable = [
        i for i, m in enumerate(matches) if m.external_id in evidence and m.external_id != origin
    ]
    order = sorted(
        movable,
        key=lambda i: (-combined_score(matches[i].score, evidence[matches[i].external_id]), i),
    )
    placed = list(matches)
    for slot, source in zip(movable, order, strict=True):
        placed[slot] = matches[source]
    result = []
    for m in placed[:limit]:
        found = evidence.get(m.external_id)
        result.append(m if found is None else replace(m, reasons=(*m.reasons, found.reason())))
    return result
