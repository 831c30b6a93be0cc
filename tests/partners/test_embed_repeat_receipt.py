"""The embedded receipt of a repeat request: shown in the frame of the partner it came through.

A request from a company that already has a case at the hub is attached to that case as a
repeat request with a status link of its own (``routing.repeats``). The case keeps the partner of
its first request; the repeat request remembers its own (``RepeatRequest.partner``). Before, the
embedded receipt compared the case's partner, so a repeat request sent through a partner's form
to a case from the portal's own form answered 404 in that partner's frame, and one sent from
elsewhere to a partner's case showed in that partner's frame.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from crm.models import Case
from partners.models import Partner
from routing.models import GuidanceRequest, RepeatRequest
from routing.services import guidance_request_submit
from tests.partners.test_embed import frame_ancestors, post_embedded
from tests.routing.factories import form_data, next_cvr, submission

pytestmark = pytest.mark.django_db

FIRST_EMAIL = "direktoer@vejle-maskinfabrik.dk"
FIRST_NEEDS = "Direktøren vil sælge firmaet i al stilhed, ring 22334455"
SECOND_EMAIL = "bogholder@vejle-maskinfabrik.dk"


def receipt_path(slug: str, token: str) -> str:
    return f"/indlejret/{slug}/vejledning/{token}/kvittering/"


def portal_request(cvr: str) -> GuidanceRequest:
    """The company's first request, through the portal's own form."""
    return guidance_request_submit(
        submission=submission(cvr=cvr, contact_email=FIRST_EMAIL, needs=FIRST_NEEDS),
        channel="form",
    )


def embedded_repeat(
    client: Client, slug: str, cvr: str, nonce: str = "repeat-nonce-0123456789"
) -> Any:
    return post_embedded(
        client,
        slug=slug,
        data={"cvr": cvr, "contact_email": SECOND_EMAIL, "nonce": nonce},
    )


def test_a_repeat_request_through_a_partner_shows_its_own_receipt_in_that_partners_frame(
    client: Client, vejle: Partner, export_offers: None
) -> None:
    cvr = next_cvr()
    first = portal_request(cvr)
    assert first.case.partner is None

    response = embedded_repeat(client, "vejle", cvr)

    assert response.status_code == 302
    assert Case.objects.count() == 1
    repeat = RepeatRequest.objects.get()
    assert repeat.partner == vejle
    assert repeat.guidance_request_id == first.pk
    assert response["Location"] == receipt_path("vejle", repeat.token)
    # The case keeps the partner of its first request (none: the portal's own form).
    assert Case.objects.get().partner is None

    receipt = client.get(response["Location"])

    assert receipt.status_code == 200
    assert frame_ancestors(receipt).startswith("frame-ancestors https://www.vejle.dk")
    html = receipt.content.decode()
    assert "Vejle Kommune, Erhverv" in html
    assert first.case.reference in html
    assert first.case.hub.name in html
    # The repeat request's own status link and the address its own receipt went to.
    assert f"/vejledning/{repeat.token}/" in html
    assert SECOND_EMAIL in html
    # Nothing of the first request: its link, contact or needs.
    assert first.token not in html
    assert FIRST_EMAIL not in html
    assert FIRST_NEEDS not in html and "22334455" not in html


def test_that_repeat_requests_receipt_is_not_shown_in_another_partners_frame(
    client: Client, vejle: Partner, aarhus: Partner, export_offers: None
) -> None:
    cvr = next_cvr()
    portal_request(cvr)
    embedded_repeat(client, "vejle", cvr)
    token = RepeatRequest.objects.get().token

    assert client.get(receipt_path("aarhus", token)).status_code == 404
    assert client.get(receipt_path("vejle", token)).status_code == 200


def test_a_repeat_request_from_the_portals_own_form_is_not_shown_in_a_partners_frame(
    client: Client, vejle: Partner, export_offers: None
) -> None:
    cvr = next_cvr()
    # The case came through the partner; the repeat request through the portal's own form.
    post_embedded(client, data={"cvr": cvr})
    case = Case.objects.get()
    assert case.partner == vejle
    repeat = guidance_request_submit(
        submission=submission(cvr=cvr, contact_email=SECOND_EMAIL), channel="form"
    )
    assert repeat.repeat is not None and repeat.repeat.partner is None

    assert client.get(receipt_path("vejle", repeat.token)).status_code == 404
    # The case's own receipt still shows in the partner's frame.
    first = GuidanceRequest.objects.get()
    assert client.get(receipt_path("vejle", first.token)).status_code == 200


def test_a_repeat_request_through_one_partner_to_anothers_case_shows_in_its_own_frame_only(
    client: Client, vejle: Partner, aarhus: Partner, export_offers: None
) -> None:
    cvr = next_cvr()
    post_embedded(client, slug="aarhus", data={"cvr": cvr, "nonce": "aarhus-nonce-0123456789"})
    first = GuidanceRequest.objects.get()
    assert first.case.partner == aarhus

    response = embedded_repeat(client, "vejle", cvr)
    token = RepeatRequest.objects.get().token

    assert response["Location"] == receipt_path("vejle", token)
    assert client.get(receipt_path("vejle", token)).status_code == 200
    assert client.get(receipt_path("aarhus", token)).status_code == 404
    # The first request's receipt stays with the partner it came through.
    assert client.get(receipt_path("aarhus", first.token)).status_code == 200
    assert client.get(receipt_path("vejle", first.token)).status_code == 404


def test_a_retried_embedded_repeat_request_gets_the_same_receipt(
    client: Client, vejle: Partner, export_offers: None
) -> None:
    cvr = next_cvr()
    portal_request(cvr)

    first = embedded_repeat(client, "vejle", cvr)
    again = embedded_repeat(client, "vejle", cvr)

    assert RepeatRequest.objects.count() == 1
    assert again["Location"] == first["Location"]
    assert client.get(again["Location"]).status_code == 200


def test_a_repeat_request_through_a_partners_api_key_remembers_the_partner(
    client: Client, vejle: Partner, aarhus: Partner, make_key, export_offers: None
) -> None:
    cvr = next_cvr()
    portal_request(cvr)
    issued = make_key(vejle)
    api = APIClient()
    headers = {"Authorization": f"Bearer {issued.plaintext}", "Idempotency-Key": "gentag-api-1"}
    body = {**form_data(cvr=cvr, contact_email=SECOND_EMAIL), "privacy_notice_given": True}

    answer = api.post("/api/partner/guidance-requests/", body, format="json", headers=headers)
    replay = api.post("/api/partner/guidance-requests/", body, format="json", headers=headers)

    assert answer.status_code == replay.status_code == 201
    assert replay.json()["token"] == answer.json()["token"]
    repeat = RepeatRequest.objects.get()
    assert repeat.partner == vejle
    assert Case.objects.get().partner is None
    assert client.get(receipt_path("vejle", repeat.token)).status_code == 200
    assert client.get(receipt_path("aarhus", repeat.token)).status_code == 404
