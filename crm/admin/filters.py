"""The filters of the case queue: status, hub scope, deadline, theme, adviser."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.parsing import parse_int
from crm.hub_words import hub_one, hub_words
from crm.models import Case
from crm.permissions import adviser_hub_id
from offers.models import Organisation, Theme


class OpenStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("open", _("Åbne")), *Case.Status.choices, ("all", _("Alle"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Case]) -> QuerySet[Case]:
        value = self.value() or "open"
        if value == "open":
            return queryset.exclude(status=Case.Status.CLOSED)
        if value in Case.Status.values:
            return queryset.filter(status=value)
        return queryset

    def choices(self, changelist: Any) -> Any:
        current = self.value() or "open"
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class HubScopeFilter(admin.SimpleListFilter):
    """Advisers start on their own hub's queue; the shared history is one click away."""

    title = hub_one()
    parameter_name = "hub"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        if adviser_hub_id(request.user) is not None:
            return [("mine", hub_words(_("Mit %(hub)s"))), ("all", _("Alle, jeg kan se"))]

        return [("all", _("Alle")), *Organisation.objects.hubs().values_list("slug", "name")]

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        self.request = request
        super().__init__(request, *args, **kwargs)

    def default(self, request: HttpRequest) -> str:
        return "mine" if adviser_hub_id(request.user) is not None else "all"

    def queryset(self, request: HttpRequest, queryset: QuerySet[Case]) -> QuerySet[Case]:
        value = self.value() or self.default(request)
        if value == "mine":
            return queryset.filter(hub_id=adviser_hub_id(request.user))
        if value != "all":
            return queryset.filter(hub__slug=value)
        return queryset

    def choices(self, changelist: Any) -> Any:
        current = self.value() or self.default(self.request)
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class ThemeFilter(admin.SimpleListFilter):
    title = _("tema")
    parameter_name = "theme"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return list(Theme.objects.order_by("position", "name").values_list("slug", "name"))

    def queryset(self, request: HttpRequest, queryset: QuerySet[Case]) -> QuerySet[Case]:
        if self.value():
            return queryset.filter(themes__slug=self.value())
        return queryset


class AdviserFilter(admin.SimpleListFilter):
    title = _("rådgiver")
    parameter_name = "adviser"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        choices: list[tuple[str, Any]] = [("me", _("Mig")), ("none", _("Ingen endnu"))]
        hub_id = adviser_hub_id(request.user)
        if hub_id is not None:
            for user in User.objects.filter(
                organisation_id=hub_id, is_active=True, groups__name=User.Role.ADVISER
            ).order_by("first_name", "username"):
                choices.append((str(user.pk), user.get_full_name() or user.username))
        return choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[Case]) -> QuerySet[Case]:
        value = self.value()
        if value == "me":
            return queryset.filter(adviser_id=request.user.pk)
        if value == "none":
            return queryset.filter(adviser__isnull=True)
        adviser_id = parse_int(value)
        if adviser_id is not None:
            return queryset.filter(adviser_id=adviser_id)
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    title = _("frist for første svar")
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Overskredet")), ("no", _("Ikke overskredet"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Case]) -> QuerySet[Case]:
        today = timezone.localdate()
        if self.value() == "yes":
            return queryset.overdue_on(today)  # type: ignore[attr-defined]
        if self.value() == "no":
            return queryset.exclude(pk__in=Case.objects.overdue_on(today).values("pk"))
        return queryset
