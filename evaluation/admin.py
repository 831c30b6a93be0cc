"""Effect measurement in the admin: read-only for analysts.

Runs are started, resumed and cancelled with ``manage.py compute_effects``, and data comes in
through the import commands; the admin only shows what is there. The register panel itself is
not listed: its key is (cvr, year), which the admin cannot address, and three million rows are
read through /analyse/effekter/ and the API instead.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from evaluation.models import EffectEstimate, EffectRollup, EffectRun, EffectRunOffer, Participation


@admin.register(Participation)
class ParticipationAdmin(ReadOnlyAdmin):
    list_display = ("cvr", "offer", "year", "source")
    list_filter = ("source", "year")
    list_select_related = ("offer",)
    search_fields = ("=cvr", "offer__external_id")
    search_help_text = _("Søg på CVR-nummer eller tilbuddets eksterne id.")


class EffectRunOfferInline(admin.TabularInline):
    model = EffectRunOffer
    fields = (
        "offer",
        "status",
        "attempts",
        "participants",
        "participants_with_panel",
        "seconds",
        "reason",
        "error",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[EffectRunOffer]:
        return super().get_queryset(request).select_related("offer")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(EffectRun)
class EffectRunAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__",
        "status",
        "offer",
        "offers_total",
        "offers_done",
        "offers_failed",
        "created_at",
        "finished_at",
    )
    list_filter = ("status",)
    list_select_related = ("offer",)
    date_hierarchy = "created_at"
    inlines = [EffectRunOfferInline]


@admin.register(EffectEstimate)
class EffectEstimateAdmin(ReadOnlyAdmin):
    list_display = (
        "offer",
        "indicator",
        "cohort_year",
        "status",
        "estimate",
        "ci_low",
        "ci_high",
        "n_treated",
        "n_control",
        "run",
    )
    list_filter = ("indicator", "status", "cohort_year", "run__status")
    list_select_related = ("offer", "run")
    search_fields = ("offer__external_id", "offer__title")


@admin.register(EffectRollup)
class EffectRollupAdmin(ReadOnlyAdmin):
    list_display = (
        "dimension",
        "label",
        "indicator",
        "status",
        "estimate",
        "ci_low",
        "ci_high",
        "n_treated",
        "n_offers",
        "extra",
        "run",
    )
    list_filter = ("dimension", "indicator", "status")
    list_select_related = ("run",)
    search_fields = ("key", "label")
