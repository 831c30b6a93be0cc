from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone

from crm import services
from crm.models import Case, CaseOffer, Company, Contact, Notification, Referral, TimelineEntry
from crm.selectors import case_public_timeline, completed_offer_referrals
from crm.services import CrmError
from offers.models import Municipality, Organisation, Theme
from tests.crm.factories import CompanyFactory

pytestmark = pytest.mark.django_db

AARHUS = 751


def test_it_creates_a_company_with_a_valid_cvr_and_its_size_class():
    company = services.company_find_or_create(
        cvr="DK 2598 1014",  # a CVR as people type it
        name="Smedie Nord ApS",
        municipality=Municipality.objects.get(code=AARHUS),
        industry="C",
        employees=23,
    )
    assert company.cvr == "25981014"
    assert company.size_class == "small"


def test_it_refuses_a_cvr_that_fails_the_modulus_11_check_on_the_cvr_field():
    with pytest.raises(CrmError) as error:
        services.company_find_or_create(
            cvr="12345678", name="Forkert ApS", municipality=None, industry=None, employees=None
        )
    assert error.value.field == "cvr"
    assert "ikke et gyldigt CVR-nummer" in error.value.message
    assert not Company.objects.filter(name="Forkert ApS").exists()


def test_it_reuses_a_company_by_cvr_and_fills_only_its_blank_facts():
    existing = CompanyFactory.create(
        cvr="25981014", name="Smedie Nord ApS", industry="", employees=40, municipality=None
    )

    company = services.company_find_or_create(
        cvr="25981014",
        name="Et andet navn",
        municipality=Municipality.objects.get(code=AARHUS),
        industry="F",
        employees=3,
    )

    assert company.pk == existing.pk
    company.refresh_from_db()
    assert company.name == "Smedie Nord ApS"
    assert company.employees == 40
    assert company.industry == "F"
    assert company.municipality_id == AARHUS


def test_it_creates_a_new_company_each_time_without_a_cvr():
    first = services.company_find_or_create(
        cvr=None, name="Min idé", municipality=None, industry=None, employees=None
    )
    second = services.company_find_or_create(
        cvr="", name="Min idé", municipality=None, industry=None, employees=None
    )
    assert first.pk != second.pk
    assert first.cvr is None and second.cvr is None


def test_it_finds_a_contact_by_email_ignoring_case_and_records_the_consent():
    company = CompanyFactory.create()
    first = services.contact_find_or_create(
        company=company, name="Anne Holm", email="Anne@Smedie.dk", phone="", consent_version="v1"
    )
    at_anne: dict[str, Any] = {
        "company": company,
        "email": "anne@smedie.dk",
        "consent_version": "v2",
    }
    unchanged = services.contact_find_or_create(
        **at_anne, name="Someone Else", phone="+45 99 99 99 99"
    )
    assert unchanged.pk == first.pk
    assert (unchanged.name, unchanged.phone, unchanged.consent_version) == ("Anne Holm", "", "v1")
    # Only an adviser of a hub that already knows the person rewrites the details.
    again = services.contact_find_or_create(
        **at_anne, name="Anne Holm", phone="+45 11 22 33 44", keep_details=False
    )
    assert again.pk == first.pk
    assert again.consent_version == "v2"
    assert again.phone == "+45 11 22 33 44"
    assert again.consent_at is not None
    assert Contact.objects.filter(company=company).count() == 1


def test_it_gives_a_new_case_a_reference_a_deadline_a_timeline_and_its_matches(hub, offer):
    company = CompanyFactory.create()
    contact = services.contact_find_or_create(
        company=company, name="Anne", email="anne@example.dk", phone="", consent_version="v1"
    )
    payload = {
        "matches": [{"external_id": offer.external_id, "score": 0.82, "reasons": ["Eksport"]}],
        "rule": "kommunens region",
    }

    case = services.case_create(
        company=company,
        contact=contact,
        hub=hub,
        needs="Hjælp til eksport",
        themes=Theme.objects.filter(slug="export"),
        source=Case.Source.WEB,
        payload=payload,
        offers=[offer],
    )

    year = timezone.localdate().year
    assert re.fullmatch(rf"EF-{year}-\d{{6}}", case.reference)
    assert case.status == Case.Status.NEW
    assert case.first_response_due > timezone.localdate()
    created = case.timeline.get()
    assert created.action == "crm.case.created"
    assert created.payload["rule"] == "kommunens region"
    assert created.is_public
    match = CaseOffer.objects.get(case=case)
    assert (match.offer, match.score, match.reasons) == (offer, 0.82, ["Eksport"])
    notification = Notification.objects.get(case=case)
    assert notification.recipient == hub.inbox_email
    assert case.reference in notification.subject
    assert "Ny sag" in notification.subject
    assert notification.status == Notification.Status.PENDING


def test_it_never_hands_out_the_same_reference_twice(make_case):
    references = {make_case().reference for _ in range(5)}
    assert len(references) == 5


def test_it_refuses_a_case_for_an_organisation_that_is_not_a_hub(make_case):
    with pytest.raises(CrmError) as error:
        make_case(hub=Organisation.objects.get(slug="eksportraadet"))
    assert error.value.field == "hub"
    assert not Case.objects.exists()


def test_taking_a_case_assigns_it_and_tells_the_company_but_answers_nothing(make_case, adviser):
    case = make_case()

    case = services.case_assign(case=case, adviser=adviser, actor=adviser)

    assert case.status == Case.Status.ASSIGNED
    assert case.adviser == adviser
    # Taking the case is no contact with the company: the promise still waits for one.
    assert case.first_responded_at is None
    entry = case.timeline.get(action="crm.case.assigned")
    assert entry.is_public and entry.text == "En rådgiver har taget din sag."
    mail = Notification.objects.get(kind=Notification.Kind.CASE_ASSIGNED)
    assert mail.recipient == case.contact.email
    assert "Din sag er nu hos Mette Kristensen, Væksthus Midtjylland" in mail.body


def test_it_refuses_to_assign_a_case_to_an_adviser_of_another_hub(
    make_case, adviser, other_adviser
):
    case = make_case()
    with pytest.raises(CrmError) as error:
        services.case_assign(case=case, adviser=other_adviser, actor=adviser)
    assert error.value.field == "adviser"
    with pytest.raises(CrmError, match="Sagen ligger nu hos"):
        services.case_assign(case=case, adviser=other_adviser, actor=other_adviser)
    case.refresh_from_db()
    assert case.adviser is None
    assert not case.timeline.filter(action="crm.case.assigned").exists()


def test_a_transfer_needs_a_reason_and_writes_nothing_without_one(make_case, other_hub, adviser):
    case = services.case_assign(case=make_case(), adviser=adviser, actor=adviser)
    with pytest.raises(CrmError) as error:
        services.case_transfer(case=case, hub=other_hub, reason="  ", actor=adviser)
    assert error.value.field == "reason"
    case.refresh_from_db()
    assert case.hub.slug == "vaeksthus-midtjylland"
    assert not case.timeline.filter(kind=TimelineEntry.Kind.TRANSFER).exists()


def test_a_transfer_moves_the_case_to_the_other_hub_without_an_adviser(
    make_case, other_hub, adviser
):
    case = services.case_assign(case=make_case(), adviser=adviser, actor=adviser)

    case = services.case_transfer(
        case=case, hub=other_hub, reason="Virksomheden er flyttet til Aalborg", actor=adviser
    )

    assert (case.hub, case.adviser, case.status) == (other_hub, None, Case.Status.NEW)
    entry = case.timeline.get(action="crm.case.transferred")
    assert entry.text == "Virksomheden er flyttet til Aalborg"
    assert not entry.is_public
    assert Notification.objects.filter(recipient=other_hub.inbox_email, case=case).exists()


def test_it_refuses_a_transition_that_is_not_allowed(make_case):
    case = make_case()
    with pytest.raises(CrmError) as error:
        services.case_transition(case=case, status=Case.Status.REFERRED, actor=None)
    assert "kan ikke skifte" in error.value.message
    case.refresh_from_db()
    assert case.status == Case.Status.NEW
    assert case.timeline.count() == 1


def test_closed_is_reached_only_by_closing_with_an_outcome(make_case, adviser):
    case = services.case_assign(case=make_case(), adviser=adviser, actor=adviser)
    with pytest.raises(CrmError):
        services.case_transition(case=case, status=Case.Status.CLOSED, actor=adviser)
    with pytest.raises(CrmError) as error:
        services.case_close(case=case, outcome="", actor=adviser)
    assert error.value.field == "outcome"
    case.refresh_from_db()
    assert case.status == Case.Status.ASSIGNED


def test_an_allowed_transition_is_shown_to_the_company(make_case, adviser):
    case = services.case_assign(case=make_case(), adviser=adviser, actor=adviser)
    case = services.case_transition(case=case, status=Case.Status.IN_PROGRESS, actor=adviser)
    assert case.status == Case.Status.IN_PROGRESS
    assert "Sagens status er nu: I gang." in [e.text for e in case_public_timeline(case)]


def test_the_first_note_answers_the_first_response_promise_once(make_case, adviser):
    case = make_case()
    services.case_note_add(case=case, kind="call", text="Ringede til Anne", actor=adviser)
    case.refresh_from_db()
    first = case.first_responded_at
    assert first is not None

    services.case_note_add(case=case, kind="meeting", text="Møde på adressen", actor=adviser)
    case.refresh_from_db()
    assert case.first_responded_at == first
    assert list(case.timeline.filter(kind="meeting").values_list("text", flat=True)) == [
        "Møde på adressen"
    ]


def test_an_empty_note_is_refused_on_the_text_field(make_case, adviser):
    case = make_case()
    with pytest.raises(CrmError) as error:
        services.case_note_add(case=case, kind="note", text="", actor=adviser)
    assert error.value.field == "text"
    case.refresh_from_db()
    assert case.first_responded_at is None


def test_the_public_timeline_never_shows_internal_notes(make_case, adviser):
    case = services.case_assign(case=make_case(), adviser=adviser, actor=adviser)
    services.case_note_add(case=case, kind="note", text="Intern: kunden er svær", actor=adviser)
    services.case_close(case=case, outcome=Case.Outcome.GUIDED, actor=adviser)

    texts = [entry.text for entry in case_public_timeline(case)]

    assert texts == [
        "Henvendelsen er modtaget af Væksthus Midtjylland.",
        "En rådgiver har taget din sag.",
        "Sagen er lukket: Vejledt.",
    ]


def test_a_referral_needs_a_taken_case(make_case, offer):
    case = make_case()
    with pytest.raises(CrmError):
        services.referral_create(case=case, offer=offer, actor=None)
    assert not Referral.objects.exists()


def test_a_completed_referral_to_an_offer_is_a_participation(make_case, adviser, offer):
    case = services.case_assign(case=make_case(), adviser=adviser, actor=adviser)

    referral = services.referral_create(case=case, offer=offer, actor=adviser)
    case.refresh_from_db()
    assert case.status == Case.Status.REFERRED
    assert referral.operator == offer.operator
    assert list(completed_offer_referrals()) == []

    services.referral_accept(referral=referral, actor=adviser)
    services.referral_complete(referral=referral, outcome="Forløbet er gennemført", actor=adviser)

    year = timezone.localdate().year
    assert list(completed_offer_referrals()) == [(case.company.cvr, offer.external_id, year)]
    actions = list(case.timeline.order_by("at", "id").values_list("action", flat=True))
    assert actions[-3:] == [
        "crm.referral.created",
        "crm.referral.accepted",
        "crm.referral.completed",
    ]


def test_a_declined_referral_is_not_a_participation_and_cannot_be_completed(
    make_case, adviser, offer
):
    case = services.case_assign(case=make_case(), adviser=adviser, actor=adviser)
    referral = services.referral_create(case=case, offer=offer, actor=adviser)
    services.referral_decline(referral=referral, outcome="Passede ikke", actor=adviser)
    with pytest.raises(CrmError):
        services.referral_complete(referral=referral, outcome="Alligevel", actor=adviser)
    assert list(completed_offer_referrals()) == []


def test_feedback_is_accepted_only_after_closing_and_only_once(make_case, adviser):
    case = services.case_assign(case=make_case(), adviser=adviser, actor=adviser)
    with pytest.raises(CrmError):
        services.feedback_submit(case=case, rating=5)

    services.case_close(case=case, outcome=Case.Outcome.GUIDED, actor=adviser)
    feedback = services.feedback_submit(case=case, rating=4, comment="God hjælp")
    assert feedback.rating == 4

    with pytest.raises(CrmError) as error:
        services.feedback_submit(case=case, rating=5)
    assert "allerede" in error.value.message


def test_it_refuses_a_rating_outside_one_to_five(make_case, adviser):
    case = services.case_assign(case=make_case(), adviser=adviser, actor=adviser)
    services.case_close(case=case, outcome=Case.Outcome.GUIDED, actor=adviser)
    with pytest.raises(CrmError) as error:
        services.feedback_submit(case=case, rating=6)
    assert error.value.field == "rating"


def test_a_closed_case_cannot_be_changed(make_case, adviser):
    case = services.case_assign(case=make_case(), adviser=adviser, actor=adviser)
    services.case_close(case=case, outcome=Case.Outcome.NOT_RELEVANT, actor=adviser)
    with pytest.raises(CrmError) as error:
        services.case_note_add(case=case, kind="note", text="Efterskrift", actor=adviser)
    assert error.value.message == "Sagen er lukket og kan ikke ændres."


def test_an_overdue_case_is_one_without_a_first_response_past_its_date(make_case, adviser):
    late = make_case()
    answered = make_case()
    services.case_note_add(case=answered, kind="call", text="Ringede", actor=adviser)
    Case.objects.update(first_response_due=timezone.localdate() - dt.timedelta(days=1))

    overdue = Case.objects.overdue_on(timezone.localdate())

    assert list(overdue) == [late]


@pytest.mark.parametrize(
    ("kind", "answers"), [("call", True), ("meeting", True), ("email", True), ("note", False)]
)
def test_only_a_call_a_meeting_or_an_e_mail_answers_the_promise(
    make_case, adviser, kind: str, answers: bool
):
    case = services.case_assign(case=make_case(), adviser=adviser, actor=adviser)

    services.case_note_add(case=case, kind=kind, text="Talt med ejeren.", actor=adviser)

    case.refresh_from_db()
    assert (case.first_responded_at is not None) is answers


def test_a_referral_is_no_answer_to_the_company(make_case, adviser):
    from tests.offers.factories import make_offer

    case = services.case_assign(case=make_case(), adviser=adviser, actor=adviser)

    services.referral_create(case=case, offer=make_offer(), actor=adviser)

    case.refresh_from_db()
    assert case.status == Case.Status.REFERRED
    assert case.first_responded_at is None
