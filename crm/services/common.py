"""What every CRM service shares: the one domain error, the timeline entry, the case lock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Case, CaseFollowUp, CaseOffer, TimelineEntry
from crm.permissions import adviser_hub_id, is_active_superuser

if TYPE_CHECKING:
    from accounts.models import User
    from offers.models import Offer


class CrmError(Exception):
    """A change the CRM refuses, with a Danish message safe to show; ``field`` names the input."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def integrity_error_scrubbed(error: IntegrityError) -> IntegrityError:
    """The same failure without PostgreSQL's DETAIL line, which quotes the row's values (a
    contact's e-mail address in the unique key): the one to re-raise, as it ends up in the log."""
    diag = getattr(error.__cause__, "diag", None)
    constraint = getattr(diag, "constraint_name", None) or "unknown"
    return IntegrityError(f"integrity error on constraint {constraint} (values left out)")


def _timeline(
    case: Case,
    *,
    kind: str,
    action: str,
    actor: User | None,
    text: str = "",
    payload: dict[str, Any] | None = None,
    is_public: bool = False,
    at: dt.datetime | None = None,
) -> TimelineEntry:
    return TimelineEntry.objects.create(
        case=case,
        kind=kind,
        action=action,
        actor=actor,
        text=text,
        payload=payload or {},
        is_public=is_public,
        at=at or timezone.now(),
    )


def _suggest_offers(case: Case, offers: Iterable[Offer], *, payload: dict[str, Any]) -> None:
    """The offers suggested to the company, on its case, with the score and reasons the match in
    the request's ``payload`` gave each; an offer the case already suggests is left as it is."""
    scores = {
        str(match.get("external_id")): match
        for match in payload.get("matches", [])
        if isinstance(match, dict)
    }
    CaseOffer.objects.bulk_create(
        [
            CaseOffer(
                case=case,
                offer=offer,
                score=float(scores.get(offer.external_id, {}).get("score") or 0),
                reasons=list(scores.get(offer.external_id, {}).get("reasons") or []),
                explanation=list(scores.get(offer.external_id, {}).get("explanation") or []),
            )
            for offer in offers
        ],
        ignore_conflicts=True,
    )


def _lock(case: Case) -> Case:
    """The case row, locked for this transaction, so concurrent changes queue up."""
    return (
        Case.objects.select_for_update().select_related("hub", "company", "contact").get(pk=case.pk)
    )


def _require_open(case: Case) -> None:
    if not case.is_open:
        raise CrmError(_("Sagen er lukket og kan ikke ændres."))


def _require_scope(case: Case, actor: User | None) -> None:
    """The actor may change this case as it is now, locked: a superuser or an adviser of its hub.

    Views check the same before calling a service, but on a row read before the lock; a transfer
    that commits in between would otherwise let the action land on another hub's case. No actor
    means the portal itself (a guidance request, a job).
    """
    if actor is None or is_active_superuser(actor):
        return
    if adviser_hub_id(actor) != case.hub_id:
        raise CrmError(
            _("Sagen ligger nu hos %(hub)s, og du kan ikke ændre den.") % {"hub": case.hub.name}
        )


def _lock_in_scope(case: Case, actor: User | None, *, open_only: bool = True) -> Case:
    """``_lock`` and then the checks that must hold on the locked row: scope, and open."""
    case = _lock(case)
    _require_scope(case, actor)
    if open_only:
        _require_open(case)
    return case


#: What answers the company: a real contact with it, a meeting, a call or an e-mail recorded on
#: the case (``TimelineEntry.FIRST_RESPONSE_KINDS``). Taking the case ("Tag sagen"), an internal
#: note or a referral the company may not have heard of is not one: the reminder ladder goes on
#: and the service standards do not count the case as answered.
FIRST_RESPONSE_KINDS = TimelineEntry.FIRST_RESPONSE_KINDS


def is_first_response(kind: str) -> bool:
    """Whether a timeline entry of ``kind`` answers the company (the one definition of a first
    response, used by the services that set ``Case.first_responded_at``, and so by the reminder
    ladder and the service standards, which read that field)."""
    return kind in FIRST_RESPONSE_KINDS


def _mark_first_response(case: Case, *, kind: str, at: dt.datetime) -> list[str]:
    """Record the first response on ``case`` when an entry of ``kind`` is one; fields changed."""
    if case.first_responded_at is None and is_first_response(kind):
        case.first_responded_at = at
        return ["first_responded_at"]
    return []


def _adviser_name(user: User) -> str:
    return user.get_full_name() or user.get_username()


def _admin_url(case: Case) -> str:
    return settings.SITE_URL + reverse("admin:crm_case_change", args=[case.pk])


#: The reminder ladder's steps (``crm.services.followup``): done again for a reopened case that
#: was never answered, so it cannot fall through unnoticed a second time.
LADDER_STEPS = (
    CaseFollowUp.Step.NUDGE,
    CaseFollowUp.Step.LEAD_ALERT,
    CaseFollowUp.Step.COMPANY_UPDATE,
    CaseFollowUp.Step.CLOSED_NOT_HANDLED,
)


def _reopen(case: Case) -> None:
    """Open a closed case again (by an adviser or a repeat request): back to its adviser's
    queue, or the hub's when it has none, without outcome; a case never answered has its
    reminder ladder start over (the ladder's entries stay in the timeline)."""
    case.status = Case.Status.ASSIGNED if case.adviser_id else Case.Status.NEW
    case.outcome = ""
    case.outcome_text = ""
    case.closed_at = None
    case.save(update_fields=["status", "outcome", "outcome_text", "closed_at"])
    if case.first_responded_at is None:
        CaseFollowUp.objects.filter(case=case, step__in=LADDER_STEPS).delete()
