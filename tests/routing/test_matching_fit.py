"""What an adviser expects of the ranking, on plain data (no database): the need's words, the
fine industry, fewer offers when fewer fit, compatible suggestions, English needs."""

import dataclasses
from typing import Any

from routing.matching import (
    GROUP_PENALTY,
    RELATIVE_CUT,
    CompanyProfile,
    Match,
    OfferCandidate,
    Reason,
    ReasonCode,
    company_group,
    company_section,
    match,
)
from tests.routing.test_matching import company as base_company
from tests.routing.test_matching import offer as base_offer


def company(**changes: Any) -> CompanyProfile:
    return base_company(
        **{
            "industry_group": "31",
            "needs_text": "Vi laver møbler og vil gerne i gang med at eksportere",
            **changes,
        }
    )


def offer(external_id: str, title: str, summary: str = "", **changes: Any) -> OfferCandidate:
    return base_offer(
        external_id,
        **{"title": title, "summary": summary, "phases": (), "company_sizes": (), **changes},
    )


EXPORT_START = offer(
    "eksportstart",
    "Eksportstart – rådgivning til virksomheder, der vil eksportere for første gang",
    "Få hjælp til de første skridt på et nyt eksportmarked.",
    cannot_combine_with=("eksportklar",),
)
EXPORT_READY = offer(
    "eksportklar",
    "Eksportklar: sparring om jeres første skridt på eksportmarkederne",
    "Sparring om eksport for små virksomheder.",
)
FURNITURE_FAIRS = offer(
    "designmesser",
    "Internationale designmesser for livsstilsbrands",
    "Vis jeres produkter på udvalgte møbel-, interiør- og modemesser i udlandet.",
    industries=("C", "G", "M"),
)
MEDICAL_DEVICES = offer(
    "medico",
    "Regulatorisk sparring om medicinsk udstyr og markedsadgang i udlandet",
    "For producenter af medicinsk udstyr, der vil eksportere.",
    industries=("C", "M", "Q"),
)
ALL_MANUFACTURERS = offer(
    "produktion-eksport",
    "Eksportforløb for produktionsvirksomheder",
    "Et forløb om eksport for industrien.",
    industries=("C",),
)
LOAN = offer(
    "vaekstlaan", "Vækstlån til etablerede virksomheder", "Lån til nye planer.", themes=("capital",)
)


def ids(matches: list[Match]) -> list[str]:
    return [m.external_id for m in matches]


def by_id(matches: list[Match]) -> dict[str, Match]:
    return {m.external_id: m for m in matches}


# --- Fine industry ----------------------------------------------------------------------------


def test_it_reads_the_main_group_from_any_way_of_writing_it() -> None:
    assert (company_section(company(industry="31", industry_group=None)), "C") == ("C", "C")
    assert company_group(company(industry="C31", industry_group=None)) == "31"
    assert company_group(company(industry="C", industry_group=None)) is None
    assert company_section(company(industry=None, industry_group="56")) == "I"
    assert company_group(company(industry="C", industry_group="00")) is None


def test_an_offer_for_other_groups_of_the_section_is_not_aimed_at_a_furniture_maker() -> None:
    result = by_id(match(company(), [FURNITURE_FAIRS, MEDICAL_DEVICES, ALL_MANUFACTURERS]))

    assert Reason(ReasonCode.INDUSTRY_GROUP, ("31",)) in result["designmesser"].reasons
    assert "medico" not in result or all(
        r.code not in (ReasonCode.INDUSTRY, ReasonCode.INDUSTRY_GROUP)
        for r in result["medico"].reasons
    )
    assert Reason(ReasonCode.INDUSTRY, ("C",)) in result["produktion-eksport"].reasons


def test_the_fine_industry_moves_the_fitting_offer_above_the_other_groups() -> None:
    offers = [FURNITURE_FAIRS, MEDICAL_DEVICES]
    furniture = match(company(), offers)
    medical = match(
        company(
            industry_group="32", needs_text="Vi laver udstyr og vil gerne i gang med at eksportere"
        ),
        offers,
    )

    assert ids(furniture)[0] == "designmesser"
    assert ids(medical)[0] == "medico"


def test_the_needs_text_names_the_group_when_the_profile_does_not() -> None:
    needs = company(industry_group=None)

    result = by_id(match(needs, [FURNITURE_FAIRS, MEDICAL_DEVICES]))

    assert Reason(ReasonCode.INDUSTRY_GROUP, ("31",)) in result["designmesser"].reasons
    assert GROUP_PENALTY > 0 and "medico" not in result


# --- Fewer when fewer fit ---------------------------------------------------------------------


def test_it_shows_only_what_fits_instead_of_padding_the_list() -> None:
    padding = [
        offer(f"andet-{n}", f"Netværk om noget andet {n}", themes=("export", "clusters"))
        for n in range(12)
    ]

    result = match(company(), [EXPORT_START, *padding, LOAN])

    assert ids(result) == ["eksportstart"]


# --- Compatible suggestions -------------------------------------------------------------------


def test_two_offers_that_cannot_be_combined_are_never_both_suggested() -> None:
    result = match(company(), [EXPORT_READY, EXPORT_START])

    assert len(result) == 1
    shown, other = (
        (EXPORT_READY, EXPORT_START)
        if result[0].external_id == "eksportklar"
        else (EXPORT_START, EXPORT_READY)
    )
    assert result[0].external_id == shown.external_id
    assert [(a.external_id, a.title) for a in result[0].alternatives] == [
        (other.external_id, other.title)
    ]
    assert result[0].alternatives[0].score <= result[0].score


def test_the_better_one_is_shown_whichever_side_recorded_the_conflict() -> None:
    # Only the worse offer names the conflict this time, and the better one comes later.
    better = dataclasses.replace(EXPORT_READY, cannot_combine_with=(), text_rank=1.0)
    worse = dataclasses.replace(EXPORT_START, cannot_combine_with=("eksportklar",))

    result = match(company(), [worse, better])

    assert ids(result) == ["eksportklar"]
    assert [a.external_id for a in result[0].alternatives] == ["eksportstart"]


def test_an_alternative_does_not_take_a_place_in_the_list() -> None:
    others = [
        offer(f"eksport-{n}", f"Eksportrådgivning variant {n}", "Første skridt i eksport.")
        for n in range(10)
    ]

    result = match(company(), [EXPORT_START, EXPORT_READY, *others], limit=10)

    assert len(result) == 10
    assert sum(1 for m in result if m.external_id in ("eksportklar", "eksportstart")) == 1


# --- English needs ----------------------------------------------------------------------------


def test_a_need_written_in_english_gets_the_same_offers_as_in_danish() -> None:
    offers = [EXPORT_START, FURNITURE_FAIRS, MEDICAL_DEVICES, LOAN]
    danish = company(needs_text="Vi laver møbler og vil gerne i gang med at eksportere")
    english = company(needs_text="We make furniture and want to start exporting")

    assert ids(match(english, offers)) == ids(match(danish, offers))
    # Both are exactly this: the furniture fairs for the company's industry, and a first export.
    assert set(ids(match(english, offers))[:2]) == {"eksportstart", "designmesser"}


def test_an_english_need_for_money_finds_the_loan() -> None:
    needs = company(themes=(), needs_text="We need funding to expand", industry_group=None)

    assert ids(match(needs, [EXPORT_START, LOAN])) == ["vaekstlaan"]
    assert match(needs, [LOAN])[0].reasons[0] == Reason(ReasonCode.NEED_WORDS, ("funding",))


# --- Geography ----------------------------------------------------------------------------------


def test_an_offer_named_for_a_part_of_the_country_ranks_by_where_the_company_is() -> None:
    needs = company(themes=("capital",), needs_text="Vi har brug for et lån", industry_group=None)
    midtjysk = offer(
        "midtjysk-laanefond", "Midtjysk Lånefond – lån til små virksomheder", themes=("capital",)
    )
    national = offer("vaekstlaan", "Lånefond – lån til små virksomheder", themes=("capital",))

    in_vejle = match(needs, [midtjysk, national])
    in_aarhus = match(
        dataclasses.replace(needs, region_code=1082, region_name="Region Midtjylland"),
        [midtjysk, national],
    )

    assert ids(in_vejle)[0] == "vaekstlaan"
    assert in_vejle[-1].score < in_vejle[0].score
    # Close by, the fund named for the company's own region comes first, and says why.
    assert ids(in_aarhus)[0] == "midtjysk-laanefond"
    assert in_aarhus[0].score > in_aarhus[1].score == in_vejle[0].score
    assert Reason(ReasonCode.REGION, ("Region Midtjylland",)) in in_aarhus[0].reasons


# --- The groups an offer's editor gives (industry_groups) -------------------------------------


def _scores(needs: CompanyProfile, *offers: OfferCandidate) -> dict[str, float]:
    return {m.external_id: m.score for m in match(needs, offers, limit=10)}


def test_the_editors_groups_come_before_the_groups_the_text_names() -> None:
    # The text names no industry; the editor says the offer is for furniture (31).
    fairs = offer(
        "messer",
        "Fællesstand på internationale messer",
        "Udstil på en messe i udlandet sammen med andre danske virksomheder.",
        industries=("C",),
        industry_groups=("31",),
    )
    open_to_all = dataclasses.replace(fairs, external_id="alle", industry_groups=())
    furniture = _scores(company(), fairs, open_to_all)
    assert furniture["messer"] > furniture["alle"]
    reasons = next(m for m in match(company(), [fairs]) if m.external_id == "messer").reasons
    assert Reason(ReasonCode.INDUSTRY_GROUP, ("31",)) in reasons

    # A maker of ships (30) gets the furniture offer far below the open one, or not at all.
    ships = _scores(
        company(industry_group="30", needs_text="Vi vil gerne på messer i udlandet"),
        fairs,
        open_to_all,
    )
    assert ships.get("messer", 0.0) <= ships["alle"] - GROUP_PENALTY + 1


def test_an_offer_for_groups_of_another_section_is_no_fit_for_a_known_section() -> None:
    # A software company (J, group unknown) and an offer open to J but aimed at robot makers.
    robots = offer(
        "robotter",
        "Startprogram for iværksættere med nye produkter",
        "Mentorer og investormøder for nystartede virksomheder.",
        industries=("C", "J"),
        industry_groups=("28", "30"),
    )
    general = dataclasses.replace(robots, external_id="generel", industry_groups=())
    needs = company(
        industry="J", industry_group=None, needs_text="Vi er en ny virksomhed og søger investor"
    )
    scores = _scores(needs, robots, general)
    assert scores.get("robotter", 0.0) <= scores["generel"] - GROUP_PENALTY + 1


def test_a_group_among_many_that_the_offer_does_not_name_is_only_perhaps_a_fit() -> None:
    water = offer(
        "vand",
        "Eksportfremstød for vand- og spildevandsteknologi",
        "Fællesfremstød for virksomheder med løsninger til vand og spildevand.",
        industries=("C", "E", "M"),
        industry_groups=("26", "28", "36", "37", "38", "39", "71"),
    )
    needs = company(industry_group="28", needs_text="Vi vil gerne eksportere til Indien")
    reasons = match(needs, [water])[0].reasons if match(needs, [water]) else ()
    assert all(reason.code != ReasonCode.INDUSTRY_GROUP for reason in reasons)
    # The same maker of pumps who says "spildevand" is one of the offer's companies.
    pumps = company(
        industry_group="28", needs_text="Vi laver pumper til spildevand og vil eksportere"
    )
    assert Reason(ReasonCode.INDUSTRY_GROUP, ("28",)) in match(pumps, [water])[0].reasons


def test_an_offer_well_below_the_best_is_shown_only_when_it_is_mostly_about_the_need() -> None:
    credit = offer(
        "eksportkredit",
        "Eksportkredit: garanti, når I eksporterer",
        "Eksportkredit til eksport.",
    )
    needs = company(industry_group=None, needs_text="Vi vil gerne eksportere")
    assert ids_of(match(needs, [credit])) == ["eksportkredit"]
    both = match(needs, [EXPORT_START, credit])
    assert ids_of(both) == ["eksportstart"]
    # It scores above the relative cut: the rule that drops it is that it is about export
    # credit, which the need does not name.
    credit_score = next(m.score for m in match(needs, [credit]))
    assert credit_score >= RELATIVE_CUT * both[0].score
    # Asked for, it is the answer.
    asked = company(industry_group=None, needs_text="Vi skal have eksportkredit")
    assert ids_of(match(asked, [EXPORT_START, credit]))[0] == "eksportkredit"


def ids_of(matches: list[Match]) -> list[str]:
    return [m.external_id for m in matches]


def test_a_case_for_the_municipality_brings_its_business_service_along() -> None:
    vejle = company().municipality_code
    site = offer(
        "erhvervsgrunde",
        "Erhvervsgrunde ved motorvejen",
        "Køb en erhvervsgrund tæt på motorvejen.",
        themes=("business-service",),
        nationwide=False,
        municipality_codes=(vejle,),
    )
    service = offer(
        "erhvervsservice",
        "Erhvervsservice i kommunen",
        "Én indgang til kommunen for virksomheder.",
        themes=("business-service",),
        nationwide=False,
        municipality_codes=(vejle,),
    )
    needs = company(industry_group=None, needs_text="Vi leder efter en erhvervsgrund")
    assert ids_of(match(needs, [site, service])) == ["erhvervsgrunde", "erhvervsservice"]

    # A need the whole country answers best does not get the municipality's service.
    national_site = dataclasses.replace(
        site, external_id="grunde-landet", nationwide=True, municipality_codes=()
    )
    assert ids_of(match(needs, [national_site, service])) == ["grunde-landet"]
    # Nor does it come along when it is another theme's local offer.
    permits = dataclasses.replace(service, external_id="affald", themes=("authority",))
    assert ids_of(match(needs, [site, permits])) == ["erhvervsgrunde"]


def test_the_industry_the_need_and_the_offer_name_decides_over_the_groups() -> None:
    # A medtech start-up in research (72); the offers are for "life science" and for robots.
    needs = company(
        industry="M",
        industry_group="72",
        phase="idea",
        employees=2,
        themes=("capital",),
        needs_text="pre-seed til vores medtech idé",
    )
    pre_seed = offer(
        "pre-seed",
        "Pre-seed-investering i tidlige life science-iværksættere",
        "Kapital til iværksættere med en stærk idé.",
        themes=("capital",),
        industries=("C", "M"),
    )
    robots = offer(
        "robot-startup",
        "Startup-program for robot- og droneiværksættere",
        "Mentorer og investormøder for nystartede virksomheder, der søger pre-seed.",
        themes=("capital",),
        industries=("C", "M"),
        industry_groups=("28", "72"),
    )
    scores = _scores(needs, pre_seed, robots)
    # "Life science" names the groups 21, 32 and 86, not 72: the words agree all the same.
    assert ids_of(match(needs, [pre_seed, robots]))[0] == "pre-seed"
    # The robot programme lists 72, but its own texts are about another industry.
    assert scores.get("robot-startup", 0.0) <= scores["pre-seed"] - GROUP_PENALTY + 1
