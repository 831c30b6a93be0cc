"""Match a company's guidance request to offers: eligibility, score and reasons.

Pure logic on plain data, with no ORM and no Django, so it is tested without a database.
The caller loads the candidate offers (with ``text_rank``, PostgreSQL's ``ts_rank_cd`` of the
needs text against each offer under the ``danish`` configuration) and passes them here.

How an offer is judged:

1. Hard eligibility (:func:`eligibility_failures`): open now, geography, phase, size and
   industry. An offer that fails any rule is never shown.
2. Score (:func:`score`), 0-100: theme fit (:data:`THEME_WEIGHT`), text relevance
   (:data:`TEXT_WEIGHT`) and small specificity bonuses for an offer aimed at the company's own
   municipality, region (:data:`LOCAL_BONUS`, :data:`REGIONAL_BONUS`) or industry
   (:data:`INDUSTRY_BONUS`). The weights add up to 100.
3. :func:`match` keeps eligible offers that fit at least one chosen theme or the needs text
   (bonuses alone never make an offer relevant), then sorts by score and external id.

The offer a company came from (it pressed "Få vejledning" on that offer's page,
``origin_offer_id``) is relevant by definition when eligible: it is listed first, gets
:data:`ORIGIN_BONUS` and says so as its first reason, so the company sees at once whether the
offer it asked about fits. An ineligible origin offer is left out like any other.

Rules decided here, beyond "the offer lists the company's value":

- An empty ``industries`` means open to all industries; so do empty ``phases`` and
  ``company_sizes`` (a restriction nobody entered is not a restriction).
- A company whose phase or size is unknown passes the phase or size rule. A company whose
  industry is unknown passes only offers open to all industries: an industry-targeted offer
  cannot be shown to be for it.
- A company without a municipality gets only nationwide offers, even when a region is given;
  the caller derives the region from the municipality.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

# --- Weights and thresholds -------------------------------------------------------------------

#: Points for covering every theme the company chose (scaled by the share covered).
THEME_WEIGHT = 60.0
#: Points for a perfect text match (scaled by :func:`text_relevance`).
TEXT_WEIGHT = 30.0
#: Bonus for an offer that lists the company's own municipality.
LOCAL_BONUS = 5.0
#: Bonus for an offer that lists the company's own region (not its municipality): a regional
#: offer is less specific than a municipal one, so it gets less.
REGIONAL_BONUS = 3.0
#: Bonus for an offer targeted at named industries that include the company's.
INDUSTRY_BONUS = 5.0
#: Bonus for the offer the company asked about; beyond the 100 of the others, capped at 100.
ORIGIN_BONUS = 10.0

#: ``ts_rank_cd`` at which text relevance is one half. Under Django's default weights a single
#: stemmed hit in an offer's body ranks about 0.1 and a hit in its title about 1.0.
TEXT_RANK_HALF = 0.1
#: Text relevance (0-1) from which the needs text alone makes an offer relevant and the text
#: reason is given: one third, reached at ``text_rank`` = ``TEXT_RANK_HALF / 2``.
TEXT_MIN_RELEVANCE = 1 / 3

#: Default floor on the final score in :func:`match`. Relevance is decided by the rule above,
#: so the default keeps every relevant offer; a caller may raise it.
DEFAULT_MIN_SCORE = 0.0
#: Default number of matches returned by :func:`match`.
DEFAULT_LIMIT = 10

# --- Domain values ----------------------------------------------------------------------------

PHASES = ("idea", "startup", "growth", "established")
SIZE_CLASSES = ("micro", "small", "medium", "large")

# --- User-facing texts (Danish) ---------------------------------------------------------------
# Every string a company reads lives here, so it is easy to find and to translate later.

REASON_THEMES = "Matcher dit behov: {themes}"
REASON_TEXT = "Matcher det, du skriver om dit behov"
REASON_SIZE = "For virksomheder med {size}"
# Danish writes number ranges with an en dash; ruff's RUF001 would have a hyphen.
SIZE_LABELS: Mapping[str, str] = {
    "micro": "under 10 ansatte",
    "small": "10–49 ansatte",
    "medium": "50–249 ansatte",
    "large": "250 eller flere ansatte",
}
PHASE_REASONS: Mapping[str, str] = {
    "idea": "For virksomheder i idéfasen",
    "startup": "For virksomheder i opstartsfasen",
    "growth": "For virksomheder i vækst",
    "established": "For etablerede virksomheder",
}
REASON_NATIONWIDE = "Tilbydes i hele landet"
REASON_PLACE = "Tilbydes i {place}"
#: Used when the caller gave no display name for the company's municipality or region.
REASON_OWN_MUNICIPALITY = "Tilbydes i din kommune"
REASON_OWN_REGION = "Tilbydes i din region"
REASON_INDUSTRY = "Målrettet din branche"
REASON_ORIGIN = "Det tilbud, du spurgte om"
#: The word joining the last two items of a list: "eksport og digitalisering".
AND_WORD = "og"


# --- Data -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CompanyProfile:
    """What a company told us about itself and its needs.

    ``municipality_name`` and ``region_name`` are display names used in reasons, written as
    they should read: "Vejle Kommune", "Bornholms Regionskommune", "Region Syddanmark".
    ``needs_text`` is carried for the caller; its relevance arrives as each offer's
    ``text_rank``. ``origin_offer_id`` is the external id of the offer the company came from.
    """

    municipality_code: int | None
    region_code: int | None
    phase: str | None
    employees: int | None
    industry: str | None
    themes: tuple[str, ...]
    needs_text: str
    municipality_name: str | None = None
    region_name: str | None = None
    origin_offer_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferCandidate:
    """One offer as loaded by the caller, with its full-text rank against the needs text."""

    external_id: str
    title: str
    themes: tuple[str, ...]
    phases: tuple[str, ...]
    company_sizes: tuple[str, ...]
    industries: tuple[str, ...]
    nationwide: bool
    region_codes: tuple[int, ...]
    municipality_codes: tuple[int, ...]
    is_open: bool
    text_rank: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """An offer shown to the company, with a 0-100 score and the reasons in Danish."""

    external_id: str
    title: str
    score: float
    reasons: tuple[str, ...]


class Rule(StrEnum):
    """A hard eligibility rule an offer can fail."""

    CLOSED = "closed"
    GEOGRAPHY = "geography"
    PHASE = "phase"
    SIZE = "size"
    INDUSTRY = "industry"


# --- Eligibility ------------------------------------------------------------------------------


def size_class(employees: int | None) -> str | None:
    """Return the size class for a head count: micro 0-9, small 10-49, medium 50-249, large 250+."""
    if employees is None:
        return None
    if employees < 0:
        msg = f"employees must be zero or more, got {employees}"
        raise ValueError(msg)
    if employees < 10:
        return "micro"
    if employees < 50:
        return "small"
    if employees < 250:
        return "medium"
    return "large"


def eligibility_failures(company: CompanyProfile, offer: OfferCandidate) -> tuple[Rule, ...]:
    """Return the hard rules the offer fails for the company, in a fixed order; empty if none."""
    failures: list[Rule] = []
    if not offer.is_open:
        failures.append(Rule.CLOSED)
    if not _geography_fits(company, offer):
        failures.append(Rule.GEOGRAPHY)
    if not _restriction_allows(offer.phases, company.phase):
        failures.append(Rule.PHASE)
    if not _restriction_allows(offer.company_sizes, size_class(company.employees)):
        failures.append(Rule.SIZE)
    if not _industry_fits(company, offer):
        failures.append(Rule.INDUSTRY)
    return tuple(failures)


def is_eligible(company: CompanyProfile, offer: OfferCandidate) -> bool:
    """Whether the offer passes every hard rule for the company."""
    return not eligibility_failures(company, offer)


def _geography_fits(company: CompanyProfile, offer: OfferCandidate) -> bool:
    if offer.nationwide:
        return True
    if company.municipality_code is None:
        return False
    return _in_own_municipality(company, offer) or _in_own_region(company, offer)


def _in_own_municipality(company: CompanyProfile, offer: OfferCandidate) -> bool:
    return (
        company.municipality_code is not None
        and company.municipality_code in offer.municipality_codes
    )


def _in_own_region(company: CompanyProfile, offer: OfferCandidate) -> bool:
    return (
        company.municipality_code is not None
        and company.region_code is not None
        and company.region_code in offer.region_codes
    )


def _restriction_allows(allowed: tuple[str, ...], value: str | None) -> bool:
    # Unknown value or no restriction: pass.
    return value is None or not allowed or value in allowed


def _industry_fits(company: CompanyProfile, offer: OfferCandidate) -> bool:
    if not offer.industries:
        return True
    return company.industry is not None and company.industry in offer.industries


# --- Scoring ----------------------------------------------------------------------------------


def text_relevance(text_rank: float) -> float:
    """Map a ``ts_rank_cd`` (0 and up) to 0-1 with ``r / (r + TEXT_RANK_HALF)``."""
    if math.isnan(text_rank) or text_rank <= 0:
        return 0.0
    if math.isinf(text_rank):
        return 1.0
    return text_rank / (text_rank + TEXT_RANK_HALF)


def score(
    company: CompanyProfile,
    offer: OfferCandidate,
    *,
    theme_labels: Mapping[str, str] | None = None,
) -> tuple[float, tuple[str, ...]]:
    """Score an offer for the company (0-100, one decimal) and explain it in Danish.

    ``theme_labels`` maps theme slugs to Danish labels ("export" → "eksport"); a slug without
    a label is shown as is. Eligibility is not checked here: see :func:`is_eligible`.
    """
    assessment = _assess(company, offer, theme_labels or {})
    return assessment.score, assessment.reasons


def match(
    company: CompanyProfile,
    offers: Iterable[OfferCandidate],
    *,
    theme_labels: Mapping[str, str] | None = None,
    limit: int = DEFAULT_LIMIT,
    min_score: float = DEFAULT_MIN_SCORE,
) -> list[Match]:
    """Return the eligible, relevant offers for the company, best first.

    Relevant means the offer covers at least one chosen theme or its text relevance reaches
    :data:`TEXT_MIN_RELEVANCE`, or it is the company's origin offer. Matches scoring below
    ``min_score`` are dropped. Order: the origin offer first, then score descending, then
    ``external_id`` ascending, so equal requests give equal lists.
    """
    if limit < 0:
        msg = f"limit must be zero or more, got {limit}"
        raise ValueError(msg)
    labels = theme_labels or {}
    matches: list[Match] = []
    for offer in offers:
        if not is_eligible(company, offer):
            continue
        assessment = _assess(company, offer, labels)
        if not assessment.relevant or assessment.score < min_score:
            continue
        matches.append(
            Match(
                external_id=offer.external_id,
                title=offer.title,
                score=assessment.score,
                reasons=assessment.reasons,
            ),
        )
    origin = company.origin_offer_id
    matches.sort(key=lambda m: (m.external_id != origin, -m.score, m.external_id, m.title))
    return matches[:limit]


@dataclass(frozen=True, slots=True)
class _Assessment:
    score: float
    reasons: tuple[str, ...]
    relevant: bool


def _assess(
    company: CompanyProfile,
    offer: OfferCandidate,
    theme_labels: Mapping[str, str],
) -> _Assessment:
    reasons: list[str] = []

    is_origin = company.origin_offer_id is not None and offer.external_id == company.origin_offer_id
    if is_origin:
        reasons.append(REASON_ORIGIN)

    chosen = _unique(company.themes)
    covered = [theme for theme in chosen if theme in offer.themes]
    theme_fit = len(covered) / len(chosen) if chosen else 0.0
    if covered:
        labels = [theme_labels.get(theme, theme) for theme in covered]
        reasons.append(REASON_THEMES.format(themes=_join(labels)))

    relevance = text_relevance(offer.text_rank)
    text_matches = relevance >= TEXT_MIN_RELEVANCE
    if text_matches:
        reasons.append(REASON_TEXT)

    size = size_class(company.employees)
    if size is not None and size in offer.company_sizes and size in SIZE_LABELS:
        reasons.append(REASON_SIZE.format(size=SIZE_LABELS[size]))

    if company.phase is not None and company.phase in offer.phases:
        phase_reason = PHASE_REASONS.get(company.phase)
        if phase_reason is not None:
            reasons.append(phase_reason)

    bonus = 0.0
    if _in_own_municipality(company, offer):
        bonus += LOCAL_BONUS
        reasons.append(_place_reason(company.municipality_name, REASON_OWN_MUNICIPALITY))
    elif _in_own_region(company, offer):
        bonus += REGIONAL_BONUS
        reasons.append(_place_reason(company.region_name, REASON_OWN_REGION))
    elif offer.nationwide:
        reasons.append(REASON_NATIONWIDE)

    if company.industry is not None and company.industry in offer.industries:
        bonus += INDUSTRY_BONUS
        reasons.append(REASON_INDUSTRY)

    if is_origin:
        bonus += ORIGIN_BONUS

    total = THEME_WEIGHT * theme_fit + TEXT_WEIGHT * relevance + bonus
    return _Assessment(
        score=round(min(total, 100.0), 1),
        reasons=tuple(reasons),
        relevant=bool(covered) or text_matches or is_origin,
    )


def _place_reason(name: str | None, fallback: str) -> str:
    return REASON_PLACE.format(place=name) if name else fallback


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _join(items: Sequence[str]) -> str:
    """Join as Danish prose: "a", "a og b", "a, b og c"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {AND_WORD} {items[-1]}"
