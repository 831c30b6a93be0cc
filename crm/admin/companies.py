"""Companies with their shared history of cases, and their contact persons (personal data)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin import DeclaredLookupsOnly
from crm import services
from crm.admin.merge import merge_url, merge_view
from crm.admin.search import companies_matching, normalised_term
from crm.forms import CompanyAdminForm
from crm.models import Case, Company, Contact
from crm.permissions import sees_contact_of, sees_texts_of, works_cases


@admin.register(Company)
class CompanyAdmin(DeclaredLookupsOnly):
    form = CompanyAdminForm
    list_display = ("name", "cvr", "municipality", "size_class", "industry")
    list_select_related = ("municipality",)
    search_fields = ("name",)
    search_help_text = _("Søg på navn eller CVR-nummer.")
    autocomplete_fields = ("municipality",)
    show_full_result_count = False
    sortable_by = ("name",)
    change_form_template = "admin/crm/company/change_form.html"
    actions = ["merge_companies"]

    class Media:
        css = {"all": ["crm/admin.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Company]:
        return Company.objects.visible_to(request.user)

    def get_urls(self) -> list[URLPattern]:
        def merge(request: HttpRequest) -> HttpResponse:
            context = {**self.admin_site.each_context(request), "opts": self.model._meta}
            return merge_view(request, admin_context=context)

        return [
            path("slaa-sammen/", self.admin_site.admin_view(merge), name="crm_company_merge"),
            *super().get_urls(),
        ]

    @admin.action(description=_("Slå de to valgte virksomheder sammen"), permissions=["merge"])
    def merge_companies(self, request: HttpRequest, queryset: QuerySet[Company]) -> Any:
        chosen = list(queryset.order_by("created_at", "pk")[:3])
        if len(chosen) != 2:
            self.message_user(
                request, gettext("Vælg præcis to virksomheder at slå sammen."), messages.WARNING
            )
            return None
        # Kept by default: the one with a CVR number, else the older one (the preview can swap).
        kept, duplicate = sorted(chosen, key=lambda company: company.cvr is None)
        return HttpResponseRedirect(merge_url(kept.pk, duplicate.pk))

    def has_merge_permission(self, request: HttpRequest) -> bool:
        return works_cases(request.user)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Company], search_term: str
    ) -> tuple[QuerySet[Company], bool]:
        term = normalised_term(search_term)
        if not term:
            return queryset, False
        return companies_matching(queryset, term), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Company | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Company | None = None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or Company.objects.editable_by(request.user).filter(pk=obj.pk).exists()

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # get_object, as Django's own views: an id that is not a number is no company (and
        # the change view below answers it with its usual redirect), not a server error.
        company = self.get_object(request, unquote(object_id))
        history: list[Case] = []
        if company is not None:
            history = list(
                Case.objects.filter(company=company)
                .select_related("hub", "adviser", "contact")
                .prefetch_related("referrals__offer", "referrals__operator", "themes")
                .order_by("-created_at")
            )
            for case in history:
                case.sees_contact = sees_contact_of(request.user, case)  # type: ignore[attr-defined]
                case.sees_texts = sees_texts_of(request.user, case)  # type: ignore[attr-defined]
        extra = {
            **(extra_context or {}),
            "shared_history": history,
            # What the state-aid rules still allow: de minimis over the rolling three years.
            "de_minimis": (
                services.de_minimis_headroom(cvr=company.cvr, day=timezone.localdate())
                if company is not None and company.cvr
                else None
            ),
            "de_minimis_ceiling_eur": settings.DE_MINIMIS_CEILING_EUR,
        }
        return super().change_view(request, object_id, form_url, extra)


@admin.register(Contact)
class ContactAdmin(DeclaredLookupsOnly):
    """Contacts are personal data: only superusers and the advisers of the contact's hub."""

    list_display = ("name", "company", "email", "phone", "anonymised_at")
    list_select_related = ("company",)
    search_fields = ("name", "email")
    readonly_fields = ("company", "consent_at", "consent_version", "anonymised_at", "created_at")
    fields = (
        "company",
        "name",
        "email",
        "phone",
        "role",
        "consent_at",
        "consent_version",
        "anonymised_at",
    )
    show_full_result_count = False
    sortable_by = ("name",)
    actions = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[Contact]:
        return Contact.objects.visible_to(request.user)

    def save_model(self, request: HttpRequest, obj: Contact, form: Any, change: bool) -> None:
        # Through the service: the scope is checked again and each case of the person notes it.
        try:
            services.contact_update(
                contact=obj,
                name=form.cleaned_data["name"],
                phone=form.cleaned_data["phone"],
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                actor=request.user,  # type: ignore[arg-type]
            )
        except services.CrmError as error:
            raise PermissionDenied(error.message) from error

    def has_module_permission(self, request: HttpRequest) -> bool:
        return works_cases(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Contact | None = None) -> bool:
        return self.has_module_permission(request) and super().has_view_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Contact | None = None) -> bool:
        if not self.has_module_permission(request):
            return False
        if obj is not None and obj.is_anonymised:
            return False
        return super().has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Contact | None = None) -> bool:
        return False
