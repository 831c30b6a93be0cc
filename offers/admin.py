"""The catalogue in the admin: where editors keep their own organisation's offers up to date.

An editor sees and changes only offers their organisation owns or operates (superusers see all);
status changes, reviews and imports go through ``offers.services`` and ``offers.importing``
like every other write path, so the search index and the who/when fields stay right.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from simple_history.admin import SimpleHistoryAdmin

from core.admin import DeclaredLookupsOnly, declared_lookup
from core.jsonbody import declared_length
from offers import admin_forms
from offers.admin_forms import (
    OFFER_AUDIT_FIELDS,
    OFFER_FIELD_GROUPS,
    ImportForm,
    OfferAdminForm,
    OrganisationAdminForm,
)
from offers.importing import ImportResult, import_offers
from offers.models import Municipality, Offer, Organisation, Region, StrengthPosition, Theme
from offers.services import (
    OfferError,
    offer_archive,
    offer_mark_reviewed,
    offer_publish,
    offer_save,
    organisation_save,
    theme_save,
    user_can_edit,
)
from offers.views import annotate_unsaved, offer_page_context

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.forms import ModelForm

IMPORT_PREVIEW_SECONDS = 30 * 60
# Room for the multipart framing and the form's other fields around the file itself.
IMPORT_FORM_OVERHEAD_BYTES = 64 * 1024


class StaleFilter(admin.SimpleListFilter):
    parameter_name = "stale"
    title = gettext_lazy("gennemgang")

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        months = settings.OFFER_STALE_MONTHS
        return [
            ("yes", _("Ikke gennemgået i %(months)d måneder") % {"months": months}),
            ("no", _("Gennemgået inden for %(months)d måneder") % {"months": months}),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Offer]) -> QuerySet[Offer]:
        stale = queryset.stale_on(timezone.localdate(), settings.OFFER_STALE_MONTHS)  # type: ignore[attr-defined]
        if self.value() == "yes":
            return stale
        if self.value() == "no":
            return queryset.exclude(pk__in=stale.values("pk"))
        return queryset


class ThemeFilter(admin.RelatedFieldListFilter):
    """The themes, with offers that have none named as such instead of Django's "-"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.empty_value_display = format_html("{}", _("Uden tema"))


class OpenFilter(admin.SimpleListFilter):
    parameter_name = "open"
    title = gettext_lazy("åben for virksomheder")

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", _("Åben i dag")), ("no", _("Lukket i dag"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Offer]) -> QuerySet[Offer]:
        today = timezone.localdate()
        if self.value() == "yes":
            return queryset.published().open_on(today)  # type: ignore[attr-defined]
        if self.value() == "no":
            return queryset.closed_on(today)  # type: ignore[attr-defined]
        return queryset


@admin.register(Offer)
class OfferAdmin(SimpleHistoryAdmin):
    form = OfferAdminForm
    change_list_template = "offers/admin/offer_change_list.html"
    change_form_template = "offers/admin/offer_change_form.html"
    # Six columns fit a 1280 px screen beside the admin's menu; the id is still searchable.
    list_display = ("offer_title", "level", "owner_and_operator", "status", "review")
    list_select_related = ("owner", "operator")
    list_filter = ("status", "level", ("themes", ThemeFilter), StaleFilter, OpenFilter)
    search_fields = ("title", "external_id")
    ordering = ("title",)
    list_per_page = 50
    actions = ("publish_offers", "archive_offers", "mark_offers_reviewed")

    class Media:
        css = {"all": ["offers/admin.css"]}
        js = ["offers/admin.js"]

    readonly_fields = OFFER_AUDIT_FIELDS
    fieldsets = (
        *((label, {"fields": names}) for label, names in OFFER_FIELD_GROUPS),
        (gettext_lazy("Gennemgang"), {"fields": ("mark_reviewed",)}),
        (gettext_lazy("Historik"), {"fields": OFFER_AUDIT_FIELDS}),
    )

    # --- scope ---

    def get_queryset(self, request: HttpRequest) -> QuerySet[Offer]:
        # The search columns are large and refreshed by the search module, never by a form.
        return Offer.objects.editable_by(request.user).defer(
            "search_vector", "search_text", "theme_ids", "reach_regions"
        )

    def _in_scope(self, request: HttpRequest, obj: Offer | None) -> bool:
        if obj is None:
            return True
        return user_can_edit(user=request.user, owner_id=obj.owner_id, operator_id=obj.operator_id)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) and self._in_scope(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._in_scope(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self._in_scope(request, obj)

    def get_autocomplete_fields(self, request: HttpRequest) -> Sequence[str]:
        user: Any = request.user
        if user.is_superuser:
            return ("owner", "operator", "cannot_combine_with")
        # The picker searches this admin's scoped queryset: the offers the editor may edit, which
        # are the ones offers.services lets them pair (pairs show on both offers' pages).
        return ("cannot_combine_with",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # The external id is the offer's address (/tilbud/<id>/) and the import key.
            fields.append("external_id")
        return fields

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        # core.admin.DeclaredLookupsOnly's rule (the history admin is not a typed ModelAdmin).
        return super().lookup_allowed(lookup, value, request) and declared_lookup(
            self, lookup, request
        )

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[ModelForm[Any]]:
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        return form

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        user: Any = request.user
        organisation = user.organisation
        if organisation is not None:
            initial.setdefault("owner", organisation.pk)
            initial.setdefault("operator", organisation.pk)
            initial.setdefault("level", organisation.level)
        # The reform: regional offers are open to companies from the whole country.
        initial.setdefault("nationwide", True)
        return initial

    def formfield_for_manytomany(
        self, db_field: models.ManyToManyField[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelMultipleChoiceField[Any] | None:
        if db_field.name == "themes":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    # --- saving ---

    def save_model(self, request: HttpRequest, obj: Offer, form: Any, change: bool) -> None:
        obj._history_user = request.user  # type: ignore[attr-defined]
        if form.cleaned_data.get("mark_reviewed"):
            obj.last_reviewed = timezone.localdate()
        # offer_save sets the themes and pairs itself and refreshes the search after them, so
        # the form's save_m2m in save_related finds nothing left to change.
        offer_save(
            user=request.user,
            offer=obj,
            data={
                "themes": form.cleaned_data.get("themes", []),
                "cannot_combine_with": form.cleaned_data.get("cannot_combine_with", []),
            },
        )
        request._saved_offer = obj  # type: ignore[attr-defined]

    def message_user(
        self,
        request: HttpRequest,
        message: Any,
        level: int = messages.INFO,
        extra_tags: str = "",
        fail_silently: bool = False,
    ) -> None:
        # Django's "was changed successfully" says nothing about what a company now sees.
        saved: Offer | None = getattr(request, "_saved_offer", None)
        if saved is not None and level == messages.SUCCESS:
            request._saved_offer = None  # type: ignore[attr-defined]
            message = saved_offer_message(saved)
        super().message_user(request, message, level, extra_tags, fail_silently)

    # --- list ---

    @admin.display(description=gettext_lazy("Titel"), ordering="title")
    def offer_title(self, obj: Offer) -> str:
        # The title is the offer's Danish text: marked so, also when the admin speaks English.
        return format_html('<span lang="da">{}</span>', obj.title)

    @admin.display(description=gettext_lazy("Ejer og operatør"), ordering="owner__name")
    def owner_and_operator(self, obj: Offer) -> str:
        if obj.operator_id in (None, obj.owner_id):
            return obj.owner.name
        return _("%(owner)s, drives af %(operator)s") % {
            "owner": obj.owner.name,
            "operator": obj.operator.name,
        }

    @admin.display(description=gettext_lazy("Senest gennemgået"), ordering="last_reviewed")
    def review(self, obj: Offer) -> str:
        """The review date, and a plain warning when it is too old (the stale flag in words)."""
        if obj.last_reviewed is None:
            return format_html('<strong class="offer-stale">{}</strong>', _("Aldrig gennemgået"))
        day = date_format(obj.last_reviewed, "DATE_FORMAT")
        if not obj.is_stale_on(timezone.localdate()):
            return day
        return format_html('{} <strong class="offer-stale">{}</strong>', day, _("– skal gennemgås"))

    @admin.display(boolean=True, description=gettext_lazy("ikke gennemgået"))
    def stale_flag(self, obj: Offer) -> bool | None:
        if obj.pk is None:
            return None
        return obj.is_stale_on(timezone.localdate())

    # --- actions ---

    def _run_each(
        self,
        request: HttpRequest,
        queryset: QuerySet[Offer],
        service: Callable[..., Offer],
        done: Callable[[int], str],
    ) -> None:
        succeeded = 0
        for offer in queryset:
            try:
                service(offer=offer, user=request.user)
            except OfferError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                succeeded += 1
        if succeeded:
            self.message_user(request, done(succeeded), messages.SUCCESS)

    @admin.action(description=gettext_lazy("Offentliggør valgte tilbud"), permissions=["change"])
    def publish_offers(self, request: HttpRequest, queryset: QuerySet[Offer]) -> None:
        self._run_each(
            request,
            queryset,
            offer_publish,
            lambda n: (
                ngettext(
                    "%(count)d tilbud er offentliggjort.", "%(count)d tilbud er offentliggjort.", n
                )
                % {"count": n}
            ),
        )

    @admin.action(description=gettext_lazy("Arkivér valgte tilbud"), permissions=["change"])
    def archive_offers(self, request: HttpRequest, queryset: QuerySet[Offer]) -> None:
        self._run_each(
            request,
            queryset,
            offer_archive,
            lambda n: (
                ngettext("%(count)d tilbud er arkiveret.", "%(count)d tilbud er arkiveret.", n)
                % {"count": n}
            ),
        )

    @admin.action(description=gettext_lazy("Markér som gennemgået"), permissions=["change"])
    def mark_offers_reviewed(self, request: HttpRequest, queryset: QuerySet[Offer]) -> None:
        try:
            count = offer_mark_reviewed(offers=queryset, user=request.user)
        except OfferError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        self.message_user(
            request,
            ngettext(
                "%(count)d tilbud er markeret som gennemgået i dag.",
                "%(count)d tilbud er markeret som gennemgået i dag.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    # --- import ---

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "import/",
                # CSRF is checked inside, after the size: the check reads the body.
                self.admin_site.admin_view(csrf_exempt(self.import_upload_view)),
                name="offers_offer_import",
            ),
            path(
                "preview/",
                self.admin_site.admin_view(self.preview_view),
                name="offers_offer_preview_new",
            ),
            path(
                "<path:object_id>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="offers_offer_preview",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request: HttpRequest, object_id: str | None = None) -> HttpResponse:
        """The public page as it will look with what the form holds, before anything is saved.

        The change form posts here (in a new tab) with its "Forhåndsvis" button; the form is
        checked as on saving, with the same scope, and nothing is written.
        """
        if request.method != "POST":
            return HttpResponse(status=405, headers={"Allow": "POST"})
        obj = self.get_object(request, object_id) if object_id else None
        if object_id and obj is None:
            raise PermissionDenied
        allowed = (
            self.has_change_permission(request, obj)
            if obj is not None
            else self.has_add_permission(request)
        )
        if not allowed:
            raise PermissionDenied
        form_class = self.get_form(request, obj, change=obj is not None)
        form = form_class(request.POST, request.FILES, instance=obj)
        if not form.is_valid():
            return TemplateResponse(
                request,
                "offers/admin/preview_errors.html",
                {**self.admin_site.each_context(request), "form": form, "opts": self.opts},
                status=400,
            )
        offer = annotate_unsaved(
            form.save(commit=False),
            themes=form.cleaned_data.get("themes", []),
            cannot_combine_with=form.cleaned_data.get("cannot_combine_with", []),
        )
        if offer.status == Offer.Status.DRAFT:
            # A draft is previewed as it will look once published, not as "closed".
            offer.status = Offer.Status.PUBLISHED
        context = {**offer_page_context(request, offer), "preview": True}
        if offer.pk is None:
            context["effects_template"] = None  # nothing measured for an offer not yet saved
        response = TemplateResponse(request, "offers/detail.html", context)
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Cache-Control"] = "private, no-store"
        return response

    def has_import_permission(self, request: HttpRequest) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "can_import": self.has_import_permission(request)}
        return super().changelist_view(request, extra_context)

    def import_upload_view(self, request: HttpRequest) -> HttpResponse:
        """Refuse an upload over the limit from its Content-Length, before anything reads it.

        Django streams a multipart upload to disk whatever its size as soon as ``request.POST``
        is read (the CSRF check reads it), so the size is checked first; without a
        Content-Length nothing of the body is read at all.
        """
        if not self.has_import_permission(request):
            raise PermissionDenied
        limit = admin_forms.IMPORT_MAX_BYTES + IMPORT_FORM_OVERHEAD_BYTES
        length = declared_length(request.META) or 0
        if request.method == "POST" and length > limit:
            form = ImportForm(data={}, files=MultiValueDict())
            form.full_clean()
            form.errors["file"] = form.error_class([admin_forms.too_large_message()])
            return self._import_page(request, form=form, status=413)
        view: Callable[[HttpRequest], HttpResponse] = csrf_protect(self.import_view)
        return view(request)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_import_permission(request):
            raise PermissionDenied
        user: Any = request.user
        form = ImportForm()
        result: ImportResult | None = None
        token = ""
        if request.method == "POST" and request.POST.get("token"):
            token = request.POST["token"]
            key = f"offers:import:{user.pk}:{token}"
            source = cache.get(key)
            if source is None:
                self.message_user(
                    request,
                    _("Kontrollen er udløbet. Vælg filen igen."),
                    messages.WARNING,
                )
                return HttpResponseRedirect(reverse("admin:offers_offer_import"))
            result = import_offers(source=source, user=user)
            if result.ok:
                cache.delete(key)
                self.message_user(
                    request,
                    _(
                        "Importen er gennemført: %(created)d nye, %(updated)d ændrede og "
                        "%(unchanged)d uændrede tilbud."
                    )
                    % {
                        "created": len(result.created),
                        "updated": len(result.updated),
                        "unchanged": len(result.unchanged),
                    },
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:offers_offer_changelist"))
            token = ""
        elif request.method == "POST":
            form = ImportForm(request.POST, request.FILES)
            if form.is_valid():
                source = form.cleaned_data["file"]
                result = import_offers(source=source, user=user, dry_run=True)
                if result.ok and result.rows:
                    token = secrets.token_urlsafe(16)
                    cache.set(f"offers:import:{user.pk}:{token}", source, IMPORT_PREVIEW_SECONDS)
        return self._import_page(request, form=form, result=result, token=token)

    def _import_page(
        self,
        request: HttpRequest,
        *,
        form: ImportForm,
        result: ImportResult | None = None,
        token: str = "",
        status: int = 200,
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Importér tilbud"),
            "form": form,
            "result": result,
            "errors": result.report() if result else [],
            "error_count": len(result.errors) if result else 0,
            "token": token,
            "organisation": getattr(request.user, "organisation", None),
        }
        return TemplateResponse(request, "offers/admin/import.html", context, status=status)


# --- Organisations and reference data ------------------------------------------------------------


@admin.register(Region)
class RegionAdmin(DeclaredLookupsOnly):
    list_display = ("code", "name", "slug")
    search_fields = ("name",)


@admin.register(Municipality)
class MunicipalityAdmin(DeclaredLookupsOnly):
    list_display = ("code", "name", "region")
    list_filter = ("region",)
    list_select_related = ("region",)
    search_fields = ("name", "code")


@admin.register(Organisation)
class OrganisationAdmin(DeclaredLookupsOnly):
    form = OrganisationAdminForm
    list_display = (
        "name",
        "slug",
        "kind",
        "level",
        "region",
        "strength_position",
        "publicly_funded",
    )
    list_filter = ("kind", "level", "region", "publicly_funded")
    list_select_related = ("region", "strength_position")
    search_fields = ("name", "slug")
    autocomplete_fields = ("municipality", "strength_position")
    filter_horizontal = ("member_municipalities",)

    def save_model(self, request: HttpRequest, obj: Organisation, form: Any, change: bool) -> None:
        organisation_save(organisation=obj)


@admin.register(Theme)
class ThemeAdmin(DeclaredLookupsOnly):
    list_display = ("name", "slug", "responsible_level", "position")
    list_editable = ("position",)
    search_fields = ("name", "slug")

    def save_model(self, request: HttpRequest, obj: Theme, form: Any, change: bool) -> None:
        theme_save(theme=obj)


@admin.register(StrengthPosition)
class StrengthPositionAdmin(DeclaredLookupsOnly):
    list_display = ("name", "slug")
    search_fields = ("name", "slug")


def saved_offer_message(offer: Offer) -> str:
    """What saving did, in the editor's terms: live on the portal or not."""
    if offer.status == Offer.Status.PUBLISHED:
        return format_html(
            '{} <a href="{}">{}</a>',
            _("Tilbuddet „%(title)s“ er gemt og vises nu på portalen.") % {"title": offer.title},
            offer.get_absolute_url(),
            _("Se den offentlige side"),
        )
    if offer.status == Offer.Status.ARCHIVED:
        return _(
            "Tilbuddet „%(title)s“ er gemt. Det er arkiveret: siden siger, at det ikke længere kan "
            "søges, og det vises ikke i søgningen."
        ) % {"title": offer.title}
    return _(
        "Tilbuddet „%(title)s“ er gemt som kladde. Virksomhederne kan ikke se det, før du udgiver "
        "det."
    ) % {"title": offer.title}
