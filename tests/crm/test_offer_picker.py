"""The adviser's offer picker says what works for companies like the case's company."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.evaluation.factories import make_segment

pytestmark = pytest.mark.django_db


def test_the_offer_picker_shows_the_effect_for_companies_like_the_cases_company(
    logged_in, adviser, make_case, offer
):
    case = make_case()  # a small (12 employees) manufacturer, DB07 section C
    make_segment(offer=offer, size_band=1, section="C")

    data = logged_in(adviser).get(reverse("admin:crm_case_offers", args=[case.pk])).json()

    texts = [row["text"] for row in data["results"] if row["id"] == str(offer.pk)]
    assert texts == [
        f"{offer.title} (Eksportrådet) — Virksomheder som din (10–49 ansatte, "
        "fremstillingsvirksomhed), der brugte tilbuddet, havde to år efter i gennemsnit 2,1 "
        "flere årsværk end sammenlignelige virksomheder (95 % sikkerhed: 0,8–3,4; "
        "230 virksomheder)."
    ]


def test_another_segments_effect_is_not_shown_as_this_companys(
    logged_in, adviser, make_case, offer
):
    case = make_case()
    make_segment(offer=offer, size_band=1, section="F")

    data = logged_in(adviser).get(reverse("admin:crm_case_offers", args=[case.pk])).json()

    texts = [row["text"] for row in data["results"] if row["id"] == str(offer.pk)]
    assert texts == [f"{offer.title} (Eksportrådet)"]
