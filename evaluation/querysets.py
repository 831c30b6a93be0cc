"""Chainable reads for effect measurement, named for what the caller means."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from accounts.models import User
    from offers.models import Offer


def may_analyse(user: User | Any) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.has_perm("evaluation.view_effectrun"))
    )


class ParticipationQuerySet(models.QuerySet):
    def for_offer(self, offer: Offer) -> ParticipationQuerySet:
        return self.filter(offer=offer)


class EffectRunQuerySet(models.QuerySet):
    def active(self) -> EffectRunQuerySet:
        return self.filter(status__in=["pending", "running"])

    def completed(self) -> EffectRunQuerySet:
        return self.filter(status="completed")

    def visible_to(self, user: User | Any) -> EffectRunQuerySet:
        """Runs with their diagnostics: for analysts (and superusers) only."""
        return self if may_analyse(user) else self.none()


class EffectEstimateQuerySet(models.QuerySet):
    def published(self) -> EffectEstimateQuerySet:
        """Results the public may see: those of completed runs.

        Publishing a run deletes the older results of its offers in the same transaction, so
        each offer has results from at most one completed run; a running or failed run's
        results are never shown.
        """
        return self.filter(run__status="completed")

    def pooled(self) -> EffectEstimateQuerySet:
        return self.filter(cohort_year__isnull=True)

    def for_offer(self, offer: Offer) -> EffectEstimateQuerySet:
        return self.filter(offer=offer)

    def visible_to(self, user: User | Any) -> EffectEstimateQuerySet:
        """Every run's results, with diagnostics, for analysts; published results otherwise."""
        return self if may_analyse(user) else self.published()


class EffectRollupQuerySet(models.QuerySet):
    def published(self) -> EffectRollupQuerySet:
        return self.filter(run__status="completed")


class EffectSegmentQuerySet(models.QuerySet):
    def published(self) -> EffectSegmentQuerySet:
        """Segments of completed runs; only segments that may be shown are ever stored."""
        return self.filter(run__status="completed")
