"""Admin for growth strategies and agreements, scoped to the region of the person working.

A region's editors and analysts keep their own region's strategy and agreements; analysts and
editors in a state agency read every region's; superusers do everything. Feedback, usage counts
and alerts have their own pages under /analyse/ and are not edited here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, ForeignKey, ManyToManyField, QuerySet, TextField
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin import DeclaredLookupsOnly
from governance.models import Commitment, GrowthAgreement, GrowthStrategy, QuarterlyReport
from governance.querysets import editable_region_ids
from offers.models import Offer, Region, Theme


def _may_change_region(request: HttpRequest, region_id: int | None) -> bool:
    regions = editable_region_ids(request.user)
    return regions is None or region_id in regions


class _RegionScopedAdmin(DeclaredLookupsOnly):
    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).visible_to(request.user)  # type: ignore[attr-defined]

    def has_add_permission(self, request: HttpRequest) -> bool:
        regions = editable_region_ids(request.user)
        return super().has_add_permission(request) and (regions is None or bool(regions))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        if obj is None:
            regions = editable_region_ids(request.user)
            return allowed and (regions is None or bool(regions))
        return allowed and _may_change_region(request, obj.region_id)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or _may_change_region(request, obj.region_id))

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField | None:
        regions = editable_region_ids(request.user)
        if db_field.name == "region" and regions is not None:
            kwargs["queryset"] = Region.objects.filter(code__in=regions)
        if db_field.name == "strategy" and regions is not None:
            kwargs["queryset"] = GrowthStrategy.objects.filter(region_id__in=regions)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(GrowthStrategy)
class GrowthStrategyAdmin(_RegionScopedAdmin):
    list_display = ("title", "region", "period_start", "period_end")
    list_filter = ("region",)
    list_select_related = ("region",)
    search_fields = ("title",)
    ordering = ("region", "-period_start")


class CommitmentInline(admin.TabularInline):
    """The agreement's initiatives in brief; themes, organisations and offers on their own page."""

    model = Commitment
    fields = ("position", "text", "status")
    extra = 0
    show_change_link = True
    ordering = ("position", "id")
    formfield_overrides = {TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 80})}}

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_add_permission(request, obj)
        return allowed and (obj is None or _may_change_region(request, obj.region_id))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or _may_change_region(request, obj.region_id))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or _may_change_region(request, obj.region_id))


@admin.register(Commitment)
class CommitmentAdmin(DeclaredLookupsOnly):
    list_display = ("short_text", "agreement", "status", "position")
    list_filter = ("status", "agreement__region", "agreement__year")
    list_select_related = ("agreement", "agreement__region")
    search_fields = ("text", "agreement__title")
    ordering = ("agreement__region", "-agreement__year", "position", "id")
    fields = (
        "agreement",
        "position",
        "text",
        "status",
        "themes",
        "responsible_organisations",
        "offers",
    )
    autocomplete_fields = ("responsible_organisations",)
    # The offers picker lists published offers across every owner: an agreement's initiatives are
    # carried out by the state's, the hubs' and the municipalities' offers, not only the region's,
    # which the catalogue admin's scoped autocomplete would not offer.
    filter_horizontal = ("themes", "offers")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Commitment]:
        return (
            super()
            .get_queryset(request)
            .filter(agreement__in=GrowthAgreement.objects.visible_to(request.user))
        )

    @admin.display(description=_("initiativ"))
    def short_text(self, obj: Commitment) -> str:
        return obj.text if len(obj.text) <= 90 else obj.text[:89] + "…"

    def _may_change(self, request: HttpRequest, obj: Commitment | None) -> bool:
        if obj is None:
            regions = editable_region_ids(request.user)
            return regions is None or bool(regions)
        return _may_change_region(request, obj.agreement.region_id)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and self._may_change(request, None)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._may_change(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self._may_change(request, obj)

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField | None:
        if db_field.name == "agreement":
            kwargs["queryset"] = GrowthAgreement.objects.editable_by(request.user).select_related(
                "region"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: ManyToManyField, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelMultipleChoiceField | None:
        if db_field.name == "offers":
            kwargs["queryset"] = Offer.objects.published().only("id", "title").order_by("title")
        if db_field.name == "themes":
            kwargs["queryset"] = Theme.objects.order_by("position", "name")
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(GrowthAgreement)
class GrowthAgreementAdmin(_RegionScopedAdmin):
    list_display = ("title", "region", "year", "status", "commitment_count")
    list_filter = ("status", "region", "year")
    list_select_related = ("region",)
    search_fields = ("title",)
    ordering = ("region", "-year")
    inlines = (CommitmentInline,)
    fields = ("region", "year", "title", "summary", "strategy", "status", "signed_on")

    def get_queryset(self, request: HttpRequest) -> QuerySet[GrowthAgreement]:
        return super().get_queryset(request).annotate(commitment_total=Count("commitments"))

    @admin.display(description=_("initiativer"), ordering="commitment_total")
    def commitment_count(self, obj: GrowthAgreement) -> int:
        return int(getattr(obj, "commitment_total", 0))


# --- Quarterly reports (governance.quarterly_reports) -------------------------------------------


@admin.register(QuarterlyReport)
class QuarterlyReportAdmin(DeclaredLookupsOnly):
    """The reports to download, scoped: a user sees their own organisation's reports only
    (``QuarterlyReport.objects.visible_to``); another organisation's report is a 404."""

    list_display = ["label", "scope", "organisation", "created_at", "downloads"]
    list_filter = ["scope", "year", "quarter"]
    list_select_related = ["organisation"]
    search_fields = ["organisation__name", "organisation__slug"]
    fields = ("year", "quarter", "scope", "organisation", "min_count", "created_at", "downloads")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[QuarterlyReport]:
        return (
            super()
            .get_queryset(request)
            .visible_to(request.user)  # type: ignore[attr-defined]
            .defer("xlsx", "csv")
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("kvartal"), ordering="-year")
    def label(self, report: QuarterlyReport) -> str:
        return report.label

    @admin.display(description=_("hent"))
    def downloads(self, report: QuarterlyReport) -> str:
        return format_html(
            '<a href="{}">XLSX</a> · <a href="{}">CSV</a>',
            reverse("admin:governance_quarterlyreport_download", args=[report.pk, "xlsx"]),
            reverse("admin:governance_quarterlyreport_download", args=[report.pk, "csv"]),
        )

    def get_urls(self) -> list[URLPattern]:
        download = self.admin_site.admin_view(self.download_view)
        return [
            path(
                "<int:report_id>/download/<str:fmt>/",
                download,
                name="governance_quarterlyreport_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request: HttpRequest, report_id: int, fmt: str) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        # A hand-edited id past the database's integer range is a missing report, not a 500.
        if fmt not in ("xlsx", "csv") or report_id > 2**63 - 1:
            raise Http404
        report = get_object_or_404(QuarterlyReport.objects.visible_to(request.user), pk=report_id)
        slug = report.organisation.slug if report.organisation else "hele-landet"
        filename = f"kvartalsrapport-{report.year}-K{report.quarter}-{report.scope}-{slug}.{fmt}"
        if fmt == "xlsx":
            response = HttpResponse(
                bytes(report.xlsx),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        else:
            response = HttpResponse(report.csv, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "private, no-store"
        return response
