"""API keys: hashed, scoped, expiring, revocable, rotated with a grace period, limited per key;
managed in the admin by the partner's own staff only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from crm.models import Case
from partners.models import ApiKey, Partner
from partners.services import api_key_revoke, api_key_rotate, default_expiry
from tests.routing.factories import form_data

pytestmark = pytest.mark.django_db

GUIDANCE = "/api/partner/guidance-requests/"
OFFERS = "/api/partner/offers/"


def call(key: str | None, method: str = "get", url: str = OFFERS, body: Any = None) -> Any:
    api = APIClient()
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if method == "get":
        return api.get(url, headers=headers)
    return api.post(url, body, format="json", headers=headers)


def body(**changes: Any) -> dict[str, Any]:
    return {**form_data(), "privacy_notice_given": True, **changes}


def test_the_key_is_stored_hashed_and_expires_after_18_months(vejle: Partner, make_key) -> None:
    now = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
    issued = make_key(vejle, now=now)

    stored = ApiKey.objects.get()
    assert issued.plaintext.startswith(f"efp_{stored.prefix}_")
    secret = issued.plaintext.split("_", 2)[2]
    assert secret not in stored.secret_hash and len(stored.secret_hash) == 64
    # 11:00 in Copenhagen (winter time) 18 months later, in summer time.
    assert stored.expires_at == dt.datetime(2027, 9, 2, 9, 0, tzinfo=dt.UTC)
    assert default_expiry(now) == stored.expires_at


def test_a_submitted_request_records_the_partner_the_key_and_the_notice(
    vejle: Partner, make_key, export_offers: None
) -> None:
    issued = make_key(vejle)

    response = call(issued.plaintext, "post", GUIDANCE, body())

    assert response.status_code == 201, response.json()
    case = Case.objects.get(reference=response.json()["reference"])
    assert case.source == Case.Source.PARTNER_API
    assert case.partner == vejle
    assert case.partner_api_key == issued.key
    created = case.timeline.get(action="crm.case.created")
    assert created.payload["source"]["privacy_notice_given"] is True
    assert created.payload["source"]["api_key"] == issued.key.prefix


def test_the_privacy_notice_and_consent_are_required(
    vejle: Partner, make_key, export_offers: None
) -> None:
    issued = make_key(vejle)

    missing = call(issued.plaintext, "post", GUIDANCE, {**form_data()})
    refused = call(issued.plaintext, "post", GUIDANCE, body(privacy_notice_given=False))
    no_consent = call(issued.plaintext, "post", GUIDANCE, body(consent=False))

    assert missing.status_code == 400 and "privacy_notice_given" in missing.json()
    assert refused.status_code == 400 and "privacy_notice_given" in refused.json()
    assert no_consent.status_code == 400 and "consent" in no_consent.json()
    assert not Case.objects.exists()


def test_scopes_decide_what_a_key_may_do(vejle: Partner, make_key, export_offers: None) -> None:
    reader = make_key(vejle, scopes=["catalogue:read"])
    sender = make_key(vejle, scopes=["guidance:submit"])

    assert call(reader.plaintext).status_code == 200
    assert call(reader.plaintext, "post", GUIDANCE, body()).status_code == 403
    assert call(sender.plaintext).status_code == 403
    assert call(sender.plaintext, "post", GUIDANCE, body()).status_code == 201


def test_no_key_a_wrong_key_an_expired_or_revoked_key_is_a_401(vejle: Partner, make_key) -> None:
    issued = make_key(vejle)
    wrong = issued.plaintext[:-4] + "AAAA"

    assert call(None).status_code == 401
    assert call(None)["WWW-Authenticate"].startswith("Bearer")
    assert call(wrong).status_code == 401
    assert call("efp_nothing").status_code == 401
    with time_machine.travel(issued.key.expires_at + dt.timedelta(seconds=1)):
        expired = call(issued.plaintext)
    assert expired.status_code == 401
    assert "udløbet" in expired.json()["detail"]
    api_key_revoke(key=issued.key, now=timezone.now())
    revoked = call(issued.plaintext)
    assert revoked.status_code == 401
    assert "spærret" in revoked.json()["detail"]


def test_a_rotated_key_works_through_the_grace_period_and_then_stops(
    vejle: Partner, make_key, settings: Any
) -> None:
    settings.PARTNER_API_KEY_ROTATION_GRACE_HOURS = 24
    old = make_key(vejle)
    now = timezone.now()

    new = api_key_rotate(key=old.key, now=now)

    assert call(new.plaintext).status_code == 200
    with time_machine.travel(now + dt.timedelta(hours=23)):
        assert call(old.plaintext).status_code == 200
    with time_machine.travel(now + dt.timedelta(hours=25)):
        assert call(old.plaintext).status_code == 401
        assert call(new.plaintext).status_code == 200


def test_the_rate_limit_counts_per_key(vejle: Partner, make_key, settings: Any) -> None:
    settings.PARTNER_API_KEY_RATE = "2/hour"
    cache.clear()
    first, second = make_key(vejle), make_key(vejle)

    assert [call(first.plaintext).status_code for _ in range(3)] == [200, 200, 429]
    assert call(first.plaintext).has_header("Retry-After")
    assert call(second.plaintext).status_code == 200


def test_a_cached_public_answer_never_bypasses_the_key(vejle: Partner, make_key) -> None:
    issued = make_key(vejle)
    assert call(issued.plaintext).status_code == 200
    api_key_revoke(key=issued.key, now=timezone.now())

    assert call(issued.plaintext).status_code == 401


def test_idempotency_keys_are_per_partner(
    vejle: Partner, aarhus: Partner, make_key, export_offers: None
) -> None:
    ours, theirs = make_key(vejle), make_key(aarhus)
    api = APIClient()
    headers = {"Idempotency-Key": "same-key-1"}

    first = api.post(
        GUIDANCE,
        body(),
        format="json",
        headers={**headers, "Authorization": f"Bearer {ours.plaintext}"},
    )
    other = api.post(
        GUIDANCE,
        body(),
        format="json",
        headers={**headers, "Authorization": f"Bearer {theirs.plaintext}"},
    )

    assert first.status_code == other.status_code == 201
    assert first.json()["reference"] != other.json()["reference"]


# --- The admin --------------------------------------------------------------------------------


@pytest.fixture
def vejle_staff(make_user, vejle: Partner):
    return make_user("vejle-erhverv", organisation="kommune-630")


@pytest.fixture
def aarhus_staff(make_user, aarhus: Partner):
    return make_user("aarhus-erhverv", organisation="kommune-751")


def admin_client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_partner_staff_create_a_key_and_see_it_once(vejle: Partner, vejle_staff: Any) -> None:
    client = admin_client(vejle_staff)

    response = client.post(
        "/admin/partners/apikey/add/",
        {"partner": vejle.pk, "name": "Hjemmesiden", "scopes": ["guidance:submit"]},
    )

    assert response.status_code == 200
    key = ApiKey.objects.get()
    html = response.content.decode()
    shown = html.split('id="issued-key"')[1].split(">", 1)[1].split("</textarea>")[0]
    assert shown.startswith(f"efp_{key.prefix}_")
    assert "no-store" in response["Cache-Control"]
    assert key.created_by == vejle_staff and key.scopes == ["guidance:submit"]
    # Never again: the key's own page shows its start only.
    page = client.get(f"/admin/partners/apikey/{key.pk}/change/").content.decode()
    assert shown not in page and f"efp_{key.prefix}_" in page


def test_another_partners_staff_cannot_see_rotate_or_revoke_the_key(
    vejle: Partner, make_key, aarhus_staff: Any
) -> None:
    issued = make_key(vejle)
    client = admin_client(aarhus_staff)

    listing = client.get("/admin/partners/apikey/")
    assert listing.status_code == 200
    assert issued.key.prefix not in listing.content.decode()
    assert client.get(f"/admin/partners/apikey/{issued.key.pk}/change/").status_code in (302, 404)
    assert client.post(f"/admin/partners/apikey/{issued.key.pk}/revoke/").status_code == 404
    assert client.post(f"/admin/partners/apikey/{issued.key.pk}/rotate/").status_code == 404
    # Nor make one for the other partner by a crafted POST.
    crafted = client.post(
        "/admin/partners/apikey/add/",
        {"partner": vejle.pk, "name": "Ond", "scopes": ["guidance:submit"]},
    )
    assert crafted.status_code == 200 and "efp_" not in crafted.content.decode()
    issued.key.refresh_from_db()
    assert issued.key.revoked_at is None and issued.key.replaced_by is None
    assert ApiKey.objects.count() == 1


def test_staff_of_an_organisation_without_a_partner_see_no_keys(
    vejle: Partner, make_key, editor: Any
) -> None:
    make_key(vejle)
    client = admin_client(editor)

    assert client.get("/admin/partners/apikey/").status_code == 403


def test_partner_staff_rotate_and_revoke_their_key(
    vejle: Partner, make_key, vejle_staff: Any
) -> None:
    issued = make_key(vejle)
    client = admin_client(vejle_staff)

    rotated = client.post(f"/admin/partners/apikey/{issued.key.pk}/rotate/")
    assert rotated.status_code == 200
    issued.key.refresh_from_db()
    assert issued.key.replaced_by is not None
    assert "efp_" + issued.key.replaced_by.prefix in rotated.content.decode()

    revoked = client.post(f"/admin/partners/apikey/{issued.key.pk}/revoke/")
    assert revoked.status_code == 302
    issued.key.refresh_from_db()
    assert issued.key.revoked_at is not None and issued.key.revoked_by == vejle_staff


def test_the_partner_page_shows_the_embed_code(vejle: Partner, vejle_staff: Any) -> None:
    html = (
        admin_client(vejle_staff)
        .get(f"/admin/partners/partner/{vejle.pk}/change/")
        .content.decode()
    )

    assert "&lt;iframe src=&quot;http://127.0.0.1:8000/indlejret/vejle/vejledning/&quot;" in html
    assert "/indlejret/vejle/tilbud/tema/" in html


def test_a_key_of_an_inactive_partner_is_refused(vejle: Partner, make_key) -> None:
    issued = make_key(vejle)
    Partner.objects.filter(pk=vejle.pk).update(active=False)

    assert call(issued.plaintext).status_code == 401


def test_the_api_docs_carry_the_integrators_guide_and_the_key_scheme(client: Client) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    description = schema["info"]["description"]
    for part in [
        "Integrator's guide",
        "curl",
        "import os, uuid, requests",
        "fetch(",
        "| 401 |",
        "| 403 |",
        "| 429 |",
        "| 400 |",
    ]:
        assert part in description
    scheme = schema["components"]["securitySchemes"]["partnerApiKey"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer"}
    create = schema["paths"]["/api/partner/guidance-requests/"]["post"]
    assert create["security"] == [{"partnerApiKey": []}]
    assert {"401", "403", "429", "400", "201"} <= set(create["responses"])
    body = schema["components"]["schemas"]["PartnerGuidanceRequestInput"]
    assert "privacy_notice_given" in body["required"]


def test_a_chosen_expiry_may_be_shorter_but_not_beyond_18_months(vejle: Partner, make_key) -> None:
    from partners.services import PartnerError

    now = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
    short = make_key(vejle, now=now, expires_at=now + dt.timedelta(days=30))
    assert short.key.expires_at == now + dt.timedelta(days=30)
    on_the_last_day = make_key(
        vejle, now=now, expires_at=dt.datetime(2027, 9, 2, 22, 59, tzinfo=dt.UTC)
    )
    assert on_the_last_day.key.expires_at.date() == dt.date(2027, 9, 2)
    with pytest.raises(PartnerError) as refused:
        make_key(vejle, now=now, expires_at=dt.datetime(2027, 9, 4, tzinfo=dt.UTC))
    assert refused.value.field == "expires_at"
