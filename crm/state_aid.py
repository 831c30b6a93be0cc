"""De minimis headroom: how much de minimis aid a company may still receive.

Pure: dates and amounts in, amounts out; time is an input (``day``). The services
(``crm.services.state_aid``) load the aid and pass the settings.

The rule (Commission Regulation (EU) 2023/2831, Article 3(2)): the de minimis aid granted to a
single undertaking may not exceed EUR 300,000 over **any period of three years**. The period is
rolling: for aid granted on day ``D``, everything granted in the three years up to and including
``D`` counts, that is from the day after the same date three years earlier. Aid granted on
31 December 2023 counts for a grant on 30 December 2026 and no longer for one on
31 December 2026; a 29 February three years earlier becomes 28 February (then 1 March starts the
window).

The ceiling (``DE_MINIMIS_CEILING_EUR``) and the exchange rate (``DE_MINIMIS_DKK_PER_EUR``) are
settings; amounts are kept in Danish kroner, as the register and the offers state them.

The aid a company has received is the sum of two sources: its completed participations in the
CRM in offers granted as de minimis aid (the offer's aid value per participation, granted on the
day the referral was completed) and the lines of the imported register extract (other
grantors). A grant in both would count twice; the extract should hold other grantors' aid.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

#: Years in the rolling period of Article 3(2).
PERIOD_YEARS = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Aid:
    """One de minimis grant: when and how much (DKK)."""

    granted_on: dt.date
    amount_dkk: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Headroom:
    """A company's de minimis position on ``day``."""

    day: dt.date
    window_start: dt.date
    ceiling_dkk: int
    used_dkk: int

    @property
    def remaining_dkk(self) -> int:
        return max(self.ceiling_dkk - self.used_dkk, 0)

    @property
    def exceeded(self) -> bool:
        return self.used_dkk > self.ceiling_dkk

    def allows(self, amount_dkk: int) -> bool:
        """Whether a new grant of ``amount_dkk`` on ``day`` keeps the company under the ceiling."""
        return self.used_dkk + amount_dkk <= self.ceiling_dkk


def window_start(day: dt.date) -> dt.date:
    """The first day of the three-year period that ends on ``day`` (module doc)."""
    try:
        same_day = day.replace(year=day.year - PERIOD_YEARS)
    except ValueError:  # 29 February in a year that has none
        same_day = dt.date(day.year - PERIOD_YEARS, 2, 28)
    return same_day + dt.timedelta(days=1)


def ceiling_dkk(*, ceiling_eur: int, dkk_per_eur: Decimal) -> int:
    """The ceiling in whole kroner, rounded down (never allow a krone too many)."""
    return int(Decimal(ceiling_eur) * dkk_per_eur)


def headroom(
    aids: Iterable[Aid], *, day: dt.date, ceiling_eur: int, dkk_per_eur: Decimal
) -> Headroom:
    """The company's headroom on ``day``: the ceiling minus the aid granted in the period."""
    start = window_start(day)
    used = sum(aid.amount_dkk for aid in aids if start <= aid.granted_on <= day)
    return Headroom(
        day=day,
        window_start=start,
        ceiling_dkk=ceiling_dkk(ceiling_eur=ceiling_eur, dkk_per_eur=dkk_per_eur),
        used_dkk=used,
    )
