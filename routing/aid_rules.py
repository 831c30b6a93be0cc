"""What the rules allow: de minimis headroom and "cannot be combined with" in the match list.

Pure, like ``routing.matching``: plain data in and out. ``routing.services`` loads the company's
position (``crm.services.de_minimis_headroom``, ``current_participations``) and each listed
offer's state aid, and calls :func:`apply_aid_rules` on the ranked list.

- An offer that cannot be combined with an offer the company takes part in now (an accepted
  referral in the CRM; the relation is symmetrical) is left out of the list.
- A de minimis offer whose aid value per participation is more than the company's headroom is
  flagged: it gets the reason :data:`ReasonCode.DE_MINIMIS` (the aid, the headroom, the ceiling)
  and moves after every offer that fits, so the company and the adviser see it and why, and an
  adviser can still check a register the portal does not know.
- Offers under a block-exemption article (GBER) or without state aid are not limited by the
  de minimis ceiling.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from routing.matching import Match, Reason, ReasonCode

DE_MINIMIS = "de_minimis"


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferAid:
    """One listed offer's state aid."""

    basis: str
    aid_value_dkk: int | None
    #: External ids of the offers it cannot be combined with, either way round.
    cannot_combine_with: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class CompanyAid:
    """The company's de minimis headroom (DKK) and its current participations."""

    remaining_dkk: int
    ceiling_eur: int
    #: External id -> title of the offers the company takes part in now.
    current: Mapping[str, str]


def apply_aid_rules(
    matches: Sequence[Match], offers: Mapping[str, OfferAid], company: CompanyAid
) -> list[Match]:
    """The list without offers that clash with a current participation, with offers over the
    headroom flagged and moved last (module doc); otherwise in the given order."""
    fitting: list[Match] = []
    flagged: list[Match] = []
    for m in matches:
        aid = offers.get(m.external_id)
        if aid is None:
            fitting.append(m)
            continue
        if any(other in company.current for other in aid.cannot_combine_with):
            continue
        if (
            aid.basis == DE_MINIMIS
            and aid.aid_value_dkk is not None
            and aid.aid_value_dkk > company.remaining_dkk
        ):
            reason = Reason(
                ReasonCode.DE_MINIMIS,
                (str(aid.aid_value_dkk), str(company.remaining_dkk), str(company.ceiling_eur)),
            )
            flagged.append(replace(m, reasons=(*m.reasons, reason)))
            continue
        fitting.append(m)
    return fitting + flagged


def clashes(aid: OfferAid, current: Mapping[str, str]) -> list[str]:
    """Titles of the current participations the offer cannot be combined with."""
    return [current[other] for other in sorted(aid.cannot_combine_with) if other in current]
