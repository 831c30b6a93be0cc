"""Admin bases shared by the apps: records that are written by services and only read here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.filters import SimpleListFilter
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.core.exceptions import FieldDoesNotExist
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest

# What the admin's own list filters and date hierarchy put in a list's query string after a
# filtered field: "status__exact", "hub__id__exact", "created__gte", "closed_at__isnull", ...
_FILTER_SUFFIXES = frozenset(
    {
        "",
        "exact",
        "iexact",
        "in",
        "isnull",
        "isempty",
        "gt",
        "gte",
        "lt",
        "lte",
        "year",
        "month",
        "day",
        "id__exact",
        "pk__exact",
        "id__in",
    }
)


def declared_lookup(model_admin: Any, lookup: str, request: HttpRequest) -> bool:
    """Whether ``lookup`` is one of the ways ``model_admin``'s list offers to filter by: a field
    of ``list_filter``, ``date_hierarchy`` or ``extra_lookup_fields`` with a suffix those filters
    write, or a custom filter's own parameter (see ``DeclaredLookupsOnly``)."""
    declared: set[str] = set(getattr(model_admin, "extra_lookup_fields", ()))
    if model_admin.date_hierarchy:
        declared.add(model_admin.date_hierarchy)
    for item in model_admin.get_list_filter(request):
        if isinstance(item, type) and issubclass(item, SimpleListFilter):
            if lookup == item.parameter_name:
                return True
        elif isinstance(item, (list, tuple)):
            declared.add(str(item[0]))
        elif isinstance(item, str):
            declared.add(item)
    first = lookup.split(LOOKUP_SEP, 1)[0]
    try:
        model_admin.model._meta.get_field(first)
    except FieldDoesNotExist:
        # Not a field (a custom filter's parameter, or nonsense that fails later with 400).
        return True
    for path in declared:
        if lookup == path:
            return True
        prefix = path + LOOKUP_SEP
        suffix = lookup[len(prefix) :] if lookup.startswith(prefix) else None
        if suffix is None:
            continue
        if suffix in _FILTER_SUFFIXES:
            return True
        # A related field's filter names the key it links by: region__code__exact for a region.
        try:
            field = get_fields_from_path(model_admin.model, path)[-1]
        except (FieldDoesNotExist, NotRelationField):
            continue
        target = getattr(field, "target_field", None)
        if target is not None and suffix in {f"{target.name}__exact", f"{target.name}__in"}:
            return True
    return False


class DeclaredLookupsOnly(admin.ModelAdmin):
    """A list may be filtered only the ways its filters offer.

    Django's admin accepts a query-string filter on any field of the listed model
    (``?needs__icontains=eksport``, ``?token__startswith=a``): whether a row is listed then tells
    whether a field the user may never see contains a guess, and a secret can be read a character
    at a time. Here a lookup is allowed only on a field of ``list_filter`` or ``date_hierarchy``
    (or ``extra_lookup_fields``), with a suffix those filters write; a custom filter's own
    parameter passes; everything else answers as Django answers a refused lookup (400).
    """

    #: Fields a list may be filtered by besides those of ``list_filter`` (links of the admin's own).
    extra_lookup_fields: tuple[str, ...] = ()

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        return super().lookup_allowed(lookup, value, request) and declared_lookup(
            self, lookup, request
        )


class ReadOnlyAdmin(DeclaredLookupsOnly):
    """Rows the admin shows but never adds, changes or deletes (a service writes them)."""

    actions = None
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return list(self.readonly_fields) or [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SuperuserReadOnlyAdmin(ReadOnlyAdmin):
    """Read-only, and only for superusers (the audit log, the outbox)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)
