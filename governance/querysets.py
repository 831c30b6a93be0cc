"""Chainable reads for governance, named for what the caller means."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from accounts.models import User


def _works_on_agreements(user: User | Any) -> bool:
    return bool(user.is_authenticated and user.is_active and (user.is_editor or user.is_analyst))


class GrowthAgreementQuerySet(models.QuerySet):
    def public(self) -> GrowthAgreementQuerySet:
        """Agreements shown on the public pages: signed or concluded, never drafts."""
        return self.filter(status__in=["signed", "concluded"])

    def editable_by(self, user: User | Any) -> GrowthAgreementQuerySet:
        """A region's editors and analysts keep their own region's agreements."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        organisation = user.organisation
        if (
            not _works_on_agreements(user)
            or organisation is None
            or organisation.kind != "region"
            or organisation.region_id is None
        ):
            return self.none()
        return self.filter(region_id=organisation.region_id)

    def visible_to(self, user: User | Any) -> GrowthAgreementQuerySet:
        """What a user may read in the admin: their region's, or every region's for the state."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        organisation = user.organisation
        is_state = organisation is not None and organisation.level == "state"
        if _works_on_agreements(user) and is_state:
            # The state is the other party to every agreement.
            return self
        return self.editable_by(user)


class SavedSearchQuerySet(models.QuerySet):
    def active(self) -> SavedSearchQuerySet:
        return self.filter(status="active")

    def pending_since_before(self, moment: dt.datetime) -> SavedSearchQuerySet:
        """Unconfirmed searches whose confirmation link has expired by ``moment``."""
        return self.filter(status="pending", created_at__lt=moment)
