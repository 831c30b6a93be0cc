"""For superusers: the audit log of the admin, the e-mail outbox and the erasure records."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin import SuperuserReadOnlyAdmin
from crm.admin.outbox import OutboxAdmin
from crm.models import ErasureRecord, Notification


@admin.register(LogEntry)
class LogEntryAdmin(SuperuserReadOnlyAdmin):
    """Who changed what and when, for every change made in the admin."""

    list_display = ("action_time", "user", "content_type", "object_repr", "action", "message")
    list_select_related = ("user", "content_type")
    list_filter = ("action_flag", "content_type")
    search_fields = ("object_repr", "change_message", "user__username")
    date_hierarchy = "action_time"
    show_full_result_count = False

    @admin.display(description=_("handling"))
    def action(self, entry: LogEntry) -> str:
        return {1: gettext("Oprettet"), 2: gettext("Ændret"), 3: gettext("Slettet")}.get(
            entry.action_flag, ""
        )

    @admin.display(description=_("besked"))
    def message(self, entry: LogEntry) -> str:
        return entry.get_change_message()


# The outbox: read-only but for "Send igen" on failed e-mails (crm/admin/outbox.py).
admin.site.register(Notification, OutboxAdmin)


@admin.register(ErasureRecord)
class ErasureRecordAdmin(SuperuserReadOnlyAdmin):
    list_display = ("erased_at", "reason", "contacts", "cases", "notifications", "erased_by")
    list_filter = ("reason",)
