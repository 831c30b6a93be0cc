"""Match a company's guidance request to offers: eligibility, ranking, reasons and compatibility.

Pure logic on plain data, with no ORM and no Django, so it is tested without a database.
The caller loads the candidate offers (with ``text_rank``, PostgreSQL's ``ts_rank_cd`` of the
needs text, expanded through the needs vocabulary, against each offer under the ``danish``
configuration) and passes them here with their texts.

How an offer is judged:

1. Hard eligibility (:func:`eligibility_failures`): open now, geography, phase, size and
   industry (the DB07 section). An offer that fails any rule is never shown.
2. The base score (:func:`score`), 0-100: theme fit (:data:`THEME_WEIGHT`), text relevance
   (:data:`TEXT_WEIGHT`) and small bonuses for the company's own municipality, region
   (:data:`LOCAL_BONUS`, :data:`REGIONAL_BONUS`) and industry (:data:`INDUSTRY_BONUS`). The
   catalogue copy (``routing.catalogue``) chooses the candidates by this score.
3. The ranking (:func:`match`) reads what the need and the offer say, through the needs
   vocabulary (``routing.vocabulary``): the concepts of the needs text ("sælge i udlandet" is
   export, "hacket" is cyber security, in Danish and English) against the concepts of the
   offer's title, summary and expected result (strong) and description (weak)
   (:data:`CONCEPT_WEIGHT`); the text rank (:data:`RANK_TEXT_WEIGHT`); the ticked themes
   (:data:`CHOSEN_THEME_WEIGHT`) and the themes the text implies (:data:`IMPLIED_THEME_WEIGHT`);
   the fine industry (DB07 main groups, below); the place; an offer aimed at few phases or sizes
   that include the company's (:data:`FOCUS_BONUS`).
4. Only offers with evidence are relevant: a concept or the text of the need, a ticked theme,
   or the offer the company came from. Of those, the list keeps the ones scoring at least
   :data:`RELATIVE_CUT` of the best and :data:`MIN_RANK_SCORE`, and below :data:`SURE_SHARE` of
   the best only the ones mostly about the need (:data:`TAIL_PRECISION`) that also say much of
   it (:data:`TAIL_FIT`): fewer than ten when fewer fit. When the best is an offer of the
   company's own municipality only (a building permit, a site), the municipality's business
   service (:data:`LOCAL_ENTRY_THEME`) is shown too, as the local entry to the case.
5. Offers that cannot be combined (``cannot_combine_with``) are never both shown: the better one
   is, and the other is named under it as its alternative.

The fine industry. A company gives its DB07 main group (two digits, ``industry_group``; an
``industry`` written "31" or "C31" gives both) or its needs name it ("møbler" is 31). An offer's
groups are the ones its editor gave (``industry_groups``), else, for an offer restricted to
industries, the ones its title or summary names through an industry concept (a cluster for
"møbel-, interiør- og modemesser" is for 31 and 14). When both are known, an offer for the
company's group gets :data:`GROUP_BONUS` and says so by the group's name, if that is sure (at
most :data:`GROUP_FOCUS_MAX` groups, or its texts name the company's group, or the need names the
industry the offer is about; otherwise :data:`UNKNOWN_GROUP_PENALTY`); one for other groups gets
:data:`GROUP_PENALTY` and no industry reason, and so does one for groups of other sections only
when only the company's section is known. An offer naming no group but restricted to the
company's section gets :data:`INDUSTRY_BONUS` and names the section.

The offer a company came from (it pressed "Få vejledning" on that offer's page,
``origin_offer_id``) is relevant by definition when eligible: it is listed first, gets
:data:`ORIGIN_BONUS` and says so as its first reason. An ineligible origin offer is left out.

Reasons are structured (:class:`Reason`: a code and values), rendered in the page's language by
``routing.reasons``. Each names what is particular to the offer: the words of the need it answers,
what the offer's result is (or, without one, what it is), the fine industry or the place.

Rules decided here, beyond "the offer lists the company's value":

- An empty ``industries`` means open to all industries; so do empty ``phases`` and
  ``company_sizes`` (a restriction nobody entered is not a restriction).
- A company whose phase or size is unknown passes the phase or size rule. A company whose
  industry is unknown passes only offers open to all industries.
- A company without a municipality gets only nationwide offers, even when a region is given;
  the caller derives the region from the municipality.
"""

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from offers.db07 import section_of_group
from routing.vocabulary import SUMMARY_STRENGTH, OfferConcepts, Vocabulary, default_vocabulary

# --- Weights and thresholds -------------------------------------------------------------------

#: Base score: points for covering every theme the company chose (scaled by the share covered).
THEME_WEIGHT = 60.0
#: Base score: points for a perfect text match (scaled by :func:`text_relevance`).
TEXT_WEIGHT = 30.0
#: Bonus for an offer that lists the company's own municipality.
LOCAL_BONUS = 5.0
#: Bonus for an offer that lists the company's own region (not its municipality).
REGIONAL_BONUS = 3.0
#: Bonus for an offer targeted at named industries (DB07 sections) that include the company's.
INDUSTRY_BONUS = 5.0
#: Bonus for the offer the company asked about; capped at 100.
ORIGIN_BONUS = 10.0

#: Ranking: points for an offer that says everything the need is about (scaled by the
#: weighted share of the need's concepts the offer covers, and how strongly).
CONCEPT_WEIGHT = 30.0
#: Ranking: points for a perfect full-text rank.
RANK_TEXT_WEIGHT = 30.0
#: Ranking: points for covering every ticked theme.
CHOSEN_THEME_WEIGHT = 15.0
#: Ranking: points for covering every theme the needs text implies.
IMPLIED_THEME_WEIGHT = 8.0
#: Ranking: an offer for the company's DB07 main group, and one for other groups only.
GROUP_BONUS = 10.0
GROUP_PENALTY = 30.0
#: An offer for at most this many DB07 main groups is surely for each of them; one for more is
#: surely for the groups its texts name, and perhaps for the others.
GROUP_FOCUS_MAX = 3
#: Ranking: an offer for named groups of the company's section, when the company's group is not
#: known: it may fit, but less surely than an offer for the whole section or for everyone.
UNKNOWN_GROUP_PENALTY = 6.0
#: Ranking: an offer whose title or summary names another part of the country than the
#: company's ("Midtjysk Lånefond" for a company in Næstved), though it is open to all.
ELSEWHERE_PENALTY = 8.0
#: Ranking: points for an offer about nothing but what the need is about (the weighted share of
#: the offer's own strong concepts that the need names).
PRECISION_WEIGHT = 10.0
#: An industry concept in a need that also says what it needs ("we are a bakery and need a
#: loan") describes the company more than the need: it counts this share of its weight.
SECTOR_SHARE = 0.3
#: Ranking: an offer aimed at at most :data:`FOCUS_MAX` phases (or sizes) including the company's.
FOCUS_BONUS = 2.0
FOCUS_MAX = 2
#: Ranking: a match is shown when it scores at least this share of the best match ...
RELATIVE_CUT = 0.65
#: ... and at least this.
MIN_RANK_SCORE = 12.0
#: A match below this share of the best is shown only when it is mostly about what the need
#: says: at least :data:`TAIL_PRECISION` of the offer's own strong concepts are the need's (an
#: export-credit offer is not shown for "export" unless it comes close to the best), and it says
#: at least :data:`TAIL_FIT` of what the need says (a general export offer is not shown far
#: below the best for "a webinar on the market in the USA" because both say "export").
SURE_SHARE = 0.75
TAIL_PRECISION = 0.4
TAIL_FIT = 0.4

#: The catalogue theme of a municipality's business service: the local entry shown with a need
#: that an offer of the company's own municipality answers best.
LOCAL_ENTRY_THEME = "business-service"

#: ``ts_rank_cd`` at which text relevance is one half. Under Django's default weights a single
#: stemmed hit in an offer's body ranks about 0.1 (a quarter of a perfect text match: a word
#: the description mentions says little) and a hit in its title about 1.0 (three quarters).
TEXT_RANK_HALF = 0.3
#: Text relevance (0-1) from which the needs text alone makes an offer relevant.
TEXT_MIN_RELEVANCE = 1 / 3

#: Default floor on the final score in :func:`match`.
DEFAULT_MIN_SCORE = 0.0
#: Default number of matches returned by :func:`match`.
DEFAULT_LIMIT = 10
#: At most this many words of the need are quoted in a reason.
QUOTED_WORDS = 4
#: The result or summary quoted in a reason is cut at a sentence's end or this many characters.
QUOTED_TEXT = 180

# --- Domain values ----------------------------------------------------------------------------

PHASES = ("idea", "startup", "growth", "established")
SIZE_CLASSES = ("micro", "small", "medium", "large")

_INDUSTRY_CODE = re.compile(r"^\s*([A-Za-z])?\s*(\d{2})?\d*\s*$")


# --- Data -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CompanyProfile:
    """What a company told us about itself and its needs.

    ``municipality_name`` and ``region_name`` are display names used in reasons, written as
    they should read: "Vejle Kommune", "Bornholms Regionskommune", "Region Syddanmark".
    ``industry`` is the DB07 section ("C"), or a main group ("31", "C31");
    ``industry_group`` the main group when known separately. ``origin_offer_id`` is the external
    id of the offer the company came from.
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
    industry_group: str | None = None


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
    summary: str = ""
    expected_result: str = ""
    description: str = ""
    #: External ids of the offers this one cannot be combined with.
    cannot_combine_with: tuple[str, ...] = ()
    #: The DB07 main groups the offer is for, as its editor gave them (empty: not given).
    industry_groups: tuple[str, ...] = ()


class ReasonCode(StrEnum):
    """What a reason says; ``routing.reasons`` words each one in Danish and English."""

    ORIGIN = "origin"
    #: values: the words of the need the offer answers, as the company wrote them.
    NEED_WORDS = "need_words"
    #: values: the vocabulary concepts of the need the offer is about.
    TOPICS = "topics"
    #: values: the ticked theme slugs the offer covers.
    THEMES = "themes"
    #: The full text matches, without a vocabulary concept to name.
    TEXT = "text"
    #: values: the offer's expected result (its first sentence).
    RESULT = "result"
    #: values: the offer's summary (its first sentence), for an offer without a result.
    SUMMARY = "summary"
    #: values: the DB07 main group.
    INDUSTRY_GROUP = "industry_group"
    #: values: the DB07 section.
    INDUSTRY = "industry"
    #: values: the municipality's or region's name (may be empty: "your municipality").
    MUNICIPALITY = "municipality"
    REGION = "region"
    NATIONWIDE = "nationwide"
    #: values: the size class / the phase.
    SIZE = "size"
    PHASE = "phase"
    #: values: scope ("segment" or "offer"), size band, section, estimate, interval low and
    #: high, participants (``routing.effect_ranking``).
    EFFECT = "effect"
    #: values: the offer's aid (DKK), the company's de minimis headroom (DKK), the ceiling (EUR)
    #: (``crm.state_aid``).
    DE_MINIMIS = "de_minimis"


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason an offer is shown: a code and its values (words, names, codes)."""

    code: ReasonCode
    values: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"code": str(self.code), "values": list(self.values)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Alternative:
    """An offer that cannot be combined with the one it is shown under."""

    external_id: str
    title: str
    score: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """An offer shown to the company, with a 0-100 score, its reasons and its alternatives."""

    external_id: str
    title: str
    score: float
    reasons: tuple[Reason, ...]
    alternatives: tuple[Alternative, ...] = field(default=())


class Rule(StrEnum):
    """A hard eligibility rule an offer can fail."""

    CLOSED = "closed"
    GEOGRAPHY = "geography"
    PHASE = "phase"
    SIZE = "size"
    INDUSTRY = "industry"


# --- Industry codes ---------------------------------------------------------------------------


def company_section(company: CompanyProfile) -> str | None:
    """The company's DB07 section, from ``industry`` or, failing that, ``industry_group``."""
    section, group = _parse_industry(company.industry)
    if section is None and group is not None:
        section = section_of_group(group)
    if section is None and company.industry_group:
        section = section_of_group(company.industry_group)
    return section


def company_group(company: CompanyProfile) -> str | None:
    """The company's DB07 main group when it gave one."""
    if company.industry_group and section_of_group(company.industry_group):
        return company.industry_group
    _section, group = _parse_industry(company.industry)
    return group if group and section_of_group(group) else None


def _parse_industry(value: str | None) -> tuple[str | None, str | None]:
    found = _INDUSTRY_CODE.match(value or "")
    if not value or found is None:
        return None, None
    letter, group = found.group(1), found.group(2)
    return (letter.upper() if letter else None), group


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
    """Whether the offer passes every hard rule for the company (the rules of
    :func:`eligibility_failures`, stopping at the first that fails)."""
    size = size_class(company.employees)  # raises for a negative head count, whatever the offer
    return (
        offer.is_open
        and _geography_fits(company, offer)
        and _restriction_allows(offer.phases, company.phase)
        and _restriction_allows(offer.company_sizes, size)
        and _industry_fits(company, offer)
    )


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
    section = company_section(company)
    return section is not None and section in offer.industries


# --- Base score -------------------------------------------------------------------------------


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
) -> tuple[float, tuple[Reason, ...]]:
    """The base score of an offer for the company (0-100, one decimal), the one the catalogue
    copy chooses candidates by, and the offer's reasons. Eligibility is not checked here.

    ``theme_labels`` is accepted for callers of the earlier interface; reasons now carry theme
    slugs and are worded by ``routing.reasons``.
    """
    del theme_labels
    chosen = _unique(company.themes)
    covered = [theme for theme in chosen if theme in offer.themes]
    theme_fit = len(covered) / len(chosen) if chosen else 0.0
    bonus = 0.0
    if _in_own_municipality(company, offer):
        bonus += LOCAL_BONUS
    elif _in_own_region(company, offer):
        bonus += REGIONAL_BONUS
    section = company_section(company)
    if section is not None and section in offer.industries:
        bonus += INDUSTRY_BONUS
    if company.origin_offer_id is not None and offer.external_id == company.origin_offer_id:
        bonus += ORIGIN_BONUS
    total = THEME_WEIGHT * theme_fit + TEXT_WEIGHT * text_relevance(offer.text_rank) + bonus
    ranked = _Need.of(company, default_vocabulary()).assess(offer)
    return round(min(total, 100.0), 1), ranked.reasons


# --- Ranking ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Assessment:
    score: float
    reasons: tuple[Reason, ...]
    relevant: bool
    #: The weighted share of the offer's own strong concepts the need names (0-1), and whether
    #: the offer says a concept of the need at all.
    precision: float = 0.0
    says_need: bool = False
    #: The weighted share of the need's concepts the offer says (0-1).
    fit: float = 0.0


@dataclass(frozen=True, slots=True)
class _Need:
    """What the ranking reads from the company once per request."""

    company: CompanyProfile
    vocabulary: Vocabulary
    #: Concept id → the words of the needs text that say it.
    concepts: Mapping[str, tuple[str, ...]]
    #: Concept id → its weight in this need.
    weights: Mapping[str, float]
    concept_weight: float
    #: Whether the need names more than industries (then an industry alone is no evidence).
    has_needs: bool
    chosen: tuple[str, ...]
    implied: tuple[str, ...]
    section: str | None
    #: The company's DB07 main groups, the likeliest first.
    groups: tuple[str, ...]

    @classmethod
    def of(cls, company: CompanyProfile, vocabulary: Vocabulary) -> "_Need":
        concepts = vocabulary.need_concepts(company.needs_text or "")
        section = company_section(company)
        given = company_group(company)
        # The group given, then the groups the needs name ("møbler", "spildevand"), as far as
        # they agree with the section.
        groups = tuple(
            _unique(
                [
                    *((given,) if given is not None else ()),
                    *(
                        group
                        for concept in concepts
                        for group in vocabulary.concepts[concept].groups
                        if section is None or section_of_group(group) == section
                    ),
                ]
            )
        )
        chosen = tuple(_unique(company.themes))
        implied = tuple(t for t in vocabulary.implied_themes(concepts) if t not in chosen)
        has_needs = any(not vocabulary.concepts[c].is_industry for c in concepts)
        weights = {
            c: vocabulary.concepts[c].weight
            * (SECTOR_SHARE if has_needs and vocabulary.concepts[c].is_industry else 1.0)
            for c in concepts
        }
        return cls(
            company=company,
            vocabulary=vocabulary,
            concepts=concepts,
            weights=weights,
            concept_weight=sum(weights.values()),
            has_needs=has_needs,
            chosen=chosen,
            implied=implied,
            section=section,
            groups=groups,
        )

    def assess(self, offer: OfferCandidate) -> _Assessment:
        company = self.company
        about = self.vocabulary.offer_concepts(
            offer.title, offer.summary, offer.expected_result, offer.description
        )
        reasons: list[Reason] = []
        is_origin = (
            company.origin_offer_id is not None and offer.external_id == company.origin_offer_id
        )
        if is_origin:
            reasons.append(Reason(ReasonCode.ORIGIN))

        # What the need says, against what the offer says.
        concepts = self.vocabulary.concepts
        shared = [c for c in self.concepts if about.strength.get(c, 0.0) > 0]
        # An offer for the need's industry that answers the need too ("internationalisation for
        # maritime suppliers" for a maritime supplier going abroad) counts the industry in full.
        answers = any(not concepts[c].is_industry for c in shared)
        fit = (
            min(
                1.0,
                sum(
                    (
                        concepts[c].weight
                        if answers
                        and concepts[c].is_industry
                        and about.strength[c] >= SUMMARY_STRENGTH
                        else self.weights[c]
                    )
                    * about.strength[c]
                    for c in shared
                )
                / self.concept_weight,
            )
            if self.concept_weight
            else 0.0
        )
        own = {c: v for c, v in about.strength.items() if v >= SUMMARY_STRENGTH}
        own_weight = sum(
            concepts[c].weight * v for c, v in own.items() if not concepts[c].is_industry
        )
        precision = (
            sum(
                concepts[c].weight * own[c]
                for c in shared
                if c in own and not concepts[c].is_industry
            )
            / own_weight
            if own_weight
            else 0.0
        )
        evidence = [c for c in shared if not (self.has_needs and concepts[c].is_industry)]
        relevance = text_relevance(offer.text_rank)
        text_matches = relevance >= TEXT_MIN_RELEVANCE
        covered = [theme for theme in self.chosen if theme in offer.themes]
        implied = [theme for theme in self.implied if theme in offer.themes]
        if shared:
            # The strongest first: the words the offer answers most clearly.
            strongest = sorted(shared, key=lambda c: -about.strength[c])
            words = _unique(word for c in strongest for word in self.concepts[c])
            reasons.append(Reason(ReasonCode.NEED_WORDS, tuple(words[:QUOTED_WORDS])))
            reasons.append(Reason(ReasonCode.TOPICS, tuple(strongest[:QUOTED_WORDS])))
        elif text_matches:
            reasons.append(Reason(ReasonCode.TEXT))
        if covered:
            reasons.append(Reason(ReasonCode.THEMES, tuple(covered)))
        points = CONCEPT_WEIGHT * fit + RANK_TEXT_WEIGHT * relevance
        if evidence:
            points += PRECISION_WEIGHT * precision
        if self.chosen:
            points += CHOSEN_THEME_WEIGHT * len(covered) / len(self.chosen)
        if self.implied:
            points += IMPLIED_THEME_WEIGHT * len(implied) / len(self.implied)

        result = _first_sentence(offer.expected_result)
        if result:
            reasons.append(Reason(ReasonCode.RESULT, (result,)))
        elif summary := _first_sentence(offer.summary):
            reasons.append(Reason(ReasonCode.SUMMARY, (summary,)))

        points += self._industry(offer, about, reasons)
        points += self._place(offer, about, reasons)
        points += self._focus(offer, reasons)
        if is_origin:
            points += ORIGIN_BONUS
        return _Assessment(
            score=round(max(0.0, min(points, 100.0)), 1),
            reasons=tuple(reasons),
            relevant=bool(evidence) or text_matches or bool(covered) or is_origin,
            precision=precision if evidence else 0.0,
            says_need=bool(evidence),
            fit=fit,
        )

    def _industry(
        self, offer: OfferCandidate, about: OfferConcepts, reasons: list[Reason]
    ) -> float:
        """The fine industry: the groups the offer's editor gave (``industry_groups``) first,
        else the groups its title or summary names when it is restricted to industries (in an
        offer open to all, an industry word is an example, not a target)."""
        named = frozenset(offer.industry_groups) or (
            about.groups if offer.industries else frozenset()
        )
        in_section = self.section is not None and self.section in offer.industries
        if not named:
            if not in_section or self.section is None:
                return 0.0
            reasons.append(Reason(ReasonCode.INDUSTRY, (self.section,)))
            return INDUSTRY_BONUS
        # The need names an industry the offer's title, summary or result names too ("medtech"
        # and "life science"): the words agree, whatever the groups they stand for.
        names_its_industry = any(
            self.vocabulary.concepts[c].groups and about.strength.get(c, 0.0) >= SUMMARY_STRENGTH
            for c in self.concepts
        )
        if about.groups and not names_its_industry and self._names_an_industry:
            # The need names its industry, the offer's own texts another ("robot and drone
            # start-ups" for a medtech start-up), whatever groups its editor listed.
            return -GROUP_PENALTY
        if self.groups:
            fitting = [group for group in self.groups if group in named]
            if not fitting:
                return 0.0 if names_its_industry else -GROUP_PENALTY
            # Sure when the offer is for few groups, or its texts name the company's group
            # (a water-technology push lists machinery, 28, for the makers of pumps; a machine
            # maker who does not say "water" is only perhaps one of them).
            if (
                len(named) > GROUP_FOCUS_MAX
                and about.groups
                and not names_its_industry
                and not any(group in about.groups for group in fitting)
            ):
                return -UNKNOWN_GROUP_PENALTY
            reasons.append(Reason(ReasonCode.INDUSTRY_GROUP, (fitting[0],)))
            return GROUP_BONUS
        if self.section is not None and not any(
            section_of_group(group) == self.section for group in named
        ):
            # Every group the offer is for is in another section than the company's.
            return -GROUP_PENALTY
        # The offer is for some groups of the section; which one the company is in is not
        # known, so no "aimed at your industry".
        return -UNKNOWN_GROUP_PENALTY

    @property
    def _names_an_industry(self) -> bool:
        """Whether the need names an industry (a concept with DB07 groups)."""
        return any(self.vocabulary.concepts[c].groups for c in self.concepts)

    def _place(self, offer: OfferCandidate, about: OfferConcepts, reasons: list[Reason]) -> float:
        company = self.company
        if (
            about.regions
            and company.region_code is not None
            and company.region_code not in about.regions
        ):
            return -ELSEWHERE_PENALTY
        if _in_own_municipality(company, offer):
            reasons.append(Reason(ReasonCode.MUNICIPALITY, (company.municipality_name or "",)))
            return LOCAL_BONUS
        if _in_own_region(company, offer) or (
            company.region_code is not None and company.region_code in about.regions
        ):
            # Listed for the company's region, or open to all but named for it ("Aarhus
            # Universitet" for a company in Silkeborg): the one close by.
            reasons.append(Reason(ReasonCode.REGION, (company.region_name or "",)))
            return REGIONAL_BONUS
        # "Offered in the whole country" is true of most offers and says nothing particular.
        return 0.0

    def _focus(self, offer: OfferCandidate, reasons: list[Reason]) -> float:
        points = 0.0
        # Said only of an offer aimed at few sizes or phases: "for companies of 10-49" on
        # nearly every offer says nothing.
        size = size_class(self.company.employees)
        if (
            size is not None
            and size in offer.company_sizes
            and len(offer.company_sizes) <= FOCUS_MAX
        ):
            reasons.append(Reason(ReasonCode.SIZE, (size,)))
            points += FOCUS_BONUS
        phase = self.company.phase
        if phase in PHASES and phase in offer.phases and len(offer.phases) <= FOCUS_MAX:
            reasons.append(Reason(ReasonCode.PHASE, (str(phase),)))
            points += FOCUS_BONUS
        return points


def match(
    company: CompanyProfile,
    offers: Iterable[OfferCandidate],
    *,
    theme_labels: Mapping[str, str] | None = None,
    limit: int = DEFAULT_LIMIT,
    min_score: float = DEFAULT_MIN_SCORE,
    vocabulary: Vocabulary | None = None,
) -> list[Match]:
    """Return the eligible, relevant offers for the company, best first (module docstring).

    Order: the origin offer first, then score descending, then ``external_id`` ascending, so
    equal requests give equal lists. Of two offers that cannot be combined only the better is
    listed, with the other as its alternative.
    """
    del theme_labels
    if limit < 0:
        msg = f"limit must be zero or more, got {limit}"
        raise ValueError(msg)
    need = _Need.of(company, vocabulary or default_vocabulary())
    assessed: list[tuple[OfferCandidate, _Assessment]] = []
    entries: list[tuple[OfferCandidate, _Assessment]] = []
    for offer in offers:
        if not is_eligible(company, offer):
            continue
        assessment = need.assess(offer)
        if assessment.relevant and assessment.score >= min_score:
            assessed.append((offer, assessment))
        elif _local_entry(company, offer):
            entries.append((offer, assessment))
    origin = company.origin_offer_id
    assessed.sort(key=lambda pair: _order(pair, origin))
    best_pair = next(((o, a) for o, a in assessed if o.external_id != origin), None)
    best = best_pair[1].score if best_pair is not None else 0.0
    floor = max(MIN_RANK_SCORE, RELATIVE_CUT * best)
    # A need the company's own municipality answers best (a building permit, a site, settling
    # in the city) gets the municipality's business service too, as the local entry that
    # coordinates the case, however little its text says about the need.
    exempt = {origin} if origin is not None else set()
    if best_pair is not None and _only_in_own_municipality(company, best_pair[0]):
        local = [pair for pair in [*assessed, *entries] if _local_entry(company, pair[0])]
        exempt |= {offer.external_id for offer, _a in local}
        assessed = sorted(
            {o.external_id: (o, a) for o, a in [*assessed, *local]}.values(),
            key=lambda pair: _order(pair, origin),
        )
    # Where the vocabulary understands the need (some offer says one of its concepts), an
    # offer well below the best is shown only when it is mostly about the need.
    if any(a.says_need for _o, a in assessed):
        assessed = [
            (offer, assessment)
            for offer, assessment in assessed
            if offer.external_id in exempt or _sure(assessment, best=best)
        ]
    return _compatible(assessed, limit, floor=floor, exempt=exempt)


def _order(pair: tuple[OfferCandidate, _Assessment], origin: str | None) -> tuple[bool, float, str]:
    """The origin offer first, then score descending, then ``external_id``."""
    return (pair[0].external_id != origin, -pair[1].score, pair[0].external_id)


def _only_in_own_municipality(company: CompanyProfile, offer: OfferCandidate) -> bool:
    """An offer of the company's own municipality, not of a region or the whole country."""
    return not offer.nationwide and not offer.region_codes and _in_own_municipality(company, offer)


def _local_entry(company: CompanyProfile, offer: OfferCandidate) -> bool:
    """The company's own municipality's business service (:data:`LOCAL_ENTRY_THEME`)."""
    return LOCAL_ENTRY_THEME in offer.themes and _only_in_own_municipality(company, offer)


def _sure(assessment: _Assessment, *, best: float) -> bool:
    """Whether a match is close to the best, or, further down, about the need rather than
    about something else that shares a word with it."""
    return assessment.score >= SURE_SHARE * best or (
        assessment.precision >= TAIL_PRECISION and assessment.fit >= TAIL_FIT
    )


def _compatible(
    ranked: Sequence[tuple[OfferCandidate, _Assessment]],
    limit: int,
    *,
    floor: float,
    exempt: set[str],
) -> list[Match]:
    """The ranked offers above ``floor`` (or ``exempt`` from it) without two that cannot be
    combined: the later one becomes the earlier one's alternative (conflicts are symmetrical,
    whichever side recorded them), even when it alone would have fallen below the floor."""
    conflicts: dict[str, set[str]] = {}
    for offer, _assessment in ranked:
        for other in offer.cannot_combine_with:
            conflicts.setdefault(offer.external_id, set()).add(other)
            conflicts.setdefault(other, set()).add(offer.external_id)
    kept: list[tuple[OfferCandidate, _Assessment]] = []
    alternatives: dict[str, list[Alternative]] = {}
    for offer, assessment in ranked:
        clashes_with = conflicts.get(offer.external_id)
        clash = (
            next((k for k, _a in kept if k.external_id in clashes_with), None)
            if clashes_with
            else None
        )
        if clash is not None:
            alternatives.setdefault(clash.external_id, []).append(
                Alternative(
                    external_id=offer.external_id, title=offer.title, score=assessment.score
                )
            )
            continue
        if offer.external_id in exempt or assessment.score >= floor:
            kept.append((offer, assessment))
    return [
        Match(
            external_id=offer.external_id,
            title=offer.title,
            score=assessment.score,
            reasons=assessment.reasons,
            alternatives=tuple(alternatives.get(offer.external_id, ())),
        )
        for offer, assessment in kept[:limit]
    ]


_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


# Every guidance request quotes the result or summary of each of its ~120 candidates: kept per
# text, as the vocabulary keeps each offer's concepts (a catalogue's worth, 2 texts an offer).
@lru_cache(maxsize=40_000)
def _first_sentence(text: str) -> str:
    """The first sentence of a text, cut at :data:`QUOTED_TEXT` characters on a word."""
    text = " ".join(text.split())
    if not text:
        return ""
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0]
    if len(sentence) <= QUOTED_TEXT:
        return sentence
    return sentence[:QUOTED_TEXT].rsplit(" ", 1)[0] + " …"


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
