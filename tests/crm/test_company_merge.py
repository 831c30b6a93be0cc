"""Merging duplicate companies: the preview, every relation moved, nothing lost, and access."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm import services
from crm.models import (
    Case,
    Company,
    Contact,
    Feedback,
    Referral,
    SurveyAnswer,
    TimelineEntry,
)
from crm.selectors import completed_offer_referrals
from evaluation.models import Participation
from offers.models import Organisation
from tests.crm.factories import CompanyFactory, ContactFactory

MERGE = reverse("admin:crm_company_merge")
CHANGELIST = reverse("admin:crm_company_changelist")


@pytest.fixture
def founder(make_case, adviser, offer):
    """Ida before she registered her company: no CVR, a case with a completed referral, closed,
    with feedback and a survey answer; her contact has no phone."""
    company = CompanyFactory.create(cvr=None, name="Ida Iværksætter", employees=None, industry="")
    contact = ContactFactory.create(company=company, email="ida@example.dk", phone="", role="")
    case = make_case(company=company, contact=contact)
    services.case_assign(case=case, adviser=adviser, actor=adviser)
    referral = services.referral_create(case=case, offer=offer, actor=adviser)
    services.referral_complete(referral=referral, outcome="Deltog", actor=adviser)
    services.case_close(case=case, outcome=Case.Outcome.REFERRED, actor=adviser)
    services.feedback_submit(case=case, rating=5)
    services.survey_answer_submit(
        case=case, contacted=True, usefulness=4, result="started", additionality="no"
    )
    return company


@pytest.fixture
def registered(make_case):
    """The company she registered later: a CVR, the same e-mail with a phone, and a colleague."""
    company = CompanyFactory.create(name="Ida Design ApS")
    ContactFactory.create(
        company=company, email="IDA@example.dk", phone="+45 22 22 22 22", role="Ejer"
    )
    colleague = ContactFactory.create(company=company, email="bo@example.dk")
    make_case(company=company, contact=colleague)
    return company


def test_the_merge_moves_every_relation_and_loses_nothing(founder, registered, adviser, offer):
    founder_case = Case.objects.get(company=founder)
    entries = founder_case.timeline.count()
    assert registered.cvr is not None
    Participation.objects.create(cvr=int(registered.cvr), offer=offer, year=2026)

    merged = services.company_merge(kept=founder, duplicate=registered, actor=adviser)

    assert not Company.objects.filter(pk=registered.pk).exists()
    merged.refresh_from_db()
    # Facts: the founder's own name; the CVR and the rest from the registered record.
    assert merged.name == "Ida Iværksætter"
    assert merged.cvr == registered.cvr
    assert merged.employees == 12 and merged.industry == "C"
    # Cases, and with them the timeline, referrals, feedback and survey answers.
    assert Case.objects.filter(company=merged).count() == 2
    assert founder_case.timeline.count() == entries + 1
    assert Referral.objects.filter(case__company=merged).count() == 1
    assert Feedback.objects.filter(case__company=merged).count() == 1
    assert SurveyAnswer.objects.filter(case__company=merged).count() == 1
    # Contacts: the same address is one person (with the phone filled in), the colleague moved.
    contacts = Contact.objects.filter(company=merged)
    assert sorted(c.email.lower() for c in contacts) == ["bo@example.dk", "ida@example.dk"]
    ida = contacts.get(email="ida@example.dk")
    assert ida.phone == "+45 22 22 22 22" and ida.role == "Ejer"
    # Participations follow the CVR, and the completed referral now counts under it.
    assert Participation.objects.filter(cvr=int(merged.cvr or 0)).exists()
    assert any(row[0] == merged.cvr for row in completed_offer_referrals())
    # One entry per case with both records as they were.
    for case in Case.objects.filter(company=merged):
        entry = case.timeline.get(action="crm.company.merged")
        assert entry.payload["duplicate"]["cvr"] == registered.cvr
        assert entry.payload["duplicate"]["name"] == "Ida Design ApS"
        assert entry.payload["kept"]["cvr"] is None
        assert "cvr" in entry.payload["taken_from_duplicate"]
        assert entry.payload["joined_contacts"][0]["phone"] == "+45 22 22 22 22"
        assert not entry.is_public


def test_every_relation_of_a_company_is_handled():
    # A new model pointing at Company or Contact must be moved by company_merge too.
    assert sorted(
        (r.related_model.__name__, r.field.name) for r in Company._meta.related_objects
    ) == [
        ("Case", "company"),
        ("Contact", "company"),
    ]
    # Rows pointing at a contact follow a joined contact by relation (crm.services.merge).
    assert sorted(
        (r.related_model.__name__, r.field.name) for r in Contact._meta.related_objects
    ) == [("Case", "contact"), ("RepeatRequest", "contact")]


def test_two_different_cvr_numbers_are_never_merged(make_case, adviser):
    first, second = CompanyFactory.create(), CompanyFactory.create()
    make_case(company=first)
    make_case(company=second)

    with pytest.raises(services.CrmError) as error:
        services.company_merge(kept=first, duplicate=second, actor=adviser)

    assert error.value.field == "cvr"
    assert Company.objects.filter(pk__in=[first.pk, second.pk]).count() == 2


def test_the_preview_shows_what_moves_and_what_is_kept(logged_in, adviser, founder, registered):
    client = logged_in(adviser)

    page = client.get(MERGE, {"kept": founder.pk, "duplicate": registered.pk})

    assert page.status_code == 200
    html = page.content.decode()
    assert registered.cvr in html and "fra dubletten" in html
    assert "Ida Design ApS" in html and "Ida Iværksætter" in html
    plan = page.context["plan"]
    assert plan.counts["duplicate"]["cases"] == 1 and plan.counts["kept"]["referrals"] == 1
    assert [(a.email.lower(), b.email.lower()) for a, b in plan.joined_contacts] == [
        ("ida@example.dk", "ida@example.dk")
    ]
    # Nothing changed by looking.
    assert Company.objects.filter(pk=registered.pk).exists()

    done = client.post(MERGE, {"kept": founder.pk, "duplicate": registered.pk})
    assert done.status_code == 302
    assert not Company.objects.filter(pk=registered.pk).exists()


def test_the_list_action_leads_to_the_preview_keeping_the_one_with_a_cvr(
    logged_in, adviser, founder, registered
):
    response = logged_in(adviser).post(
        CHANGELIST,
        {"action": "merge_companies", "_selected_action": [founder.pk, registered.pk]},
    )

    assert response.status_code == 302
    assert response["Location"] == f"{MERGE}?kept={registered.pk}&duplicate={founder.pk}"


def test_another_hubs_adviser_gets_nothing(logged_in, other_adviser, founder, registered):
    client = logged_in(other_adviser)
    pair = {"kept": founder.pk, "duplicate": registered.pk}

    assert client.get(MERGE, pair).status_code == 404
    assert client.post(MERGE, pair).status_code == 404
    assert Company.objects.filter(pk=registered.pk).exists()
    with pytest.raises(services.CrmError):
        services.company_merge(kept=founder, duplicate=registered, actor=other_adviser)


def test_an_adviser_cannot_merge_a_company_another_hub_also_works_with(
    logged_in, adviser, founder, registered, make_case
):
    make_case(company=registered, hub=Organisation.objects.get(slug="vaeksthus-nordjylland"))
    client = logged_in(adviser)
    pair = {"kept": founder.pk, "duplicate": registered.pk}

    assert client.get(MERGE, pair).status_code == 403
    assert client.post(MERGE, pair).status_code == 403
    assert Company.objects.filter(pk=registered.pk).exists()


def test_a_superuser_may_merge_across_hubs(logged_in, superuser, founder, registered, make_case):
    make_case(company=registered, hub=Organisation.objects.get(slug="vaeksthus-nordjylland"))

    response = logged_in(superuser).post(MERGE, {"kept": registered.pk, "duplicate": founder.pk})

    assert response.status_code == 302
    assert Case.objects.filter(company=registered).count() == 3
    assert TimelineEntry.objects.filter(action="crm.company.merged").count() == 3


def test_analysts_and_editors_get_nothing(logged_in, analyst, editor, founder, registered):
    pair = {"kept": founder.pk, "duplicate": registered.pk}
    for user in (analyst, editor):
        response = logged_in(user).post(MERGE, pair)
        assert response.status_code in (403, 404)
    assert Company.objects.filter(pk=registered.pk).exists()
