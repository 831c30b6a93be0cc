"""Who leads each Væksthus, for the reminder ladder's alerts; kept by superusers."""

from __future__ import annotations

from django.contrib import admin

from core.admin import DeclaredLookupsOnly
from crm.models import HubLead


@admin.register(HubLead)
class HubLeadAdmin(DeclaredLookupsOnly):
    list_display = ("hub", "lead")
    list_select_related = ("hub", "lead")
    raw_id_fields = ("lead",)
