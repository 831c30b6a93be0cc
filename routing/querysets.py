"""Chainable reads for routing rules and guidance requests."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import TYPE_CHECKING, Any

from django.db import connection, models
from django.db.models import Q

from routing.assignment import RuleCandidate
from routing.assignment import Scope as RuleScope

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
        """The live rules as plain data for ``routing.assignment``, in one statement.

        Every guidance request reads them, so the statement is written out rather than built by
        the ORM for each request (building it cost more than running it); the rules are the
        same as ``live_on(day)``'s in the model's order (``tests/routing/test_rule_candidates``).
        """
        from offers.models import Organisation, Theme

        sql = _CANDIDATES_SQL.format(
            rule=self.model._meta.db_table,
            organisation=Organisation._meta.db_table,
            theme=Theme._meta.db_table,
            members=Organisation.member_municipalities.through._meta.db_table,
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, {"day": day})
            rows = cursor.fetchall()
        return [
            RuleCandidate(
                id=pk,
                scope=RuleScope(scope),
                hub_slug=hub_slug,
                priority=priority,
                reason=reason,
                active=active,
                valid_from=valid_from,
                valid_to=valid_to,
                municipality_codes=RuleCandidate.codes_for(scope, municipality, members or ()),
                theme_slug=theme_slug,
            )
            for (
                pk,
                scope,
                hub_slug,
                priority,
                reason,
                active,
                valid_from,
                valid_to,
                municipality,
                theme_slug,
                members,
            ) in rows
        ]


_CANDIDATES_SQL = """
SELECT r.id, r.scope, hub.slug, r.priority, r.reason, r.active, r.valid_from, r.valid_to,
       r.municipality_id, theme.slug,
       ARRAY(SELECT m.municipality_id FROM {members} AS m
             WHERE m.organisation_id = r.business_region_id)
FROM {rule} AS r
JOIN {organisation} AS hub ON hub.id = r.hub_id
LEFT JOIN {theme} AS theme ON theme.id = r.theme_id
WHERE r.active
  AND (r.valid_from IS NULL OR r.valid_from <= %(day)s)
  AND (r.valid_to IS NULL OR r.valid_to >= %(day)s)
ORDER BY r.priority DESC, r.id
"""


class GuidanceRequestQuerySet(models.QuerySet["GuidanceRequest"]):
    def with_case(self) -> GuidanceRequestQuerySet:
        # The case's hub, not the request's: the answers name the hub that has the case now.
        return self.select_related("case", "case__contact", "case__hub", "municipality__region")

    def by_token(self, token: str) -> GuidanceRequest | None:
        """The request a private status token belongs to, or None; for a repeat request's token,
        the read-only answer of that repeat request (``GuidanceRequest.answer_for``).

        Looked up by the token's digest; the final comparison is in constant time.
        """
        from routing.models import RepeatRequest, token_digest

        if not token or len(token) > 64:
            return None
        digest = token_digest(token)
        found = self.filter(token_hash=digest).first()
        if found is not None:
            return found if secrets.compare_digest(found.token, token) else None
        # A repeat request's own token: its answer on the case (GuidanceRequest.answer_for).
        repeat = RepeatRequest.objects.filter(token_hash=digest).first()
        if repeat is None or not secrets.compare_digest(repeat.token, token):
            return None
        attached_to = self.filter(pk=repeat.guidance_request_id).first()
        return attached_to.answer_for(repeat) if attached_to is not None else None

    def visible_to(self, user: User | Any) -> GuidanceRequestQuerySet:
        """Superusers and analysts (statistics) read every request; an adviser their hub's."""
        from crm.permissions import adviser_hub_id, sees_all_cases

        if sees_all_cases(user):
            return self
        hub_id = adviser_hub_id(user)
        if hub_id is None:
            return self.none()
        return self.filter(case__hub_id=hub_id)
