"""Referrals of a case to an offer or an operator, and how each ended.

The case's adviser records how a referral went; the operator it went to (role "Operatør",
``crm.permissions.answers_referral``) may answer it too: accept, decline with a reason from
``Referral.DeclineReason``, complete. An operator's answer also e-mails the case's adviser (or the
hub's inbox when nobody has the case). Completion is the participation the effect measurement
counts (``crm.selectors.completed_offer_referrals``), whoever records it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Case, Notification, Referral, TimelineEntry
from crm.outbox import notification_queue
from crm.permissions import answers_referral
from crm.services.common import (
    CrmError,
    _admin_url,
    _lock,
    _lock_in_scope,
    _mark_first_response,
    _require_open,
    _require_scope,
    _timeline,
)
from offers.models import Offer, Organisation

if TYPE_CHECKING:
    from accounts.models import User


@transaction.atomic
def referral_create(
    *,
    case: Case,
    offer: Offer | None = None,
    operator: Organisation | None = None,
    note: str = "",
    share_contact: bool = False,
    actor: User | None,
) -> Referral:
    """Refer the company to an offer and/or an operator; the case becomes "referred".

    The operator sees the company's need; its contact only when ``share_contact``."""
    if offer is None and operator is None:
        raise CrmError(_("Vælg et tilbud eller en operatør."), field="offer")
    case = _lock_in_scope(case, actor)
    if case.adviser_id is None:
        raise CrmError(_("Tag sagen, før du henviser virksomheden."))
    if (
        offer is not None
        and case.referrals.filter(offer=offer).exclude(status=Referral.Status.DECLINED).exists()
    ):
        raise CrmError(_("Virksomheden er allerede henvist til dette tilbud."), field="offer")
    now = timezone.now()
    referral = Referral.objects.create(
        case=case,
        offer=offer,
        operator=operator if operator is not None else (offer.operator if offer else None),
        note=(note or "").strip(),
        share_contact=share_contact,
        created_by=actor,
        created_at=now,
    )
    # A referral is not a first response: the company may not have heard of it yet (a call,
    # meeting or e-mail is; ``is_first_response``). Kept here so the rule lives in one place.
    fields = _mark_first_response(case, kind=TimelineEntry.Kind.REFERRAL, at=now)
    previous = case.status
    if case.status != Case.Status.REFERRED:
        case.status = Case.Status.REFERRED
        fields.append("status")
    if fields:
        case.save(update_fields=fields)
    _timeline(
        case,
        kind=TimelineEntry.Kind.REFERRAL,
        action="crm.referral.created",
        actor=actor,
        text=str(_("Du er henvist til: %(target)s.") % {"target": referral.target_label}),
        payload={
            "referral": referral.pk,
            "offer": offer.external_id if offer else None,
            "operator": referral.operator.slug if referral.operator else None,
            "from": previous,
            "note": referral.note,
            "share_contact": share_contact,
        },
        is_public=True,
        at=now,
    )
    _tell_operator(referral)
    return referral


def _tell_operator(referral: Referral) -> None:
    """The operator's staff (role "Operatør") hear of a new referral, with a link to it and no
    personal data; an operator without such users finds out from the reminder, which also goes
    to its contact address."""
    from accounts.models import User

    if referral.operator_id is None:
        return
    staff = (
        User.objects.filter(
            organisation_id=referral.operator_id,
            is_active=True,
            groups__name=User.Role.OPERATOR,
        )
        .exclude(email="")
        .order_by("pk")
    )
    url = settings.SITE_URL + reverse("admin:crm_operatorreferral_change", args=[referral.pk])
    for user in staff:
        notification_queue(
            kind=Notification.Kind.REFERRAL_NEW,
            recipient=user.email,
            template="referral_new",
            context={"referral": referral, "case": referral.case, "url": url},
            case=referral.case,
            dedupe_key=f"referral:new:{referral.pk}:{user.pk}",
        )


def _lock_referral(referral: Referral, actor: User | None) -> tuple[Referral, bool]:
    """The referral locked with its case, after the checks that must hold on the locked case;
    and whether ``actor`` answers it as its operator.

    A referral on a closed case is history: completing it would count a participation the
    effect measurement never should. The case is locked first (as every case service does), then
    the referral, so the case cannot close or move to another hub in between. The actor must be
    the case's hub (or a superuser) or the referral's operator, checked on the locked rows.
    """
    case = _lock(Case(pk=referral.case_id))
    locked = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("offer", "operator")
        .get(pk=referral.pk, case=case)
    )
    by_operator = actor is not None and answers_referral(actor, locked)
    if not by_operator:
        _require_scope(case, actor)
    _require_open(case)
    locked.case = case
    return locked, by_operator


def _operator_name(referral: Referral) -> str:
    operator = referral.operator or (referral.offer.operator if referral.offer else None)
    return operator.name if operator is not None else ""


def _tell_adviser(referral: Referral, *, answer: str) -> None:
    """The operator answered: the case's adviser hears it (the hub's inbox when nobody has the
    case, or its adviser has left)."""
    case = referral.case
    adviser = case.adviser
    recipient = (
        adviser.email
        if adviser is not None and adviser.is_active and adviser.email
        else case.hub.inbox_email
    )
    notification_queue(
        kind=Notification.Kind.REFERRAL_ANSWERED,
        recipient=recipient,
        template="referral_answered",
        context={
            "case": case,
            "referral": referral,
            "operator": _operator_name(referral),
            "answer": answer,
            "reason": referral.get_decline_reason_display() if referral.decline_reason else "",
            "case_url": _admin_url(case),
        },
        case=case,
        dedupe_key=f"referral:{referral.pk}:{referral.status}",
    )


@transaction.atomic
def referral_accept(*, referral: Referral, actor: User | None) -> Referral:
    referral, by_operator = _lock_referral(referral, actor)
    if referral.status != Referral.Status.PROPOSED:
        raise CrmError(_("Kun en foreslået henvisning kan accepteres."))
    now = timezone.now()
    referral.status = Referral.Status.ACCEPTED
    fields = ["status"]
    if by_operator:
        referral.answered_at = now
        fields.append("answered_at")
    referral.save(update_fields=fields)
    _timeline(
        referral.case,
        kind=TimelineEntry.Kind.REFERRAL,
        action="crm.referral.accepted",
        actor=actor,
        text=str(
            _("Henvisningen til %(target)s er accepteret.") % {"target": referral.target_label}
        ),
        payload={"referral": referral.pk, "by": "operator" if by_operator else "hub"},
        at=now,
    )
    if by_operator:
        _tell_adviser(referral, answer=str(_("accepteret")))
    return referral


def _referral_finish(
    referral: Referral,
    *,
    status: str,
    outcome: str,
    actor: User | None,
    reason: str = "",
) -> Referral:
    outcome = (outcome or "").strip()
    if reason and reason not in Referral.DeclineReason.values:
        raise CrmError(_("Vælg en af årsagerne på listen."), field="reason")
    referral, by_operator = _lock_referral(referral, actor)
    if by_operator and status == Referral.Status.DECLINED and not reason:
        raise CrmError(_("Vælg, hvorfor I afviser henvisningen."), field="reason")
    # A reason from the list says enough by itself; "other" and no reason need the words.
    if not outcome and reason in ("", Referral.DeclineReason.OTHER):
        raise CrmError(_("Skriv, hvordan henvisningen endte."), field="outcome")
    if referral.status not in (Referral.Status.PROPOSED, Referral.Status.ACCEPTED):
        raise CrmError(_("Henvisningen er allerede afsluttet."))
    now = timezone.now()
    referral.status = status
    referral.outcome = outcome
    referral.completed_at = now
    fields = ["status", "outcome", "completed_at"]
    if status == Referral.Status.DECLINED:
        referral.decline_reason = reason
        fields.append("decline_reason")
    if by_operator and referral.answered_at is None:
        referral.answered_at = now
        fields.append("answered_at")
    referral.save(update_fields=fields)
    text = outcome
    if status == Referral.Status.DECLINED and reason:
        label = str(referral.get_decline_reason_display())
        text = f"{label}: {outcome}" if outcome else label
    _timeline(
        referral.case,
        kind=TimelineEntry.Kind.REFERRAL,
        action=f"crm.referral.{status}",
        actor=actor,
        text=text,
        payload={
            "referral": referral.pk,
            "status": status,
            "by": "operator" if by_operator else "hub",
            **({"reason": reason} if reason else {}),
        },
        at=now,
    )
    if by_operator:
        _tell_adviser(
            referral,
            answer=str(_("gennemført") if status == Referral.Status.COMPLETED else _("afvist")),
        )
    return referral


@transaction.atomic
def referral_complete(*, referral: Referral, outcome: str, actor: User | None) -> Referral:
    """The company used the offer: a participation the effect measurement counts."""
    return _referral_finish(
        referral, status=Referral.Status.COMPLETED, outcome=outcome, actor=actor
    )


@transaction.atomic
def referral_decline(
    *, referral: Referral, outcome: str, actor: User | None, reason: str = ""
) -> Referral:
    """The referral did not lead anywhere; an operator declining names a ``reason``."""
    return _referral_finish(
        referral, status=Referral.Status.DECLINED, outcome=outcome, actor=actor, reason=reason
    )
