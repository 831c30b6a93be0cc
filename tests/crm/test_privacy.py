from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from crm import services, tasks
from crm.models import Case, Contact, ErasureRecord, Notification
from crm.services import email_hash
from tests.crm.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


def closed_case(make_case, adviser, *, months_ago: int, **kwargs) -> Case:
    case = services.case_assign(case=make_case(**kwargs), adviser=adviser, actor=adviser)
    case = services.case_close(case=case, outcome="guided", actor=adviser)
    Case.objects.filter(pk=case.pk).update(
        closed_at=timezone.now() - dt.timedelta(days=months_ago * 31)
    )
    return case


def test_the_retention_job_anonymises_contacts_of_cases_closed_long_ago_and_keeps_the_case(
    make_case, adviser, settings
):
    settings.CONTACT_RETENTION_MONTHS = 36
    old = closed_case(make_case, adviser, months_ago=40)
    recent = closed_case(make_case, adviser, months_ago=12)

    assert tasks.contacts_retention.apply().get() == 1

    old.refresh_from_db()
    old.contact.refresh_from_db()
    assert old.contact.is_anonymised
    assert (old.contact.name, old.contact.email, old.contact.phone) == (
        "Anonymiseret kontaktperson",
        "",
        "",
    )
    assert old.status == Case.Status.CLOSED and old.outcome == "guided"
    assert old.timeline.filter(action="crm.contact.anonymised").exists()
    recent.contact.refresh_from_db()
    assert not recent.contact.is_anonymised
    assert ErasureRecord.objects.get().reason == ErasureRecord.Reason.RETENTION


def test_the_retention_job_keeps_a_contact_who_still_has_an_open_case(make_case, adviser):
    old = closed_case(make_case, adviser, months_ago=40)
    make_case(company=old.company, contact=old.contact)

    assert tasks.contacts_retention.apply().get() == 0
    old.contact.refresh_from_db()
    assert not old.contact.is_anonymised


def test_privacy_export_prints_everything_about_the_person_as_json(make_case, adviser):
    company = CompanyFactory.create(name="Bageriet ApS")
    contact = ContactFactory.create(company=company, email="Anne@Bageriet.dk", name="Anne Bager")
    case = services.case_assign(
        case=make_case(company=company, contact=contact), adviser=adviser, actor=adviser
    )
    services.case_note_add(case=case, kind="call", text="Talte med Anne om eksport", actor=adviser)
    services.case_close(case=case, outcome="guided", actor=adviser)
    services.feedback_submit(case=case, rating=5, comment="Tak for hjælpen")
    other = ContactFactory.create(email="someone@else.dk")

    out = StringIO()
    call_command("privacy_export", "--email", "anne@bageriet.dk", stdout=out)

    data = json.loads(out.getvalue())
    assert [c["name"] for c in data["contacts"]] == ["Anne Bager"]
    exported = data["contacts"][0]
    assert exported["company"]["name"] == "Bageriet ApS"
    assert exported["consent_version"] == "2026-01"
    [exported_case] = exported["cases"]
    assert exported_case["reference"] == case.reference
    assert "Talte med Anne om eksport" in [e["text"] for e in exported_case["timeline"]]
    assert exported_case["feedback"]["comment"] == "Tak for hjælpen"
    assert [n["subject"] for n in data["notifications"]] == [
        f"Din sag {case.reference} er nu hos en rådgiver",
        f"Din sag {case.reference} er afsluttet",
    ]
    assert other.email not in out.getvalue()


def test_privacy_erase_anonymises_the_person_everywhere_and_records_it_without_the_address(
    make_case, adviser
):
    ole = ContactFactory.create(email="ole@firma.dk")
    ole_elsewhere = ContactFactory.create(email="OLE@firma.dk")
    first = make_case(company=ole.company, contact=ole)
    second = make_case(company=ole_elsewhere.company, contact=ole_elsewhere)
    services.case_assign(case=first, adviser=adviser, actor=adviser)
    bystander = make_case()

    out = StringIO()
    call_command("privacy_erase", "--email", "ole@firma.dk", stdout=out)

    assert "ole@firma.dk" not in out.getvalue()
    assert not Contact.objects.with_email("ole@firma.dk").exists()
    for case in (first, second):
        case.contact.refresh_from_db()
        assert case.contact.is_anonymised
        assert case.timeline.filter(action="crm.contact.erased").exists()
    assert not Notification.objects.filter(recipient__iexact="ole@firma.dk").exists()
    record = ErasureRecord.objects.get()
    assert record.email_hash == email_hash("Ole@Firma.dk")
    assert len(record.email_hash) == 64
    assert (record.contacts, record.cases, record.notifications) == (2, 2, 1)
    bystander.contact.refresh_from_db()
    assert not bystander.contact.is_anonymised

    empty = StringIO()
    call_command("privacy_export", "--email", "ole@firma.dk", stdout=empty)
    assert json.loads(empty.getvalue())["contacts"] == []


def case_about_ole(make_case, adviser, company) -> Case:
    """A case whose free text names Ole Hansen, his e-mail and phone, beside business facts."""
    ole = ContactFactory.create(
        company=company, name="Ole Hansen", email="ole@firma.dk", phone="+45 12 34 56 78"
    )
    case = make_case(
        company=company,
        contact=ole,
        needs="Ole Hansen vil eksportere til Tyskland. Ring på 12 34 56 78.",
    )
    services.case_assign(case=case, adviser=adviser, actor=adviser)
    services.case_note_add(
        case=case,
        kind="call",
        text="Talte med Ole om eksport; skriv til ole@firma.dk",
        actor=adviser,
    )
    services.referral_create(
        case=case, operator=case.hub, note="Ole ønsker et eksportforløb", actor=adviser
    )
    case = services.case_close(
        case=case, outcome="referred", outcome_text="Hansen går videre med eksport", actor=adviser
    )
    services.feedback_submit(case=case, rating=5, comment="Tak fra Ole, det hjalp")
    return case


def free_texts(case: Case) -> str:
    case.refresh_from_db()
    return "\n".join(
        [
            case.needs,
            case.outcome_text,
            *case.timeline.values_list("text", flat=True),
            *(
                json.dumps(payload, ensure_ascii=False)
                for payload in case.timeline.values_list("payload", flat=True)
            ),
            *case.referrals.values_list("note", flat=True),
            case.feedback.comment,
            *(f"{n.subject} {n.body}" for n in Notification.objects.filter(case=case)),
        ]
    )


@pytest.mark.parametrize("how", ["retention", "erase"])
def test_anonymising_a_contact_masks_them_in_the_free_text_of_their_cases(
    make_case, adviser, settings, how
):
    settings.CONTACT_RETENTION_MONTHS = 36
    case = case_about_ole(make_case, adviser, CompanyFactory.create())
    bystander = make_case(needs="Ole fra nabofirmaet anbefalede jer.")
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - dt.timedelta(days=40 * 31))
    before = free_texts(case)
    assert "Ole" in before and "ole@firma.dk" in before and "12 34 56 78" in before

    if how == "retention":
        assert tasks.contacts_retention.apply().get() == 1
    else:
        services.person_erase(email="ole@firma.dk", erased_by="test")

    after = free_texts(case)
    for personal in ("Ole", "Hansen", "ole@firma.dk", "12 34 56 78"):
        assert personal not in after
    for business in ("eksportere til Tyskland", "eksportforløb", "går videre med eksport"):
        assert business in after
    assert "[navn]" in after and "[e-mail]" in after and "[telefonnummer]" in after
    bystander.refresh_from_db()
    assert bystander.needs == "Ole fra nabofirmaet anbefalede jer."


def test_a_company_registered_under_the_persons_own_name_loses_that_name(make_case, adviser):
    starter = CompanyFactory.create(cvr=None, name="Ole Hansen")
    case_about_ole(make_case, adviser, starter)
    named = CompanyFactory.create(name="Hansen Maskinfabrik ApS")
    case_about_ole_elsewhere = make_case(
        company=named, contact=ContactFactory.create(company=named, email="ole@firma.dk")
    )

    services.person_erase(email="ole@firma.dk", erased_by="test")

    starter.refresh_from_db()
    named.refresh_from_db()
    assert starter.name == "Anonymiseret iværksætter"
    assert named.name == "Hansen Maskinfabrik ApS"  # a registered company keeps its name
    assert case_about_ole_elsewhere.company.name == "Hansen Maskinfabrik ApS"
