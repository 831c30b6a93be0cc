"""Chainable reads for governance, named for what the caller means."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from accounts.models import User


def _works_on_agreements(user: User | Any) -> bool:
    return bool(user.is_authenticated and user.is_active and (user.is_editor or user.is_analyst))


def editable_region_ids(user: User | Any) -> frozenset[int] | None:
    """Regions whose agreements ``user`` keeps: their own region's (None means every region).

    A region's editors and analysts keep that region's strategy and agreements.
    """
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return None
    organisation = user.organisation
    if not _works_on_agreements(user) or organisation is None or organisation.kind != "region":
        return frozenset()
    return frozenset({organisation.region_id}) if organisation.region_id else frozenset()


def visible_region_ids(user: User | Any) -> frozenset[int] | None:
    """Regions whose agreements ``user`` may read in the admin (None means every region)."""
    organisation = getattr(user, "organisation", None)
    if (
        user.is_authenticated
        and _works_on_agreements(user)
        and organisation is not None
        and organisation.level == "state"
    ):
        # The state is the other party to every agreement.
        return None
    return editable_region_ids(user)


class RegionScopedQuerySet(models.QuerySet):
    def in_regions(self, region_ids: frozenset[int] | None) -> Any:
        return self if region_ids is None else self.filter(region_id__in=region_ids)

    def editable_by(self, user: User | Any) -> Any:
        return self.in_regions(editable_region_ids(user))

    def visible_to(self, user: User | Any) -> Any:
        return self.in_regions(visible_region_ids(user))


class GrowthAgreementQuerySet(RegionScopedQuerySet):
    def public(self) -> GrowthAgreementQuerySet:
        """Agreements shown on the public pages: signed or concluded, never drafts."""
        return self.filter(status__in=["signed", "concluded"])


class SavedSearchQuerySet(models.QuerySet):
    def active(self) -> SavedSearchQuerySet:
        return self.filter(status="active")

    def pending_since_before(self, moment: dt.datetime) -> SavedSearchQuerySet:
        """Unconfirmed searches whose confirmation link has expired by ``moment``."""
        return self.filter(status="pending", created_at__lt=moment)
