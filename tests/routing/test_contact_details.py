"""A public request never rewrites a known person: what it says is kept on the case instead."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from crm import services as crm_services
from crm.models import Contact, TimelineEntry
from routing.forms import GuidanceSubmission
from routing.services import guidance_request_submit
from tests.routing.factories import form_data, next_cvr, submission

pytestmark = pytest.mark.django_db


def person(cvr: str, name: str, email: str, phone: str, **changes: Any) -> GuidanceSubmission:
    """A request in which a person at company ``cvr`` gives their name, e-mail and phone."""
    return submission(
        cvr=cvr, contact_name=name, contact_email=email, contact_phone=phone, **changes
    )


def created_entry(case) -> TimelineEntry:
    return case.timeline.get(action="crm.case.created")


def test_a_second_request_with_a_known_address_leaves_the_contact_unchanged(
    export_offers: None,
) -> None:
    cvr = next_cvr()
    anne = ("Anne Larsen", "anne@firma.dk", "+45 11 11 11 11")
    first = guidance_request_submit(submission=person(cvr, *anne), channel="form")
    contact = Contact.objects.get(pk=first.case.contact_id)
    consent_at = contact.consent_at

    mallory = ("Mallory Fremmed", "ANNE@firma.dk", "+45 99 99 99 99")
    second = guidance_request_submit(
        submission=person(cvr, *mallory, needs="Ring til mig i stedet."), channel="api"
    )

    contact.refresh_from_db()
    assert second.case.contact_id == contact.pk
    assert (contact.name, contact.phone) == ("Anne Larsen", "+45 11 11 11 11")
    assert contact.consent_at == consent_at
    # The same company at the same hub: the request is attached to the open case.
    payload = second.case.timeline.get(action="crm.case.repeat_request").payload
    assert payload["submitted_contact"] == {
        "name": "Mallory Fremmed",
        "email": "ANNE@firma.dk",
        "phone": "+45 99 99 99 99",
    }
    assert payload["consent"]["version"]
    # The first request (a new person) records nothing extra: nothing differed.
    assert "submitted_contact" not in created_entry(first.case).payload


def test_the_api_cannot_rewrite_a_person_every_hub_sees(export_offers: None) -> None:
    cvr = next_cvr()
    api = APIClient()
    body = form_data(cvr=cvr, contact_name="Anne Larsen", contact_email="anne@firma.dk")
    assert api.post("/api/guidance-requests/", body, format="json").status_code == 201
    hostile = {**body, "contact_name": "Mallory", "contact_phone": "12345678", "needs": "Hej"}
    assert api.post("/api/guidance-requests/", hostile, format="json").status_code == 201

    contact = Contact.objects.get(email="anne@firma.dk")
    assert contact.name == "Anne Larsen"
    assert contact.phone == body["contact_phone"]


def test_the_adviser_sees_the_details_given_and_can_confirm_them(
    export_offers: None, client, make_user
) -> None:
    cvr = next_cvr()
    guidance_request_submit(
        submission=submission(cvr=cvr, contact_name="Anne Larsen", contact_email="a@firma.dk"),
        channel="form",
    )
    second = guidance_request_submit(
        submission=submission(
            cvr=cvr, contact_name="Anne Larsen-Holm", contact_email="a@firma.dk", needs="Mere"
        ),
        channel="form",
    )
    case = second.case
    adviser = make_user("hanne", organisation=case.hub.slug, role="Rådgiver")
    other = make_user("ole", organisation="vaeksthus-nordjylland", role="Rådgiver")
    assert case.hub.slug != "vaeksthus-nordjylland"

    client.force_login(adviser)
    page = client.get(reverse("admin:crm_case_change", args=[case.pk]))
    assert page.status_code == 200
    assert "Oplyst ved henvendelsen" in page.content.decode()
    assert "Anne Larsen-Holm" in page.content.decode()

    with pytest.raises(crm_services.CrmError):
        crm_services.contact_update(
            contact=case.contact, name="Ole's version", phone="", actor=other
        )
    crm_services.contact_update(
        contact=case.contact, name="Anne Larsen-Holm", phone="+45 12 34 56 78", actor=adviser
    )

    contact = Contact.objects.get(pk=case.contact_id)
    assert contact.name == "Anne Larsen-Holm"
    assert case.timeline.filter(action="crm.contact.updated", actor=adviser).exists()
    page = client.get(reverse("admin:crm_case_change", args=[case.pk]))
    assert "Oplyst ved henvendelsen" not in page.content.decode()


def test_the_contact_admin_saves_through_the_service(
    export_offers: None, client, make_user
) -> None:
    request = guidance_request_submit(
        submission=submission(contact_name="Anne Larsen", contact_email="anne@firma.dk"),
        channel="form",
    )
    case = request.case
    adviser = make_user("hanne", organisation=case.hub.slug, role="Rådgiver")
    client.force_login(adviser)
    contact = case.contact
    response = client.post(
        reverse("admin:crm_contact_change", args=[contact.pk]),
        {"name": "Anne Holm", "email": contact.email, "phone": "87654321", "role": "Ejer"},
    )

    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.name, contact.phone, contact.role) == ("Anne Holm", "87654321", "Ejer")
    assert case.timeline.filter(action="crm.contact.updated").exists()
