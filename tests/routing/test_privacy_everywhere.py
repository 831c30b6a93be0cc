"""Access and erasure reach every place of the inventory (crm.services.privacy.PERSONAL_DATA)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.utils import timezone

from crm import services as crm_services
from crm.models import Contact, Notification
from crm.services import PERSONAL_DATA, person_erase, person_export
from governance import services as governance_services
from governance.models import DigestDelivery, PageFeedback, SavedSearch
from offers.models import Municipality, Offer, Organisation
from routing.services import guidance_request_submit
from tests.routing.factories import OfferFactory, next_cvr, submission

pytestmark = pytest.mark.django_db

EMAIL = "ida.kjaersgaard@example.dk"
NAME = "Ida Kjærsgaard"
OTHER_NAME = "Ida Bech-Kjærsgaard"
# What may not be left anywhere after the erasure (case-insensitive).
TRACES = (EMAIL, "Kjærsgaard", "+45 31 31 31 31", "+45 42 42 42 42")


@pytest.fixture
def person_everywhere(export_offers, make_user, client):
    """Ida, who has not started a company yet, in every place the inventory lists."""
    ida = {"cvr": None, "company_name": "", "contact_name": NAME, "contact_email": EMAIL}
    first = guidance_request_submit(
        submission=submission(**ida, contact_phone="+45 31 31 31 31"), channel="form"
    )
    contact = first.case.contact
    # Not started yet: each request without a CVR is a company of its own, named after her
    # (one from another region: at the same hub it would be attached to her open case).
    second = guidance_request_submit(
        submission=submission(
            **ida,
            needs=f"Ring til {NAME} på +45 31 31 31 31.",
            municipality=Municipality.objects.select_related("region").get(code=751),
        ),
        channel="api",
    )
    # At a company she works for, a later request gives another name and phone.
    cvr = next_cvr()
    for name, phone in ((NAME, "+45 31 31 31 31"), (OTHER_NAME, "+45 42 42 42 42")):
        guidance_request_submit(
            submission=submission(
                cvr=cvr, contact_name=name, contact_email=EMAIL, contact_phone=phone
            ),
            channel="form",
        )
    case = first.case
    hub = case.hub
    adviser = make_user("hanne", organisation=hub.slug, role="Rådgiver")
    offer = Offer.objects.get(external_id="eksportstart")
    crm_services.case_note_add(
        case=case, kind="note", text=f"Talte med {NAME}, {EMAIL}.", actor=adviser
    )
    crm_services.case_assign(case=case, adviser=adviser, actor=adviser)
    referral = crm_services.referral_create(
        case=case, offer=offer, note=f"{NAME} er klar", actor=adviser
    )
    crm_services.referral_complete(referral=referral, outcome=f"{NAME} deltog", actor=adviser)
    crm_services.case_close(
        case=case, outcome="guided", outcome_text=f"{NAME} er godt i gang", actor=adviser
    )
    crm_services.feedback_submit(case=case, rating=5, comment=f"Tak fra {NAME}")
    # The hubs' overdue digest lists the second case by the company's name, which is hers.
    Organisation.objects.filter(pk=second.case.hub_id).update(inbox_email="hub@example.dk")
    assert crm_services.overdue_digests_queue(
        day=second.case.first_response_due + dt.timedelta(days=3)
    )
    assert Notification.objects.filter(case__isnull=True, body__contains=NAME).exists()
    # The admin's log labels the contact by her name.
    LogEntry.objects.create(
        user=adviser,
        content_type=ContentType.objects.get_for_model(Contact),
        object_id=str(contact.pk),
        object_repr=str(contact),
        action_flag=CHANGE,
        change_message="[]",
    )
    # A saved search with a weekly digest.
    saved = governance_services.saved_search_create(email=EMAIL, query_string="theme=export")
    SavedSearch.objects.filter(pk=saved.pk).update(status="active", confirmed_at=timezone.now())
    DigestDelivery.objects.create(
        saved_search=saved,
        week="2026-W01",
        window_start=timezone.now() - dt.timedelta(days=7),
        window_end=timezone.now(),
        offer_ids=[offer.pk],
    )
    PageFeedback.objects.create(path="/tilbud/", answer="no", comment=f"Jeg er {NAME}")
    # Her address published as an offer's contact, and so in the offer's history.
    OfferFactory(external_id="ida-tilbud", title="Iværksætterhjælp", themes=["export"])
    other = Offer.objects.get(external_id="ida-tilbud")
    other.contact_email, other.contact_phone = EMAIL, "+45 31 31 31 31"
    other.save()
    return {"contact": contact, "saved": saved, "requests": [first, second]}


def _top_key(export: str) -> str:
    return export.split("[", 1)[0].split(".", 1)[0]


def test_the_export_has_every_place_of_the_inventory(person_everywhere):
    exported = person_export(email=EMAIL)

    json.dumps(exported)  # the command prints it as JSON
    for entry in PERSONAL_DATA:
        assert _top_key(entry.export) in exported, entry.model
    for key in ("contacts", "notifications", "admin_log", "offers", "saved_searches"):
        assert exported[key], key
    assert exported["guidance_requests"] and exported["page_feedback"]
    assert exported["saved_searches"][0]["deliveries"] == [{"week": "2026-W01", "offers": 1}]
    text = json.dumps(exported, ensure_ascii=False)
    assert OTHER_NAME in text  # the details a later request gave, on its case
    assert NAME in text


def test_the_erasure_leaves_the_person_nowhere_in_the_inventory(person_everywhere):
    saved = person_everywhere["saved"]
    record = person_erase(email=EMAIL, erased_by="test")

    leftovers = []
    for entry in PERSONAL_DATA:
        model = apps.get_model(entry.model)
        for row in model._default_manager.all().values(
            *[f for f in entry.fields if not model._meta.get_field(f).is_relation]
        ):
            text = json.dumps(row, default=str, ensure_ascii=False).casefold()
            leftovers += [(entry.model, trace) for trace in TRACES if trace.casefold() in text]
    assert leftovers == []
    assert record.contacts == 3
    assert not SavedSearch.objects.filter(pk=saved.pk).exists()
    assert not DigestDelivery.objects.exists()
    # No digest goes out to the address again.
    assert not governance_services.saved_search_digest_send(
        saved_search_id=saved.pk, week="2026-W02"
    )
    logged = LogEntry.objects.get(object_id=str(person_everywhere["contact"].pk))
    assert logged.object_repr == crm_services.ANONYMISED_NAME
    # The export afterwards finds the erasure and nothing else.
    exported = person_export(email=EMAIL)
    assert exported["erasures"] and not exported["saved_searches"]
    assert not exported["contacts"] and not exported["notifications"]


def test_the_commands_cover_saved_searches(person_everywhere, capsys):
    call_command("privacy_export", email=EMAIL)
    assert "theme=export" in capsys.readouterr().out
    call_command("privacy_erase", email=EMAIL)
    assert not SavedSearch.objects.filter(email__iexact=EMAIL).exists()
