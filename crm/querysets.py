"""Chainable reads for the CRM, scoped by who is asking (the rules: ``crm.permissions``)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Exists, OuterRef

from crm.permissions import (
    adviser_hub_id,
    is_active_superuser,
    operator_organisation_id,
    sees_all_cases,
)

if TYPE_CHECKING:
    from accounts.models import User


class CompanyQuerySet(models.QuerySet):
    def visible_to(self, user: User | Any) -> CompanyQuerySet:
        if sees_all_cases(user):
            return self
        hub_id = adviser_hub_id(user)
        if hub_id is None:
            return self.none()
        from crm.models import Case

        return self.filter(Exists(Case.objects.filter(company_id=OuterRef("pk"), hub_id=hub_id)))

    def editable_by(self, user: User | Any) -> CompanyQuerySet:
        if is_active_superuser(user):
            return self
        if adviser_hub_id(user) is None:
            return self.none()
        return self.visible_to(user)


class ContactQuerySet(models.QuerySet):
    def visible_to(self, user: User | Any) -> ContactQuerySet:
        """Contacts whose details the user may read: only the adviser's own hub's contacts."""
        if is_active_superuser(user):
            return self
        hub_id = adviser_hub_id(user)
        if hub_id is None:
            return self.none()
        from crm.models import Case

        return self.filter(Exists(Case.objects.filter(contact_id=OuterRef("pk"), hub_id=hub_id)))

    def with_email(self, email: str) -> ContactQuerySet:
        return self.annotate(email_lower=models.functions.Lower("email")).filter(
            email_lower=email.strip().lower()
        )


class CaseQuerySet(models.QuerySet):
    def open(self) -> CaseQuerySet:
        return self.exclude(status="closed")

    def closed(self) -> CaseQuerySet:
        return self.filter(status="closed")

    def overdue_on(self, day: dt.date) -> CaseQuerySet:
        """No first response yet and past the promised date."""
        return self.open().filter(first_responded_at__isnull=True, first_response_due__lt=day)

    def in_queue_order(self) -> CaseQuerySet:
        """Overdue first: awaiting a first response by deadline, then the rest by deadline."""
        return self.order_by(
            models.F("first_responded_at").asc(nulls_first=True), "first_response_due", "id"
        )

    def visible_to(self, user: User | Any) -> CaseQuerySet:
        if sees_all_cases(user):
            return self
        hub_id = adviser_hub_id(user)
        if hub_id is None:
            return self.none()
        from crm.models import Case

        # Every company with a case at the hub: its own cases are among them, so no "OR hub_id"
        # is needed, and without the OR PostgreSQL probes (company_id, hub_id) per row.
        shared_history = Case.objects.filter(hub_id=hub_id).values("company_id")
        return self.filter(company_id__in=shared_history)

    def editable_by(self, user: User | Any) -> CaseQuerySet:
        if is_active_superuser(user):
            return self
        hub_id = adviser_hub_id(user)
        if hub_id is None:
            return self.none()
        return self.filter(hub_id=hub_id)


class ReferralQuerySet(models.QuerySet):
    def to_operator_of(self, user: User | Any) -> ReferralQuerySet:
        """The referrals an operator's staff member answers: to their organisation, directly or
        through one of its offers. Nobody else gets any here, superusers included (they use the
        case page)."""
        organisation_id = operator_organisation_id(user)
        if organisation_id is None:
            return self.none()
        return self.filter(
            models.Q(operator_id=organisation_id) | models.Q(offer__operator_id=organisation_id)
        )

    def unanswered(self) -> ReferralQuerySet:
        return self.filter(status="proposed")
