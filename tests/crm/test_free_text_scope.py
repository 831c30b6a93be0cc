"""The free text of a case stays with its hub: other hubs and analysts see dates, statuses,
offers and outcome categories, never needs, notes, outcomes or referral outcomes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm import services
from crm.models import Case

pytestmark = pytest.mark.django_db

SECRETS = (
    "Behov: ring til Ole på 20 30 40 50",
    "Notat: Ole Hansen er syg",
    "Udfald: Ole fik et lån",
    "Henvisning: Ole deltog i Eksportstart",
)


@pytest.fixture
def case_with_texts(make_case, adviser, offer):
    case = make_case(needs=SECRETS[0])
    services.case_assign(case=case, adviser=adviser, actor=adviser)
    services.case_note_add(case=case, kind="note", text=SECRETS[1], actor=adviser)
    referral = services.referral_create(case=case, offer=offer, actor=adviser)
    services.referral_complete(referral=referral, outcome=SECRETS[3], actor=adviser)
    services.case_close(
        case=case, outcome=Case.Outcome.GUIDED, outcome_text=SECRETS[2], actor=adviser
    )
    return case


def _pages(client, case) -> str:
    pages = [
        client.get(reverse("admin:crm_case_change", args=[case.pk])),
        client.get(reverse("admin:crm_company_change", args=[case.company_id])),
    ]
    assert [page.status_code for page in pages] == [200, 200]
    return "".join(page.content.decode() for page in pages)


@pytest.mark.parametrize("role", ["other_adviser", "analyst"])
def test_other_hubs_and_analysts_see_no_free_text(request, logged_in, case_with_texts, role):
    user = request.getfixturevalue(role)
    if role == "other_adviser":
        # The other hub has a case of the same company, so the shared history shows this one.
        services.case_create(
            company=case_with_texts.company,
            contact=case_with_texts.contact,
            hub=request.getfixturevalue("other_hub"),
            needs="Eget behov",
            themes=[],
            source=Case.Source.PHONE,
        )

    content = _pages(logged_in(user), case_with_texts)

    assert case_with_texts.reference in content
    assert "Eksportstart" in content  # the offer referred to
    assert "Vejledt" in content  # the outcome category
    for secret in SECRETS:
        assert secret not in content, secret


@pytest.mark.parametrize("role", ["adviser", "superuser"])
def test_the_cases_own_hub_and_superusers_see_the_free_text(
    request, logged_in, case_with_texts, role
):
    content = _pages(logged_in(request.getfixturevalue(role)), case_with_texts)

    for secret in SECRETS:
        assert secret in content, secret
