"""Chainable reads for routing rules and guidance requests."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import TYPE_CHECKING, Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db import models
from django.db.models import OuterRef, Q

from routing.assignment import RuleCandidate

if TYPE_CHECKING:
    from accounts.models import User
    from routing.models import GuidanceRequest


class RoutingRuleQuerySet(models.QuerySet):
    def live_on(self, day: dt.date) -> RoutingRuleQuerySet:
        """Active rules whose validity period includes ``day`` (both ends inclusive)."""
        return self.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=day),
            Q(valid_to__isnull=True) | Q(valid_to__gte=day),
            active=True,
        )

    def candidates(self, day: dt.date) -> list[RuleCandidate]:
        """The live rules as plain data for ``routing.assignment``, in one query."""
        from offers.models import Organisation

        members = Organisation.member_municipalities.through.objects.filter(
            organisation_id=OuterRef("business_region_id")
        ).values("municipality_id")
        rules = (
            self.live_on(day)
            .select_related("hub", "theme")
            .annotate(member_codes=ArraySubquery(members))
        )
        return [rule.as_candidate(frozenset(rule.member_codes or ())) for rule in rules]


class GuidanceRequestQuerySet(models.QuerySet["GuidanceRequest"]):
    def with_case(self) -> GuidanceRequestQuerySet:
        return self.select_related("case", "case__contact", "hub", "municipality__region")

    def by_token(self, token: str) -> GuidanceRequest | None:
        """The request a private status token belongs to, or None.

        Looked up by the token's digest; the final comparison is in constant time.
        """
        from routing.models import token_digest

        if not token or len(token) > 64:
            return None
        found = self.filter(token_hash=token_digest(token)).first()
        if found is None or not secrets.compare_digest(found.token, token):
            return None
        return found

    def visible_to(self, user: User | Any) -> GuidanceRequestQuerySet:
        """Superusers and analysts (statistics) read every request; an adviser their hub's."""
        from crm.permissions import adviser_hub_id, sees_all_cases

        if sees_all_cases(user):
            return self
        hub_id = adviser_hub_id(user)
        if hub_id is None:
            return self.none()
        return self.filter(case__hub_id=hub_id)
