"""Routing rules (maintained centrally) and guidance requests (read-only) in the admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin import DeclaredLookupsOnly, ReadOnlyAdmin
from offers.models import Organisation
from routing.models import GuidanceRequest, RoutingRule, VocabularyWord


@admin.register(RoutingRule)
class RoutingRuleAdmin(DeclaredLookupsOnly):
    list_display = (
        "__str__",
        "scope",
        "hub",
        "priority",
        "valid_from",
        "valid_to",
        "active",
    )
    list_filter = ("active", "scope", "hub")
    list_select_related = ("municipality", "business_region", "theme", "hub")
    search_fields = ("reason", "municipality__name", "business_region__name", "theme__name")
    autocomplete_fields = ("municipality", "business_region", "theme", "hub")
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("scope", "municipality", "business_region", "theme")}),
        (_("Fordeling"), {"fields": ("hub", "priority", "reason")}),
        (_("Gyldighed"), {"fields": ("active", "valid_from", "valid_to")}),
        (_("Historik"), {"fields": ("created_at", "updated_at")}),
    )


class HubListFilter(admin.RelatedFieldListFilter):
    """The hubs a request can be routed to, not every organisation (municipalities, ...)."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> Any:
        return [
            (hub.pk, hub.name) for hub in Organisation.objects.hubs().order_by("name").only("name")
        ]


@admin.register(GuidanceRequest)
class GuidanceRequestAdmin(ReadOnlyAdmin):
    """Read-only: a request is changed through its case in the CRM, never here."""

    list_display = ("case", "hub", "municipality", "rule", "channel", "created_at")
    list_filter = ("channel", ("hub", HubListFilter))
    list_select_related = ("case", "hub", "municipality", "rule__hub")
    search_fields = ("case__reference",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    # The token is the company's private key to its status page: never shown to staff.
    fields = (
        "case",
        "channel",
        "hub",
        "rule",
        "assignment_reason",
        "municipality",
        "themes",
        "origin_offer",
        "matches",
        "created_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[GuidanceRequest]:
        return super().get_queryset(request).visible_to(request.user)  # type: ignore[attr-defined]


@admin.register(VocabularyWord)
class VocabularyWordAdmin(DeclaredLookupsOnly):
    """Editors extend the needs vocabulary word by word; the matching picks a change up with its
    next request (routing.vocabulary_store)."""

    list_display = ("concept", "word", "where", "label_da", "updated_at")
    list_filter = ("where",)
    search_fields = ("concept", "word", "label_da", "label_en")
    readonly_fields = ("created_at", "updated_at")
    fields = ("concept", "word", "where", "label_da", "label_en", "created_at", "updated_at")
