"""A company's guidance request becomes a matched, routed CRM case: one service, one transaction.

``guidance_request_submit`` runs validate → company → contact → match → hub → case → request row
in one transaction through the CRM's own services; the hub's notification and the company's
receipt (reference, hub, response date, private status link) are written to the CRM's outbox in
the same transaction and enqueued after commit, so nothing here needs Redis.

Retries are harmless. An API call carries an ``Idempotency-Key``, a page submission a one-time
form nonce; each is unique in the database. The fast path finds an earlier request by key before
doing any work; when two identical requests race, the second one's insert of the request row
fails on the unique constraint, its whole transaction (case included) rolls back, and it returns
the first one's request instead.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm import services as crm_services
from crm.models import CONSENT_VERSION, Case, Contact, Feedback
from crm.outbox import notification_queue
from offers.models import Offer, Organisation
from routing import effect_ranking
from routing.aid_rules import DE_MINIMIS, CompanyAid, OfferAid, apply_aid_rules
from routing.assignment import Assignment, choose_hub
from routing.candidates import find_candidates
from routing.forms import NOTICE_NOT_GIVEN, GuidanceSubmission
from routing.matching import (
    CompanyProfile,
    Match,
    company_section,
    match,
    size_class,
)
from routing.models import GuidanceRequest, RepeatRequest, RoutingMail, RoutingRule, token_digest
from routing.presentation import long_date
from routing.reasons import reasons_text, theme_names
from routing.repeats import repeat_attach, repeat_find
from routing.vocabulary_store import current_vocabulary

logger = logging.getLogger(__name__)

#: Matches shown to the company and stored with the case.
MATCH_LIMIT = 10


class RoutingError(Exception):
    """A guidance request that cannot be accepted, with a Danish message safe to show.

    ``field`` names the input at fault (an API field name) when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


class IdempotencyConflict(RoutingError):
    """The idempotency key was used before for a different request."""


def company_profile(submission: GuidanceSubmission) -> CompanyProfile:
    municipality = submission.municipality
    region = municipality.region
    return CompanyProfile(
        municipality_code=municipality.code,
        region_code=region.code,
        phase=submission.phase,
        employees=submission.employees,
        industry=submission.industry,
        industry_group=submission.industry_group,
        themes=tuple(theme.slug for theme in submission.themes),
        needs_text=submission.needs,
        municipality_name=str(municipality),
        region_name=region.name,
        origin_offer_id=(
            submission.origin_offer.external_id if submission.origin_offer is not None else None
        ),
    )


def offers_match(*, submission: GuidanceSubmission, day: dt.date) -> list[Match]:
    """The offers shown to the company, best first (candidates in SQL, scoring in Python)."""
    return profile_match(profile=company_profile(submission), day=day, cvr=submission.cvr)


def profile_match(*, profile: CompanyProfile, day: dt.date, cvr: str | None = None) -> list[Match]:
    """The offers shown to a company with this profile on ``day``, best first: relevance
    (``routing.matching``), then what works for companies like it (``routing.effect_ranking``),
    then what the state-aid rules allow the company with this CVR (``routing.aid_rules``)."""
    vocabulary = current_vocabulary()
    candidates = find_candidates(profile, day=day, vocabulary=vocabulary)
    ranked = match(
        profile,
        candidates.offers,
        theme_labels=candidates.theme_labels,
        limit=MATCH_LIMIT + effect_ranking.EXTRA_POOL,
        vocabulary=vocabulary,
    )
    evidence = effect_evidence(profile=profile, external_ids=[m.external_id for m in ranked])
    reranked = effect_ranking.rerank(
        ranked, evidence, limit=len(ranked), origin=profile.origin_offer_id
    )
    if cvr:
        reranked = aid_rules_apply(matches=reranked, cvr=cvr, day=day)
    return reranked[:MATCH_LIMIT]


def aid_rules_apply(*, matches: list[Match], cvr: str, day: dt.date) -> list[Match]:
    """``routing.aid_rules`` for the company with ``cvr`` on ``day``."""
    if not matches:
        return matches
    offers = offers_aid([m.external_id for m in matches])
    # The company's aid and participations are read only when an offer of the list has a rule
    # that needs them: most lists have none, and a match stays within its time.
    needs_headroom = any(
        aid.basis == DE_MINIMIS and aid.aid_value_dkk is not None for aid in offers.values()
    )
    needs_current = any(aid.cannot_combine_with for aid in offers.values())
    if not needs_headroom and not needs_current:
        return matches
    remaining_dkk = (
        crm_services.de_minimis_headroom(cvr=cvr, day=day).remaining_dkk if needs_headroom else 0
    )
    current = crm_services.current_participations(cvr) if needs_current else {}
    return apply_aid_rules(
        matches,
        offers,
        CompanyAid(
            remaining_dkk=remaining_dkk,
            ceiling_eur=settings.DE_MINIMIS_CEILING_EUR,
            current=current,
        ),
    )


# One statement for the offers' state aid and what each cannot be combined with, either way
# round (the relation is symmetrical in Django, but a row written from one side only still counts).
_OFFERS_AID_SQL = """
SELECT o.external_id, o.state_aid_basis, o.aid_value_dkk,
       ARRAY(SELECT other.external_id
             FROM {through} AS c JOIN {offer} AS other ON other.id = c.to_offer_id
             WHERE c.from_offer_id = o.id
             UNION
             SELECT other.external_id
             FROM {through} AS c JOIN {offer} AS other ON other.id = c.from_offer_id
             WHERE c.to_offer_id = o.id)
FROM {offer} AS o
WHERE o.external_id = ANY(%s)
"""


def offers_aid(external_ids: list[str]) -> dict[str, OfferAid]:
    """Each offer's state aid and what it cannot be combined with (either way round), in one
    round trip: under load every statement waits for the processor again."""
    sql = _OFFERS_AID_SQL.format(
        through=connection.ops.quote_name(Offer.cannot_combine_with.through._meta.db_table),
        offer=connection.ops.quote_name(Offer._meta.db_table),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(external_ids)])
        rows = cursor.fetchall()
    return {
        external_id: OfferAid(
            basis=basis, aid_value_dkk=value, cannot_combine_with=frozenset(combine or ())
        )
        for external_id, basis, value, combine in rows
    }


#: Loads the published effects of offers for a company's segment: (size class, DB07 section,
#: external ids) -> evidence per offer. ``evaluation`` (a layer above routing) sets it at start.
type EvidenceSource = Callable[
    [str | None, str | None, list[str]], dict[str, effect_ranking.Evidence]
]
_evidence_source: EvidenceSource | None = None


def set_effect_evidence_source(source: EvidenceSource | None) -> None:
    global _evidence_source  # one source per process, set by evaluation's AppConfig.ready
    _evidence_source = source


def effect_evidence(
    *, profile: CompanyProfile, external_ids: list[str]
) -> dict[str, effect_ranking.Evidence]:
    """The measured effect of each listed offer for the company (``evaluation.selectors``)."""
    if not external_ids or _evidence_source is None:
        return {}
    return _evidence_source(size_class(profile.employees), company_section(profile), external_ids)


def matches_stored(matches: list[Match]) -> list[dict[str, Any]]:
    """The matches as a request and its case store them: the Danish ``reasons`` (the stable API
    field), the structured ``explanation`` the pages word in their language, and the
    ``alternatives`` that cannot be combined with each."""
    themes = theme_names()
    with translation.override("da"):
        return [
            {
                "external_id": m.external_id,
                "title": m.title,
                "score": m.score,
                "reasons": reasons_text(m.reasons, themes=themes),
                "explanation": [reason.as_dict() for reason in m.reasons],
                "alternatives": [
                    {"external_id": a.external_id, "title": a.title} for a in m.alternatives
                ],
            }
            for m in matches
        ]


def hub_choose(
    *, municipality_code: int, region_slug: str, region_name: str, themes: list[str], day: dt.date
) -> Assignment:
    """The Væksthus for a request, by the live routing rules over the regional default."""
    return choose_hub(
        RoutingRule.objects.candidates(day),
        municipality_code=municipality_code,
        region_slug=region_slug,
        region_name=region_name,
        themes=themes,
        day=day,
    )


def guidance_request_find(
    *, idempotency_key: str | None = None, form_nonce: str | None = None
) -> GuidanceRequest | None:
    """An earlier request submitted with this key or nonce, if any (a repeat request answers
    with the request row of the case it was attached to: ``routing.repeats``)."""
    found = None
    if idempotency_key:
        found = GuidanceRequest.objects.with_case().filter(idempotency_key=idempotency_key).first()
    elif form_nonce:
        found = GuidanceRequest.objects.with_case().filter(form_nonce=form_nonce).first()
    return found or repeat_find(idempotency_key=idempotency_key, form_nonce=form_nonce)


def guidance_request_submit(
    *,
    submission: GuidanceSubmission,
    channel: GuidanceRequest.Channel | str,
    idempotency_key: str | None = None,
    form_nonce: str | None = None,
    source: Case.Source | str = Case.Source.WEB,
    origin: crm_services.CaseOrigin | None = None,
) -> GuidanceRequest:
    """Turn a validated request into a case at the right Væksthus, or return the earlier one.

    ``source`` and ``origin`` say where it came from when that is not the portal's own form or
    API: a partner's embedded form or a partner's API key (the partners app).

    Raises ``IdempotencyConflict`` when ``idempotency_key`` was used for a different request and
    ``RoutingError`` when the CRM refuses the data.
    """
    if not submission.consent:
        raise RoutingError(str(NOTICE_NOT_GIVEN), field="consent")
    fingerprint = submission.fingerprint()
    earlier = guidance_request_find(idempotency_key=idempotency_key, form_nonce=form_nonce)
    if earlier is not None:
        return _replay(earlier, fingerprint=fingerprint, idempotency_key=idempotency_key)
    for attempt in range(2):
        try:
            return _submit(
                submission=submission,
                channel=channel,
                fingerprint=fingerprint,
                idempotency_key=idempotency_key,
                form_nonce=form_nonce,
                source=source,
                origin=origin,
            )
        except IntegrityError as error:
            # Everything this attempt wrote is rolled back. Either a twin with the same key or
            # nonce committed first (return it), or a concurrent request created the same new
            # company (CVR) or contact (e-mail) first: the second attempt finds it.
            earlier = guidance_request_find(idempotency_key=idempotency_key, form_nonce=form_nonce)
            if earlier is not None:
                return _replay(earlier, fingerprint=fingerprint, idempotency_key=idempotency_key)
            if attempt:
                # PostgreSQL's message quotes the key, a person's e-mail among them; the error
                # log gets the constraint's name only.
                raise crm_services.integrity_error_scrubbed(error) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _replay(
    earlier: GuidanceRequest, *, fingerprint: str, idempotency_key: str | None
) -> GuidanceRequest:
    if idempotency_key and earlier.request_fingerprint != fingerprint:
        raise IdempotencyConflict(
            _(
                "Idempotency-Key er allerede brugt til en anden henvendelse. Brug en ny nøgle "
                "til en ny henvendelse."
            ),
            field="idempotency_key",
            code="idempotency_conflict",
        )
    return earlier


@transaction.atomic
def _submit(
    *,
    submission: GuidanceSubmission,
    channel: GuidanceRequest.Channel | str,
    fingerprint: str,
    idempotency_key: str | None,
    form_nonce: str | None,
    source: Case.Source | str,
    origin: crm_services.CaseOrigin | None,
) -> GuidanceRequest:
    now = timezone.now()
    day = timezone.localdate(now)
    municipality = submission.municipality
    region = municipality.region
    # Matching first: it takes no locks, and the first request after a catalogue change reads the
    # catalogue copy again (routing.catalogue) before any company or contact row is locked.
    matches = offers_match(submission=submission, day=day)

    try:
        company, registered = crm_services.company_find_or_register(
            cvr=submission.cvr,
            # Someone who has not started a company yet is registered under their own name.
            name=submission.company_name or submission.contact_name,
            municipality=municipality,
            industry=submission.industry,
            employees=submission.employees,
            address=submission.address,
            postcode=submission.postcode,
            city=submission.city,
        )
        contact = crm_services.contact_find_or_create(
            company=company,
            name=submission.contact_name,
            email=submission.contact_email,
            phone=submission.contact_phone,
            consent_version=CONSENT_VERSION,
            # A visitor who knows a CVR and an address must not rewrite a known person: what
            # they gave is kept on the case for the adviser to confirm.
            keep_details=True,
        )
    except crm_services.CrmError as error:
        raise RoutingError(error.message, field=error.field) from error

    theme_slugs = [theme.slug for theme in submission.themes]
    assignment = hub_choose(
        municipality_code=municipality.code,
        region_slug=region.slug,
        region_name=region.name,
        themes=theme_slugs,
        day=day,
    )
    hub = Organisation.objects.hubs().get(slug=assignment.hub_slug)
    matched_offers = _offers_by_external_id([m.external_id for m in matches])
    matches_payload = matches_stored(matches)
    payload: dict[str, Any] = {
        "channel": str(channel),
        "routing": {
            "hub": hub.slug,
            "rule": assignment.rule_id,
            "reason": assignment.reason,
        },
        "matches": matches_payload,
        "origin_offer": (
            submission.origin_offer.external_id if submission.origin_offer is not None else None
        ),
        "phase": submission.phase,
        "industry_group": submission.industry_group,
        "consent": {"version": CONSENT_VERSION, "at": now.isoformat()},
        **crm_services.contact_submitted_details(
            contact,
            name=submission.contact_name,
            email=submission.contact_email,
            phone=submission.contact_phone,
        ),
    }
    # The company's case at this hub, open or just closed, takes the request (routing.repeats).
    company_key: dict[str, Any] = {
        "cvr": submission.cvr,
        "email": submission.contact_email,
        "now": now,
    }
    # A company this request has just registered (a CVR seen for the first time) has no cases
    # anywhere yet: nothing to attach to, nothing to flag, and three statements fewer.
    first_of_company = registered and bool(submission.cvr)
    repeat = None if first_of_company else crm_services.case_repeat_find(**company_key, hub=hub)
    if repeat is not None:
        request, contact = repeat_attach(
            case=repeat,
            company=company,
            contact=contact,
            submission=submission,
            channel=channel,
            fingerprint=fingerprint,
            idempotency_key=idempotency_key,
            form_nonce=form_nonce,
            hub=hub,
            assignment=assignment,
            offers=matched_offers,
            payload=payload,
            now=now,
            partner_id=origin.partner_id if origin is not None else None,
        )
        case = repeat
    else:
        try:
            case = crm_services.case_create(
                company=company,
                contact=contact,
                hub=hub,
                needs=submission.needs,
                themes=submission.themes,
                source=source,
                payload=payload,
                offers=matched_offers,
                origin=origin,
                language=translation.get_language() or "",
            )
        except crm_services.CrmError as error:
            raise RoutingError(error.message, field=error.field) from error
        if not first_of_company:
            crm_services.cases_related_flag(
                case=case, related=crm_services.cases_related_elsewhere(**company_key, hub=hub)
            )

        token = secrets.token_urlsafe(32)
        request = GuidanceRequest.objects.create(
            case=case,
            channel=channel,
            token=token,
            token_hash=token_digest(token),
            idempotency_key=idempotency_key or None,
            request_fingerprint=fingerprint,
            form_nonce=form_nonce or None,
            municipality=municipality,
            origin_offer=submission.origin_offer,
            hub=hub,
            rule_id=assignment.rule_id,
            assignment_reason=assignment.reason,
            matches=matches_payload,
            created_at=now,
        )
        # A new row has no themes to compare with: add() writes them without reading first.
        request.themes.add(*submission.themes)
    # The company's receipt, in the same outbox as the hub's notice: the reference, who calls and
    # by when, and the private status link (so a closed browser tab loses nothing).
    # In the language the company used the portal in (the hub's notice stays in Danish).
    language = "en" if (translation.get_language() or "").startswith("en") else "da"
    # A case opened just now has had no follow-up that moved its date: no statement needed.
    request.promised_response_by = (
        case.first_response_due if repeat is None else crm_services.expected_response_by(case)
    )
    with translation.override(language):
        response_date = long_date(request.promised_response_by)
    notification_queue(
        kind=RoutingMail.REQUEST_RECEIPT,
        recipient=contact.email,
        template="request_receipt",
        context={
            "case": case,
            "contact": contact,
            "hub": hub,
            "matches": matches_payload,
            "response_date": response_date,
            "status_url": settings.SITE_URL + request.get_absolute_url(),
            "repeat": repeat is not None,
        },
        case=case,
        language=language,
    )
    logger.info("guidance request %s routed to %s", case.reference, hub.slug)
    return request


def promised_response_by(guidance_request: GuidanceRequest) -> dt.date:
    """The date the company was last promised an answer by (``crm.services.expected_response_by``),
    without reading it again when the request that just made the row knows it."""
    if guidance_request.promised_response_by is not None:
        return guidance_request.promised_response_by
    return crm_services.expected_response_by(guidance_request.case)


def _offers_by_external_id(external_ids: list[str]) -> list[Offer]:
    # The case links the offers by key; of their texts only the title is needed (the adviser's
    # e-mail on a repeat request lists them: left deferred, each would cost a statement).
    found = {
        offer.external_id: offer
        for offer in Offer.objects.filter(external_id__in=external_ids).only(
            "id", "external_id", "title"
        )
    }
    return [found[external_id] for external_id in external_ids if external_id in found]


def guidance_feedback_submit(
    *, guidance_request: GuidanceRequest, rating: int, comment: str
) -> Feedback:
    """The company's rating of its closed case, once (the CRM enforces both)."""
    try:
        return crm_services.feedback_submit(
            case=guidance_request.case, rating=rating, comment=comment
        )
    except crm_services.CrmError as error:
        raise RoutingError(error.message, field=error.field) from error


def _requests_of(person: crm_services.Person) -> Any:
    return GuidanceRequest.objects.filter(
        case__contact__in=Contact.objects.with_email(person.email)
    ).select_related("case")


def guidance_requests_export(person: crm_services.Person) -> list[dict[str, Any]]:
    """The person's guidance requests (``crm.services.person_export``); never the status link."""
    return [
        {
            "case": request.case.reference,
            "channel": request.channel,
            "created_at": request.created_at.isoformat(),
            "assignment_reason": request.assignment_reason,
        }
        for request in _requests_of(person).order_by("pk")
    ]


def guidance_requests_erase(person: crm_services.Person) -> int:
    """Erasure: the fingerprint is a hash of what the person submitted, and the matches' reasons
    quote their words, so both go."""
    return int(
        _requests_of(person)
        .exclude(request_fingerprint="", matches=[])
        .update(request_fingerprint="", matches=[])
    )


def _repeats_of(person: crm_services.Person) -> Any:
    return RepeatRequest.objects.filter(
        contact__in=Contact.objects.with_email(person.email)
    ).select_related("guidance_request__case")


def repeat_requests_export(person: crm_services.Person) -> list[dict[str, Any]]:
    """The requests the person sent to a company's existing case (``routing.repeats``); never the
    status link."""
    return [
        {
            "case": repeat.guidance_request.case.reference,
            "channel": repeat.channel,
            "created_at": repeat.created_at.isoformat(),
        }
        for repeat in _repeats_of(person).order_by("pk")
    ]


def repeat_requests_erase(person: crm_services.Person) -> int:
    """Erasure: the fingerprint, the matches (their reasons quote the person's words) and the
    status link go; the row stays, so the case still counts the request."""
    return int(
        _repeats_of(person).update(request_fingerprint="", matches=[], token="", token_hash=None)
    )
