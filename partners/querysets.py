"""Reads for partners and keys, named for what the caller means."""

from __future__ import annotations

from typing import Any

from django.db import models


class PartnerQuerySet(models.QuerySet):
    def active(self) -> PartnerQuerySet:
        return self.filter(active=True)

    def managed_by(self, user: Any) -> PartnerQuerySet:
        """Partners whose keys ``user`` may see and manage: their own organisation's only."""
        if not (user.is_active and user.is_staff):
            return self.none()
        if user.is_superuser:
            return self.all()
        if user.organisation_id is None:
            return self.none()
        return self.filter(organisation_id=user.organisation_id)


class ApiKeyQuerySet(models.QuerySet):
    def managed_by(self, user: Any) -> ApiKeyQuerySet:
        from partners.models import Partner

        return self.filter(partner__in=Partner.objects.managed_by(user))
