"""The offer a company came from, in the pure matching module (plain data, no database)."""

from __future__ import annotations

from routing.matching import ORIGIN_BONUS, OfferCandidate, Reason, ReasonCode, match
from tests.routing.profiles import candidate, company


def offer(external_id: str, **changes: object) -> OfferCandidate:
    return candidate(
        external_id, **{"title": external_id, "phases": (), "company_sizes": (), **changes}
    )


def test_it_lists_the_offer_the_company_asked_about_first_with_its_reason() -> None:
    offers = [offer("a-export"), offer("b-capital", themes=("capital",))]

    result = match(company(origin_offer_id="b-capital"), offers)

    assert [m.external_id for m in result] == ["b-capital", "a-export"]
    assert result[0].reasons[0] == Reason(ReasonCode.ORIGIN)
    assert result[0].score == ORIGIN_BONUS


def test_it_leaves_out_the_offer_asked_about_when_the_company_cannot_use_it() -> None:
    offers = [offer("a-export"), offer("b-local", nationwide=False, municipality_codes=(751,))]

    result = match(company(origin_offer_id="b-local"), offers)

    assert [m.external_id for m in result] == ["a-export"]


def test_it_treats_requests_without_an_origin_as_before() -> None:
    offers = [offer("a-export"), offer("b-capital", themes=("capital",))]

    assert [m.external_id for m in match(company(), offers)] == ["a-export"]
