"""The catalogue in the admin: where editors keep their own organisation's offers up to date.

An editor sees and changes only offers their organisation owns or operates (superusers see all);
status changes, reviews and imports go through ``offers.services`` and ``offers.importing``
like every other write path, so the search index and the who/when fields stay right.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_stubs_ext import StrOrPromise
from simple_history.admin import SimpleHistoryAdmin

from offers.importing import ImportResult, import_offers
from offers.models import (
    CompanySize,
    Industry,
    Municipality,
    Offer,
    Organisation,
    Phase,
    Region,
    StrengthPosition,
    Theme,
)
from offers.services import (
    CONSTRAINT_FIELDS,
    OfferError,
    allowed_statuses,
    cluster_nationwide_message,
    offer_archive,
    offer_mark_reviewed,
    offer_publish,
    offer_save,
    organisation_save,
    theme_save,
    transition_error,
    user_can_edit,
)

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.forms import ModelForm

IMPORT_MAX_BYTES = 10 * 1024 * 1024
IMPORT_PREVIEW_SECONDS = 30 * 60


class ConstraintErrorsOnFields:
    """Put a model constraint's error next to the input it is about instead of above the form.

    ``constraint_fields`` maps constraint names to form fields (or to a callable choosing the
    field from the instance). Django reports check and conditional unique constraints as
    non-field errors.
    """

    constraint_fields: ClassVar[dict[str, str | Callable[[Any], str]]] = {}

    def validate_constraints(self: Any) -> None:
        exclude = self._get_validation_exclusions()
        try:
            self.instance.validate_constraints(exclude=exclude)
        except ValidationError as error:
            self._update_errors(self._constraint_errors_on_fields(error))

    def _constraint_errors_on_fields(self: Any, error: ValidationError) -> ValidationError:
        if not hasattr(error, "error_dict"):
            return error
        by_message: dict[str, str] = {}
        for constraint in self.instance._meta.constraints:
            target = self.constraint_fields.get(constraint.name)
            if target is None:
                continue
            name = target(self.instance) if callable(target) else target
            if name in self.fields:
                by_message[str(constraint.get_violation_error_message())] = name
        placed: dict[str, list[ValidationError]] = {}
        for name, items in error.error_dict.items():
            for item in items:
                target_name = name
                if name == NON_FIELD_ERRORS:
                    target_name = by_message.get(" ".join(item.messages), name)
                placed.setdefault(target_name, []).append(item)
        return ValidationError(placed)


# --- Offers ------------------------------------------------------------------------------------


# The editor's offer form, group by group. Every field of the catalogue format is here except
# last_reviewed, which only a review sets (tests/offers/test_admin.py holds the two together).
OFFER_FIELD_GROUPS: tuple[tuple[StrOrPromise | None, tuple[str, ...]], ...] = (
    (
        None,
        (
            "title",
            "external_id",
            "summary",
            "description",
            "expected_result",
            "how_to_apply",
            "delivery_time",
            "languages",
        ),
    ),
    (gettext_lazy("Ejer og operatør"), ("level", "owner", "operator")),
    (gettext_lazy("Målgruppe"), ("themes", "phases", "company_sizes", "industries")),
    (gettext_lazy("Geografi"), ("nationwide", "regions", "municipalities")),
    (
        gettext_lazy("Pris, frister og kontakt"),
        (
            "price",
            "application_deadline",
            "valid_from",
            "valid_to",
            "url",
            "contact_email",
            "contact_phone",
        ),
    ),
    (gettext_lazy("Status"), ("status", "cannot_combine_with")),
)
OFFER_FORM_FIELDS = tuple(name for _label, names in OFFER_FIELD_GROUPS for name in names)
# Shown under the form, never edited there: set by reviews, status changes and saving.
OFFER_AUDIT_FIELDS = (
    "last_reviewed",
    "stale_flag",
    "published_at",
    "published_by",
    "archived_at",
    "archived_by",
    "created_at",
    "updated_at",
)


def _phases_or_sizes(offer: Offer) -> str:
    return "phases" if not offer.phases else "company_sizes"


class OfferAdminForm(ConstraintErrorsOnFields, forms.ModelForm):
    constraint_fields: ClassVar[dict[str, str | Callable[[Any], str]]] = {
        **{name: field for name, field in CONSTRAINT_FIELDS.items()},
        "offers_offer_has_phases_and_sizes": _phases_or_sizes,
    }
    user: Any = None  # set by OfferAdmin.get_form

    phases = forms.MultipleChoiceField(
        label=gettext_lazy("faser"), choices=Phase.choices, widget=forms.CheckboxSelectMultiple
    )
    company_sizes = forms.MultipleChoiceField(
        label=gettext_lazy("virksomhedsstørrelser"),
        choices=CompanySize.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    industries = forms.MultipleChoiceField(
        label=gettext_lazy("brancher (DB07)"),
        choices=Industry.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("Vælg ingen for alle brancher."),
    )
    regions = forms.TypedMultipleChoiceField(
        label=gettext_lazy("regioner"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Kun når tilbuddet ikke gælder i hele landet."),
    )
    municipalities = forms.TypedMultipleChoiceField(
        label=gettext_lazy("kommuner"),
        coerce=int,
        required=False,
        widget=FilteredSelectMultiple(gettext_lazy("kommuner"), is_stacked=False),
        help_text=gettext_lazy(
            "Kommunale tilbud skal angive deres kommuner. Kun når tilbuddet ikke gælder i hele "
            "landet."
        ),
    )

    class Meta:
        model = Offer
        fields = OFFER_FORM_FIELDS
        widgets: ClassVar[dict[str, Any]] = {"themes": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        if "regions" in fields:
            fields["regions"].choices = list(Region.objects.values_list("code", "name"))
        if "municipalities" in fields:
            fields["municipalities"].choices = [
                (m.code, str(m)) for m in Municipality.objects.all()
            ]
        current = self.instance.status if self.instance.pk else None
        if "status" in fields:
            fields["status"].choices = [
                (value, label)
                for value, label in Offer.Status.choices
                if value in allowed_statuses(current)
            ]
        user = self.user
        if user is not None and not user.is_superuser:
            allowed = {user.organisation_id, self.instance.owner_id, self.instance.operator_id}
            queryset = Organisation.objects.filter(pk__in={pk for pk in allowed if pk})
            for name in ("owner", "operator"):
                if name in fields:
                    fields[name].queryset = queryset

    def clean_phases(self) -> list[str]:
        chosen = self.cleaned_data["phases"]
        return [value for value in Phase.values if value in chosen]

    def clean_company_sizes(self) -> list[str]:
        chosen = self.cleaned_data["company_sizes"]
        return [value for value in CompanySize.values if value in chosen]

    def clean_industries(self) -> list[str]:
        chosen = self.cleaned_data["industries"]
        return [value for value in Industry.values if value in chosen]

    def clean_regions(self) -> list[int]:
        return sorted(set(self.cleaned_data["regions"]))

    def clean_municipalities(self) -> list[int]:
        return sorted(set(self.cleaned_data["municipalities"]))

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        owner = cleaned.get("owner")
        operator = cleaned.get("operator")
        user = self.user
        if (
            user is not None
            and not user.is_superuser
            and owner is not None
            and operator is not None
            and user.organisation_id not in (owner.pk, operator.pk)
        ):
            self.add_error("owner", _("Din organisation skal eje eller drive tilbuddet."))
        if owner is not None and owner.kind == Organisation.Kind.CLUSTER:
            nationwide = cleaned.get("nationwide")
            if not nationwide or cleaned.get("regions") or cleaned.get("municipalities"):
                self.add_error("nationwide", cluster_nationwide_message())
        if "status" in cleaned:
            initial = self.instance.status if self.instance.pk else None
            if self.instance.pk:
                initial = (
                    Offer.objects.filter(pk=self.instance.pk)
                    .values_list("status", flat=True)
                    .first()
                )
            problem = transition_error(initial, cleaned["status"])
            if problem:
                self.add_error("status", problem)
        return cleaned


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


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Fil med tilbud (JSON eller JSON Lines)"),
        help_text=gettext_lazy(
            "Samme format som eksporten og kommandoen import_offers. Tilbud med et kendt ekstern "
            "id opdateres, nye oprettes. Du ser først en kontrol; intet gemmes, før du bekræfter."
        ),
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise ValidationError(
                _("Filen er for stor (højst %(mb)d MB).") % {"mb": IMPORT_MAX_BYTES // 2**20}
            )
        try:
            return str(upload.read().decode("utf-8"))
        except UnicodeDecodeError:
            raise ValidationError(_("Filen skal være gemt som UTF-8.")) from None


@admin.register(Offer)
class OfferAdmin(SimpleHistoryAdmin):
    form = OfferAdminForm
    change_list_template = "offers/admin/offer_change_list.html"
    list_display = (
        "title",
        "external_id",
        "level",
        "owner",
        "operator",
        "status",
        "last_reviewed",
        "stale_flag",
    )
    list_select_related = ("owner", "operator")
    list_filter = ("status", "level", "themes", StaleFilter, OpenFilter)
    search_fields = ("title", "external_id")
    ordering = ("title",)
    list_per_page = 50
    actions = ("publish_offers", "archive_offers", "mark_offers_reviewed")
    readonly_fields = OFFER_AUDIT_FIELDS
    fieldsets = (
        *((label, {"fields": names}) for label, names in OFFER_FIELD_GROUPS),
        (gettext_lazy("Gennemgang og historik"), {"fields": OFFER_AUDIT_FIELDS}),
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
        return ("cannot_combine_with",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Offer], search_term: str
    ) -> tuple[QuerySet[Offer], bool]:
        # The "cannot be combined with" picker may name any published offer, not only the
        # editor's own; the autocomplete view asks through this admin's scoped queryset.
        if (
            request.path.endswith("/autocomplete/")
            and request.GET.get("field_name") == "cannot_combine_with"
        ):
            queryset = Offer.objects.filter(
                Q(pk__in=queryset.values("pk")) | Q(status=Offer.Status.PUBLISHED)
            )
        return super().get_search_results(request, queryset, search_term)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # The external id is the offer's address (/tilbud/<id>/) and the import key.
            fields.append("external_id")
        return fields

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

    # --- list ---

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
                self.admin_site.admin_view(self.import_view),
                name="offers_offer_import",
            ),
            *super().get_urls(),
        ]

    def has_import_permission(self, request: HttpRequest) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "can_import": self.has_import_permission(request)}
        return super().changelist_view(request, extra_context)

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
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Importér tilbud"),
            "form": form,
            "result": result,
            "errors": [str(error) for error in result.errors] if result else [],
            "token": token,
            "organisation": getattr(user, "organisation", None),
        }
        return TemplateResponse(request, "offers/admin/import.html", context)


# --- Organisations and reference data ------------------------------------------------------------


class OrganisationAdminForm(ConstraintErrorsOnFields, forms.ModelForm):
    constraint_fields: ClassVar[dict[str, str | Callable[[Any], str]]] = {
        "offers_organisation_one_funded_cluster_per_strength_position": "publicly_funded",
        "offers_organisation_funded_cluster_has_strength_position": "publicly_funded",
    }

    class Meta:
        model = Organisation
        fields = (
            "slug",
            "name",
            "kind",
            "level",
            "region",
            "municipality",
            "member_municipalities",
            "strength_position",
            "publicly_funded",
            "website",
            "contact_email",
            "contact_phone",
            "address",
            "inbox_email",
        )


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "slug")
    search_fields = ("name",)


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "region")
    list_filter = ("region",)
    list_select_related = ("region",)
    search_fields = ("name", "code")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
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
class ThemeAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "responsible_level", "position")
    list_editable = ("position",)
    search_fields = ("name", "slug")

    def save_model(self, request: HttpRequest, obj: Theme, form: Any, change: bool) -> None:
        theme_save(theme=obj)


@admin.register(StrengthPosition)
class StrengthPositionAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name", "slug")
