"""Advisers' absences: an adviser records their own, a hub's lead their hub's, a superuser any."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.admin import DeclaredLookupsOnly
from crm import services
from crm.admin.display import adviser_label
from crm.admin.handover import handover_view
from crm.models import Absence
from crm.permissions import works_cases


class AbsenceForm(forms.ModelForm):
    """The adviser is one the user may record an absence for; a crafted POST naming anyone else
    is an error on the field, as is an end before the start."""

    actor: Any = None

    class Meta:
        model = Absence
        fields = ("adviser", "starts_on", "ends_on", "note")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["adviser"]
        field.queryset = services.absence_advisers(self.actor).order_by(  # type: ignore[attr-defined]
            "first_name", "last_name", "username"
        )
        field.label_from_instance = adviser_label  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("Fraværet kan ikke slutte, før det begynder."))
        return cleaned


@admin.register(Absence)
class AbsenceAdmin(DeclaredLookupsOnly):
    form = AbsenceForm
    list_display = ("adviser_name", "starts_on", "ends_on", "is_current", "note")
    list_select_related = ("adviser",)
    date_hierarchy = None
    sortable_by = ("starts_on", "ends_on")
    actions = None
    change_list_template = "admin/crm/absence/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        def handover(request: HttpRequest) -> HttpResponse:
            return handover_view(request, admin_context=self._context(request))

        view = self.admin_site.admin_view(handover)
        return [
            path("overdrag/", view, name="crm_absence_handover"),
            *super().get_urls(),
        ]

    def _context(self, request: HttpRequest) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "opts": self.model._meta}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Absence]:
        return Absence.objects.editable_by(request.user).select_related("adviser")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):  # type: ignore[no-untyped-def]
        form = super().get_form(request, obj, change=change, **kwargs)
        return type("ScopedAbsenceForm", (form,), {"actor": request.user})

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        today = timezone.localdate()
        return {"adviser": request.user.pk, "starts_on": today, "ends_on": today}

    @admin.display(description=_("rådgiver"), ordering="adviser__first_name")
    def adviser_name(self, absence: Absence) -> str:
        return adviser_label(absence.adviser)

    @admin.display(description=_("fraværende i dag"), boolean=True)
    def is_current(self, absence: Absence) -> bool:
        today = timezone.localdate()
        return absence.starts_on <= today <= absence.ends_on

    def save_model(self, request: HttpRequest, obj: Absence, form: Any, change: bool) -> None:
        try:
            saved = services.absence_save(
                actor=request.user,
                adviser=form.cleaned_data["adviser"],
                starts_on=form.cleaned_data["starts_on"],
                ends_on=form.cleaned_data["ends_on"],
                note=form.cleaned_data["note"],
                absence=obj if change else None,
            )
        except services.CrmError as error:
            raise PermissionDenied(error.message) from error
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Absence) -> None:
        try:
            services.absence_delete(actor=request.user, absence=obj)
        except services.CrmError as error:
            raise PermissionDenied(error.message) from error

    def has_module_permission(self, request: HttpRequest) -> bool:
        return works_cases(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Absence | None = None) -> bool:
        return self.has_module_permission(request) and (
            obj is None or Absence.objects.editable_by(request.user).filter(pk=obj.pk).exists()
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Absence | None = None) -> bool:
        return self.has_view_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Absence | None = None) -> bool:
        return self.has_view_permission(request, obj)
