"""Advisers' absences: who is away on a day, who may record it, and where their work goes.

An absence is a date range (both ends inclusive) and needs no job to end: every question takes
the day it is asked about. While an adviser is away, work that would go to them goes to the hub's
queue: ``case_assign`` refuses them as the new adviser (unless they take the case themselves),
a repeat request on their case is told to the hub's inbox, and the reminder ladder writes to the
inbox about their cases (``crm.services.followup``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from crm.hub_words import hub_text
from crm.models import Absence, HubLead
from crm.permissions import adviser_hub_id, is_active_superuser
from crm.services.common import CrmError

if TYPE_CHECKING:
    from accounts.models import User


def advisers_absent_on(adviser_ids: Iterable[int | None], day: dt.date) -> set[int]:
    """Of ``adviser_ids``, those away on ``day``."""
    ids = {pk for pk in adviser_ids if pk}
    if not ids:
        return set()
    return set(
        Absence.objects.on(day).filter(adviser_id__in=ids).values_list("adviser_id", flat=True)
    )


def absence_of(adviser: User | Any, day: dt.date) -> Absence | None:
    """The absence that covers ``day`` for ``adviser`` (the one ending last), if any."""
    return Absence.objects.on(day).filter(adviser_id=adviser.pk).order_by("-ends_on").first()


def is_hub_lead(user: User | Any) -> bool:
    hub_id = adviser_hub_id(user)
    return hub_id is not None and HubLead.objects.filter(hub_id=hub_id, lead_id=user.pk).exists()


def absence_may_record(actor: User | Any, adviser: User | Any) -> bool:
    """A superuser for anyone, a hub's lead for the hub's advisers, an adviser for themselves."""
    if is_active_superuser(actor):
        return True
    hub_id = adviser_hub_id(actor)
    if hub_id is None or adviser.organisation_id != hub_id:
        return False
    return adviser.pk == actor.pk or is_hub_lead(actor)


def absence_advisers(actor: User | Any) -> Any:
    """The users ``actor`` may record an absence for (the admin form's choices)."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(is_active=True, organisation__kind="business_hub")
    if is_active_superuser(actor):
        return users.filter(groups__name=get_user_model().Role.ADVISER.value).distinct()
    hub_id = adviser_hub_id(actor)
    if hub_id is None:
        return users.none()
    if is_hub_lead(actor):
        return users.filter(organisation_id=hub_id)
    return users.filter(pk=actor.pk)


@transaction.atomic
def absence_save(
    *,
    actor: User | Any,
    adviser: User | Any,
    starts_on: dt.date,
    ends_on: dt.date,
    note: str = "",
    absence: Absence | None = None,
) -> Absence:
    """Record an absence, or change one; refused outside the actor's scope (see above)."""
    if absence is not None and absence.pk is not None:
        absence = Absence.objects.select_for_update().select_related("adviser").get(pk=absence.pk)
        if not absence_may_record(actor, absence.adviser):
            raise CrmError(_("Du kan ikke ændre dette fravær."), field="adviser")
    if not absence_may_record(actor, adviser):
        raise CrmError(
            hub_text(
                _("Du kan kun registrere fravær for dig selv eller, som leder, for dit %(hub)s.")
            ),
            field="adviser",
        )
    if ends_on < starts_on:
        raise CrmError(_("Fraværet kan ikke slutte, før det begynder."), field="ends_on")
    if absence is None:
        absence = Absence(created_by=actor if getattr(actor, "pk", None) else None)
    absence.adviser = adviser
    absence.starts_on = starts_on
    absence.ends_on = ends_on
    absence.note = (note or "").strip()
    absence.save()
    return absence


@transaction.atomic
def absence_delete(*, actor: User | Any, absence: Absence) -> None:
    absence = Absence.objects.select_for_update().select_related("adviser").get(pk=absence.pk)
    if not absence_may_record(actor, absence.adviser):
        raise CrmError(_("Du kan ikke slette dette fravær."))
    absence.delete()
