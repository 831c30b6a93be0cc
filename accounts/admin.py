from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.admin import DeclaredLookupsOnly


@admin.register(User)
class UserAdmin(DeclaredLookupsOnly, BaseUserAdmin):
    list_display = ("username", "get_full_name", "organisation", "is_active", "is_staff")
    list_filter = ("groups", "is_active", "is_staff", "organisation__kind")
    list_select_related = ("organisation",)
    autocomplete_fields = ("organisation",)
    fieldsets = (
        *BaseUserAdmin.fieldsets,  # type: ignore[misc]
        (_("Organisation"), {"fields": ("organisation",)}),
    )
