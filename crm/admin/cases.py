"""The case queue and the case page of the adviser's workspace, with "Opret sag".

The list (scope, order, search, filters) is here; what the case page shows and its quick forms
are in ``case_page`` and ``case_actions``, and "Opret sag" in ``case_add``. Every change goes
through one service in ``crm.services`` and is written to the admin's audit log.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import F, QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.requests import acting_user
from core.admin import DeclaredLookupsOnly
from core.parsing import parse_int
from crm.admin import case_add
from crm.admin.case_actions import ACTIONS, referral_act
from crm.admin.case_page import case_forms, case_page_context
from crm.admin.display import deadline_badge, status_badge
from crm.admin.filters import (
    AdviserFilter,
    HubScopeFilter,
    OpenStatusFilter,
    OverdueFilter,
    ThemeFilter,
)
from crm.admin.pagination import CappedPaginator
from crm.admin.search import cases_matching, normalised_term
from crm.forms import CaseCreateForm, ReferralOutcomeForm
from crm.hub_words import hub_one
from crm.models import Case, Referral
from crm.offer_notes import offer_notes
from crm.permissions import adviser_hub_id, works_cases
from crm.selectors import offers_suggested_for
from crm.services import CrmError
from offers.models import Organisation


@admin.register(Case)
class CaseAdmin(DeclaredLookupsOnly):
    # The deadline comes right after the reference: it decides the order and must never be the
    # column that falls off a 1280 px screen.
    list_display = (
        "reference",
        "deadline",
        "company_name",
        "status_label",
        "adviser_name",
        "hub_name",
        "source_label",
    )
    list_display_links = ("reference",)
    list_select_related = ("company", "adviser", "hub", "partner")
    list_filter = (
        OpenStatusFilter,
        HubScopeFilter,
        OverdueFilter,
        ThemeFilter,
        AdviserFilter,
        "source",
        "language",
        "partner",
    )
    search_fields = ("reference",)
    search_help_text = _("Søg på sagsnummer, CVR-nummer, virksomhedens eller kontaktens navn.")
    # A full COUNT(*) over every case a user can see is slow at national scale and tells nothing.
    show_full_result_count = False
    list_per_page = 50
    paginator = CappedPaginator
    sortable_by = ()
    actions = None

    class Media:
        css = {"all": ["crm/admin.css"]}

    # --- The queue ---

    def get_queryset(self, request: HttpRequest) -> QuerySet[Case]:
        cases = Case.objects.visible_to(request.user)
        match = request.resolver_match
        if (
            match is not None
            and match.url_name == "crm_case_changelist"
            and adviser_hub_id(request.user) is not None
            and request.GET.get(HubScopeFilter.parameter_name, "mine") == "mine"
        ):
            # The adviser's own queue needs none of the shared history, and the planner cannot
            # drop the "OR company in (...)" of visible_to by itself.
            cases = Case.objects.editable_by(request.user)
        return cases.select_related("company", "adviser", "hub").prefetch_related("themes")

    def get_list_display(self, request: HttpRequest) -> Any:
        """An adviser's own queue has one hub only: no column for it."""
        columns = super().get_list_display(request)
        if (
            adviser_hub_id(request.user) is not None
            and request.GET.get(HubScopeFilter.parameter_name, "mine") == "mine"
        ):
            return tuple(column for column in columns if column != "hub_name")
        return columns

    def get_ordering(self, request: HttpRequest) -> list[Any]:
        # Overdue first: cases awaiting a first response by deadline, then the rest by deadline.
        return [F("first_responded_at").asc(nulls_first=True), "first_response_due", "id"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Case], search_term: str
    ) -> tuple[QuerySet[Case], bool]:
        term = normalised_term(search_term)
        if not term:
            return queryset, False
        return cases_matching(queryset, term, user=request.user), False

    @admin.display(description=_("virksomhed og temaer"))
    def company_name(self, case: Case) -> str:
        # The themes under the name rather than in a column of their own: the list fits 1280 px.
        themes = self.theme_names(case)
        if not themes:
            return case.company.name
        return format_html(
            '{}<br><span class="crm-muted crm-list-themes">{}</span>', case.company.name, themes
        )

    @admin.display(description=_("status"))
    def status_label(self, case: Case) -> str:
        return status_badge(case)

    @admin.display(description=_("temaer"))
    def theme_names(self, case: Case) -> str:
        return ", ".join(theme.label for theme in case.themes.all())

    @admin.display(description=_("frist"))
    def deadline(self, case: Case) -> str:
        return deadline_badge(case, timezone.localdate())

    @admin.display(description=_("rådgiver"))
    def adviser_name(self, case: Case) -> str:
        if case.adviser is None:
            return "–"
        return case.adviser.get_full_name() or case.adviser.username

    @admin.display(description=hub_one())
    def hub_name(self, case: Case) -> str:
        return case.hub.name

    @admin.display(description=_("kilde"))
    def source_label(self, case: Case) -> str:
        """The channel, and for a partner's request the partner (its page or key on the case)."""
        label = case.get_source_display()
        if case.partner is not None:
            return f"{label}: {case.partner.name}"
        return str(label)

    # --- Permissions: cases come from the guidance request flow or are opened by an adviser of
    # the hub ("Opret sag"); they are never deleted here. ---

    def has_add_permission(self, request: HttpRequest) -> bool:
        if not super().has_add_permission(request):
            return False
        return works_cases(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Case | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Case | None = None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        if obj is None:
            return True
        return Case.objects.editable_by(request.user).filter(pk=obj.pk).exists()

    # --- The case page and its quick forms ---

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/handling/<slug:action>/",
                wrap(require_POST(self.action_view)),
                name="crm_case_action",
            ),
            path(
                "<path:object_id>/henvisning/<int:referral_id>/<slug:action>/",
                wrap(require_POST(self.referral_action_view)),
                name="crm_case_referral_action",
            ),
            path(
                "<path:object_id>/tilbud/",
                wrap(self.offer_autocomplete_view),
                name="crm_case_offers",
            ),
            *super().get_urls(),
        ]

    def _visible_case(self, request: HttpRequest, object_id: str) -> Case:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        case_id = parse_int(object_id)
        case = (
            self.get_queryset(request).select_related("contact").filter(pk=case_id).first()
            if case_id is not None
            else None
        )
        if case is None:
            raise Http404(gettext("Sagen findes ikke, eller du har ikke adgang til den."))
        return case

    def _editable_case(self, request: HttpRequest, object_id: str) -> Case:
        case = self._visible_case(request, unquote(object_id))
        if not self.has_change_permission(request, case):
            raise PermissionDenied
        return case

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method not in {"GET", "HEAD"}:
            # The case page only shows; every change is a quick form with its own address.
            return HttpResponseNotAllowed(["GET", "HEAD"])
        case = self._visible_case(request, unquote(object_id))
        return self._render_case(request, case, case_forms(request, case, bound=None))

    def action_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        if action not in ACTIONS:
            raise Http404
        case = self._editable_case(request, object_id)
        forms_by_name = case_forms(request, case, bound=action)
        form = forms_by_name[action]
        if form.is_valid():
            try:
                message = ACTIONS[action](request, case, form)
            except CrmError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                return self._done(request, case, message)
        return self._render_case(request, case, forms_by_name, failed=action, status=400)

    def referral_action_view(
        self, request: HttpRequest, object_id: str, referral_id: int, action: str
    ) -> HttpResponse:
        case = self._editable_case(request, object_id)
        referral = get_object_or_404(Referral, pk=referral_id, case=case)
        form = ReferralOutcomeForm(request.POST, prefix=f"referral-{referral.pk}")
        try:
            message = referral_act(request, referral, action, form)
        except CrmError as error:
            return self._referral_refused(request, case, referral, form, error)
        return self._done(request, case, message, logged=f"{message} ({referral.target_label})")

    def _referral_refused(
        self,
        request: HttpRequest,
        case: Case,
        referral: Referral,
        form: forms.Form,
        error: CrmError,
    ) -> HttpResponse:
        forms_by_name = case_forms(request, case, bound=None)
        forms_by_name[f"referral-{referral.pk}"] = form
        if not form.errors:
            form.add_error(None, error.message)
        elif error.field and error.field not in form.errors:
            form.add_error(error.field, error.message)
        return self._render_case(request, case, forms_by_name, failed="referral", status=400)

    def _done(
        self, request: HttpRequest, case: Case, message: str, *, logged: str | None = None
    ) -> HttpResponse:
        """After a change: the audit log, the message, and back to the case page."""
        self.log_change(request, case, logged if logged is not None else message)
        messages.success(request, message)
        return HttpResponseRedirect(reverse("admin:crm_case_change", args=[case.pk]))

    def offer_autocomplete_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        case = self._editable_case(request, object_id)
        offers = offers_suggested_for(case, term=request.GET.get("term", ""), limit=30)
        # What works for companies like this one, and what the state-aid rules allow.
        notes = offer_notes(case.company, offers)
        return JsonResponse(
            {
                "results": [
                    {
                        "id": str(offer.pk),
                        "text": " — ".join(
                            [f"{offer.title} ({offer.operator.name})", *notes.get(offer.pk, [])]
                        ),
                    }
                    for offer in offers
                ],
                "pagination": {"more": False},
            }
        )

    def _render_case(
        self,
        request: HttpRequest,
        case: Case,
        forms_by_name: dict[str, Any],
        *,
        failed: str | None = None,
        status: int = 200,
    ) -> HttpResponse:
        editable = self.has_change_permission(request, case)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            **case_page_context(
                request.user, case, forms_by_name, editable=editable, failed=failed
            ),
            "media": self.media + forms_by_name["refer"].media,
            "has_view_permission": True,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/crm/case/case_page.html", context, status=status)

    # --- Opret sag ---

    def add_view(
        self,
        request: HttpRequest,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """Opret sag: a case the company brought by phone, by e-mail or from its municipality."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        own_hub_id = adviser_hub_id(request.user)
        own_hub = Organisation.objects.get(pk=own_hub_id) if own_hub_id is not None else None
        form = CaseCreateForm(
            request.POST if request.method == "POST" else None, choose_hub=own_hub is None
        )
        if form.is_bound and form.is_valid():
            # An adviser's case goes to their own hub, whatever else was posted.
            sent = self._register(request, form, hub=own_hub or form.cleaned_data["hub"])
            if sent is not None:
                return sent
        return self._render_add(request, form, own_hub)

    def _register(
        self, request: HttpRequest, form: CaseCreateForm, *, hub: Organisation
    ) -> HttpResponse | None:
        """Open the case of a valid form; None when it was refused (the form has the errors)."""
        actor = acting_user(request)
        once = case_add.form_once(actor, form)
        if not once.claim():
            return case_add.sent_before(request, once.result())
        try:
            case = case_add.case_register_from(form, actor=actor, hub=hub)
        except CrmError as error:
            # Refused: the adviser corrects the form and sends the same nonce again.
            once.release()
            field = "assign_to_me" if error.field == "adviser" else error.field
            form.add_error(field if field in form.fields else None, error.message)
            return None
        once.done(case.pk)
        message = case_add.registered_message(case, actor)
        self.log_addition(request, case, message)
        messages.success(request, message)
        return HttpResponseRedirect(reverse("admin:crm_case_change", args=[case.pk]))

    def _render_add(
        self, request: HttpRequest, form: CaseCreateForm, own_hub: Organisation | None
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Opret sag"),
            "subtitle": None,
            "form": form,
            "own_hub": own_hub,
            "errors": case_add.error_summary(form),
            "media": self.media + form.media,
            "has_view_permission": True,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request,
            "admin/crm/case/case_add.html",
            context,
            status=400 if form.is_bound else 200,
        )
