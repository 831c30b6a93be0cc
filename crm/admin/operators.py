"""The operator's workspace: the referrals to its organisation, and its answers.

Staff of an operator (role "Operatør") see here the referrals to their own organisation, directly
or through one of its offers (``Referral.objects.to_operator_of``), each with the company, its
need and, only when the adviser chose to share it, its contact. Nothing else of the CRM: the
case's timeline, notes, other referrals and the company's other cases stay with the hubs. They
accept, decline with a reason, or mark the referral completed; each answer is one service call
(``crm.services.referral_*``), which checks the operator again on the locked rows, writes the
case's timeline entry and e-mails the adviser.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.requests import acting_user
from core.admin import DeclaredLookupsOnly
from core.parsing import parse_int
from crm import services
from crm.forms import DesignSystemForm, OperatorCompleteForm, OperatorDeclineForm
from crm.models import OperatorReferral, Referral
from crm.permissions import answers_referral, is_active_superuser, operator_organisation_id
from crm.services import CrmError

ANSWERS = ("accept", "decline", "complete")


def _forms(data: Any = None, *, bound: str | None = None) -> dict[str, forms.Form]:
    return {
        "accept": DesignSystemForm(data if bound == "accept" else None, prefix="accept"),
        "decline": OperatorDeclineForm(data if bound == "decline" else None, prefix="decline"),
        "complete": OperatorCompleteForm(data if bound == "complete" else None, prefix="complete"),
    }


@admin.register(OperatorReferral)
class OperatorReferralAdmin(DeclaredLookupsOnly):
    list_display = ("created_at", "company_name", "target", "hub_name", "status_label")
    list_display_links = ("created_at", "company_name")
    list_select_related = ("case__company", "case__hub", "offer", "operator")
    list_filter = ("status",)
    list_per_page = 50
    sortable_by = ()
    actions = None

    class Media:
        css = {"all": ["crm/admin.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[OperatorReferral]:
        user = request.user
        referrals = (
            OperatorReferral.objects.all()
            if is_active_superuser(user)
            else OperatorReferral.objects.to_operator_of(user)
        )
        return referrals.select_related(*self.list_select_related).order_by("-created_at", "-id")

    @admin.display(description=_("virksomhed"))
    def company_name(self, referral: Referral) -> str:
        return referral.case.company.name

    @admin.display(description=_("henvist til"))
    def target(self, referral: Referral) -> str:
        return referral.target_label

    @admin.display(description=_("fra"))
    def hub_name(self, referral: Referral) -> str:
        return referral.case.hub.name

    @admin.display(description=_("status"))
    def status_label(self, referral: Referral) -> str:
        if referral.decline_reason:
            return f"{referral.get_status_display()}: {referral.get_decline_reason_display()}"
        return str(referral.get_status_display())

    # --- Permissions: operators (and superusers, to look) only; nothing is added or deleted. ---

    def _allowed(self, request: HttpRequest) -> bool:
        user = request.user
        return is_active_superuser(user) or operator_organisation_id(user) is not None

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request) and super().has_view_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not (self._allowed(request) and super().has_change_permission(request, obj)):
            return False
        return obj is None or answers_referral(request.user, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        title = gettext("Henvisninger til jeres organisation")
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    # --- The referral page and its answers ---

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/svar/<slug:answer>/",
                wrap(require_POST(self.answer_view)),
                name="crm_operatorreferral_answer",
            ),
            *super().get_urls(),
        ]

    def _visible(self, request: HttpRequest, object_id: str) -> OperatorReferral:
        if not self.has_view_permission(request):
            raise PermissionDenied
        referral_id = parse_int(unquote(object_id))
        referral = (
            self.get_queryset(request)
            .select_related("case__contact", "case__adviser", "case__company__municipality")
            .filter(pk=referral_id)
            .first()
            if referral_id is not None
            else None
        )
        if referral is None:
            raise Http404(gettext("Henvisningen findes ikke, eller du har ikke adgang til den."))
        return referral

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method not in {"GET", "HEAD"}:
            # The page only shows; each answer is a form with its own address.
            return HttpResponseNotAllowed(["GET", "HEAD"])
        referral = self._visible(request, object_id)
        return self._render(request, referral, _forms())

    def answer_view(self, request: HttpRequest, object_id: str, answer: str) -> HttpResponse:
        if answer not in ANSWERS:
            raise Http404
        referral = self._visible(request, object_id)
        if not self.has_change_permission(request, referral):
            raise PermissionDenied
        forms_by_name = _forms(request.POST, bound=answer)
        form = forms_by_name[answer]
        if form.is_valid():
            try:
                message = self._answer(request, referral, answer, form)
            except CrmError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                self.log_change(request, referral, message)
                messages.success(request, message)
                return HttpResponseRedirect(
                    reverse("admin:crm_operatorreferral_change", args=[referral.pk])
                )
        return self._render(request, referral, forms_by_name, failed=answer, status=400)

    def _answer(
        self, request: HttpRequest, referral: Referral, answer: str, form: forms.Form
    ) -> str:
        actor = acting_user(request)
        if answer == "accept":
            services.referral_accept(referral=referral, actor=actor)
            return gettext("I har accepteret henvisningen. Rådgiveren har fået besked.")
        if answer == "decline":
            services.referral_decline(
                referral=referral,
                reason=form.cleaned_data["reason"],
                outcome=form.cleaned_data.get("text", ""),
                actor=actor,
            )
            return gettext("I har afvist henvisningen. Rådgiveren har fået besked.")
        services.referral_complete(
            referral=referral, outcome=form.cleaned_data["outcome"], actor=actor
        )
        return gettext("Henvisningen er gennemført. Rådgiveren har fået besked.")

    def _render(
        self,
        request: HttpRequest,
        referral: OperatorReferral,
        forms_by_name: dict[str, forms.Form],
        *,
        failed: str | None = None,
        status: int = 200,
    ) -> HttpResponse:
        case = referral.case
        contact = (
            case.contact if referral.share_contact and not case.contact.is_anonymised else None
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Henvisning af %(company)s") % {"company": case.company.name},
            "subtitle": None,
            "referral": referral,
            "case": case,
            "company": case.company,
            "themes": list(case.themes.all()),
            "contact": contact,
            "answerable": self.has_change_permission(request, referral)
            and case.is_open
            and referral.status in (Referral.Status.PROPOSED, Referral.Status.ACCEPTED),
            "forms": forms_by_name,
            "failed": failed,
            "failed_errors": [
                str(message)
                for errors in (forms_by_name[failed].errors.values() if failed else [])
                for message in errors
            ],
            "history_url": reverse("admin:crm_operatorreferral_history", args=[referral.pk]),
            "media": self.media,
            "has_view_permission": True,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request, "admin/crm/operatorreferral/referral_page.html", context, status=status
        )
