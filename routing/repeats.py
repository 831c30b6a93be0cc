"""A guidance request from a company that already has a case at the hub: attached to that case.

The rule and what the case gets are in ``crm.services.repeats``; here is what routing adds: a
``RepeatRequest`` row with a status link of its own and the key or nonce that makes a retry
harmless. The request answers with the case's reference and hub and that link, which shows the
offers matched now, the case's status and hub, never the case's history, needs or contact: whoever
knows a company's CVR can send a request in its name. The case's own link (its
``GuidanceRequest``, made now for a case an adviser opened by hand) stays with the case. A request
routed to another hub than the company's case opens a new case there, flagged as related
(``cases_related_flag``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from crm import services as crm_services
from crm.models import Case, Company, Contact
from offers.models import Offer, Organisation
from routing.forms import GuidanceSubmission
from routing.models import GuidanceRequest, RepeatRequest, token_digest


def repeat_attach(
    *,
    case: Case,
    company: Company,
    contact: Contact,
    submission: GuidanceSubmission,
    channel: str,
    fingerprint: str,
    idempotency_key: str | None,
    form_nonce: str | None,
    hub: Organisation,
    assignment: Any,
    offers: list[Offer],
    payload: dict[str, Any],
    now: dt.datetime,
    partner_id: int | None = None,
) -> tuple[GuidanceRequest, Contact]:
    """Attach the request to ``case``; the request row whose status link the company gets, and
    the contact the request is from (on the case's company). ``partner_id`` is the partner whose
    embedded form or API key sent it (``CaseOrigin.partner_id``), kept on the repeat request:
    the case keeps the partner of its first request."""
    if company.pk != case.company_id:
        # Without a CVR, the request made a new company; the person is the case's company's.
        contact = crm_services.contact_find_or_create(
            company=case.company,
            name=submission.contact_name,
            email=submission.contact_email,
            phone=submission.contact_phone,
            consent_version=payload.get("consent", {}).get("version", ""),
            keep_details=True,
        )
        crm_services.company_discard_unused(company)
    # The locked case, with its hub, company and contact: the answer needs no further read.
    case = crm_services.case_repeat_attach(
        case=case,
        contact=contact,
        needs=submission.needs,
        themes=submission.themes,
        offers=offers,
        payload=payload,
        now=now,
    )
    request = GuidanceRequest.objects.filter(case=case).first()
    if request is None:
        # A case an adviser opened by hand has no status link yet: it gets one now.
        token = secrets.token_urlsafe(32)
        request = GuidanceRequest.objects.create(
            case=case,
            channel=channel,
            token=token,
            token_hash=token_digest(token),
            request_fingerprint=fingerprint,
            municipality=submission.municipality,
            origin_offer=submission.origin_offer,
            hub=hub,
            rule_id=assignment.rule_id,
            assignment_reason=assignment.reason,
            matches=payload.get("matches", []),
            created_at=now,
        )
        request.themes.set(submission.themes)
    else:
        request.case = case
        if request.hub_id == hub.pk:
            request.hub = hub
    # The request gets a status link of its own: the case's link stays with the case's contact
    # (anyone can send a request with a company's CVR). Its page shows the offers matched now.
    token = secrets.token_urlsafe(32)
    repeat = RepeatRequest.objects.create(
        guidance_request=request,
        channel=channel,
        contact=contact,
        partner_id=partner_id,
        idempotency_key=idempotency_key or None,
        form_nonce=form_nonce or None,
        request_fingerprint=fingerprint,
        token=token,
        token_hash=token_digest(token),
        matches=payload.get("matches", []),
        created_at=now,
    )
    return request.answer_for(repeat), contact


def repeat_find(*, idempotency_key: str | None, form_nonce: str | None) -> GuidanceRequest | None:
    """The request row an earlier repeat request with this key or nonce answered with."""
    repeats = RepeatRequest.objects.select_related("guidance_request")
    if idempotency_key:
        found = repeats.filter(idempotency_key=idempotency_key).first()
    elif form_nonce:
        found = repeats.filter(form_nonce=form_nonce).first()
    else:
        return None
    if found is None:
        return None
    if not found.token:
        # A repeat request from before they had a status link of their own gets one now.
        token = secrets.token_urlsafe(32)
        found.token, found.token_hash = token, token_digest(token)
        found.save(update_fields=["token", "token_hash"])
    request = GuidanceRequest.objects.with_case().get(pk=found.guidance_request_id)
    # What a retry is compared with is the repeat request's own body, not the first request's.
    return request.answer_for(found)
