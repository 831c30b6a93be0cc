"""The outbox in the admin: read-only for superusers, with "Send igen" for failed e-mails.

Registered in ``crm/admin/audit.py`` with the other records superusers read.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import SuperuserReadOnlyAdmin
from crm import outbox
from crm.models import Notification


class KindFilter(admin.SimpleListFilter):
    title = _("type")
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return outbox.kind_choices()

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value():
            return queryset.filter(kind=self.value())
        return queryset


class OutboxAdmin(SuperuserReadOnlyAdmin):
    """Every e-mail the portal sends, for superusers: what failed, why, and when it tries next."""

    list_display = (
        "created_at",
        "kind_label",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "sent_at",
    )
    list_filter = ("status", KindFilter)
    # The address is personal data: searchable by a superuser looking for one person's mail.
    search_fields = ("=recipient",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    # ReadOnlyAdmin switches actions off (None); this one has exactly one.
    actions = ["resend"]  # type: ignore[assignment]

    @admin.display(description=_("type"), ordering="kind")
    def kind_label(self, notification: Notification) -> str:
        return outbox.kind_label(notification.kind)

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    @admin.action(description=_("Send igen"), permissions=["resend"])
    def resend(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        count = outbox.notifications_resend(ids=ids)
        self.message_user(
            request,
            ngettext(
                "%(count)d fejlet e-mail sendes igen inden for et minut.",
                "%(count)d fejlede e-mails sendes igen inden for et minut.",
                count,
            )
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )
        if count < len(ids):
            self.message_user(
                request,
                _("Kun fejlede e-mails med en modtager kan sendes igen; de andre er urørte."),
                messages.WARNING,
            )
