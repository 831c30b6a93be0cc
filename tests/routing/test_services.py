"""guidance_request_submit: one transaction from a request to a matched case at the right hub."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.utils import translation

from crm.models import Case, CaseOffer, Company, Contact, Notification, TimelineEntry
from offers.models import Organisation
from routing.models import GuidanceRequest, RepeatRequest, RoutingMail, token_digest
from routing.services import (
    IdempotencyConflict,
    RoutingError,
    guidance_request_submit,
)
from tests.routing.factories import next_cvr, rule, submission

pytestmark = pytest.mark.django_db


def test_it_creates_a_case_at_the_hub_of_the_company_region(export_offers: None) -> None:
    request = guidance_request_submit(submission=submission(), channel="form")

    case = request.case
    assert case.hub.slug == "vaeksthus-syddanmark"
    assert case.status == Case.Status.NEW
    assert case.source == Case.Source.WEB
    assert case.reference.startswith("EF-")
    assert request.hub == case.hub
    assert request.rule is None
    assert request.assignment_reason == "Væksthuset i virksomhedens region (Region Syddanmark)"


def test_it_stores_the_matched_offers_with_reasons_on_the_case(export_offers: None) -> None:
    request = guidance_request_submit(submission=submission(), channel="form")

    assert [m["external_id"] for m in request.matches] == ["eksportstart"]
    stored = request.matches[0]
    # The Danish reasons (the stable field) and the same reasons as data, for other languages.
    assert stored["reasons"][0].startswith("Svarer på det, du skriver: »")
    assert "Matcher dit behov: eksport" in stored["reasons"]
    assert stored["explanation"][0]["code"] == "need_words"
    assert {"code": "themes", "values": ["export"]} in stored["explanation"]
    assert stored["alternatives"] == []
    case_offers = CaseOffer.objects.filter(case=request.case)
    assert [(co.offer.external_id, co.reasons, co.explanation) for co in case_offers] == [
        ("eksportstart", request.matches[0]["reasons"], request.matches[0]["explanation"])
    ]


def test_it_records_the_routing_rule_and_its_reason_on_the_case(export_offers: None) -> None:
    service_agreement = rule(
        scope="municipality",
        municipality=630,
        hub="vaeksthus-midtjylland",
        reason="Driftsaftale: Væksthus Midtjylland driver Vejles erhvervsservice",
    )

    request = guidance_request_submit(submission=submission(), channel="api")

    assert request.case.hub.slug == "vaeksthus-midtjylland"
    assert request.rule == service_agreement
    created = TimelineEntry.objects.get(case=request.case, action="crm.case.created")
    assert created.payload["routing"] == {
        "hub": "vaeksthus-midtjylland",
        "rule": service_agreement.pk,
        "reason": "Driftsaftale: Væksthus Midtjylland driver Vejles erhvervsservice",
    }


def test_it_finds_the_company_by_cvr_and_the_contact_by_email(export_offers: None) -> None:
    cvr = next_cvr()
    first = guidance_request_submit(
        submission=submission(cvr=cvr, contact_email="anne@firma.dk"), channel="form"
    )
    second = guidance_request_submit(
        submission=submission(cvr=cvr, contact_email="ANNE@firma.dk", needs="Nu kapital"),
        channel="form",
    )

    # The company's open case at the hub takes the second request (crm.services.repeats).
    assert first.case == second.case
    assert first.case.company == second.case.company
    assert first.case.contact == second.case.contact
    assert Company.objects.filter(cvr=cvr).count() == 1


def test_it_registers_someone_without_a_company_under_their_own_name(export_offers: None) -> None:
    request = guidance_request_submit(
        submission=submission(cvr=None, company_name="", contact_name="Ida Iværksætter"),
        channel="form",
    )

    assert request.case.company.cvr is None
    assert request.case.company.name == "Ida Iværksætter"


def test_it_queues_the_hub_notification_in_the_outbox(export_offers: None) -> None:
    request = guidance_request_submit(submission=submission(), channel="form")

    notification = Notification.objects.get(case=request.case, kind=Notification.Kind.CASE_CREATED)
    assert notification.recipient == "nye-sager@vaeksthus-syddanmark.dk"
    assert notification.status == Notification.Status.PENDING


def test_the_hub_notification_lists_equal_themes_in_danish_order(export_offers: None) -> None:
    """Themes of the same position are listed as Danish sorts them: Æ, Ø, Å after Z (Python and
    many database collations put Å before Ø)."""
    from offers.models import Theme

    themes = tuple(
        Theme.objects.create(slug=slug, name=name, position=90)
        for slug, name in (("aa-test", "Åben innovation"), ("oe-test", "Økonomistyring"))
    )
    request = guidance_request_submit(submission=submission(themes=themes), channel="form")

    notice = Notification.objects.get(case=request.case, kind=Notification.Kind.CASE_CREATED)
    assert "Temaer: Økonomistyring, Åben innovation\n" in notice.body


def test_it_sends_the_company_a_receipt_with_its_private_status_link(
    export_offers: None, settings: Any
) -> None:
    settings.SITE_URL = "https://erhvervsfremme.example"
    request = guidance_request_submit(submission=submission(), channel="form")

    receipt = Notification.objects.get(case=request.case, kind=RoutingMail.REQUEST_RECEIPT)
    assert receipt.recipient == request.case.contact.email
    assert receipt.status == Notification.Status.PENDING
    assert request.case.reference in receipt.subject
    assert f"https://erhvervsfremme.example/vejledning/{request.token}/" in receipt.body
    assert "Væksthus Syddanmark kontakter dig senest" in receipt.body
    assert request.matches[0]["title"] in receipt.body
    # What the visitor typed is not put in front of the text an official address sends.
    assert request.case.contact.name not in receipt.body


def test_the_receipt_follows_the_language_the_company_used_and_the_hub_reads_danish(
    export_offers: None,
) -> None:
    with translation.override("en"):
        request = guidance_request_submit(submission=submission(), channel="form")

    receipt = Notification.objects.get(case=request.case, kind=RoutingMail.REQUEST_RECEIPT)
    notice = Notification.objects.get(case=request.case, kind=Notification.Kind.CASE_CREATED)
    assert receipt.subject == f"We have received your request ({request.case.reference})"
    assert "will contact you by" in receipt.body
    assert "kontakter dig" not in receipt.body
    assert notice.subject.startswith(f"Ny sag {request.case.reference}")


def test_e_mails_are_plain_text_without_html_escaping(export_offers: None) -> None:
    request = guidance_request_submit(
        submission=submission(company_name="Jensen & Søn's Maskiner ApS", cvr=None),
        channel="form",
    )

    notice = Notification.objects.get(case=request.case, kind=Notification.Kind.CASE_CREATED)
    assert "Jensen & Søn's Maskiner ApS" in notice.subject
    assert "Jensen & Søn's Maskiner ApS" in notice.body
    assert "&amp;" not in notice.body and "&#x27;" not in notice.body


def test_it_gives_each_request_an_unguessable_token_stored_with_its_digest(
    export_offers: None,
) -> None:
    first = guidance_request_submit(submission=submission(), channel="form")
    second = guidance_request_submit(submission=submission(), channel="form")

    assert first.token != second.token
    assert len(first.token) >= 43  # 32 random bytes, URL-safe base64
    assert first.token_hash == token_digest(first.token)
    assert GuidanceRequest.objects.by_token(first.token) == first
    assert GuidanceRequest.objects.by_token(first.token[:-1] + "x") is None


def test_it_refuses_a_request_without_consent_and_stores_nothing() -> None:
    with pytest.raises(RoutingError) as refused:
        guidance_request_submit(submission=submission(consent=False), channel="form")

    assert refused.value.field == "consent"
    assert not Case.objects.exists()
    assert not Contact.objects.exists()


# --- Idempotency ------------------------------------------------------------------------------


def test_it_returns_the_first_request_for_a_repeated_idempotency_key(export_offers: None) -> None:
    same = submission()

    first = guidance_request_submit(submission=same, channel="api", idempotency_key="key-1")
    again = guidance_request_submit(submission=same, channel="api", idempotency_key="key-1")

    assert again == first
    assert Case.objects.count() == 1
    assert Notification.objects.count() == 2  # the hub's notice and the receipt, once each


def test_it_refuses_a_reused_idempotency_key_with_another_body(export_offers: None) -> None:
    guidance_request_submit(submission=submission(), channel="api", idempotency_key="key-1")

    with pytest.raises(IdempotencyConflict):
        guidance_request_submit(
            submission=submission(needs="Noget helt andet"),
            channel="api",
            idempotency_key="key-1",
        )
    assert Case.objects.count() == 1


def test_it_returns_the_first_request_for_a_repeated_form_nonce(export_offers: None) -> None:
    first = guidance_request_submit(submission=submission(), channel="form", form_nonce="n" * 32)
    again = guidance_request_submit(submission=submission(), channel="form", form_nonce="n" * 32)

    assert again == first
    assert Case.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_creates_one_case_when_the_same_key_arrives_concurrently() -> None:
    same = submission(cvr=None)
    barrier = threading.Barrier(4)
    results: list[GuidanceRequest] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(
                guidance_request_submit(submission=same, channel="api", idempotency_key="race")
            )
        except BaseException as error:  # collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len(results) == 4
    assert len({r.pk for r in results}) == 1
    assert Case.objects.count() == 1
    assert GuidanceRequest.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_creates_one_company_when_two_requests_bring_the_same_new_cvr_at_once() -> None:
    cvr = next_cvr()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def send(email: str) -> None:
        try:
            barrier.wait(timeout=10)
            guidance_request_submit(
                submission=submission(cvr=cvr, contact_email=email), channel="api"
            )
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(f"p{n}@firma.dk",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert Company.objects.filter(cvr=cvr).count() == 1
    # One case, the other request attached to it as a repeat request.
    assert Case.objects.filter(company__cvr=cvr).count() == 1
    assert RepeatRequest.objects.count() == 1
    assert Organisation.objects.hubs().count() == 5
