"""A request in a company's name does not open the company's case.

A company's CVR number is public. A request with it (or, without a CVR, with the contact's e-mail)
is attached to the company's open case at the hub (``routing.repeats``), but it is answered with a
status link of its own: that link shows the case's reference, status and hub and the offers
matched for this request, never the case's needs, history, referrals or contact. Before, the
answer was the case's own link, and with it the first contact's e-mail and needs.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.timezone import now

from crm import services as crm_services
from crm.models import Case, Feedback
from routing.models import GuidanceRequest, RepeatRequest
from routing.services import guidance_request_submit
from tests.routing.factories import next_cvr, submission

pytestmark = pytest.mark.django_db

NEEDS = "Direktøren skal sælge firmaet i al stilhed, ring 22334455"
EMAIL = "direktoer@vejle-maskinfabrik.dk"


@pytest.fixture
def victim(export_offers):
    return guidance_request_submit(
        submission=submission(cvr=next_cvr(), contact_email=EMAIL, needs=NEEDS), channel="form"
    )


def _post(body: dict, **headers) -> dict:
    answer = Client().post(
        "/api/guidance-requests/",
        json.dumps(body),
        content_type="application/json",
        headers=headers,
    )
    assert answer.status_code == 201, answer.content
    return answer.json()


def _body(cvr: str, **changes) -> dict:
    return {
        "cvr": cvr,
        "company_name": "",
        "municipality": 630,
        "needs": "Vi vil gerne eksportere til Tyskland.",
        "themes": ["export"],
        "phase": "growth",
        "employees": 20,
        "contact_name": "Ukendt",
        "contact_email": "nogen@example.dk",
        "consent": True,
        **changes,
    }


def test_a_request_with_a_known_cvr_gets_a_link_of_its_own(victim):
    answer = _post(_body(victim.case.company.cvr))

    assert answer["reference"] == victim.case.reference
    assert answer["token"] != victim.token
    assert victim.token not in json.dumps(answer)
    assert Case.objects.count() == 1
    repeat = RepeatRequest.objects.get()
    assert repeat.token == answer["token"]
    assert repeat.matches == answer["matches"]


def test_its_pages_show_nothing_of_the_case_but_status_and_hub(victim):
    token = _post(_body(victim.case.company.cvr))["token"]
    client = Client()

    for page in (
        reverse("routing:status", args=[token]),
        reverse("routing:confirmation", args=[token]),
    ):
        content = client.get(page).content.decode()
        assert victim.case.reference in content, page
        assert victim.case.hub.name in content, page
        assert NEEDS not in content and "22334455" not in content, page
        assert EMAIL not in content, page
        assert victim.token not in content, page

    # The receipt page names the address the sender's own receipt went to.
    receipt = client.get(reverse("routing:confirmation", args=[token])).content.decode()
    assert "nogen@example.dk" in receipt

    status = client.get(f"/api/guidance-requests/{token}/").json()
    assert status["reference"] == victim.case.reference
    assert status["timeline"] == []
    # The case's own link still shows its whole page to the one who has it.
    own = client.get(reverse("routing:status", args=[victim.token])).content.decode()
    assert NEEDS in own
    assert client.get(f"/api/guidance-requests/{victim.token}/").json()["timeline"]


def test_the_first_requests_confirmation_keeps_its_own_matches(victim):
    shown = GuidanceRequest.objects.get(pk=victim.pk).matches
    _post(_body(victim.case.company.cvr, needs="Vi søger kapital til en ny fabrik.", themes=[]))

    assert GuidanceRequest.objects.get(pk=victim.pk).matches == shown


def test_a_retry_of_the_repeat_request_gets_the_same_link(victim):
    body = _body(victim.case.company.cvr)
    first = _post(body, **{"Idempotency-Key": "gentag-1"})
    again = _post(body, **{"Idempotency-Key": "gentag-1"})

    assert again["token"] == first["token"] != victim.token
    assert RepeatRequest.objects.count() == 1


def test_no_feedback_can_be_posted_through_a_repeat_link(victim):
    token = _post(_body(victim.case.company.cvr))["token"]
    case = victim.case
    case.status, case.outcome, case.closed_at = Case.Status.CLOSED, Case.Outcome.GUIDED, now()
    case.save(update_fields=["status", "outcome", "closed_at"])

    answer = Client().post(
        reverse("routing:status", args=[token]),
        {"rating": "5", "comment": "Falsk ros"},
        headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
    )

    assert answer.status_code == 302
    assert not Feedback.objects.filter(case=case).exists()


def test_an_answer_for_a_repeat_request_cannot_be_saved(victim):
    _post(_body(victim.case.company.cvr))
    answer = GuidanceRequest.objects.by_token(RepeatRequest.objects.get().token)

    assert answer is not None and answer.repeat is not None
    for change in (answer.save, answer.delete, answer.refresh_from_db):
        with pytest.raises(ValueError):
            change()


def test_the_sender_of_a_repeat_request_can_see_and_erase_it(victim):
    answer = _post(
        _body(victim.case.company.cvr, contact_email="bo@andet.dk", needs="Vi vil til Tyskland.")
    )
    assert RepeatRequest.objects.get().matches

    exported = crm_services.person_export(email="bo@andet.dk")
    assert exported["repeat_requests"] == [
        {
            "case": victim.case.reference,
            "channel": "api",
            "created_at": RepeatRequest.objects.get().created_at.isoformat(),
        }
    ]

    crm_services.person_erase(email="bo@andet.dk", erased_by="test")

    repeat = RepeatRequest.objects.get()
    assert (repeat.matches, repeat.request_fingerprint, repeat.token) == ([], "", "")
    assert Client().get(reverse("routing:status", args=[answer["token"]])).status_code == 404
    # The first request's matches quote the first contact's words; erasing them blanks those.
    crm_services.person_erase(email=EMAIL, erased_by="test")
    assert GuidanceRequest.objects.get(pk=victim.pk).matches == []
