"""The adviser's workspace: the case queue, the case page with its quick forms, the company page.

Every change made here goes through one service in ``crm.services`` and is written to the admin's
audit log (``LogEntry``), which superusers read under "Revisionslog".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.requests import acting_user
from core.admin import SuperuserReadOnlyAdmin
from core.once import FormOnce
from core.parsing import parse_int
from crm import services
from crm.forms import (
    AssignForm,
    CaseCreateForm,
    CloseForm,
    CompanyAdminForm,
    NoteForm,
    ReferralForm,
    ReferralOutcomeForm,
    TakeForm,
    TransferForm,
    TransitionForm,
)
from crm.models import (
    CONSENT_VERSION,
    Case,
    Company,
    Contact,
    ErasureRecord,
    Notification,
    Referral,
)
from crm.permissions import (
    adviser_hub_id,
    cases_found_by_contact,
    may_take,
    sees_contact_of,
    works_cases,
)
from crm.selectors import offers_suggested_for
from crm.services import CrmError
from offers.models import Organisation, Theme

CVR_TERM = re.compile(r"^(?:DK)?\s*(\d{2}\s?\d{2}\s?\d{2}\s?\d{2})$", re.IGNORECASE)
REFERENCE_TERM = re.compile(r"^EF-\d{4}-\d+$", re.IGNORECASE)
#: Case lists count at most this many rows (20 pages of 50); beyond it they say "more than".
LIST_COUNT_CAP = 1000


class CappedPaginator(Paginator):
    """Counts a case list only up to :data:`LIST_COUNT_CAP` + 1 rows.

    An exact COUNT(*) of the shared history (every open case of every company that has a case at
    the hub) reads hundreds of thousands of rows at national scale to print one number nobody
    pages through; finding the first thousand and one rows, in any order, is enough to draw the
    pages and to say "more than 1,000".
    """

    cap = LIST_COUNT_CAP

    @cached_property
    def counted(self) -> int:
        """Rows found, at most ``cap`` + 1 (one more tells that the list goes on)."""
        object_list: Any = self.object_list
        return int(object_list.order_by()[: self.cap + 1].count())

    @cached_property
    def count(self) -> int:
        return min(self.counted, self.cap)

    @property
    def capped(self) -> bool:
        return self.counted > self.cap


def deadline_badge(case: Case, today: Any) -> str:
    if not case.is_open:
        return format_html('<span class="crm-badge">{}</span>', gettext("Lukket"))
    due = case.first_response_due
    if case.first_responded_at is not None:
        return format_html('<span class="crm-badge crm-badge--done">{}</span>', gettext("Besvaret"))
    if due < today:
        # The word carries the meaning, the colour only repeats it.
        return format_html(
            '<span class="crm-badge crm-badge--overdue">{} · {}</span>',
            gettext("Overskredet"),
            due.strftime("%d.%m.%Y"),
        )
    return format_html(
        '<span class="crm-badge crm-badge--due">{} {}</span>',
        gettext("Frist"),
        due.strftime("%d.%m.%Y"),
    )


# --- Case list filters --------------------------------------------------------------------------


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

    title = _("Væksthus")
    parameter_name = "hub"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        if adviser_hub_id(request.user) is not None:
            return [("mine", _("Mit Væksthus")), ("all", _("Alle, jeg kan se"))]
        from offers.models import Organisation

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


# --- Case admin ---------------------------------------------------------------------------------

Action = Callable[[HttpRequest, Case, forms.Form], str]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = (
        "reference",
        "company_name",
        "status_label",
        "theme_names",
        "deadline",
        "adviser_name",
        "hub",
    )
    list_display_links = ("reference",)
    list_select_related = ("company", "adviser", "hub")
    list_filter = (
        OpenStatusFilter,
        HubScopeFilter,
        OverdueFilter,
        ThemeFilter,
        AdviserFilter,
        "source",
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

    def get_ordering(self, request: HttpRequest) -> list[Any]:
        # Overdue first: cases awaiting a first response by deadline, then the rest by deadline.
        return [F("first_responded_at").asc(nulls_first=True), "first_response_due", "id"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Case], search_term: str
    ) -> tuple[QuerySet[Case], bool]:
        term = " ".join(search_term.split())
        if not term:
            return queryset, False
        if REFERENCE_TERM.match(term):
            return queryset.filter(reference=term.upper()), False
        cvr = CVR_TERM.match(term)
        if cvr:
            return queryset.filter(company__cvr=re.sub(r"\s", "", cvr.group(1))), False
        # A union of two index lookups (trigram name → company or contact → its cases): an OR of
        # the two would make PostgreSQL test every open case of the hub against both.
        matches = Case.objects.filter(
            company__in=Company.objects.filter(name__icontains=term)
        ).values("pk")
        by_contact = cases_found_by_contact(
            request.user,
            Case.objects.filter(contact__in=Contact.objects.filter(name__icontains=term)),
        )
        if by_contact is not None:
            matches = matches.union(by_contact.values("pk"))
        return queryset.filter(pk__in=matches), False

    @admin.display(description=_("virksomhed"))
    def company_name(self, case: Case) -> str:
        return case.company.name

    @admin.display(description=_("status"))
    def status_label(self, case: Case) -> str:
        return format_html(
            '<span class="crm-status crm-status--{}">{}</span>',
            case.status,
            case.get_status_display(),
        )

    @admin.display(description=_("temaer"))
    def theme_names(self, case: Case) -> str:
        return ", ".join(theme.name for theme in case.themes.all())

    @admin.display(description=_("frist"))
    def deadline(self, case: Case) -> str:
        return deadline_badge(case, timezone.localdate())

    @admin.display(description=_("rådgiver"))
    def adviser_name(self, case: Case) -> str:
        if case.adviser is None:
            return "–"
        return case.adviser.get_full_name() or case.adviser.username

    # Permissions: cases come from the guidance request flow or are opened by an adviser of the
    # hub ("Opret sag"); they are never deleted here.

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

    # The case page and its quick forms.

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

    def _forms(self, request: HttpRequest, case: Case, bound: str | None) -> dict[str, Any]:
        def data(name: str) -> Any:
            return request.POST if bound == name else None

        offers_url = reverse("admin:crm_case_offers", args=[case.pk])
        return {
            "take": TakeForm(data("take"), prefix="take"),
            "note": NoteForm(data("note"), prefix="note"),
            "transition": TransitionForm(data("transition"), prefix="transition", case=case),
            "refer": ReferralForm(data("refer"), prefix="refer", autocomplete_url=offers_url),
            "assign": AssignForm(data("assign"), prefix="assign", case=case),
            "transfer": TransferForm(data("transfer"), prefix="transfer", case=case),
            "close": CloseForm(data("close"), prefix="close"),
        }

    def _actions(self) -> dict[str, Action]:
        def take(request: HttpRequest, case: Case, form: forms.Form) -> str:
            user = acting_user(request)
            services.case_assign(case=case, adviser=user, actor=user)
            return gettext("Du har taget sagen.")

        def assign(request: HttpRequest, case: Case, form: forms.Form) -> str:
            adviser = form.cleaned_data["adviser"]
            services.case_assign(case=case, adviser=adviser, actor=acting_user(request))
            return gettext("Sagen er tildelt %(name)s.") % {
                "name": adviser.get_full_name() or adviser.username
            }

        def note(request: HttpRequest, case: Case, form: forms.Form) -> str:
            entry = services.case_note_add(
                case=case,
                kind=form.cleaned_data["kind"],
                text=form.cleaned_data["text"],
                actor=acting_user(request),
            )
            return gettext("%(kind)s er tilføjet.") % {"kind": entry.get_kind_display()}

        def transition(request: HttpRequest, case: Case, form: forms.Form) -> str:
            case = services.case_transition(
                case=case,
                status=form.cleaned_data["status"],
                actor=acting_user(request),
            )
            return gettext("Status er nu %(status)s.") % {"status": case.get_status_display()}

        def refer(request: HttpRequest, case: Case, form: forms.Form) -> str:
            referral = services.referral_create(
                case=case,
                offer=form.cleaned_data.get("offer"),
                operator=form.cleaned_data.get("operator"),
                note=form.cleaned_data.get("note", ""),
                actor=acting_user(request),
            )
            return gettext("Virksomheden er henvist til %(target)s.") % {
                "target": referral.target_label
            }

        def transfer(request: HttpRequest, case: Case, form: forms.Form) -> str:
            hub = form.cleaned_data["hub"]
            services.case_transfer(
                case=case,
                hub=hub,
                reason=form.cleaned_data["reason"],
                actor=acting_user(request),
            )
            return gettext("Sagen er overdraget til %(hub)s.") % {"hub": hub.name}

        def close(request: HttpRequest, case: Case, form: forms.Form) -> str:
            case = services.case_close(
                case=case,
                outcome=form.cleaned_data["outcome"],
                outcome_text=form.cleaned_data.get("outcome_text", ""),
                actor=acting_user(request),
            )
            return gettext("Sagen er lukket: %(outcome)s.") % {
                "outcome": case.get_outcome_display()
            }

        return {
            "take": take,
            "assign": assign,
            "note": note,
            "transition": transition,
            "refer": refer,
            "transfer": transfer,
            "close": close,
        }

    def action_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        handlers = self._actions()
        if action not in handlers:
            raise Http404
        case = self._editable_case(request, object_id)
        forms_by_name = self._forms(request, case, bound=action)
        form = forms_by_name[action]
        if form.is_valid():
            try:
                message = handlers[action](request, case, form)
            except CrmError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                self.log_change(request, case, message)
                messages.success(request, message)
                return HttpResponseRedirect(reverse("admin:crm_case_change", args=[case.pk]))
        return self._render_case(request, case, forms_by_name, failed=action, status=400)

    def referral_action_view(
        self, request: HttpRequest, object_id: str, referral_id: int, action: str
    ) -> HttpResponse:
        case = self._editable_case(request, object_id)
        referral = get_object_or_404(Referral, pk=referral_id, case=case)
        form = ReferralOutcomeForm(request.POST, prefix=f"referral-{referral.pk}")
        try:
            if action == "accept":
                services.referral_accept(referral=referral, actor=acting_user(request))
                message = gettext("Henvisningen er accepteret.")
            elif action in ("complete", "decline"):
                if not form.is_valid():
                    raise CrmError(gettext("Skriv, hvordan henvisningen endte."), field="outcome")
                finish = (
                    services.referral_complete
                    if action == "complete"
                    else services.referral_decline
                )
                finish(
                    referral=referral,
                    outcome=form.cleaned_data["outcome"],
                    actor=acting_user(request),
                )
                message = (
                    gettext("Henvisningen er gennemført.")
                    if action == "complete"
                    else gettext("Henvisningen er afvist.")
                )
            else:
                raise Http404
        except CrmError as error:
            forms_by_name = self._forms(request, case, bound=None)
            forms_by_name[f"referral-{referral.pk}"] = form
            if not form.errors:
                form.add_error(None, error.message)
            elif error.field and error.field not in form.errors:
                form.add_error(error.field, error.message)
            return self._render_case(request, case, forms_by_name, failed="referral", status=400)
        self.log_change(request, case, f"{message} ({referral.target_label})")
        messages.success(request, message)
        return HttpResponseRedirect(reverse("admin:crm_case_change", args=[case.pk]))

    def offer_autocomplete_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        case = self._editable_case(request, object_id)
        offers = offers_suggested_for(case, term=request.GET.get("term", ""), limit=30)
        return JsonResponse(
            {
                "results": [
                    {"id": str(offer.pk), "text": f"{offer.title} ({offer.operator.name})"}
                    for offer in offers
                ],
                "pagination": {"more": False},
            }
        )

    def add_view(
        self,
        request: HttpRequest,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """Opret sag: a case the company brought by phone, by e-mail or from its municipality."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        user = acting_user(request)
        own_hub_id = adviser_hub_id(user)
        own_hub = Organisation.objects.get(pk=own_hub_id) if own_hub_id is not None else None
        form = CaseCreateForm(
            request.POST if request.method == "POST" else None, choose_hub=own_hub is None
        )
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            # An adviser's case goes to their own hub, whatever else was posted.
            hub = own_hub or data["hub"]
            once = FormOnce(scope="crm:case-add", user_id=user.pk, nonce=data["nonce"])
            if not once.claim():
                return _sent_before(request, once.result())
            try:
                case = _with_one_retry(
                    lambda: services.case_register(
                        actor=user,
                        hub=hub,
                        source=data["source"],
                        cvr=data["cvr"],
                        company_name=data["company_name"],
                        municipality=data["municipality"],
                        industry=data["industry"] or None,
                        employees=data["employees"],
                        contact_name=data["contact_name"],
                        contact_email=data["contact_email"],
                        contact_phone=data["contact_phone"],
                        consent_version=CONSENT_VERSION,
                        needs=data["needs"],
                        themes=data["themes"],
                        assign_to_actor=data["assign_to_me"],
                    )
                )
            except CrmError as error:
                # Refused: the adviser corrects the form and sends the same nonce again.
                once.release()
                field = "assign_to_me" if error.field == "adviser" else error.field
                form.add_error(field if field in form.fields else None, error.message)
            else:
                once.done(case.pk)
                message = (
                    gettext("Sag %(reference)s er oprettet, og du har taget den.")
                    if case.adviser_id == user.pk
                    else gettext("Sag %(reference)s er oprettet.")
                ) % {"reference": case.reference}
                self.log_addition(request, case, message)
                messages.success(request, message)
                return HttpResponseRedirect(reverse("admin:crm_case_change", args=[case.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Opret sag"),
            "subtitle": None,
            "form": form,
            "own_hub": own_hub,
            "errors": _error_summary(form),
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

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        case = self._visible_case(request, unquote(object_id))
        return self._render_case(request, case, self._forms(request, case, bound=None))

    def _render_case(
        self,
        request: HttpRequest,
        case: Case,
        forms_by_name: dict[str, Any],
        *,
        failed: str | None = None,
        status: int = 200,
    ) -> HttpResponse:
        user = request.user
        editable = self.has_change_permission(request, case)
        referrals = list(case.referrals.select_related("offer", "operator", "created_by"))
        for referral in referrals:
            key = f"referral-{referral.pk}"
            if key not in forms_by_name:
                forms_by_name[key] = ReferralOutcomeForm(prefix=key)
            referral.outcome_form = forms_by_name[key]  # type: ignore[attr-defined]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{case.reference} · {case.company.name}",
            "subtitle": None,
            "case": case,
            "today": timezone.localdate(),
            "deadline": deadline_badge(case, timezone.localdate()),
            "editable": editable and case.is_open,
            "read_only_reason": None if editable else case.hub.name,
            "sees_contact": sees_contact_of(user, case),
            "sees_texts": works_cases(user),
            "timeline": list(case.timeline.select_related("actor")[:200]),
            "referrals": referrals,
            "matches": list(case.case_offers.select_related("offer")[:10]),
            "forms": forms_by_name,
            "failed": failed,
            "failed_errors": _error_messages(forms_by_name, failed),
            "takeable": may_take(user, case),
            "media": self.media + forms_by_name["refer"].media,
            "has_view_permission": True,
            "history_url": reverse("admin:crm_case_history", args=[case.pk]),
            "company_url": reverse("admin:crm_company_change", args=[case.company_id]),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/crm/case/case_page.html", context, status=status)


def _sent_before(request: HttpRequest, sent: Any) -> HttpResponse:
    """Where a second post of an "Opret sag" form goes instead of opening a second case.

    A double click or a reload of the POST sends the same nonce (``core.once``): it goes to the
    case the first post opened or, while that one is still being saved, back to the list.
    """
    if isinstance(sent, int):
        messages.info(request, gettext("Sagen var allerede oprettet."))
        return HttpResponseRedirect(reverse("admin:crm_case_change", args=[sent]))
    messages.info(request, gettext("Sagen er ved at blive oprettet. Find den i listen."))
    return HttpResponseRedirect(reverse("admin:crm_case_changelist"))


def _with_one_retry(register: Callable[[], Case]) -> Case:
    """Run ``register``; once more if a concurrent request created the same new company first
    (the unique CVR), when the second run finds that company."""
    try:
        return register()
    except IntegrityError:
        return register()


def _error_summary(form: forms.Form) -> list[tuple[str | None, str]]:
    """Each error of the form with the id of its field, so the summary can link to the field."""
    summary: list[tuple[str | None, str]] = []
    for name, errors in form.errors.items():
        field_id = (form[name].id_for_label or form[name].auto_id) if name in form.fields else None
        summary.extend((field_id, str(message)) for message in errors)
    return summary


def _error_messages(forms_by_name: dict[str, Any], failed: str | None) -> list[str]:
    """Every error of the form that failed, for the summary at the top of the page."""
    if failed is None:
        return []
    found = [
        form for name, form in forms_by_name.items() if name == failed or name.startswith(failed)
    ]
    return [str(message) for form in found for errors in form.errors.values() for message in errors]


# --- Company admin ------------------------------------------------------------------------------


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    form = CompanyAdminForm
    list_display = ("name", "cvr", "municipality", "size_class", "industry")
    list_select_related = ("municipality",)
    search_fields = ("name",)
    search_help_text = _("Søg på navn eller CVR-nummer.")
    autocomplete_fields = ("municipality",)
    show_full_result_count = False
    sortable_by = ("name",)
    change_form_template = "admin/crm/company/change_form.html"
    actions = None

    class Media:
        css = {"all": ["crm/admin.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Company]:
        return Company.objects.visible_to(request.user)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Company], search_term: str
    ) -> tuple[QuerySet[Company], bool]:
        term = " ".join(search_term.split())
        if not term:
            return queryset, False
        cvr = CVR_TERM.match(term)
        if cvr:
            return queryset.filter(cvr=re.sub(r"\s", "", cvr.group(1))), False
        return queryset.filter(name__icontains=term), False

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
        company = self.get_queryset(request).filter(pk=unquote(object_id)).first()
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
        extra = {**(extra_context or {}), "shared_history": history}
        return super().change_view(request, object_id, form_url, extra)


# --- Contacts: personal data, advisers of the contact's hub only --------------------------------


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
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


# --- Superusers: the audit log and the outbox ---------------------------------------------------


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


@admin.register(Notification)
class NotificationAdmin(SuperuserReadOnlyAdmin):
    list_display = ("created_at", "kind", "status", "attempts", "last_error", "sent_at")
    list_filter = ("status", "kind")
    show_full_result_count = False


@admin.register(ErasureRecord)
class ErasureRecordAdmin(SuperuserReadOnlyAdmin):
    list_display = ("erased_at", "reason", "contacts", "cases", "notifications", "erased_by")
    list_filter = ("reason",)
