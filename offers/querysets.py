"""Chainable reads for the catalogue, named for what the caller means."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from accounts.models import User


class OrganisationQuerySet(models.QuerySet):
    def hubs(self) -> OrganisationQuerySet:
        return self.filter(kind="business_hub")

    def clusters(self) -> OrganisationQuerySet:
        return self.filter(kind="cluster")


class OfferQuerySet(models.QuerySet):
    def published(self) -> OfferQuerySet:
        return self.filter(status="published")

    def open_on(self, day: dt.date) -> OfferQuerySet:
        """Offers a company can use on ``day`` (combine with ``published()``)."""
        return self.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=day),
            Q(valid_to__isnull=True) | Q(valid_to__gte=day),
            Q(application_deadline__isnull=True) | Q(application_deadline__gte=day),
        )

    def closed_on(self, day: dt.date) -> OfferQuerySet:
        return self.exclude(pk__in=self.published().open_on(day).values("pk"))

    def editable_by(self, user: User | Any) -> OfferQuerySet:
        """Offers an editor may change: those their organisation owns or operates."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        if user.organisation_id is None:
            return self.none()
        return self.filter(Q(owner_id=user.organisation_id) | Q(operator_id=user.organisation_id))

    def stale_on(self, day: dt.date, months: int) -> OfferQuerySet:
        from offers.models import _months_before

        limit = _months_before(day, months)
        return self.filter(Q(last_reviewed__isnull=True) | Q(last_reviewed__lt=limit))
