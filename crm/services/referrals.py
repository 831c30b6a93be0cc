"""Referrals of a case to an offer or an operator, and how each ended."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Case, Referral, TimelineEntry
from crm.services.common import CrmError, _lock_in_scope, _timeline
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
    actor: User | None,
) -> Referral:
    """Refer the company to an offer and/or an operator; the case becomes "referred"."""
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
        created_by=actor,
        created_at=now,
    )
    # A referral is not a first response: the company may not have heard of it yet (a call,
    # meeting or e-mail is; TimelineEntry.FIRST_RESPONSE_KINDS).
    fields: list[str] = []
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
        },
        is_public=True,
        at=now,
    )
    return referral


def _lock_referral(referral: Referral, actor: User | None) -> Referral:
    """The referral locked with its case, after the checks that must hold on the locked case.

    A referral on a closed case is history: completing it would count a participation the
    effect measurement never should. The case is locked first (as every case service does), then
    the referral, so the case cannot close or move to another hub in between.
    """
    case = _lock_in_scope(Case(pk=referral.case_id), actor)
    locked = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("offer", "operator")
        .get(pk=referral.pk, case=case)
    )
    locked.case = case
    return locked


@transaction.atomic
def referral_accept(*, referral: Referral, actor: User | None) -> Referral:
    referral = _lock_referral(referral, actor)
    if referral.status != Referral.Status.PROPOSED:
        raise CrmError(_("Kun en foreslået henvisning kan accepteres."))
    referral.status = Referral.Status.ACCEPTED
    referral.save(update_fields=["status"])
    _timeline(
        referral.case,
        kind=TimelineEntry.Kind.REFERRAL,
        action="crm.referral.accepted",
        actor=actor,
        text=str(
            _("Henvisningen til %(target)s er accepteret.") % {"target": referral.target_label}
        ),
        payload={"referral": referral.pk},
    )
    return referral


def _referral_finish(
    referral: Referral, *, status: str, outcome: str, actor: User | None
) -> Referral:
    outcome = (outcome or "").strip()
    if not outcome:
        raise CrmError(_("Skriv, hvordan henvisningen endte."), field="outcome")
    referral = _lock_referral(referral, actor)
    if referral.status not in (Referral.Status.PROPOSED, Referral.Status.ACCEPTED):
        raise CrmError(_("Henvisningen er allerede afsluttet."))
    referral.status = status
    referral.outcome = outcome
    referral.completed_at = timezone.now()
    referral.save(update_fields=["status", "outcome", "completed_at"])
    _timeline(
        referral.case,
        kind=TimelineEntry.Kind.REFERRAL,
        action=f"crm.referral.{status}",
        actor=actor,
        text=outcome,
        payload={"referral": referral.pk, "status": status},
        at=referral.completed_at,
    )
    return referral


@transaction.atomic
def referral_complete(*, referral: Referral, outcome: str, actor: User | None) -> Referral:
    """The company used the offer: a participation the effect measurement counts."""
    return _referral_finish(
        referral, status=Referral.Status.COMPLETED, outcome=outcome, actor=actor
    )


@transaction.atomic
def referral_decline(*, referral: Referral, outcome: str, actor: User | None) -> Referral:
    return _referral_finish(referral, status=Referral.Status.DECLINED, outcome=outcome, actor=actor)
