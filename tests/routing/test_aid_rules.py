"""What the rules allow: de minimis headroom and "cannot be combined with" in the match list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from routing.aid_rules import CompanyAid, OfferAid, apply_aid_rules
from routing.matching import Match, Reason, ReasonCode
from routing.reasons import reason_text


def m(external_id: str) -> Match:
    return Match(external_id=external_id, title=external_id, score=50.0, reasons=())


def test_an_offer_over_the_headroom_is_flagged_with_why_and_moved_last():
    offers = {
        "laan": OfferAid(basis="de_minimis", aid_value_dkk=200_000),
        "raad": OfferAid(basis="de_minimis", aid_value_dkk=40_000),
        "messe": OfferAid(basis="gber", aid_value_dkk=900_000),
    }
    company = CompanyAid(remaining_dkk=50_000, ceiling_eur=300_000, current={})

    listed = apply_aid_rules([m("laan"), m("raad"), m("messe"), m("u")], offers, company)

    assert [x.external_id for x in listed] == ["raad", "messe", "u", "laan"]
    assert listed[-1].reasons == (Reason(ReasonCode.DE_MINIMIS, ("200000", "50000", "300000")),)
    assert all(not x.reasons for x in listed[:-1])
    with translation.override("da"):
        assert reason_text(listed[-1].reasons[0]) == (
            "Tilbuddet er de minimis-støtte på 200.000 kr., og din virksomhed har kun 50.000 kr. "
            "tilbage under loftet på 300.000 euro over tre år"
        )


def test_an_offer_that_cannot_be_combined_with_a_current_participation_is_left_out():
    offers = {
        "eksportklar": OfferAid(
            basis="none", aid_value_dkk=None, cannot_combine_with=frozenset({"eksportstart"})
        ),
        "kapital": OfferAid(basis="none", aid_value_dkk=None),
    }
    company = CompanyAid(
        remaining_dkk=10**9, ceiling_eur=300_000, current={"eksportstart": "Eksportstart"}
    )
    listed = apply_aid_rules([m("eksportklar"), m("kapital")], offers, company)
    assert [x.external_id for x in listed] == ["kapital"]


@pytest.mark.django_db
def test_the_company_with_a_cvr_gets_the_rules_applied_in_its_list():
    from crm.models import DeMinimisAid
    from offers.models import Offer
    from routing.services import company_profile, profile_match
    from tests.routing.factories import export_offers_that_cannot_be_combined, submission

    export_offers_that_cannot_be_combined()
    Offer.objects.filter(external_id="eksportstart").update(
        state_aid_basis="de_minimis", aid_value_dkk=150_000
    )
    request = submission()
    profile = company_profile(request)
    day = dt.date(2026, 3, 2)
    before = [x.external_id for x in profile_match(profile=profile, day=day, cvr=request.cvr)]
    assert before[0] == "eksportstart"

    # 2,100,000 kr. of aid a year ago: 138,000 kr. left, less than the offer's 150,000.
    assert request.cvr is not None
    DeMinimisAid.objects.create(
        cvr=request.cvr, granted_on=dt.date(2025, 3, 1), amount_dkk=2_100_000
    )
    after = profile_match(profile=profile, day=day, cvr=request.cvr)
    assert after[-1].external_id == "eksportstart"
    assert after[-1].reasons[-1] == Reason(ReasonCode.DE_MINIMIS, ("150000", "138000", "300000"))
    # Without a CVR nothing is known of the company's aid: the list is as before.
    assert [x.external_id for x in profile_match(profile=profile, day=day)] == before
    # Four years on the aid has left the window.
    later = profile_match(profile=profile, day=dt.date(2028, 3, 2), cvr=request.cvr)
    assert later[0].external_id == "eksportstart"


@pytest.mark.django_db
def test_each_offers_aid_and_what_it_cannot_be_combined_with_is_read_in_one_statement(
    django_assert_num_queries,
):
    from offers.models import Offer
    from routing.services import offers_aid
    from tests.routing.factories import export_offers_that_cannot_be_combined

    export_offers_that_cannot_be_combined()
    Offer.objects.filter(external_id="eksportstart").update(
        state_aid_basis="de_minimis", aid_value_dkk=150_000
    )
    # A row written from one side only (not through Django's symmetrical add) still counts.
    through = Offer.cannot_combine_with.through
    ready, capital = (Offer.objects.get(external_id=x) for x in ("eksportklar", "kapital"))
    through.objects.create(from_offer=capital, to_offer=ready)

    with django_assert_num_queries(1):
        found = offers_aid(["eksportstart", "eksportklar", "kapital", "findes-ikke"])

    assert found == {
        "eksportstart": OfferAid(
            basis="de_minimis",
            aid_value_dkk=150_000,
            cannot_combine_with=frozenset({"eksportklar"}),
        ),
        "eksportklar": OfferAid(
            basis=ready.state_aid_basis,
            aid_value_dkk=None,
            cannot_combine_with=frozenset({"eksportstart", "kapital"}),
        ),
        "kapital": OfferAid(
            basis=capital.state_aid_basis,
            aid_value_dkk=None,
            cannot_combine_with=frozenset({"eksportklar"}),
        ),
    }
